"""供需对接: pushed matches (deals), their stage pipeline, university responses and contracts."""
