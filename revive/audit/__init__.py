"""An append-only audit log of state changes (patents, demands, matches, deals, contracts)."""
