"""Human-in-the-loop records: a token that maps a person's decision to a waiting workflow."""
