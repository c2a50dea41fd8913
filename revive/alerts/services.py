"""Standing alerts: who is told what, and when.

    record_match_alerts   (receiver of match_run_finished) the candidates an all-demand run
                          added at or above the alert tier (REVIVE_ALERT_MIN_TIER), for patents
                          entered after the demand was posted: one MatchAlert per pair (never
                          twice), the enterprise's inbox (when the demand's 订阅新专利提醒 is on)
                          and each officer's inbox
    notify_new_demand     (receiver of demand_saved) a demand an enterprise posted itself:
                          each officer's inbox
    notify_new_intent     (receiver of intent_submitted) an enterprise's 申请对接: each
                          officer's inbox
    send_alert_digests    (hourly beat) one e-mail per person and local day, from
                          REVIVE_DIGEST_HOUR on, listing what arrived since the last one
    deliver_digest        (worker) send one digest with its unsubscribe links
    set_preference        turn one alert kind on or off for a user (audited)
    unsubscribe           the e-mail's link: a signed token naming a user and a kind
    mark_seen             the user opened a queue (the menu counts what arrived since)
    mark_item_seen        the user opened one item's page (a demand, an intent's match): the
                          menu no longer counts it

Where new patents reach the matcher: a patent entering the pool (an eligibility change) or an
index build (full or delta) ends in a re-match of every open demand
(matching.tokens.tokenize_patents / indexes._after_build); that run upserts candidates, so the
alert is what it added — rows created by the run, machine proposals nobody asked for yet — no
second scoring pass. A candidate of a patent entered before the demand was posted is not new to
the enterprise (its page listed it, or the pool had it) and raises no alert; nor does a demand's
own run (a new or edited demand: the page shows those at once).

The inbox rows are added without e-mail: the e-mail is the daily digest. A user's preference
(``AlertPreference``) turns the kind off for that user — their own inbox notices and the
digest's section; the enterprise's inbox (the organization's shared in-tray) follows the
demand's own switch.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from revive import clock, queue
from revive.accounts.models import Role, User
from revive.alerts.models import (
    AlertDigest,
    AlertKind,
    AlertPreference,
    MatchAlert,
    QueueSeen,
    SeenItem,
)
from revive.audit import services as audit
from revive.db import utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import NotFoundError, ValidationFailed
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.matching.models import Match, MatchRun, MatchSource, MatchState, MatchTier, RunScope
from revive.notifications import services as notifications
from revive.notifications.models import Notification

logger = logging.getLogger(__name__)

TIER_SETTING = "REVIVE_ALERT_MIN_TIER"
TIERS = {  # the setting's values → the tiers that raise an alert
    "strong": (MatchTier.STRONG,),
    "medium": (MatchTier.STRONG, MatchTier.MEDIUM),
}
# Who gets which alert: enterprises hear of new patents for their demands; officers of new
# patents for any demand, new demands and new intents.
KINDS_BY_ROLE: dict[Role, tuple[AlertKind, ...]] = {
    Role.ENTERPRISE: (AlertKind.MATCHES,),
    Role.OFFICER: (AlertKind.MATCHES, AlertKind.QUEUE),
}
ALERT_ROLES = frozenset(KINDS_BY_ROLE)

MATCH_KIND = "match_alert"
DEMAND_KIND = "new_demand"
INTENT_KIND = "new_intent"

NOTICE_LISTED = 10  # patents (or demands) named in one inbox notice; the rest are counted
DIGEST_LOOKBACK = timedelta(days=7)  # a user's first digest (or after a long pause)
DIGEST_DEMANDS = 20  # demands listed in one digest's match section
DIGEST_PER_DEMAND = 5  # patents listed per demand
DIGEST_ITEMS = 20  # new demands / intents listed
MESSAGE_EXCERPT = 120  # characters of an intent's message quoted
TOKEN_SALT = "revive.alerts.unsubscribe"  # single purpose: only unsubscribe links use it
SEEN_LOOKBACK = timedelta(days=7)  # "new" for a user who never opened the queue


# ---------------------------------------------------------------------------- settings


def alert_tiers() -> tuple[MatchTier, ...]:
    """The tiers that raise an alert: 强 (default) or 强 and 中 (REVIVE_ALERT_MIN_TIER)."""
    return TIERS[str(current_app.config.get(TIER_SETTING) or "strong")]


def kinds_for(user: User) -> tuple[AlertKind, ...]:
    return KINDS_BY_ROLE.get(user.role, ())


def subscribed(user_id: int, kind: AlertKind) -> bool:
    row = db.session.get(AlertPreference, (user_id, kind))
    return row is None or row.is_subscribed


def _opted_out(kind: AlertKind) -> sa.Select:
    return sa.select(AlertPreference.user_id).where(
        AlertPreference.kind == kind, AlertPreference.is_subscribed.is_(False)
    )


def _officers(kind: AlertKind) -> list[User]:
    """Active officers who want ``kind``."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.role == Role.OFFICER,
                User.is_active_flag.is_(True),
                User.id.not_in(_opted_out(kind)),
            )
            .order_by(User.id)
        )
    )


