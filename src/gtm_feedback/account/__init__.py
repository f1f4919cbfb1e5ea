"""CRM accounts and their opportunities (a copy: imported from CSV or the API)."""
