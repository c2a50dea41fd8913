"""The dashboard cache's refresh, over every key: the modules that register keys (``cache.cached``
at import) are imported here, so the worker task and the ``dashboard-refresh`` command see them
all, and the cache module itself imports none of them."""

from __future__ import annotations

from revive.dashboard import cache, funnel, queries

REGISTERING = (funnel, queries)  # the modules whose import registers cache keys


def refresh(keys: list[str] | None = None) -> list[str]:
    """Recompute and store ``keys`` (every registered one by default); the worker task and the
    ``dashboard-refresh`` command call this. Returns the keys refreshed."""
    return cache.refresh_registered(keys)