def _inbox(kind: str, title: str, **kw: Any) -> Notification:
    """An inbox row that is never e-mailed on its own (the daily digest carries it)."""
    row = notifications.notify(kind, title, **kw)
    row.email_status = None
    return row


def _more(lines: list[str], total: int, unit: str) -> list[str]:
    if total > len(lines):
        lines.append(f"……另有 {total - len(lines)} {unit}")
    return lines


# ---------------------------------------------------------------------------- match alerts


@dataclass
class _Pair:
    match_id: int
    demand: Demand
    patent: Patent
    tier: MatchTier
    strength: float | None


def _new_pairs(run: MatchRun) -> list[_Pair]:
    """The run's new candidates at or above the alert tier not alerted before: created by
    this run, machine proposals without an intent or an officer's pick, on open demands, for
    entered patents that entered the pool after the demand was posted."""
    alerted = sa.exists().where(
        MatchAlert.demand_id == Match.demand_id, MatchAlert.patent_id == Match.patent_id
    )
    rows = db.session.execute(
        sa.select(Match.id, Match.tier, Match.strength, Demand, Patent)
        .join(Demand, Demand.id == Match.demand_id)
        .join(Patent, Patent.id == Match.patent_id)
        .where(
            Match.run_id == run.id,
            Match.created_at >= run.started_at,
            Match.state == MatchState.CANDIDATE,
            Match.source == MatchSource.MACHINE,
            Match.intent_at.is_(None),
            Match.added_by_id.is_(None),
            Match.tier.in_(alert_tiers()),
            Demand.status == DemandStatus.OPEN,
            Patent.status == EntryStatus.ENTERED,
            Patent.entered_at > Demand.created_at,
            ~alerted,
        )
        .order_by(Match.demand_id, Match.strength.desc(), Match.id)
    ).all()
    return [_Pair(mid, d, p, tier, strength) for mid, tier, strength, d, p in rows]


def _patent_line(p: Patent, tier: MatchTier) -> str:
    return f"· 《{p.title}》{p.institution.name} · 匹配强度：{tier.label}"


def record_match_alerts(run_id: int) -> list[MatchAlert]:
    """Record and announce the new strong candidates of an all-demand run (see the module
    docstring). Safe to run twice: a pair is alerted once (unique pair). Commits."""
    run = db.session.get(MatchRun, run_id)
    if run is None or run.scope != RunScope.ALL_DEMANDS or run.started_at is None:
        return []
    for attempt in range(2):
        try:
            return _record(run)
        except IntegrityError:  # a concurrent run alerted one of the pairs first
            db.session.rollback()
            if attempt:
                raise
            run = db.session.get(MatchRun, run_id)
    return []


