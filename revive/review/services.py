"""Review decisions: thin wrappers over ``revive.deals.services`` (which validates, records the
audit row, pushes accepted matches and commits). Only the selection itself is checked here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revive.accounts.models import User
from revive.deals import services as deal_services
from revive.errors import DomainError
from revive.extensions import db
from revive.selection import selected_ids


def decide_selected(
    match_ids: Iterable[Any],
    decision: str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
) -> dict[str, list]:
    """Accept (and push) or reject the selected candidates; ones already decided or gone are
    skipped with a reason. Returns {"done": [id…], "skipped": [(id, message)…]}. Commits."""
    ids = selected_ids(match_ids, empty="请先勾选要处理的候选匹配", noun="匹配编号")
    try:
        return deal_services.decide_many(ids, decision, actor, reason_code, comment)
    except DomainError:
        # e.g. rejecting without a reason: nothing of this batch may stay in the session.
        db.session.rollback()
        raise
