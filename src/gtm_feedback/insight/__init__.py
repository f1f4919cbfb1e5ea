"""Per-area insight reports (history kept; the latest is shown)."""
