"""Matching: patent tokens, index builds, match runs and matches (demand ↔ patent)."""
