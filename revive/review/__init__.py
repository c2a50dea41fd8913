"""The officers' review queue over machine matches (accept → push, reject with a reason)."""
