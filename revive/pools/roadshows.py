"""路演推介: record a roadshow (date, place, pool or tier, patents, attending enterprises) and
invite the enterprises that attended to evaluate the patents presented (市场评价 invitations,
revive.evaluations). Public functions commit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Organization, OrgKind, User
from revive.audit import services as audit
from revive.db import lock_row
from revive.errors import ConflictError, NotFoundError, ValidationFailed
from revive.evaluations import services as evaluations
from revive.evaluations.tiers import Tier
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.pools.models import Pool, Roadshow, RoadshowPatent
from revive.pools.services import _check_staff
from revive.selection import selected_ids
from revive.web import int_arg

MAX_PATENTS = 30  # one page each: a roadshow afternoon
MAX_ENTERPRISES = 100
TITLE_MAX, PLACE_MAX, NOTES_MAX = 200, 200, 2000


def get_roadshow(roadshow_id: int) -> Roadshow:
    roadshow = db.session.get(Roadshow, roadshow_id)
    if roadshow is None:
        raise NotFoundError("路演不存在")
    return roadshow


def _date(raw: Any) -> date:
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationFailed(
            "请填写路演日期（YYYY-MM-DD）", details={"held_on": "日期无效"}
        ) from None


def _text(data: Mapping[str, Any], key: str, label: str, limit: int, required: bool) -> str:
    value = data.get(key)
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise ValidationFailed(f"请填写{label}", details={key: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationFailed(f"{label}过长（最多 {limit} 字）", details={key: "过长"})
    return text


def parse_source(pool_id: Any, tier: Any) -> tuple[Pool | None, Tier | None]:
    """The roadshow's source: a pool, a tier, or both (at least one)."""
    pool = None
    if pool_id not in (None, ""):
        number = int_arg(pool_id)
        pool = db.session.get(Pool, number) if number is not None else None
        if pool is None:
            raise ValidationFailed("产业专利池不存在", details={"pool_id": "不存在"})
    letter = str(tier or "").strip().upper()
    chosen = Tier(letter) if letter in {t.value for t in Tier} else None
    if letter and chosen is None:
        raise ValidationFailed("分层须为 A、B、C 或 D", details={"tier": "无效"})
    if pool is None and chosen is None:
        raise ValidationFailed("请选择产业专利池或推广分层", details={"pool_id": "请选择"})
    return pool, chosen


def create_roadshow(
    data: Mapping[str, Any], patent_ids: Any, enterprise_ids: Any, *, actor: User
) -> Roadshow:
    """Record a roadshow of entered patents; attending enterprises are registered ones."""
    _check_staff(actor)
    title = _text(data, "title", "路演名称", TITLE_MAX, True)
    place = _text(data, "place", "地点", PLACE_MAX, True)
    notes = _text(data, "notes", "备注", NOTES_MAX, False) or None
    held_on = _date(data.get("held_on"))
    pool, tier = parse_source(data.get("pool_id"), data.get("tier"))
    pids = selected_ids(patent_ids, limit=MAX_PATENTS, empty="请至少勾选一件路演专利")
    patents = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Patent).where(Patent.id.in_(pids), Patent.status == EntryStatus.ENTERED)
        )
    }
    missing = [i for i in pids if i not in patents]
    if missing:
        raise ValidationFailed(
            "只能路演已入库的专利", details={"patent_ids": f"无效：{missing[:5]}"}
        )
    eids: list[int] = []
    if enterprise_ids:
        eids = selected_ids(enterprise_ids, limit=MAX_ENTERPRISES, empty="")
    orgs = list(
        db.session.scalars(
            sa.select(Organization).where(
                Organization.id.in_(eids), Organization.kind == OrgKind.ENTERPRISE
            )
        )
    )
    if len(orgs) != len(eids):
        raise ValidationFailed("参会企业须为平台已注册的企业", details={"enterprise_ids": "无效"})
    # The same form sent again (a double click, back and resubmit): one roadshow. The
    # officer's row is held so that copies sent together are checked one after the other.
    lock_row(User, actor.id)
    same = _same_roadshow(title, held_on, place, pids)
    if same is not None:
        duplicate = DuplicateRoadshow(same)
        db.session.rollback()  # the lock
        raise duplicate
    roadshow = Roadshow(
        title=title,
        held_on=held_on,
        place=place,
        pool_id=pool.id if pool else None,
        tier=tier.value if tier else None,
        notes=notes,
        created_by_id=actor.id,
        items=[RoadshowPatent(patent_id=pid, position=i) for i, pid in enumerate(pids)],
        enterprises=orgs,
    )
    db.session.add(roadshow)
    db.session.flush()
    audit.record(
        "roadshow",
        roadshow.id,
        "create",
        actor,
        title=title,
        held_on=held_on.isoformat(),
        place=place,
        pool_id=roadshow.pool_id,
        tier=roadshow.tier,
        patent_count=len(pids),
        enterprise_count=len(orgs),
    )
    db.session.commit()
    return roadshow


class DuplicateRoadshow(ConflictError):
    """A roadshow with this name, day, place and patents is already recorded."""

    def __init__(self, roadshow: Roadshow) -> None:
        super().__init__(
            "已登记过同名、同日、同地点、同样专利的路演"
            f"（“{roadshow.title}”，编号 {roadshow.id}），未重复登记",
            details={"roadshow_id": roadshow.id},
        )
        self.roadshow_id = roadshow.id


def _same_roadshow(title: str, held_on: date, place: str, pids: list[int]) -> Roadshow | None:
    for row in db.session.scalars(
        sa.select(Roadshow)
        .where(Roadshow.title == title, Roadshow.held_on == held_on, Roadshow.place == place)
        .order_by(Roadshow.id)
    ):
        if [item.patent_id for item in sorted(row.items, key=lambda i: i.position)] == pids:
            return row
    return None


def invite_attendees(roadshow_id: int, *, actor: User) -> tuple[int, int]:
    """Invite every attending enterprise to evaluate every presented patent that is still
    已入库 (the evaluations service: audited, notified, an existing invite left alone).
    Returns (invitations created, already there)."""
    _check_staff(actor)
    roadshow = get_roadshow(roadshow_id)
    if not roadshow.enterprises:
        raise ValidationFailed("本次路演未登记参会企业", details={"enterprise_ids": "为空"})
    created = existing = 0
    for item in roadshow.items:
        if item.patent.status != EntryStatus.ENTERED:
            continue
        for org in roadshow.enterprises:
            _, new = evaluations.invite_enterprise(
                item.patent_id, actor=actor, enterprise_id=org.id
            )
            created, existing = created + int(new), existing + int(not new)
    audit.record(
        "roadshow", roadshow.id, "invite", actor, invited=created, already_invited=existing
    )
    db.session.commit()
    return created, existing
