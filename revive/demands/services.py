"""Posting, editing and closing enterprise demands. Public functions commit; signals fire after.

post_demand    create an OPEN demand for the actor's enterprise (officers: any enterprise)
update_demand  change fields, optimistic locking on Demand.version
close_demand   OPEN → CLOSED with a reason, ending the demand's open deals (CloseHook)
reopen_demand  CLOSED → OPEN (the enterprise: only what it closed itself), matched again
set_alerts     subscribe / unsubscribe the demand to new-patent alerts (订阅新专利提醒)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from revive import signals
from revive.accounts.models import Organization, OrgKind, Role, User
from revive.audit import services as audit
from revive.clock import local_today
from revive.common.fields import FieldError
from revive.common.links import link_errors
from revive.db import commit_or_conflict, lock_row, utcnow
from revive.demands import permissions, queries
from revive.demands.fields import FIELDS_BY_KEY, LABELS, validate_record
from revive.demands.models import Demand, DemandSource, DemandStatus, Visibility
from revive.errors import (
    ConflictError,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.ratelimit import check_hourly

CLOSE_REASON_MAX = 500
STALE_EDIT = "该需求已被他人修改，请刷新页面后重试（您的修改未保存）"


def _fail(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise ValidationFailed("；".join(m for _, m in errors), details=dict(errors))


def _check_deadline(values: Mapping[str, Any], errors: list[tuple[str, str]]) -> None:
    deadline = values.get("deadline")
    if deadline is not None and deadline < local_today():
        errors.append(("deadline", f"{LABELS['deadline']}不能早于今天：{deadline.isoformat()}"))


def _check_source(actor: User, values: Mapping[str, Any], errors: list[tuple[str, str]]) -> None:
    """来源 is what officials count demands by: an enterprise's own posting is 企业自填, never
    运营中心 or 服务机构调研 (a tester set source "center" through the API)."""
    source = values.get("source")
    if actor.role == Role.ENTERPRISE and source is not None and source != DemandSource.SELF:
        errors.append(("source", f"企业发布或修改的需求，来源只能是“{DemandSource.SELF.label}”"))


# An enterprise's own demand texts reach universities' notices and officers' new-demand
# notices: no links in them (common.links). The title is refused for everyone (its field's
# parser); officers importing listings may paste a source address into these texts.
ENTERPRISE_LINK_KEYS = ("description", "target_specs")


def _check_links(
    actor: User,
    values: Mapping[str, Any],
    errors: list[tuple[str, str]],
    current: Demand | None = None,
) -> None:
    """A link in an enterprise's description or targets (on an edit: only a changed text)."""
    if actor.role != Role.ENTERPRISE:
        return
    texts = [
        (key, LABELS[key], values[key])
        for key in ENTERPRISE_LINK_KEYS
        if key in values and (current is None or getattr(current, key) != values[key])
    ]
    errors.extend(link_errors(texts).items())


def _enterprise_for(actor: User, enterprise_id: int | None) -> Organization:
    if actor.role == Role.ENTERPRISE:
        if actor.organization_id is None:
            raise PermissionDenied("您的账号未关联企业")
        if enterprise_id is not None and enterprise_id != actor.organization_id:
            # named another company (an API call): refused, not quietly posted for its own
            raise PermissionDenied("企业用户只能为本企业发布需求（enterprise_id 不是您所在的企业）")
        return actor.organization
    if actor.role not in permissions.MANAGER_ROLES:
        raise PermissionDenied("只有企业用户、技术经理人或平台管理员可以发布需求")
    org = db.session.get(Organization, enterprise_id) if enterprise_id else None
    if org is None or org.kind != OrgKind.ENTERPRISE:
        raise ValidationFailed("请指定需求所属企业", details={"enterprise_id": "请指定企业"})
    return org


def contact_of(user: User) -> dict[str, str]:
    """A new demand's contact as it starts: the user's own name, phone and e-mail (the fields
    universities never see; the poster may change them), each only when the demand's own
    field check accepts it."""
    found: dict[str, str] = {}
    for key, value in (
        ("contact_name", user.name),
        ("contact_phone", user.phone),
        ("contact_email", user.email),
    ):
        try:
            if value and FIELDS_BY_KEY[key].parse_value(value) is not None:
                found[key] = value
        except FieldError:
            continue
    return found