def _record(run: MatchRun) -> list[MatchAlert]:
    pairs = _new_pairs(run)
    if not pairs:
        return []
    now = utcnow()
    alerts = [
        MatchAlert(
            demand_id=p.demand.id,
            patent_id=p.patent.id,
            match_id=p.match_id,
            run_id=run.id,
            tier=p.tier,
            strength=p.strength,
            enterprise_told=bool(p.demand.alert_subscribed),
            created_at=now,
        )
        for p in pairs
    ]
    db.session.add_all(alerts)
    db.session.flush()
    by_demand: dict[int, list[_Pair]] = defaultdict(list)
    for p in pairs:
        by_demand[p.demand.id].append(p)
    for group in by_demand.values():
        demand = group[0].demand
        if demand.alert_subscribed:
            _tell_enterprise(demand, group, now)
    officers = _officers(AlertKind.MATCHES)
    if officers:
        title, body = _officer_summary(by_demand)
        link = notifications.app_link("review.queue")
        for officer in officers:
            _inbox(MATCH_KIND, title, user_id=officer.id, body=body, link=link, created_at=now)
    db.session.commit()
    logger.info(
        "Run %s: %d new match alert(s) on %d demand(s)", run.id, len(alerts), len(by_demand)
    )
    return alerts


def _tell_enterprise(demand: Demand, group: list[_Pair], now: datetime) -> None:
    lines = [_patent_line(p.patent, p.tier) for p in group[:NOTICE_LISTED]]
    lines = _more(lines, len(group), "件")
    lines.append("机器推荐，尚未经技术经理人审核；看中的专利可在专利库页面直接申请对接。")
    _inbox(
        MATCH_KIND,
        f"新入库专利与您的需求“{demand.title}”匹配度较高：{len(group)} 件",
        organization_id=demand.enterprise_id,
        body="\n".join(lines),
        link=notifications.app_link("demands.detail", demand_id=demand.id) + "#demand-suggestions",
        created_at=now,
    )


def _officer_summary(by_demand: dict[int, list[_Pair]]) -> tuple[str, str]:
    total = sum(len(g) for g in by_demand.values())
    lines = []
    for group in list(by_demand.values())[:NOTICE_LISTED]:
        d = group[0].demand
        names = "、".join(f"《{p.patent.title}》" for p in group[:3])
        extra = f"等 {len(group)} 件" if len(group) > 3 else ""
        lines.append(f"· 需求“{d.title}”（{d.enterprise.name}）：{names}{extra}")
    lines = _more(lines, len(by_demand), "条需求")
    return f"新入库专利强匹配：{len(by_demand)} 条需求、{total} 件专利", "\n".join(lines)


# ---------------------------------------------------------------------------- queue notices


def notify_new_demand(demand_id: int) -> int:
    """Tell officers of a demand an enterprise posted itself (imports and postings by staff
    are theirs already). Commits; returns the number of notices."""
    demand = db.session.get(Demand, demand_id)
    if demand is None or demand.status != DemandStatus.OPEN or demand.created_by is None:
        return 0
    if demand.created_by.role != Role.ENTERPRISE:
        return 0
    officers = _officers(AlertKind.QUEUE)
    title = f"新需求：“{demand.title}”（{demand.enterprise.name}）"
    body = (demand.description or "")[:MESSAGE_EXCERPT]
    link = notifications.app_link("matching.demand_matches", demand_id=demand.id)
    for officer in officers:
        _inbox(DEMAND_KIND, title, user_id=officer.id, body=body or None, link=link)
    db.session.commit()
    return len(officers)


def notify_new_intent(match_id: int) -> int:
    """Tell officers of an enterprise's 申请对接. Commits; returns the number of notices."""
    match = db.session.get(Match, match_id)
    if match is None or match.intent_at is None:
        return 0
    officers = _officers(AlertKind.QUEUE)
    demand, patent = match.demand, match.patent
    title = f"企业申请对接：{demand.enterprise.name} 想了解《{patent.title}》"
    body = f"需求“{demand.title}”。对接说明：{(match.intent_message or '')[:MESSAGE_EXCERPT]}"
    link = notifications.app_link("matching.match_page", match_id=match.id)
    for officer in officers:
        _inbox(INTENT_KIND, title, user_id=officer.id, body=body, link=link)
    db.session.commit()
    return len(officers)


