"""Pure matching logic: vector index, scoring, calibration, tiers, lexical fusion, metrics.

Nothing here does I/O; services feed it vectors and texts and store what it returns.
"""