class DuplicateDemand(ConflictError):
    """The enterprise already has this very demand open (the same form sent twice)."""

    def __init__(self, demand: Demand) -> None:
        super().__init__(
            f"该企业已有一条标题和内容完全相同的开放需求（“{demand.title}”，编号 {demand.id}），"
            "未重复发布",
            details={"demand_id": demand.id},
        )
        self.demand_id = demand.id


def post_demand(
    record: Mapping[str, Any],
    *,
    actor: User,
    enterprise_id: int | None = None,
    once: bool = True,
) -> Demand:
    """Create an OPEN demand (the actor's enterprise; officers name one). Commits.

    ``once``: a form sent again (a double click, three POSTs at once, a retried API call) must
    not post the demand again — DuplicateDemand when the enterprise already has an OPEN demand
    with the same title and description. The enterprise's row is locked first, so requests
    arriving together are checked one after the other."""
    enterprise = _enterprise_for(actor, enterprise_id)
    if actor.role == Role.ENTERPRISE:
        # the enterprise's own posts: demands staff posted or imported for it are not counted
        # (an operator imported 991 of one company's demands, and its next post was refused
        # with advice to ask for a bulk import)
        own = sa.select(User.id).where(User.organization_id == enterprise.id)
        check_hourly(
            sa.select(sa.func.count(Demand.id)).where(
                Demand.enterprise_id == enterprise.id, Demand.created_by_id.in_(own)
            ),
            Demand.created_at,
            "REVIVE_DEMANDS_PER_HOUR",
            "发布需求",
            "；如有大量需求要登记，请联系技术经理人批量导入",
        )
    result = validate_record(record)
    errors = list(result.errors)
    _check_deadline(result.values, errors)
    _check_source(actor, result.values, errors)
    _check_links(actor, result.values, errors)
    _fail(errors)
    values = dict(result.values)
    if actor.role == Role.ENTERPRISE:
        # an API client that sends no contact gets the poster's own, as the web form shows
        for key, value in contact_of(actor).items():
            if key not in record:
                values[key] = value
    if once:
        lock_row(Organization, enterprise.id)
        same = db.session.scalar(
            sa.select(Demand)
            .where(
                Demand.enterprise_id == enterprise.id,
                Demand.status == DemandStatus.OPEN,
                Demand.title == values.get("title"),
                Demand.description == values.get("description"),
            )
            .order_by(Demand.id)
            .limit(1)
        )
        if same is not None:
            duplicate = DuplicateDemand(same)
            db.session.rollback()  # the lock
            raise duplicate
    if values.get("source") is None:
        values["source"] = (
            DemandSource.SELF if actor.role == Role.ENTERPRISE else DemandSource.SURVEY
        )
    if values.get("visibility") is None:
        values["visibility"] = Visibility.PUBLIC
    demand = Demand(enterprise=enterprise, created_by_id=actor.id, **values)
    db.session.add(demand)
    db.session.flush()
    audit.record("demand", demand.id, "create", actor, organization_id=enterprise.id)
    db.session.commit()
    signals.demand_saved.send(None, demand_id=demand.id, created=True)
    return demand


def update_demand(
    demand_id: int,
    record: Mapping[str, Any],
    *,
    actor: User,
    expected_version: int | None = None,
) -> Demand:
    """Change the fields present in ``record``; ConflictError when the version is stale."""
    demand = permissions.get_visible_demand(actor, demand_id)
    permissions.check_edit(actor, demand)
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition("需求已关闭，不能修改")
    if expected_version is not None and expected_version != demand.version:
        raise ConflictError(STALE_EDIT)
    result = validate_record(record, partial=True)
    errors = list(result.errors)
    if result.values.get("deadline") != demand.deadline:
        _check_deadline(result.values, errors)
    if result.values.get("source") != demand.source:
        _check_source(actor, result.values, errors)
    _check_links(actor, result.values, errors, demand)
    _fail(errors)
    changed: list[str] = []
    for key, value in result.values.items():
        if key in ("source", "visibility") and value is None:
            continue  # not nullable: an empty choice keeps the current value
        if getattr(demand, key) != value:
            setattr(demand, key, value)
            changed.append(key)
    if not changed:
        db.session.rollback()
        return demand
    audit.record(
        "demand", demand.id, "edit", actor, organization_id=demand.enterprise_id, fields=changed
    )
    commit_or_conflict(STALE_EDIT)
    signals.demand_saved.send(
        None, demand_id=demand.id, created=False, fields=changed, actor_id=actor.id
    )
    return demand


