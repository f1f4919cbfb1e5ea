"""GTM Feedback: customer feedback to ARR-weighted feature requests, on durable workflows."""

__version__ = "0.1.0"
