"""Electronic archive and official-correspondence service (embedded by default, scales out)."""
