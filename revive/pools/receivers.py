"""Pools' receiver of the domain signals (revive.signals), connected by create_app.

After every index build (full or delta) each ranked pool gets a proposal run: the patents
entered since its last check that fit it are proposed to its curator (待确认), never added.
Quick and never raising into the sender: a failure is logged.
"""

from __future__ import annotations

import logging
from typing import Any

from revive import signals
from revive.pools import services

logger = logging.getLogger(__name__)


def _index_built(sender: Any, build_id: int | None = None, **_: Any) -> None:
    try:
        services.request_proposals(build_id)
    except Exception:  # the build succeeded; proposals wait for the next one
        logger.exception("Pool proposals after index build %s not requested", build_id)


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.index_built.connect(_index_built)
