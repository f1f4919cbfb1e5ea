"""Slack: the Web API client (outbound) and the messenger that posts through it."""