# ---------------------------------------------------------------------------- closing


@dataclass(frozen=True)
class Ending:
    """One piece of follow-up work that closing the demand ends, as the close page lists it."""

    kind: str  # "deal": a deal still open (对接进行中); "intent": a 申请对接 not yet reviewed
    id: int  # the deal's or the match's id
    title: str  # the patent's title
    party: str  # the patent's university
    status: str  # where it stands, e.g. "已推荐 · 高校尚未答复"
    link: str | None = None  # the deal's page

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class CloseHook:
    """How closing a demand reaches the work of the packages above demands (deals, matching),
    which this package cannot import: the deals package registers one at start-up
    (revive.deals.receivers.connect, called by create_app), as it hands notifications its deal
    scope."""

    #: What closing ``demand`` would end, for the close page: (demand, actor) → items.
    pending: Callable[[Demand, User], list[Ending]]
    #: End it inside the closing transaction (rows only: no commit, e-mails after the commit).
    close: Callable[[Demand, User], Any]


_close_hooks: dict[str, CloseHook] = {}


def register_close_hook(name: str, hook: CloseHook) -> None:
    """Idempotent: by name, the last registration wins (several apps per process)."""
    _close_hooks[name] = hook


def closing_effects(demand: Demand, actor: User) -> list[Ending]:
    """What closing the demand would end now (open deals, unreviewed intents)."""
    if demand.status != DemandStatus.OPEN:
        return []
    return [item for hook in _close_hooks.values() for item in hook.pending(demand, actor)]


STALE_CLOSE = (
    "关闭前，这条需求或它的对接刚有新的变化（可能来自您的另一个窗口，或他人的操作），"
    "需求未关闭。请刷新页面，查看当前情况后再关闭"
)


CLOSE_LIST_CHANGED = (
    "打开本页后，这条需求又有了新的对接（见下方列表）。关闭需求会一并结束这些对接，请确认后再关闭"
)


