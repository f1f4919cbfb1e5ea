"""Logs, metrics and run inspection."""
