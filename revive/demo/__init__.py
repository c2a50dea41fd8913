"""Demo data written by the team (not copied from ../shared/data)."""