def close_demand(
    demand_id: int,
    *,
    actor: User,
    reason: str | None,
    expected_version: int | None = None,
    seen: Collection[str] | None = None,
) -> Demand:
    """OPEN → CLOSED with a reason (required). Commits.

    ``seen``: the keys (``Ending.key``) of what the close form listed; when closing would now
    end more than that (a deal pushed after the page opened), ConflictError and nothing is
    saved — checked under the demand's lock, so nothing can slip in after the check.

    In the same transaction the registered hooks end what the demand still has going: its
    open deals become 未成交 (reason 企业已关闭需求) and their other sides are told
    (revive.deals.services.end_for_closed_demand); signed deals stay. The demand's row is
    held first, so a push running at the same moment either lands before (and its deal is
    ended here) or waits and is refused (the demand is closed)."""
    demand = permissions.get_visible_demand(actor, demand_id)
    permissions.check_edit(actor, demand)
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition("需求已关闭")
    if expected_version is not None and expected_version != demand.version:
        raise ConflictError(STALE_CLOSE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写关闭原因", details={"reason": "请填写关闭原因"})
    if len(reason) > CLOSE_REASON_MAX:
        raise ValidationFailed(
            f"关闭原因最多 {CLOSE_REASON_MAX} 字", details={"reason": "关闭原因过长"}
        )
    try:
        lock_row(Demand, demand.id)
        if seen is not None and {e.key for e in closing_effects(demand, actor)} - set(seen):
            db.session.rollback()
            raise ConflictError(CLOSE_LIST_CHANGED)
        demand.status = DemandStatus.CLOSED
        demand.closed_at = utcnow()
        demand.close_reason = reason
        audit.record(
            "demand", demand.id, "close", actor, organization_id=demand.enterprise_id, reason=reason
        )
        for hook in _close_hooks.values():
            hook.close(demand, actor)
        db.session.commit()
    except StaleDataError:  # the demand, or one of its deals, was saved meanwhile
        db.session.rollback()
        raise ConflictError(STALE_CLOSE) from None
    signals.demand_closed.send(None, demand_id=demand.id)
    return demand


STALE_REOPEN = "这条需求刚被他人修改或重新开放，请刷新页面后再试"
CLOSED_BY_STAFF = (
    "这条需求由{closer}关闭，只能由技术经理人或平台管理员重新开放；如有疑问，请联系技术经理人"
)


def reopen_refusal(actor: User, closer: queries.Closer | None) -> str | None:
    """Why ``actor``, who may edit the demand, may not reopen it (None: may): an enterprise
    cannot reopen what staff closed. ``closer``: ``queries.closed_by(demand)``, which the
    pages show as well (read once)."""
    if actor.role == Role.ENTERPRISE and closer is not None and closer.by_staff:
        return CLOSED_BY_STAFF.format(closer=closer.label)
    return None


def can_reopen(actor: User, demand: Demand, closer: queries.Closer | None) -> bool:
    """The detail page's 重新开放 button: a closed demand the actor manages and may reopen."""
    return (
        demand.status == DemandStatus.CLOSED
        and permissions.may_manage(actor, demand)
        and reopen_refusal(actor, closer) is None
    )


KEEP = object()  # reopen_demand's deadline not sent (the API): the demand keeps its own


def reopen_demand(
    demand_id: int,
    *,
    actor: User,
    deadline: Any = KEEP,
    expected_version: int | None = None,
) -> Demand:
    """CLOSED → OPEN: the enterprise closed a demand by mistake, or the partner it closed it
    for fell through. Commits; audited (the reason it had been closed goes into the audit
    row); demand_saved is sent, so it is matched again, and demand_reopened.

    The enterprise reopens only what it closed itself: a demand that an officer or the
    platform admin closed (a duplicate, a posting that broke the rules) stays closed until
    staff reopen it. ``deadline``: the new 截止日期 as typed (None or blank: no deadline);
    left out, the demand keeps its own, which must not have passed. The deals that closing
    ended stay 未成交 (an officer can reopen each on its page); the intents it ended stay
    as they were."""
    demand = permissions.get_visible_demand(actor, demand_id)
    permissions.check_edit(actor, demand)
    if demand.status != DemandStatus.CLOSED:
        raise InvalidTransition("需求未关闭，无需重新开放")
    if expected_version is not None and expected_version != demand.version:
        raise ConflictError(STALE_REOPEN)
    refusal = reopen_refusal(actor, queries.closed_by(demand))
    if refusal:
        raise PermissionDenied(refusal)
    if deadline is KEEP:
        new_deadline = demand.deadline
    else:
        result = validate_record({"deadline": deadline}, partial=True)
        _fail(list(result.errors))
        new_deadline = result.values.get("deadline")
    if new_deadline is not None and new_deadline < local_today():
        message = (
            f"{LABELS['deadline']}（{new_deadline.isoformat()}）已过，"
            "请填写新的截止日期，或留空表示不设截止日期"
        )
        raise ValidationFailed(message, details={"deadline": message})
    lock_row(Demand, demand.id)
    reason = demand.close_reason
    demand.status = DemandStatus.OPEN
    demand.closed_at = None
    demand.close_reason = None
    demand.deadline = new_deadline
    audit.record(
        "demand",
        demand.id,
        "reopen",
        actor,
        organization_id=demand.enterprise_id,
        reason=reason,
    )
    commit_or_conflict(STALE_REOPEN)
    signals.demand_saved.send(None, demand_id=demand.id, created=False)
    signals.demand_reopened.send(None, demand_id=demand.id, actor_id=actor.id)
    return demand


def set_alerts(demand_id: int, subscribed: bool, *, actor: User) -> Demand:
    """Switch 订阅新专利提醒 on or off (the owner, officers, the platform admin). Commits;
    audited; not a text change, so no re-match (demand_saved is not sent)."""
    demand = permissions.get_visible_demand(actor, demand_id)
    permissions.check_edit(actor, demand)
    if not isinstance(subscribed, bool):
        raise ValidationFailed(
            "subscribed 须为 true 或 false", details={"subscribed": "须为布尔值"}
        )
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition("需求已关闭，不能订阅新专利提醒")
    if demand.alert_subscribed == subscribed:
        return demand
    demand.alert_subscribed = subscribed
    audit.record(
        "demand",
        demand.id,
        "alerts_on" if subscribed else "alerts_off",
        actor,
        organization_id=demand.enterprise_id,
    )
    commit_or_conflict(STALE_EDIT)
    return demand


def get_demand_for(actor: User, demand_id: int) -> Demand:
    return permissions.get_visible_demand(actor, demand_id)
