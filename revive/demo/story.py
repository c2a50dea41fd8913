"""The matchmaking part of the demo: review decisions, deals, contracts, 市场评价, open licences.

Played once, after the in-process match runs (revive.demo.worker), on the engine's candidates:

- ``STORIES`` says, per demo demand (index into revive.demo.demands.DEMANDS), which of its best
  candidates the officer accepts and how far each resulting deal gets (已推荐 … 已签约 / 未成交,
  the university's answer, the contract), which further candidates are rejected and why; the
  rest stay in the review queue;
- the enterprises then rate (市场评价) the patents they talked about, the officer and two
  universities invite enterprises to evaluate more patents (some 5★ → 双五星), and the
  universities declare a few open licences;
- finally the overdue-response reminder runs, and old notifications are marked read.

Every state is reached through the real services (decide, respond, change_stage,
record_contract, evaluate_patent, invite_enterprise, declare, withdraw, notify_overdue), so
deal events, audit events and inbox notifications are real. The story spans the last twelve
months: each step runs with the clock held at the step's moment (``revive.clock.held_at``) in a
deterministic timeline (seeded random, relative to today), so the rows it writes and the texts
it composes (a notification's "请在 7 天内（… 前）答复") carry that moment — nothing is re-dated
afterwards, and the append-only audit log is only ever appended to. An answer given within the
window is on time, one given after it is late, as the service itself decides.

Idempotent: a demand whose candidates were already decided is left alone, an invite, an
evaluation or a declaration that exists is not made again, so a second seed adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from revive import clock
from revive.accounts.models import Organization, Role, User
from revive.db import as_utc, utcnow
from revive.deals import queries as deal_queries
from revive.deals import services as deals
from revive.deals.models import (
    Contract,
    ContractKind,
    Deal,
    Stage,
    UniversityResponse,
)
from revive.demands.models import Demand
from revive.demo import catalog
from revive.demo.catalog import DOMAIN
from revive.demo.demands import DEMANDS
from revive.evaluations import services as evaluations
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, PatentType, Willingness
from revive.licensing import rules
from revive.licensing import services as licensing
from revive.licensing.models import FeeMode, OpenLicenceDeclaration
from revive.matching.models import Match, MatchState
from revive.notifications import review as review_notices
from revive.notifications.models import Notification
from revive.review import services as decisions

SEED = "revive-demo-v1"
K = ContractKind
R = UniversityResponse


# ------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class ContractPlan:
    kind: ContractKind
    amount_wan: str  # 万元
    months_ago: int  # signed this many months before today (0 = this month)
    recorded: bool = True  # has its 备案号 already


@dataclass(frozen=True)
class DealPlan:
    stage: Stage  # where the deal ends
    response: UniversityResponse | None = None  # the university's answer (None: none yet)
    late: bool = False  # answered after the due date
    reason: str | None = None  # 未成交原因 (deals.reasons) when stage is FAILED
    failed_from: Stage = Stage.RECOMMENDED
    contract: ContractPlan | None = None
    idle: tuple[int, int] = (3, 15)  # days between the last step and today
    overdue: bool = False  # unanswered, past the answer window (REVIVE_RESPONSE_DAYS)

    def steps(self) -> list[str]:
        """The service calls after the push, in order."""
        reached = self.failed_from if self.stage == Stage.FAILED else self.stage
        path = {
            Stage.RECOMMENDED: [],
            Stage.CONTACTED: ["contact"],
            Stage.NEGOTIATING: ["contact", "negotiate"],
            Stage.SIGNED: ["contact", "negotiate", "sign"],
        }[reached]
        answer = ["respond"] if self.response else []
        return answer + path + (["fail"] if self.stage == Stage.FAILED else [])


@dataclass(frozen=True)
class Story:
    deals: tuple[DealPlan, ...] = ()  # the best candidates, accepted in this order
    rejects: tuple[str, ...] = ()  # reason codes for the next candidates
    reject_all: bool = False  # nothing in the pool fits: every candidate is rejected


def signed(kind: ContractKind, amount: str, months_ago: int, recorded: bool = True) -> DealPlan:
    return DealPlan(
        Stage.SIGNED,
        R.INTERESTED,
        contract=ContractPlan(kind, amount, months_ago, recorded),
    )


def failed(reason: str, after: Stage, response: UniversityResponse | None = R.INTERESTED):
    return DealPlan(Stage.FAILED, response, reason=reason, failed_from=after, idle=(10, 120))


NEGOTIATING = DealPlan(Stage.NEGOTIATING, R.INTERESTED, idle=(4, 20))
CONTACTED = DealPlan(Stage.CONTACTED, R.INTERESTED, idle=(3, 12))
CONTACTED_LATE = DealPlan(Stage.CONTACTED, R.INTERESTED, late=True, idle=(3, 12))
OVERDUE = DealPlan(Stage.RECOMMENDED, overdue=True)
FRESH = DealPlan(Stage.RECOMMENDED, idle=(1, 2))  # pushed a day or two ago
ANSWERED_YES = DealPlan(Stage.RECOMMENDED, R.INTERESTED, idle=(1, 3))
ANSWERED_NO = DealPlan(Stage.RECOMMENDED, R.DECLINED, idle=(1, 3))

# Per demo demand (index into DEMANDS; its poster is the demand's ``enterprise``: 智农 posts
# 0, 4 and 7 — together every stage of a deal, as demo-logins promises —, 恒新 1, 海润 11).
# Twelve contracts of every kind over the last twelve months: two months without any, more of
# them in recent months (the dashboard's contracts-per-month chart).
STORIES: dict[int, Story] = {
    0: Story(
        (signed(K.LICENSE, "60", 2), failed("maturity", Stage.NEGOTIATING)),
        ("wrong_field", "too_early"),
    ),
    1: Story((signed(K.ASSIGNMENT, "380", 11), NEGOTIATING, FRESH), ("unclear_advantage",)),
    2: Story((signed(K.LICENSE, "45", 9), OVERDUE, CONTACTED), ("vague", "wrong_field")),
    3: Story(
        (signed(K.EQUITY, "500", 5, recorded=False), NEGOTIATING, OVERDUE, FRESH),
        ("too_costly",),
    ),
    4: Story(
        (signed(K.LICENSE, "30", 6), NEGOTIATING, CONTACTED, failed("price", Stage.NEGOTIATING)),
        ("wrong_field", "wrong_field"),
    ),
    5: Story((signed(K.LICENSE, "120", 3), CONTACTED_LATE, ANSWERED_NO), ("alternative_exists",)),
    6: Story(
        (failed("tech_mismatch", Stage.RECOMMENDED, R.DECLINED), OVERDUE),
        ("wrong_field", "other"),
    ),
    7: Story(
        (signed(K.OPEN_LICENSE, "8", 1), signed(K.LICENSE, "25", 8), ANSWERED_YES),
        ("too_early",),
    ),
    8: Story((failed("other_solution", Stage.CONTACTED),), ("wrong_field", "no_business_path")),
    9: Story(
        (
            signed(K.ASSIGNMENT, "150", 4),
            CONTACTED,
            failed("no_response", Stage.RECOMMENDED, response=None),
        ),
        ("unclear_advantage",),
    ),
    10: Story(),  # posted recently: every candidate still waits in the review queue
    11: Story(
        (signed(K.EQUITY, "800", 0, recorded=False), signed(K.LICENSE, "90", 3), NEGOTIATING)
    ),
    12: Story((signed(K.OPEN_LICENSE, "12", 1, recorded=False), OVERDUE)),
    13: Story(reject_all=True),  # no patent in the pool fits: an unmet demand
}
REJECT_ALL_REASONS = ("wrong_field", "vague", "no_business_path")
REJECT_COMMENTS = {
    "other": "企业明确只考虑材料配方与量产工艺，系统集成类专利不在需求范围内。",
    "too_costly": "需配套专用设备，企业测算投资超出预算。",
    "wrong_field": "专利所属领域与需求不一致，仅因个别术语重合被匹配。",
}
RESPONSE_COMMENTS = {
    R.INTERESTED: (
        "发明人团队愿意对接，可安排到企业现场交流。",
        "学校同意对接，请技术经理人协调面谈时间。",
        "愿意对接，可先提供中试数据供企业评估。",
    ),
    R.DECLINED: (
        "该专利正与其他企业洽谈独占许可，暂不对接。",
        "发明人团队近期无法提供技术支持，暂不对接。",
    ),
}
STAGE_COMMENTS = {
    "contact": "双方已电话沟通，企业技术负责人了解了专利方案。",
    "negotiate": "已完成现场交流，开始商谈合作方式与费用。",
}
FAILURE_COMMENTS = {
    "maturity": "企业希望直接量产，专利技术尚需中试验证。",
    "price": "双方对许可费差距较大，暂停洽谈。",
    "tech_mismatch": "学校答复暂不对接，经核实技术路线与需求不一致。",
    "other_solution": "企业已采购其他成熟方案。",
    "no_response": "高校逾期未答复，经多次联系仍无回音。",
}
RESPONSE_DAYS_DEFAULT = 7

# ------------------------------------------------------------------------------ evaluations

NEEDS = (  # 技术改进需求 of enterprises that liked the patent
    "希望发明人团队提供现场技术支持，协助完成首批产品的工艺调试。",
    "希望进一步提高连续运行稳定性，并提供与现有产线的接口方案。",
    "希望补充规模化生产的成本测算和关键设备清单。",
)
N = CooperationIntent.NONE
RATED_ON_FAILURE: dict[str, tuple[int, CooperationIntent, str]] = {  # stars, intent, needs
    "maturity": (2, N, "目前只有实验室数据，需补充中试放大和连续运行数据后再评估。"),
    "price": (
        4,
        CooperationIntent.LICENSE,
        "技术可行，但一次性费用偏高，希望采用入门费加提成的方式降低前期投入。",
    ),
    "tech_mismatch": (2, N, "专利解决的问题与我司需求的技术路线不一致，暂无合作意向。"),
    "other_solution": (3, N, "我司已采用其他方案；该专利可作为后续技术储备。"),
}
INTENT_BY_KIND = {
    K.LICENSE: CooperationIntent.LICENSE,
    K.OPEN_LICENSE: CooperationIntent.LICENSE,
    K.ASSIGNMENT: CooperationIntent.ASSIGNMENT,
    K.EQUITY: CooperationIntent.JOINT_RD,
}


# ------------------------------------------------------------------------------ timestamps


@contextmanager
def dated(when: datetime) -> Iterator[None]:
    """The services called in the block act at ``when`` (the clock is held there): their rows,
    audit events, notifications and texts carry that moment. Commits at the end."""
    with clock.held_at(when):
        yield
    db.session.commit()


def last_notification_id() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Notification.id), 0)))


def china_moment(day: date, rng: random.Random) -> datetime:
    """A working-hours moment of a local (China) date, in UTC."""
    return clock.local_moment(day, time(rng.randint(9, 16), rng.randrange(0, 60, 5)))


# ------------------------------------------------------------------------------ context


@dataclass
class Cast:
    """The demo accounts the story acts with."""

    officer: User
    enterprises: dict[int, User]  # organization id → its demo user
    uni_admins: dict[int, User]  # organization id → university admin
    college_admins: dict[int, User]  # college id → college admin
    by_email: dict[str, User]


@dataclass
class Played:
    """What this run added (for notify_overdue and the read marks)."""

    deals: int = 0
    first_notification_id: int = 0


def _cast(users: dict[str, User]) -> Cast:
    values = list(users.values())
    return Cast(
        officer=next(u for u in values if u.role == Role.OFFICER),
        enterprises={u.organization_id: u for u in values if u.role == Role.ENTERPRISE},
        uni_admins={u.organization_id: u for u in values if u.role == Role.UNIVERSITY_ADMIN},
        college_admins={u.college_id: u for u in values if u.role == Role.COLLEGE_ADMIN},
        by_email=users,
    )


def play(
    users: dict[str, User],
    demands: list[Demand],
    now: datetime | None = None,
    first_notification_id: int | None = None,
) -> int:
    """Play whatever part of the story is missing; returns the number of deals pushed.
    ``now``: the seed's now (the moment the timeline is drawn back from);
    ``first_notification_id``: notifications above it are this seed's (the inventory review's
    notices come before the story), old ones of them are marked read."""
    now = now or utcnow()
    cast = _cast(users)
    first = last_notification_id() if first_notification_id is None else first_notification_id
    played = Played(first_notification_id=first)
    # Services build links with url_for; the CLI has no request (nor SERVER_NAME).
    with current_app.test_request_context("/"):
        for index, demand in enumerate(demands):
            story = STORIES.get(index)
            if story and _has_story(story):
                if _decided(demand.id):
                    continue  # played already (or decided by hand since): leave it alone
                _play_demand(index, demand, story, cast, now, played)
        _invites(cast, demands, now)
        _declarations(cast, now)
        if played.deals:
            _remind_overdue(now)
        _review_digests(now)
        _mark_old_read(played.first_notification_id, cast, now)
    return played.deals


def _decided(demand_id: int) -> bool:
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(Match.demand_id == demand_id, Match.state != MatchState.CANDIDATE)
            )
        )
    )


def _candidates(demand_id: int) -> list[Match]:
    """The demand's undecided candidates, best first (the engine's rank, then score)."""
    return list(
        db.session.scalars(
            sa.select(Match)
            .join(Patent, Patent.id == Match.patent_id)
            .where(Match.demand_id == demand_id, Match.state == MatchState.CANDIDATE)
            .order_by(Match.rank.is_(None), Match.rank, Match.score.desc(), Patent.application_no)
        )
    )


# ------------------------------------------------------------------------------ deals


def _response_days() -> int:
    return int(current_app.config.get("REVIVE_RESPONSE_DAYS", RESPONSE_DAYS_DEFAULT))


@dataclass
class Timeline:
    push: datetime
    steps: dict[str, datetime]
    signed_on: date | None = None


def _before_now(moment: datetime, now: datetime) -> datetime:
    return min(moment, now - timedelta(hours=1))


def _days_after(moment: datetime, days: int, rng: random.Random, now: datetime) -> datetime:
    """A working-hours moment ``days`` (China) days after ``moment``'s day, not in the future."""
    day = clock.local_date(as_utc(moment)) + timedelta(days=days)
    return _before_now(china_moment(day, rng), now)


