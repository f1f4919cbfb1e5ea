"""CSV import of accounts, opportunities, areas, requests and feedback (upsert by id)."""
