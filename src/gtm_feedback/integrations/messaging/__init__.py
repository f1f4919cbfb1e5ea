"""Outbound messages: a Protocol, the outbox (no Slack configured); Slack comes later."""