def _month_start(today: date, months_ago: int) -> date:
    month = today.year * 12 + today.month - 1 - months_ago
    return date(month // 12, month % 12 + 1, 1)


def _timeline(plan: DealPlan, rng: random.Random, now: datetime) -> Timeline:
    """When each step of the deal happened, in working hours: whole days drawn per step,
    the last one ``idle`` days before today, or on the contract's signing day (a day in the
    calendar month ``months_ago`` before this one, never today)."""
    days = _response_days()
    today = clock.local_date(now)
    gaps = {
        "respond": (days + 2, days + 6) if plan.late else (1, max(1, days - 2)),
        "contact": (2, 8),
        "negotiate": (4, 15),
        "sign": (8, 30),
        "fail": (days + 8, days + 25) if plan.reason == "no_response" else (5, 20),
    }
    offsets: dict[str, int] = {}
    total = 0
    for step in plan.steps():
        total += rng.randint(*gaps[step])
        offsets[step] = total
    signed_on = None
    if plan.contract is not None:
        first = _month_start(today, plan.contract.months_ago)
        signed_on = min(first + timedelta(days=rng.randint(0, 27)), today - timedelta(days=1))
        push_day = signed_on - timedelta(days=total)
    else:
        # Overdue: unanswered 3–18 days past the answer window.
        low, high = (days + 3, days + 18) if plan.overdue else plan.idle
        push_day = today - timedelta(days=total + rng.randint(low, high))
    return Timeline(
        china_moment(push_day, rng),
        {s: china_moment(push_day + timedelta(days=o), rng) for s, o in offsets.items()},
        signed_on,
    )


def _review_plan(
    index: int, story: Story, now: datetime
) -> tuple[list[Timeline], datetime, datetime]:
    """The timelines of the demand's planned deals, when the officer reviewed its candidates
    (in one sitting, before the first push) and when the demand was posted (days before)."""
    rng = random.Random(f"{SEED}-story-{index}")
    timelines = [
        _timeline(plan, random.Random(f"{SEED}-deal-{index}-{i}"), now)
        for i, plan in enumerate(story.deals)
    ]
    review = min(
        (t.push for t in timelines), default=_days_after(now, -rng.randint(8, 15), rng, now)
    ) - timedelta(hours=1)
    return timelines, review, _days_after(review, -rng.randint(3, 12), rng, now)


def _has_story(story: Story | None) -> bool:
    return bool(story and (story.deals or story.rejects or story.reject_all))


def posting_moment(index: int, now: datetime) -> datetime | None:
    """When demo demand ``index`` (into DEMANDS) was posted: days before its review; None for
    a demand without a story (posted now, its candidates still wait). revive.demo.seed posts
    the demand with the clock held there, so its row and audit event carry that date."""
    story = STORIES.get(index)
    if story is None or not _has_story(story):
        return None
    return _review_plan(index, story, now)[2]


def _answering_subjects(index: int) -> tuple[str, ...]:
    return tuple(DEMANDS[index].get("answered_by", ())) if index < len(DEMANDS) else ()


def _play_demand(
    index: int, demand: Demand, story: Story, cast: Cast, now: datetime, played: Played
) -> None:
    timelines, review, posted = _review_plan(index, story, now)
    # The seed posted the demand at ``posted`` (posting_moment); one posted by an older seed
    # keeps its own date.
    posted = min(posted, as_utc(demand.created_at))
    proposed = posted + timedelta(hours=1)  # the match run right after the posting
    # A patent entered after that run (revive.demo.seed enters some in the last months) was
    # proposed later and still waits for the officer: only the earlier ones are decided.
    candidates = [
        m
        for m in _candidates(demand.id)
        if m.patent.entered_at is not None and as_utc(m.patent.entered_at) < proposed
    ]
    if not candidates:
        return
    officer = cast.officer
    # The officer pushes only candidates that answer the demand (patents of the inventions
    # demo.demands names for it), best first; the engine may propose fewer than planned.
    answers = _answering_subjects(index)
    fitting = [m for m in candidates if any(s in m.patent.title for s in answers)]
    accepted = fitting[: len(story.deals)]
    plans = story.deals[: len(accepted)]
    # The rest, off-topic ones first: those are what the officer rejects (story.rejects).
    rest = [m for m in candidates if m not in fitting] + fitting[len(accepted) :]
    if story.reject_all:
        rejected = [
            (m, REJECT_ALL_REASONS[i % len(REJECT_ALL_REASONS)]) for i, m in enumerate(rest)
        ]
    else:
        rejected = list(zip(rest, story.rejects, strict=False))

    for match, reason in rejected:
        with dated(review):
            decisions.decide(
                match.id, "reject", officer, reason_code=reason, comment=REJECT_COMMENTS.get(reason)
            )
        _set(Match, match.id, created_at=proposed)
    for i, (match, plan, timeline) in enumerate(zip(accepted, plans, timelines, strict=False)):
        _play_deal(match, plan, timeline, cast, random.Random(f"{SEED}-deal-{index}-{i}-x"), now)
        _set(Match, match.id, created_at=proposed)
        played.deals += 1
    db.session.commit()


def _set(model: Any, row_id: int, **values: Any) -> None:
    db.session.execute(sa.update(model).where(model.id == row_id).values(**values))


def _university_side(patent: Patent, cast: Cast, rng: random.Random) -> User:
    """Who answers for the university: its admin, sometimes the patent's college admin."""
    college_admin = cast.college_admins.get(patent.college_id)
    if college_admin is not None and rng.random() < 0.35:
        return college_admin
    return cast.uni_admins[patent.institution_id]


def _play_deal(
    match: Match, plan: DealPlan, t: Timeline, cast: Cast, rng: random.Random, now: datetime
) -> None:
    officer = cast.officer
    patent, demand = match.patent, match.demand
    enterprise_user = cast.enterprises[demand.enterprise_id]
    university_user = _university_side(patent, cast, rng)

    with dated(t.push):
        decisions.decide(match.id, "accept", officer)
    deal_id = db.session.scalar(sa.select(Deal.id).where(Deal.match_id == match.id))
    assert deal_id is not None

    for step in plan.steps():
        when = t.steps[step]
        with dated(when):
            if step == "respond":
                # Within the answer window for an on-time plan, after it for a late one: the
                # service records which (deals.services.respond).
                assert plan.response is not None
                deals.respond(deal_id, plan.response, university_user, _pick(rng, plan.response))
            elif step == "contact":
                deals.change_stage(
                    deal_id, "contact", enterprise_user, comment=STAGE_COMMENTS[step]
                )
            elif step == "negotiate":
                actor = university_user if rng.random() < 0.5 else officer
                deals.change_stage(deal_id, "negotiate", actor, comment=STAGE_COMMENTS[step])
            elif step == "sign":
                assert plan.contract is not None and t.signed_on is not None
                if plan.contract.kind == K.OPEN_LICENSE:
                    _declare_for_contract(patent, plan.contract.amount_wan, t.push, cast, deal_id)
                deals.record_contract(deal_id, _contract_data(plan.contract, t, deal_id), officer)
            elif step == "fail":
                deals.change_stage(
                    deal_id,
                    "fail",
                    officer,
                    reason=plan.reason,
                    comment=FAILURE_COMMENTS.get(plan.reason or ""),
                )
        if step == "contact" and plan.stage != Stage.FAILED:
            _rate(plan, match, enterprise_user, _days_after(when, rng.randint(1, 3), rng, now))
    if plan.reason in RATED_ON_FAILURE:  # rated when the deal ended, saying why
        _rate(plan, match, enterprise_user, t.steps["fail"] - timedelta(hours=2))


def _pick(rng: random.Random, response: UniversityResponse) -> str:
    return rng.choice(RESPONSE_COMMENTS[response])


def _contract_data(plan: ContractPlan, t: Timeline, deal_id: int) -> dict[str, Any]:
    deal = db.session.get(Deal, deal_id)
    assert deal is not None
    university, enterprise = deal.university.name, deal.enterprise.name
    roles = {
        K.ASSIGNMENT: ("转让方", "受让方"),
        K.LICENSE: ("许可方", "被许可方"),
        K.OPEN_LICENSE: ("许可方", "被许可方"),
        K.EQUITY: ("以专利作价出资方", "被投资企业"),
    }[plan.kind]
    assert t.signed_on is not None
    record_no = None
    if plan.recorded:
        # A made-up 备案号 (signing year, the university's province, a serial): demo data only.
        code = db.session.scalar(
            sa.select(Organization.credit_code).where(Organization.id == deal.university_id)
        )
        province = (code or "12110000")[2:4]  # 统一社会信用代码 characters 3–4
        record_no = f"{t.signed_on.year}{province}{deal.id * 7919 % 10**8:08d}"
    return {
        "kind": plan.kind.value,
        "amount_wan": plan.amount_wan,
        "signed_on": t.signed_on.isoformat(),
        "record_no": record_no,
        "parties": f"{university}（{roles[0]}）；{enterprise}（{roles[1]}）",
        "license_scope": "ordinary" if plan.kind == K.LICENSE else None,
    }


# ------------------------------------------------------------------------------ 市场评价


def _evaluate(
    enterprise_user: User,
    patent_id: int,
    stars: int,
    intent: CooperationIntent,
    needs: str | None,
    when: datetime,
) -> bool:
    """The enterprise rates the patent once (a second seed finds the row and leaves it)."""
    exists = sa.exists().where(
        Evaluation.patent_id == patent_id,
        Evaluation.enterprise_id == enterprise_user.organization_id,
    )
    if db.session.scalar(sa.select(exists)):
        return False
    with dated(when):
        evaluation, _ = evaluations.evaluate_patent(
            patent_id,
            actor=enterprise_user,
            prospect_stars=stars,
            intent=intent.value,
            improvement_needs=needs,
        )
    return True


def _rate(plan: DealPlan, match: Match, enterprise_user: User, when: datetime) -> None:
    """The enterprise rates the patent of its deal: high for what it signs or negotiates, low
    (with the reason) for what did not work out."""
    patent = db.session.get(Patent, match.patent_id)
    assert patent is not None
    rng = random.Random(f"{SEED}-rate-{match.id}")
    if plan.reason in RATED_ON_FAILURE:
        stars, intent, needs = RATED_ON_FAILURE[plan.reason or ""]
    elif plan.contract is not None:
        stars = 5 if patent.value_grade == 5 else 4
        intent, needs = INTENT_BY_KIND[plan.contract.kind], rng.choice(NEEDS)
    else:
        stars = rng.choice((3, 4, 4))
        intent = rng.choice((CooperationIntent.LICENSE, CooperationIntent.JOINT_RD))
        needs = rng.choice(NEEDS)
    _evaluate(enterprise_user, patent.id, stars, intent, needs, when)


def _linked_by_deal(enterprise_id: int) -> set[int]:
    return set(
        db.session.scalars(sa.select(Deal.patent_id).where(Deal.enterprise_id == enterprise_id))
    )


def _top_rated_candidates(
    enterprise_id: int, demand_ids: list[int], answers: tuple[str, ...] = ()
) -> list[int]:
    """Patents the university rated 5★, mature enough (TRL ≥ 4), proposed for the enterprise's
    demands but not pushed to it, of an invention that answers them (``answers``: subjects):
    worth an invitation to evaluate. Best score first."""
    rows = db.session.execute(
        sa.select(Match.patent_id, sa.func.max(Match.score))
        .join(Patent, Patent.id == Match.patent_id)
        .where(
            Match.demand_id.in_(demand_ids),
            Match.state == MatchState.CANDIDATE,
            Patent.status == EntryStatus.ENTERED,
            Patent.value_grade == 5,
            Patent.trl >= 4,
            Patent.transfer_willingness != Willingness.NOT_NOW,
        )
        .group_by(Match.patent_id)
        .order_by(sa.func.max(Match.score).desc(), Match.patent_id)
    ).all()
    dealt = _linked_by_deal(enterprise_id)
    titles = dict(
        db.session.execute(
            sa.select(Patent.id, Patent.title).where(Patent.id.in_([pid for pid, _ in rows]))
        ).all()
    )
    return [
        pid
        for pid, _ in rows
        if pid not in dealt and any(subject in titles[pid] for subject in answers)
    ]


def _industries(enterprise_id: int) -> tuple[str, ...]:
    """The demo enterprise's industries (GB/T 4754 prefixes, catalog.ENTERPRISES)."""
    name = db.session.scalar(sa.select(Organization.name).where(Organization.id == enterprise_id))
    return next((e.industries for e in catalog.ENTERPRISES if e.name == name), ()) or ("",)


def _invited_by(actor: User, enterprise_id: int) -> bool:
    """The actor has invited the enterprise before: that part of the story was played."""
    exists = sa.exists().where(
        EvaluationInvite.invited_by_id == actor.id,
        EvaluationInvite.enterprise_id == enterprise_id,
    )
    return bool(db.session.scalar(sa.select(exists)))


def _invite(patent_id: int, enterprise_id: int, actor: User, when: datetime) -> None:
    with dated(when):
        invite, _ = evaluations.invite_enterprise(
            patent_id, actor=actor, enterprise_id=enterprise_id
        )


def _invites(cast: Cast, demands: list[Demand], now: datetime) -> None:
    """The officer invites each enterprise to rate two of the university-5★ patents proposed
    for its demands; it rates the first 5★ (双五星) and still has the second to do. Two
    universities invite an enterprise to rate their own best patent; one is rated."""
    for n, (org_id, user) in enumerate(sorted(cast.enterprises.items())):
        rng = random.Random(f"{SEED}-invite-{n}")
        if _invited_by(cast.officer, org_id):
            continue
        own = [(i, d.id) for i, d in enumerate(demands) if d.enterprise_id == org_id]
        answers = tuple(s for i, _ in own for s in _answering_subjects(i))
        top = _top_rated_candidates(org_id, [d for _, d in own], answers)
        for i, patent_id in enumerate(top[:2]):
            invited = _days_after(now, 15 * i - rng.randint(20, 60), rng, now)
            _invite(patent_id, org_id, cast.officer, invited)
            if i == 0:
                when = _days_after(invited, rng.randint(2, 6), rng, now)
                intent = rng.choice((CooperationIntent.LICENSE, CooperationIntent.JOINT_RD))
                _evaluate(user, patent_id, 5, intent, rng.choice(NEEDS), when)
    enterprises = [u for _, u in sorted(cast.enterprises.items())]
    admins = [u for _, u in sorted(cast.uni_admins.items())]
    for i, (admin, enterprise_user, rated) in enumerate(
        ((admins[0], enterprises[1], True), (admins[1], enterprises[0], False))
    ):
        rng = random.Random(f"{SEED}-university-invite-{i}")
        if _invited_by(admin, enterprise_user.organization_id):
            continue
        # Its own best patent in the enterprise's line of business (catalog industries).
        industries = _industries(enterprise_user.organization_id)
        patent_id = db.session.scalar(
            sa.select(Patent.id)
            .where(
                Patent.institution_id == admin.organization_id,
                Patent.status == EntryStatus.ENTERED,
                Patent.transfer_willingness == Willingness.WILLING,
                Patent.id.not_in(sorted(_linked_by_deal(enterprise_user.organization_id))),
                sa.or_(*(Patent.industry_code.startswith(code) for code in industries)),
            )
            .order_by(Patent.value_grade.desc(), Patent.trl.desc(), Patent.application_no)
            .limit(1)
        )
        if patent_id is None:
            continue
        invited = _days_after(now, -rng.randint(6, 14), rng, now)
        _invite(patent_id, enterprise_user.organization_id, admin, invited)
        if rated:
            when = _days_after(invited, rng.randint(1, 4), rng, now)
            needs = "希望先小批量试用，验证在我司工况下的稳定性后再商谈合作。"
            _evaluate(enterprise_user, patent_id, 4, CooperationIntent.JOINT_RD, needs, when)


# ------------------------------------------------------------------------------ open licences


@dataclass(frozen=True)
class DeclarationPlan:
    university: str  # catalog key
    declarer: str  # e-mail local part of the declaring admin
    terms: dict[str, Any]
    years: int = 3
    utility: bool = False  # pick a utility model (needs a 专利权评价报告)
    co_owned: bool = False  # pick a co-owned patent (needs every co-owner's consent)
    withdraw: str | None = None  # withdrawn later, with this reason


DECLARATIONS = (
    DeclarationPlan(
        "hbsf", "hbsf.c1", {"fee_mode": FeeMode.ROYALTY, "royalty_sales_pct": "3.5"}, 5
    ),
    DeclarationPlan(
        "xbcl",
        "xbcl.admin",
        {
            "fee_mode": FeeMode.ENTRY_PLUS_ROYALTY,
            "entry_fee_wan": "5",
            "royalty_profit_pct": "10",
        },
    ),
    DeclarationPlan(
        "jnny", "jnny.admin", {"fee_mode": FeeMode.LUMP_SUM, "lump_sum_wan": "3"}, utility=True
    ),
    DeclarationPlan(
        "dhyy",
        "dhyy.admin",
        {"fee_mode": FeeMode.ROYALTY, "royalty_profit_pct": "15"},
        co_owned=True,
    ),
    DeclarationPlan(
        "dhyy",
        "dhyy.admin",
        {"fee_mode": FeeMode.LUMP_SUM, "lump_sum_wan": "20"},
        withdraw="拟与合作企业签订独占许可，撤回开放许可声明。",
    ),
)
TERMS_TEXT = "许可使用费按声明标准收取，被许可人应在实施后每年报告实施情况。"


def _email(local: str) -> str:
    return f"{local}@{DOMAIN}"


def _declare(
    patent: Patent, actor: User, fee: dict[str, Any], years: int, start: date, rng: random.Random
) -> OpenLicenceDeclaration:
    data: dict[str, Any] = {
        **{k: (v.value if isinstance(v, FeeMode) else v) for k, v in fee.items()},
        "start_date": start.isoformat(),
        "end_date": rules.add_years(start, years).isoformat(),
        "terms": TERMS_TEXT,
    }
    if len(rules.patentee_names(patent.patentees)) > 1:
        data["co_owners_consent"] = True  # the co-owner's written consent is on file
    if patent.patent_type in rules.NEEDS_EVALUATION_REPORT:
        # A made-up 专利权评价报告 number: demo data only.
        data["evaluation_report_no"] = f"PJ{start.year}{rng.randrange(10**7, 10**8)}"
    when = china_moment(start, rng)
    with dated(when):
        declaration = licensing.declare(patent.id, data, actor=actor)
    return declaration


def _has_declaration(patent_id: int) -> bool:
    exists = sa.exists().where(OpenLicenceDeclaration.patent_id == patent_id)
    return bool(db.session.scalar(sa.select(exists)))


def _declare_for_contract(
    patent: Patent, amount: Any, pushed: datetime, cast: Cast, deal_id: int
) -> None:
    """A 开放许可 contract is signed under a declaration in effect that day: the patent is
    declared (before the push, at the contract's fee) unless an earlier seed did."""
    if _has_declaration(patent.id):
        return
    rng = random.Random(f"{SEED}-open-contract-{deal_id}")
    start = clock.local_date(as_utc(pushed)) - timedelta(days=rng.randint(20, 60))
    fee = {"fee_mode": FeeMode.LUMP_SUM, "lump_sum_wan": str(amount)}
    _declare(patent, cast.uni_admins[patent.institution_id], fee, 3, start, rng)


def _declarations(cast: Cast, now: datetime) -> None:
    """Open licences: a few across the universities, one later withdrawn (the patents licensed
    through 开放许可 contracts were declared before their contracts, _declare_for_contract)."""
    open_contracts = db.session.execute(
        sa.select(Deal.patent_id)
        .join(Contract, Contract.deal_id == Deal.id)
        .where(Contract.kind == K.OPEN_LICENSE)
        .order_by(Deal.id)
    ).all()
    # the admins whose planned declarations an earlier seed made (not those made for contracts)
    done = set(
        db.session.scalars(
            sa.select(OpenLicenceDeclaration.declared_by_id).where(
                OpenLicenceDeclaration.patent_id.not_in([p for (p,) in open_contracts])
            )
        )
    )

    taken = set(db.session.scalars(sa.select(Deal.patent_id))) | {p for (p,) in open_contracts}
    for i, plan in enumerate(DECLARATIONS):
        rng = random.Random(f"{SEED}-declaration-{i}")
        actor = cast.by_email[_email(plan.declarer)]
        if actor.id in done:
            continue  # this admin's declarations were made by an earlier seed
        start = clock.local_date(now) - timedelta(days=rng.randint(30, 200))
        patent = _declarable(plan, actor, taken)
        if patent is None:
            continue
        taken.add(patent.id)
        # Declared once entered (revive.demo.seed enters some patents in the last months).
        entered = clock.local_date(as_utc(patent.entered_at))
        start = max(start, min(entered + timedelta(days=7), clock.local_date(now)))
        declaration = _declare(patent, actor, plan.terms, plan.years, start, rng)
        if plan.withdraw:
            when = _days_after(declaration.created_at, rng.randint(10, 25), rng, now)
            with dated(when):
                licensing.withdraw(declaration.id, actor=actor, reason=plan.withdraw)


def _declarable(plan: DeclarationPlan, actor: User, taken: set[int]) -> Patent | None:
    """A patent of the declarer's scope that suits an open licence: entered, transferable,
    self-rated 3★ or less (no strong market signal), never pushed to an enterprise. The choice
    does not depend on declarations, so a second seed picks the same patent."""
    stmt = sa.select(Patent).where(
        Patent.institution_id == actor.organization_id,
        Patent.status == EntryStatus.ENTERED,
        Patent.transfer_willingness != Willingness.NOT_NOW,
        Patent.value_grade <= 3,
        Patent.legal_status == "有效",
        Patent.id.not_in(sorted(taken)),
        Patent.patent_type == (PatentType.UTILITY if plan.utility else PatentType.INVENTION),
    )
    if actor.college_id is not None:
        stmt = stmt.where(Patent.college_id == actor.college_id)
    if plan.co_owned:
        stmt = stmt.where(Patent.patentees.contains("；"))
    patent = db.session.scalar(stmt.order_by(Patent.application_no).limit(1))
    if patent is None and plan.co_owned:  # no co-owned patent in scope: any will do
        return _declarable(DeclarationPlan(**{**plan.__dict__, "co_owned": False}), actor, taken)
    return patent


# ------------------------------------------------------------------------------ inbox


def _remind_overdue(now: datetime) -> None:
    """The overdue-response reminder (an hourly job in production), run as it would have run:
    on the day after each overdue deal's due date, with the clock held there, so a reminder
    is dated after the deadline it names."""
    moments = sorted(
        _days_after(d.response_due_at, 1, random.Random(f"{SEED}-reminder-{d.id}"), now)
        for d in deal_queries.overdue_unnotified(now)
    )
    for when in moments:  # each run reminds every deal overdue by then and not yet reminded
        with clock.held_at(when):
            deals.notify_overdue(when)


def _review_digests(now: datetime) -> None:
    """The reviewers' daily digest of new submissions (an hourly job in production), as sent
    this morning (yesterday's when this morning's hour has not come yet)."""
    hour = int(current_app.config.get("REVIVE_DIGEST_HOUR", 8))
    today = clock.local_date(now)
    for day in (today, today - timedelta(days=1)):
        moment = clock.local_moment(day, time(hour, 5))
        if moment <= now:
            with clock.held_at(moment):
                review_notices.send_review_digests(moment)
            return


def _mark_old_read(first_id: int, cast: Cast, now: datetime) -> None:
    """Notifications of this run older than two weeks were read the next working day by the
    recipient (the organization's demo user, or the addressed user). Recent ones stay unread,
    so every inbox has something new."""
    cutoff = now - timedelta(days=14)
    readers: dict[int, User] = {**cast.uni_admins, **cast.enterprises}
    readers.update({cast.officer.organization_id: cast.officer})
    rows = db.session.execute(
        sa.select(
            Notification.id,
            Notification.organization_id,
            Notification.user_id,
            Notification.created_at,
        ).where(
            Notification.id > first_id,
            Notification.read_at.is_(None),
            Notification.created_at < cutoff,
        )
    ).all()
    for row_id, org_id, user_id, created in rows:
        reader = readers.get(org_id) if user_id is None else db.session.get(User, user_id)
        if reader is None:
            continue
        read = _days_after(created, 1, random.Random(f"{SEED}-read-{row_id}"), now)
        _set(Notification, row_id, read_at=read, read_by_id=reader.id)
    db.session.commit()