# ---------------------------------------------------------------------------- receivers


def on_match_run_finished(run_id: int, scope: str) -> None:
    """Receiver body: never fail the run that finished."""
    if scope != RunScope.ALL_DEMANDS.value:
        return
    try:
        record_match_alerts(run_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not record the match alerts of run %s", run_id)


def on_demand_saved(demand_id: int, created: bool) -> None:
    if not created:
        return
    try:
        notify_new_demand(demand_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not tell officers of demand %s", demand_id)


def on_intent_submitted(match_id: int) -> None:
    try:
        notify_new_intent(match_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not tell officers of the intent on match %s", match_id)


# ---------------------------------------------------------------------------- digests


@dataclass
class Section:
    kind: AlertKind
    heading: str
    lines: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _url(endpoint: str, **values: Any) -> str:
    return notifications.absolute_link(notifications.app_link(endpoint, **values)) or ""


def _alert_rows(where: Iterable[sa.ColumnElement[bool]]) -> list[tuple[MatchAlert, Demand]]:
    stmt = (
        sa.select(MatchAlert, Demand)
        .join(Demand, Demand.id == MatchAlert.demand_id)
        .join(Patent, Patent.id == MatchAlert.patent_id)
        .where(
            *where,
            Demand.status == DemandStatus.OPEN,
            Patent.status == EntryStatus.ENTERED,
        )
        .order_by(Demand.id, MatchAlert.strength.desc(), MatchAlert.id)
    )
    return [(a, d) for a, d in db.session.execute(stmt).all()]


def _match_section(user: User, since: datetime, now: datetime) -> Section | None:
    window = [MatchAlert.created_at > since, MatchAlert.created_at <= now]
    staff = user.role == Role.OFFICER
    if not staff:
        window += [
            Demand.enterprise_id == user.organization_id,
            Demand.alert_subscribed.is_(True),
        ]
    rows = _alert_rows(window)
    if not rows:
        return None
    by_demand: dict[int, list[tuple[MatchAlert, Demand]]] = defaultdict(list)
    for alert, demand in rows:
        by_demand[demand.id].append((alert, demand))
    section = Section(
        AlertKind.MATCHES,
        f"【新入库专利匹配】自 {clock.format_dt(since)} 以来，{len(rows)} 件新入库专利与 "
        f"{len(by_demand)} 条{'开放' if staff else '您的'}需求匹配度较高：",
        counts={"matches": len(rows), "demands": len(by_demand)},
    )
    for group in list(by_demand.values())[:DIGEST_DEMANDS]:
        demand = group[0][1]
        who = f"（{demand.enterprise.name}）" if staff else ""
        section.lines += ["", f"需求“{demand.title}”{who}：{len(group)} 件"]
        for alert, _ in group[:DIGEST_PER_DEMAND]:
            section.lines.append(_patent_line(alert.patent, alert.tier))
            if staff and alert.match_id is not None:
                section.lines.append(f"  {_url('matching.match_page', match_id=alert.match_id)}")
            else:
                section.lines.append(f"  {_url('pool.patent', patent_id=alert.patent_id)}")
        if len(group) > DIGEST_PER_DEMAND:
            section.lines.append(f"  ……另有 {len(group) - DIGEST_PER_DEMAND} 件")
        page = (
            _url("matching.demand_matches", demand_id=demand.id)
            if staff
            else _url("demands.detail", demand_id=demand.id)
        )
        section.lines.append(f"  查看需求：{page}")
    if len(by_demand) > DIGEST_DEMANDS:
        section.lines += ["", f"……另有 {len(by_demand) - DIGEST_DEMANDS} 条需求"]
    if not staff:
        section.lines += ["", "以上为机器推荐，尚未经技术经理人审核；看中的专利可直接申请对接。"]
    return section


def _queue_section(since: datetime, now: datetime) -> Section | None:
    demands = list(
        db.session.scalars(
            sa.select(Demand)
            .where(
                Demand.created_at > since,
                Demand.created_at <= now,
                Demand.status == DemandStatus.OPEN,
            )
            .order_by(Demand.created_at, Demand.id)
            .limit(DIGEST_ITEMS + 1)
        )
    )
    intents = list(
        db.session.scalars(
            sa.select(Match)
            .where(Match.intent_at > since, Match.intent_at <= now)
            .order_by(Match.intent_at, Match.id)
            .limit(DIGEST_ITEMS + 1)
        )
    )
    if not demands and not intents:
        return None
    n_demands = _count(sa.select(sa.func.count(Demand.id)), Demand.created_at, since, now)
    n_intents = _count(sa.select(sa.func.count(Match.id)), Match.intent_at, since, now)
    section = Section(
        AlertKind.QUEUE,
        f"【新需求与对接申请】自 {clock.format_dt(since)} 以来：新需求 {n_demands} 条，"
        f"企业申请对接 {n_intents} 件",
        counts={"demands": n_demands, "intents": n_intents},
    )
    if demands:
        section.lines += ["", "新需求："]
        for d in demands[:DIGEST_ITEMS]:
            section.lines.append(
                f"· “{d.title}”（{d.enterprise.name}，{clock.format_dt(d.created_at)}）"
            )
            section.lines.append(f"  {_url('matching.demand_matches', demand_id=d.id)}")
        if n_demands > DIGEST_ITEMS:
            section.lines.append(f"……另有 {n_demands - DIGEST_ITEMS} 条")
    if intents:
        section.lines += ["", "企业申请对接："]
        for m in intents[:DIGEST_ITEMS]:
            section.lines.append(
                f"· {m.demand.enterprise.name} 为需求“{m.demand.title}”申请对接《{m.patent.title}》"
                f"（{clock.format_dt(m.intent_at)}）"
            )
            section.lines.append(f"  {_url('matching.match_page', match_id=m.id)}")
        if n_intents > DIGEST_ITEMS:
            section.lines.append(f"……另有 {n_intents - DIGEST_ITEMS} 件")
    return section


def _count(stmt: sa.Select, column: Any, since: datetime, now: datetime) -> int:
    return db.session.scalar(stmt.where(column > since, column <= now)) or 0


def digest_sections(user: User, since: datetime, now: datetime) -> list[Section]:
    """What one user's digest says about (since, now]: the sections of the kinds they get
    and want, each only when something arrived."""
    sections: list[Section] = []
    for kind in kinds_for(user):
        if not subscribed(user.id, kind):
            continue
        if kind == AlertKind.MATCHES:
            found = _match_section(user, since, now)
        else:
            found = _queue_section(since, now)
        if found is not None:
            sections.append(found)
    return sections


def _subject(sections: Sequence[Section], day: Any) -> str:
    parts = []
    for s in sections:
        if s.kind == AlertKind.MATCHES:
            parts.append(f"{s.counts['matches']} 件新专利匹配")
        else:
            if s.counts["demands"]:
                parts.append(f"{s.counts['demands']} 条新需求")
            if s.counts["intents"]:
                parts.append(f"{s.counts['intents']} 件对接申请")
    return f"新提醒汇总（{clock.format_date(day)}）：{' · '.join(parts)}"


def _candidates(earliest: datetime, now: datetime) -> list[User]:
    """Users who may have something: members of enterprises with alerts in the window, and
    every officer (few)."""
    enterprises = (
        sa.select(Demand.enterprise_id)
        .join(MatchAlert, MatchAlert.demand_id == Demand.id)
        .where(MatchAlert.created_at > earliest, MatchAlert.created_at <= now)
    )
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active_flag.is_(True),
                User.email != "",
                sa.or_(
                    User.role == Role.OFFICER,
                    sa.and_(User.role == Role.ENTERPRISE, User.organization_id.in_(enterprises)),
                ),
            )
            .order_by(User.id)
        )
    )


