"""Review decisions: thin wrappers over ``revive.deals.services`` (which validates, records the
audit row, pushes accepted matches and commits). Only the selection itself is checked here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from revive.accounts.models import User
from revive.deals import services as deal_services
from revive.errors import DomainError, ValidationFailed
from revive.extensions import db
from revive.web import int_arg

MAX_SELECTION = 500


def selected_ids(raw: Iterable[Any]) -> list[int]:
    """Match ids from a form or JSON list: positive integers, de-duplicated, order kept."""
    ids: list[int] = []
    for value in raw:
        if isinstance(value, bool):
            raise ValidationFailed("匹配编号须为整数")
        match_id = int_arg(value, minimum=1)
        if match_id is None:
            raise ValidationFailed(f"无效的匹配编号：{str(value).strip()[:20]}")
        ids.append(match_id)
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed("请先勾选要处理的候选匹配")
    if len(ids) > MAX_SELECTION:
        raise ValidationFailed(f"一次最多处理 {MAX_SELECTION} 条")
    return ids


def decide_selected(
    match_ids: Iterable[Any],
    decision: str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
) -> dict[str, list]:
    """Accept (and push) or reject the selected candidates; ones already decided or gone are
    skipped with a reason. Returns {"done": [id…], "skipped": [(id, message)…]}. Commits."""
    ids = selected_ids(match_ids)
    try:
        return deal_services.decide_many(ids, decision, actor, reason_code, comment)
    except DomainError:
        # e.g. rejecting without a reason: nothing of this batch may stay in the session.
        db.session.rollback()
        raise
