"""Feedback: one customer's pain, attached to one feature request."""
