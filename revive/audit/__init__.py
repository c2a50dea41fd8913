"""An append-only audit log of state changes (patents, demands, matches, deals, contracts)."""

# The append-only guards (ORM events on AuditEvent) load with the package, so no session can
# use the model without them.
from revive.audit import guard as _guard  # noqa: F401
