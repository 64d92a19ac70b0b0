"""Documents (filled in by the documentation feature)."""