def send_alert_digests(now: datetime | None = None) -> int:
    """Make today's digest for every user with something new and none yet today (local day),
    once the local hour has reached REVIVE_DIGEST_HOUR; then queue their e-mails. Nothing
    without SMTP (the inbox has had every alert already). Safe to run hourly and twice.
    Commits; returns the number made."""
    now = now or utcnow()
    if not notifications.smtp_configured():
        return 0
    if clock.to_local(now).hour < int(current_app.config.get("REVIVE_DIGEST_HOUR", 8)):
        return 0
    today = clock.local_date(now)
    earliest = now - DIGEST_LOOKBACK
    last = dict(
        db.session.execute(
            sa.select(AlertDigest.user_id, sa.func.max(AlertDigest.until_at)).group_by(
                AlertDigest.user_id
            )
        ).all()
    )
    done = set(db.session.scalars(sa.select(AlertDigest.user_id).where(AlertDigest.day == today)))
    made: list[AlertDigest] = []
    for user in _candidates(earliest, now):
        if user.id in done:
            continue
        previous = last.get(user.id)
        since = max(clock.as_utc(previous), earliest) if previous is not None else earliest
        sections = digest_sections(user, since, now)
        if not sections:
            continue
        body: list[str] = []
        for s in sections:
            body += [s.heading, *s.lines, ""]
        row = AlertDigest(
            user_id=user.id,
            day=today,
            since_at=since,
            until_at=now,
            subject=_subject(sections, today)[:300],
            body="\n".join(body).rstrip(),
            kinds=[s.kind.value for s in sections],
            counts={s.kind.value: s.counts for s in sections},
            email_status="queued",
            created_at=now,
        )
        db.session.add(row)
        made.append(row)
    db.session.commit()
    for row in made:
        queue.send(DIGEST_TASK, row.id)  # broker down: the recovery sweep sends it later
    if made:
        logger.info("Made %d alert digest(s)", len(made))
    return len(made)


