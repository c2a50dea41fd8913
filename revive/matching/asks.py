"""An officer asks an enterprise to add detail to a thin posting (请企业补充技术细节).

A title-only or very short posting is matched on what it has and marked thin; the enterprise
sees a prompt on its own page, but a user found the officer's notice 「建议请企业补充技术细节」
led nowhere. This sends the enterprise a notification (and e-mail, when configured) with the
officer's note and a link to edit the demand; saving the edit re-matches it. At most once a
day per demand, so a double click or two officers do not send it twice. Audited.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from revive.accounts.models import User
from revive.audit import services as audit
from revive.audit.models import AuditEvent
from revive.common.fields import strip_invisible
from revive.db import as_utc, lock_row, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import InvalidTransition, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.matching.permissions import STAFF_ROLES
from revive.notifications import services as notifications

NOTE_MAX = 500
AGAIN_AFTER = timedelta(hours=24)
DEFAULT_NOTE = "请补充要解决的技术问题、现在的做法和期望达到的指标，系统会据此重新匹配。"


def ask_for_detail(demand_id: int, actor: User, note: str | None = None) -> Demand:
    """Notify the demand's enterprise that an officer asks for more detail. Commits."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以请企业补充需求")
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        raise NotFoundError("需求不存在")
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition("需求已关闭，无需补充")
    text = strip_invisible(note or "") or DEFAULT_NOTE
    if len(text) > NOTE_MAX:
        raise ValidationFailed(f"说明不能超过 {NOTE_MAX} 字", details={"note": "说明过长"})
    lock_row(Demand, demand.id)  # two officers at once: the second sees the first's request
    last = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.created_at)).where(
            AuditEvent.entity == "demand",
            AuditEvent.entity_id == demand.id,
            AuditEvent.action == "detail_requested",
        )
    )
    if last is not None and as_utc(last) > utcnow() - AGAIN_AFTER:
        db.session.rollback()
        raise InvalidTransition("已在 24 小时内请企业补充过这条需求，请等待企业修改")
    sent = notifications.notify(
        "demand_detail",
        f"技术经理人请您补充需求“{demand.title}”的技术细节",
        organization_id=demand.enterprise_id,
        body=text,
        link=f"/demands/{demand.id}/edit",
    )
    audit.record(
        "demand",
        demand.id,
        "detail_requested",
        actor,
        organization_id=demand.enterprise_id,
        note=text,
    )
    db.session.commit()
    notifications.send_emails([sent])
    return demand
