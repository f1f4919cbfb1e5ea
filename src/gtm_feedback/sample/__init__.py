"""A realistic sample dataset that the project generates itself (deterministic per seed)."""