# ---------------------------------------------------------------------------- unsubscribe


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def unsubscribe_token(user_id: int, kind: AlertKind) -> str:
    """A signed token that turns ``kind`` off for the user — and does nothing else."""
    return str(_serializer().dumps({"u": int(user_id), "k": kind.value}))


def unsubscribe_link(user_id: int, kind: AlertKind) -> str:
    return _url("alerts.unsubscribe", token=unsubscribe_token(user_id, kind))


def read_unsubscribe_token(token: str) -> tuple[User, AlertKind]:
    """The (user, kind) a token names; NotFoundError for anything else."""
    try:
        data = _serializer().loads(token)
        user = db.session.get(User, int(data["u"]))
        kind = AlertKind(data["k"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise NotFoundError("退订链接无效，请检查邮件中的链接是否完整") from None
    if user is None:
        raise NotFoundError("退订链接无效，请检查邮件中的链接是否完整")
    return user, kind


def set_preference(user: User, kind: AlertKind, on: bool, *, actor: User, via: str) -> bool:
    """Turn ``kind`` on or off for ``user``; True when it changed. Audited. Commits."""
    if not isinstance(kind, AlertKind):
        raise ValidationFailed("未知的提醒类型", details={"kind": "未知的提醒类型"})
    row = db.session.get(AlertPreference, (user.id, kind))
    current = row is None or row.is_subscribed
    if current == on:
        return False
    if row is None:
        row = AlertPreference(user_id=user.id, kind=kind)
        db.session.add(row)
    row.is_subscribed = on
    audit.record(
        "user",
        user.id,
        "alerts_subscribe" if on else "alerts_unsubscribe",
        actor,
        organization_id=user.organization_id,
        kind=kind.value,
        via=via,
    )
    db.session.commit()
    return True


def unsubscribe(token: str) -> tuple[User, AlertKind]:
    """The e-mail's link: turn the kind off for the user it names (no login). Commits."""
    user, kind = read_unsubscribe_token(token)
    set_preference(user, kind, False, actor=user, via="unsubscribe_link")
    return user, kind


def _message(row: AlertDigest, sender: str) -> EmailMessage:
    user = row.user
    kinds = [AlertKind(k) for k in row.kinds]
    links = {kind: unsubscribe_link(user.id, kind) for kind in kinds}
    lines = [f"{user.name}，您好：", "", row.body, ""]
    lines.append(f"汇总时间：{clock.format_dt(row.until_at)}（{clock.zone_label()}）")
    lines.append("")
    for kind, link in links.items():
        lines.append(f"不想再收到“{kind.label}”？点此退订（无需登录）：{link}")
    lines.append(f"重新订阅或管理提醒：{_url('accounts.account')}#alert-preferences")
    lines += ["", notifications.SIGNATURE]
    msg = notifications.compose(user, row.subject, sender, lines)
    if len(links) == 1:  # RFC 8058 one-click: the header names one kind
        msg["List-Unsubscribe"] = f"<{next(iter(links.values()))}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return msg


DIGEST_TASK = "alerts.digest_email"


def _give_up_digest(digest_id: int) -> None:
    db.session.rollback()
    db.session.execute(
        sa.update(AlertDigest)
        .where(AlertDigest.id == digest_id, AlertDigest.email_status == "queued")
        .values(email_status="failed")
    )
    db.session.commit()


# A queued digest is the outbox of its e-mail (revive.queue).
queue.register(
    queue.Kind(
        DIGEST_TASK,
        AlertDigest,
        active=lambda: AlertDigest.email_status == "queued",
        give_up=_give_up_digest,
        changed=AlertDigest.created_at,
    )
)


def deliver_digest(digest_id: int) -> str | None:
    """(worker) Send one digest; the outcome on the row: sent, failed (SMTP error, logged),
    skipped (no SMTP, an inactive user or no address). Safe to run twice. Commits."""
    row = db.session.get(AlertDigest, digest_id)
    if row is None:
        return None
    if row.email_status == "sent":
        return row.email_status
    user = row.user
    if not notifications.smtp_configured() or not user.is_active or not user.email:
        row.email_status = "skipped"
        db.session.commit()
        return row.email_status
    try:
        notifications.send_messages([_message(row, notifications.sender_address())])
    except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: unbuildable
        logger.warning("Alert digest %s failed: %s", row.id, exc)
        row.email_status = "failed"
    else:
        row.email_status, row.sent_at = "sent", utcnow()
    db.session.commit()
    return row.email_status


# ---------------------------------------------------------------------------- last seen


def _upsert(model: Any, values: dict[str, Any], keys: list[Any], update: str) -> None:
    """INSERT … ON CONFLICT DO UPDATE of one row (PostgreSQL and SQLite both have it)."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(model).values(**values)
    db.session.execute(
        stmt.on_conflict_do_update(index_elements=keys, set_={update: stmt.excluded[update]})
    )


def mark_seen(
    user: User, queue_name: str, at: datetime | None = None, *, commit: bool = True
) -> None:
    """The user opened ``queue_name`` now. Commits unless told not to (a page stamps itself
    before it is drawn and commits after: alerts.views).

    One statement, INSERT … ON CONFLICT DO UPDATE (PostgreSQL and SQLite both have it): a
    user's two tabs opening the queue at the same instant both land. Reading the row first and
    inserting when it was missing let the second of them fail on the first one's primary key
    (a 500, seen under the load test on PostgreSQL)."""
    _upsert(
        QueueSeen,
        {"user_id": user.id, "queue": queue_name, "seen_at": at or utcnow()},
        [QueueSeen.user_id, QueueSeen.queue],
        "seen_at",
    )
    if commit:
        db.session.commit()


def mark_item_seen(
    user: User, kind: str, item_id: int, at: datetime | None = None, *, commit: bool = True
) -> None:
    """The user opened the page of one item (``kind``: alerts.queries.DEMAND_ITEM,
    INTENT_ITEM or SUGGESTIONS_ITEM) now; one upsert, as ``mark_seen``."""
    _upsert(
        SeenItem,
        {"user_id": user.id, "kind": kind, "item_id": item_id, "seen_at": at or utcnow()},
        [SeenItem.user_id, SeenItem.kind, SeenItem.item_id],
        "seen_at",
    )
    if commit:
        db.session.commit()
