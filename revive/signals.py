"""Domain events, so lower floors (inventory, imports, demands) never import matching.

Senders fire *after* their transaction committed. Receivers (matching) must be quick and must
never make the sender fail: they record work as rows and enqueue it (revive.queue).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Patent texts or their matchability may have changed.
#: kwargs: patent_ids: list[int] | None (None: a bulk change, e.g. an import; find stale ones).
patents_changed = _signals.signal("patents-changed")

#: A demand was posted or edited (kwargs: demand_id: int, created: bool).
demand_saved = _signals.signal("demand-saved")

#: A demand was closed (kwargs: demand_id: int).
demand_closed = _signals.signal("demand-closed")
