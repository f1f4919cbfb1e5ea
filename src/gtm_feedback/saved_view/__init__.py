"""Saved views of the requests list, and the alerts their subscribers get."""
