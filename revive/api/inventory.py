"""Patent JSON routes."""
