"""Feature requests: the ranked, ARR-weighted things customers ask for."""
