"""Matching that learns: people's decisions stored as labels, refits of the calibration."""
