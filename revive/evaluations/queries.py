"""Read side of 市场评价 and 分层推广: a patent's evaluations, an enterprise's to-do list, the
calibration figures and the promotion lists.

Scale: evaluations are aggregated per patent in SQL (``evaluation_stats``: one GROUP BY over
``evaluations``, outer-joined to ``patents``) and the tier is computed in SQL too
(``tier_sql``, the same rule as ``tiers.compute_tier``), so a promotion list over tens of
thousands of patents is one filtered, sorted, LIMITed query plus a COUNT — never a query per
row. Only the rows of the shown page go through the Python rule (for the "why" text).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.clock import local_today
from revive.db import contains
from revive.deals import queries as deal_queries
from revive.deals.models import Deal
from revive.evaluations import permissions
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.evaluations.tiers import (
    PROMOTED,
    Tier,
    TierFacts,
    TierResult,
    TierRules,
    compute_tier,
    rules_from_mapping,
)
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from revive.inventory.public import public_clause
from revive.inventory.queries import university_choices
from revive.pagination import Page, paginate
from revive.templating import format_rate
from revive.web import int_arg

GOOD = 3  # calibration: "rated ≥ 3★" on both sides
UNCLASSIFIED = "未分类"
GROUPINGS = {"industry": ("国民经济行业分类", "industry_code"), "field": ("技术领域", "tech_field")}
DEFAULT_GROUPING = "industry"
MAX_GROUP_CHOICES = 500
EXPORT_BATCH = 1000


def current_rules() -> TierRules:
    """Tier thresholds: the defaults, or REVIVE_TIER_RULES from the configuration."""
    return rules_from_mapping(current_app.config.get("REVIVE_TIER_RULES"))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)  # PostgreSQL AVG() is a Decimal


# ---------------------------------------------------------------------------- aggregates


def evaluation_stats() -> sa.Subquery:
    """Per patent: n (evaluations), avg and max 产业化前景 ★, interested (intent ≠ 暂无)."""
    return (
        sa.select(
            Evaluation.patent_id.label("patent_id"),
            sa.func.count(Evaluation.id).label("n"),
            sa.func.avg(Evaluation.prospect_stars).label("avg"),
            sa.func.max(Evaluation.prospect_stars).label("mx"),
            # COUNT(CASE …) is an integer on every backend (SUM(CASE …) is Decimal on PG).
            sa.func.count(
                sa.case((Evaluation.intent != CooperationIntent.NONE, Evaluation.id))
            ).label("interested"),
        )
        .group_by(Evaluation.patent_id)
        .subquery("ev")
    )


def tier_sql(
    rules: TierRules,
    *,
    grade: Any,
    trl: Any,
    willingness: Any,
    n: Any,
    avg: Any,
    mx: Any,
    interested: Any,
    not_now: Any = Willingness.NOT_NOW,
) -> sa.ColumnElement[str]:
    """``tiers.compute_tier`` as a SQL CASE over column expressions (same order of rules).

    NULL aggregates (no evaluation) count as 0, as in the Python rule; tests check that both
    give the same tier on a grid of inputs.
    """
    grade, trl = sa.func.coalesce(grade, 0), sa.func.coalesce(trl, 0)
    n, avg0 = sa.func.coalesce(n, 0), sa.func.coalesce(avg, 0)
    interested = sa.func.coalesce(interested, 0)
    double_five = sa.and_(grade == 5, sa.func.coalesce(mx, 0) == 5)
    strong = sa.and_(
        n >= rules.a_min_evals, avg0 >= rules.a_min_avg, interested >= rules.a_min_interested
    )
    return sa.case(
        (willingness == not_now, Tier.D.value),  # NULL (not filled in) is not "暂不"
        (sa.and_(n >= rules.d_min_evals, avg0 < rules.d_max_avg), Tier.D.value),
        (sa.and_(trl >= rules.a_min_trl, sa.or_(double_five, strong)), Tier.A.value),
        (sa.and_(n >= rules.b_min_evals, avg0 >= rules.b_min_avg), Tier.B.value),
        (double_five, Tier.B.value),
        (
            sa.and_(
                n == 0,
                grade >= rules.b_min_self_unevaluated,
                trl >= rules.b_min_trl_unevaluated,
            ),
            Tier.B.value,
        ),
        else_=Tier.C.value,
    )


def patent_tier_sql(ev: sa.Subquery, rules: TierRules) -> sa.ColumnElement[str]:
    """A patent's 分层推广 tier in SQL: ``tier_sql`` over the patent's grade, TRL and willingness
    and the evaluation statistics ``ev`` (``evaluation_stats()``), joined on the patent."""
    return tier_sql(
        rules,
        grade=Patent.value_grade,
        trl=Patent.trl,
        willingness=Patent.transfer_willingness,
        n=ev.c.n,
        avg=ev.c.avg,
        mx=ev.c.mx,
        interested=ev.c.interested,
    )


# ---------------------------------------------------------------------------- one patent


def letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA … (spreadsheet-style) for anonymised enterprise labels."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


@dataclass(frozen=True)
class EvaluationView:
    """One evaluation as this viewer may see it."""

    id: int
    label: str  # enterprise name, "本企业" or "企业A"
    enterprise_id: int | None  # None when anonymised
    prospect_stars: int
    intent: CooperationIntent
    improvement_needs: str | None
    updated_at: datetime
    is_own: bool


@dataclass(frozen=True)
class InviteView:
    enterprise_id: int
    enterprise_name: str
    invited_at: datetime
    invited_by: str | None
    evaluated: bool


@dataclass
class PatentEvaluations:
    """Everything the patent panel and ``GET /api/v1/evaluations/patents/<id>`` show."""

    patent: Patent
    sees_names: bool
    show_summary: bool  # False for an enterprise that has not evaluated yet
    evaluations: list[EvaluationView]
    count: int = 0
    avg: float | None = None
    max_stars: int | None = None
    interested: int = 0
    tier: TierResult | None = None  # only for 已入库 patents, only for named viewers
    own: Evaluation | None = None
    invites: list[InviteView] | None = None  # only for those who may invite
    can_invite: bool = False

    @property
    def double_five(self) -> bool:
        return self.patent.value_grade == 5 and self.max_stars == 5

    @property
    def is_entered(self) -> bool:
        return self.patent.status == EntryStatus.ENTERED


def patent_evaluations(user: User, patent: Patent) -> PatentEvaluations:
    """A patent's evaluations for a viewer already allowed to see them (see permissions)."""
    rows = list(
        db.session.execute(
            sa.select(Evaluation, Organization.name)
            .join(Organization, Organization.id == Evaluation.enterprise_id)
            .where(Evaluation.patent_id == patent.id)
            .order_by(Evaluation.id)
        )
    )
    names = permissions.sees_names(user, patent)
    own_org = user.organization_id if permissions.is_enterprise(user) else None
    own = next((e for e, _ in rows if e.enterprise_id == own_org), None)
    show_all = names or own is not None
    views: list[EvaluationView] = []
    others = 0
    for e, name in rows:
        is_own = own_org is not None and e.enterprise_id == own_org
        if not (show_all or is_own):
            continue
        if names:
            label, ent_id = name, e.enterprise_id
        elif is_own:
            label, ent_id = "本企业", e.enterprise_id
        else:
            label, ent_id = f"企业{letter(others)}", None
        if not is_own:
            others += 1
        views.append(
            EvaluationView(
                e.id,
                label,
                ent_id,
                e.prospect_stars,
                e.intent,
                e.improvement_needs,
                e.updated_at,
                is_own,
            )
        )
    result = PatentEvaluations(
        patent=patent, sees_names=names, show_summary=show_all, evaluations=views, own=own
    )
    if show_all and rows:
        stars = [e.prospect_stars for e, _ in rows]
        result.count = len(stars)
        result.avg = sum(stars) / len(stars)
        result.max_stars = max(stars)
        result.interested = sum(1 for e, _ in rows if e.intent != CooperationIntent.NONE)
    if names and patent.status == EntryStatus.ENTERED:
        facts = TierFacts(
            self_grade=patent.value_grade,
            trl=patent.trl,
            willingness=patent.transfer_willingness,
            eval_count=result.count,
            eval_avg=result.avg,
            max_stars=result.max_stars,
            interested=result.interested,
        )
        result.tier = compute_tier(facts, current_rules())
    if permissions.can_invite(user, patent):
        result.can_invite = True
        result.invites = invites_of(patent.id)
    return result


def invites_of(patent_id: int) -> list[InviteView]:
    evaluated = sa.exists().where(
        Evaluation.patent_id == EvaluationInvite.patent_id,
        Evaluation.enterprise_id == EvaluationInvite.enterprise_id,
    )
    stmt = (
        sa.select(EvaluationInvite, Organization.name, User.name, evaluated.label("evaluated"))
        .join(Organization, Organization.id == EvaluationInvite.enterprise_id)
        .outerjoin(User, User.id == EvaluationInvite.invited_by_id)
        .where(EvaluationInvite.patent_id == patent_id)
        .order_by(EvaluationInvite.id)
    )
    return [
        InviteView(inv.enterprise_id, org_name, inv.created_at, user_name, bool(done))
        for inv, org_name, user_name, done in db.session.execute(stmt)
    ]


def own_evaluation(enterprise_id: int, patent_id: int) -> Evaluation | None:
    return db.session.scalar(
        sa.select(Evaluation).where(
            Evaluation.patent_id == patent_id, Evaluation.enterprise_id == enterprise_id
        )
    )


# ---------------------------------------------------------------------------- enterprise to-do

TODO_STATES = {"all": "全部", "todo": "待评价", "done": "已评价"}


@dataclass(frozen=True)
class TodoRow:
    patent_id: int
    application_no: str
    title: str
    institution: str
    tech_field: str | None
    trl: int | None
    matched: bool  # received through a pushed match (Deal)
    invited: bool
    stars: int | None  # own evaluation, None: not yet
    intent: CooperationIntent | None
    evaluated_at: datetime | None
    version: int | None


def _todo_scope(org: int, state: str) -> tuple[sa.Subquery, list[sa.ColumnElement], sa.Select]:
    """The enterprise's own evaluations (``mine``, outer-joined to patents), the WHERE of its
    to-do list in ``state`` (all | todo | done) and the COUNT of that list."""
    mine = sa.select(Evaluation).where(Evaluation.enterprise_id == org).subquery("mine")
    linked = permissions.evaluable_patent_ids(org).subquery("linked")
    # patents in the pool only (inventory.public): one assigned or lapsed since cannot be rated
    where = [Patent.id.in_(sa.select(linked.c.patent_id)), public_clause()]
    if state == "todo":
        where.append(mine.c.id.is_(None))
    elif state == "done":
        where.append(mine.c.id.is_not(None))
    count = (
        sa.select(sa.func.count(Patent.id))
        .outerjoin(mine, mine.c.patent_id == Patent.id)
        .where(*where)
    )
    return mine, where, count


def todo_count(user: User) -> int:
    """Entered patents the user's enterprise has yet to evaluate (one COUNT)."""
    return db.session.scalar(_todo_scope(user.organization_id, "todo")[2]) or 0


def todo_page(user: User, state: str, page: int, per_page: int) -> Page:
    """Patents in the pool the user's enterprise may evaluate (matched or invited), to do
    first."""
    org = user.organization_id
    mine, where, count = _todo_scope(org, state)
    matched = sa.exists().where(Deal.enterprise_id == org, Deal.patent_id == Patent.id)
    invited = sa.exists().where(
        EvaluationInvite.enterprise_id == org, EvaluationInvite.patent_id == Patent.id
    )
    stmt = (
        sa.select(
            Patent.id,
            Patent.application_no,
            Patent.title,
            Organization.name,
            Patent.tech_field,
            Patent.trl,
            matched.label("matched"),
            invited.label("invited"),
            mine.c.prospect_stars,
            mine.c.intent,
            mine.c.updated_at,
            mine.c.version,
        )
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(mine, mine.c.patent_id == Patent.id)
        .where(*where)
        .order_by(mine.c.id.is_not(None), Patent.entered_at.desc(), Patent.id.desc())
    )
    result = paginate(stmt, count, page, per_page, scalars=False)
    result.items = [
        TodoRow(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            bool(r[6]),
            bool(r[7]),
            r[8],
            CooperationIntent(r[9]) if r[9] is not None else None,
            r[10],
            r[11],
        )
        for r in result.items
    ]
    return result


# ---------------------------------------------------------------------------- scope filters


def universities() -> list[tuple[int, str]]:
    """Universities (id, name) for the staff's filter (the dashboard's filter list)."""
    return university_choices()


def scope_label(user: User, institution_id: int | None) -> str:
    if user.role == Role.COLLEGE_ADMIN and user.college is not None:
        return f"{user.organization.name} · {user.college.name}"
    if institution_id is not None:
        org = db.session.get(Organization, institution_id)
        return org.name if org else "—"
    if user.role in permissions.READ_ALL_ROLES:
        return "全部高校"
    return user.organization.name if user.organization else "—"


def _scope(user: User, institution_id: int | None) -> list[sa.ColumnElement[bool]]:
    """Entered patents this user may cover, optionally one university's."""
    permissions.check_institution(user, institution_id)
    clauses = [permissions.scope_clause(user), Patent.status == EntryStatus.ENTERED]
    if institution_id is not None:
        clauses.append(Patent.institution_id == institution_id)
    return clauses


def _promotable(user: User, institution_id: int | None) -> list[sa.ColumnElement[bool]]:
    """The entered patents a promotion list may offer: those of ``_scope`` that pass
    ``_still_promotable``."""
    return [*_scope(user, institution_id), _still_promotable()]


def _still_promotable() -> sa.ColumnElement[bool]:
    """Still the university's (not 已转让 or 作价入股), not lapsed (public_clause, as the pool)
    and not under a sole or exclusive licence in force (nobody else may be licensed). A
    provincial trial found all 12 patents with a signed contract still in A or B, one in A
    after 作价入股 for 500 万."""
    return sa.and_(
        public_clause(), Patent.id.not_in(deal_queries.exclusively_licensed(local_today()))
    )


def promotion_withheld(user: User, f: PromotionFilters) -> int:
    """Entered patents in the list's scope that _promotable leaves out (said on the page):
    one count over the scope."""
    stmt = (
        sa.select(sa.func.count(sa.case((sa.not_(_still_promotable()), Patent.id))))
        .select_from(Patent)
        .where(*_scope(user, f.institution))
    )
    return int(db.session.scalar(stmt) or 0)


# ---------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class GradeRow:
    """One self-rating (1–5★): entered patents, how many were evaluated, what enterprises said."""

    grade: int
    entered: int
    evaluated: int
    evaluations: int
    mean_enterprise: float | None  # mean over evaluated patents of their enterprise average

    @property
    def coverage(self) -> str:
        return format_rate(self.evaluated, self.entered)


@dataclass(frozen=True)
class UniversityRow:
    id: int
    name: str
    evaluated: int
    high_self: int
    confirmed: int
    mean_self: float | None
    mean_enterprise: float | None

    @property
    def rate(self) -> str:
        return format_rate(self.confirmed, self.high_self)


@dataclass
class Calibration:
    """Self-rating vs. enterprise rating over the 已入库 patents of a scope."""

    scope_label: str
    institution_id: int | None
    grades: list[GradeRow]
    high_self: int  # evaluated patents self-rated ≥ 3★ (the denominator)
    confirmed: int  # … whose enterprise average is ≥ 3★
    universities: list[UniversityRow] = field(default_factory=list)

    @property
    def entered(self) -> int:
        return sum(g.entered for g in self.grades)

    @property
    def evaluated(self) -> int:
        return sum(g.evaluated for g in self.grades)

    @property
    def evaluations(self) -> int:
        return sum(g.evaluations for g in self.grades)

    @property
    def rate(self) -> str:
        return format_rate(self.confirmed, self.high_self)

    @property
    def mean_self(self) -> float | None:
        if not self.evaluated:
            return None
        return sum(g.grade * g.evaluated for g in self.grades) / self.evaluated

    @property
    def mean_enterprise(self) -> float | None:
        if not self.evaluated:
            return None
        total = sum((g.mean_enterprise or 0) * g.evaluated for g in self.grades)
        return total / self.evaluated

    @property
    def is_empty(self) -> bool:
        return self.evaluated == 0


def calibration(user: User, institution_id: int | None) -> Calibration:
    """Per self-rating: entered / evaluated patents and the mean enterprise rating; the share of
    evaluated patents self-rated ≥3★ that enterprises also rated ≥3★ (on average). Each patent
    weighs the same whatever its number of evaluations. Three aggregate queries."""
    scope = _scope(user, institution_id)
    ev = evaluation_stats()
    stmt = (
        sa.select(
            Patent.value_grade,
            sa.func.count(Patent.id),
            sa.func.count(ev.c.patent_id),
            sa.func.coalesce(sa.func.sum(ev.c.n), 0),
            sa.func.avg(ev.c.avg),
        )
        .outerjoin(ev, ev.c.patent_id == Patent.id)
        .where(*scope, Patent.value_grade.is_not(None))
        .group_by(Patent.value_grade)
    )
    by_grade = {
        g: (entered, evaluated, int(n), _float(mean))
        for g, entered, evaluated, n, mean in db.session.execute(stmt)
    }
    grades = [GradeRow(g, *by_grade.get(g, (0, 0, 0, None))) for g in range(1, 6)]
    high, confirmed = _high_confirmed(scope, ev)
    result = Calibration(
        scope_label=scope_label(user, institution_id),
        institution_id=institution_id,
        grades=grades,
        high_self=high,
        confirmed=confirmed,
    )
    if user.role in permissions.READ_ALL_ROLES and institution_id is None:
        result.universities = _by_university(scope, ev)
    return result


def _high_confirmed(scope: list, ev: sa.Subquery) -> tuple[int, int]:
    high = Patent.value_grade >= GOOD
    stmt = (
        sa.select(
            sa.func.count(sa.case((high, Patent.id))),
            sa.func.count(sa.case((sa.and_(high, ev.c.avg >= GOOD), Patent.id))),
        )
        .join(ev, ev.c.patent_id == Patent.id)
        .where(*scope)
    )
    high_n, confirmed = db.session.execute(stmt).one()
    return int(high_n), int(confirmed)


def _by_university(scope: list, ev: sa.Subquery) -> list[UniversityRow]:
    high = Patent.value_grade >= GOOD
    stmt = (
        sa.select(
            Organization.id,
            Organization.name,
            sa.func.count(Patent.id),
            sa.func.count(sa.case((high, Patent.id))),
            sa.func.count(sa.case((sa.and_(high, ev.c.avg >= GOOD), Patent.id))),
            sa.func.avg(Patent.value_grade),
            sa.func.avg(ev.c.avg),
        )
        .join(ev, ev.c.patent_id == Patent.id)
        .join(Organization, Organization.id == Patent.institution_id)
        .where(*scope)
        .group_by(Organization.id, Organization.name)
        .order_by(sa.func.count(Patent.id).desc(), Organization.name)
    )
    return [
        UniversityRow(i, name, n, h, c, _float(ms), _float(me))
        for i, name, n, h, c, ms, me in db.session.execute(stmt)
    ]


@dataclass(frozen=True)
class CalibrationPatent:
    id: int
    application_no: str
    title: str
    institution: str
    college: str | None
    self_grade: int
    enterprise_avg: float
    evaluations: int

    @property
    def gap(self) -> float:
        """Enterprise average minus self-rating: negative = the university was optimistic."""
        return self.enterprise_avg - self.self_grade


def _calibration_patents_stmt(user: User, institution_id: int | None) -> sa.Select:
    ev = evaluation_stats()
    gap = ev.c.avg - Patent.value_grade
    return (
        sa.select(
            Patent.id,
            Patent.application_no,
            Patent.title,
            Organization.name,
            College.name,
            Patent.value_grade,
            ev.c.avg,
            ev.c.n,
        )
        .join(ev, ev.c.patent_id == Patent.id)
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .where(*_scope(user, institution_id), Patent.value_grade.is_not(None))
        .order_by(gap.asc(), Patent.id.asc())  # most over-rated first
    )


def _count(stmt: sa.Select) -> sa.Select:
    """COUNT(*) of ``stmt``'s rows (for paginate)."""
    return sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())


def _calibration_patent(r: sa.Row) -> CalibrationPatent:
    return CalibrationPatent(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6]), int(r[7]))


def calibration_patents(user: User, institution_id: int | None, page: int, per_page: int) -> Page:
    """Evaluated patents, self-rating vs. enterprise average, most over-rated first."""
    stmt = _calibration_patents_stmt(user, institution_id)
    result = paginate(stmt, _count(stmt), page, per_page, scalars=False)
    result.items = [_calibration_patent(r) for r in result.items]
    return result


def iter_calibration_patents(user: User, institution_id: int | None) -> Iterator[CalibrationPatent]:
    stmt = _calibration_patents_stmt(user, institution_id).execution_options(yield_per=EXPORT_BATCH)
    for r in db.session.execute(stmt):
        yield _calibration_patent(r)


# ---------------------------------------------------------------------------- promotion lists


@dataclass(frozen=True)
class PromotionFilters:
    by: str = DEFAULT_GROUPING  # "industry" (industry_code) | "field" (tech_field)
    group: str | None = None  # one industry / field value (UNCLASSIFIED for empty)
    institution: int | None = None
    tiers: tuple[Tier, ...] = PROMOTED
    page: int = 1

    @property
    def tier_param(self) -> str | None:
        return None if self.tiers == PROMOTED else ",".join(self.tiers)

    def to_args(self, **overrides: Any) -> dict[str, str]:
        f = replace(self, **overrides) if overrides else self
        args = {
            "by": f.by if f.by != DEFAULT_GROUPING else None,
            "group": f.group,
            "institution": f.institution,
            "tier": f.tier_param,
            "page": f.page if f.page != 1 else None,
        }
        return {k: str(v) for k, v in args.items() if v is not None}

    @property
    def group_label(self) -> str:
        return GROUPINGS[self.by][0]


def parse_tiers(raw: Any) -> tuple[Tier, ...]:
    """ "A", "A,B", "C" … → tiers in order; empty or invalid → A and B (the promotion list)."""
    chosen = {t.strip().upper() for t in str(raw or "").split(",")}
    tiers = tuple(t for t in Tier if t.value in chosen)
    return tiers or PROMOTED


def parse_promotion_filters(args: Mapping[str, Any]) -> PromotionFilters:
    by = str(args.get("by") or DEFAULT_GROUPING)
    group = str(args.get("group") or "").strip()[:200] or None
    return PromotionFilters(
        by=by if by in GROUPINGS else DEFAULT_GROUPING,
        group=group,
        institution=int_arg(args.get("institution")),
        tiers=parse_tiers(args.get("tier")),
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def _group_key(by: str) -> sa.ColumnElement[str]:
    column = getattr(Patent, GROUPINGS[by][1])
    return sa.func.coalesce(sa.func.nullif(sa.func.trim(column), ""), UNCLASSIFIED)


@dataclass(frozen=True)
class PromotionRow:
    """One patent of a promotion list (``row`` holds every selected column by key)."""

    row: Mapping[str, Any]
    tier: Tier
    result: TierResult

    @property
    def avg(self) -> float | None:
        return _float(self.row["avg"])

    @property
    def n(self) -> int:
        return int(self.row["n"] or 0)

    @property
    def double_five(self) -> bool:
        return self.row["value_grade"] == 5 and self.row["mx"] == 5


PROMOTION_COLUMNS = (
    Patent.id,
    Patent.application_no,
    Patent.title,
    Patent.patent_type,
    Patent.industry_code,
    Patent.tech_field,
    Patent.value_grade,
    Patent.trl,
    Patent.transfer_willingness,
    Patent.transfer_modes,
    Patent.asking_price,
    Patent.inventors,
    Patent.institution_id,
)
EXPORT_EXTRA_COLUMNS = (
    Patent.contact_name,
    Patent.contact_phone,
    Patent.contact_email,
    Patent.problem_solved,
    Patent.advantages,
)


def _promotion_stmt(
    user: User, f: PromotionFilters, rules: TierRules, *, export: bool = False
) -> sa.Select:
    ev = evaluation_stats()
    tier = patent_tier_sql(ev, rules)
    key = _group_key(f.by)
    columns = [*PROMOTION_COLUMNS, *(EXPORT_EXTRA_COLUMNS if export else ())]
    where = [*_promotable(user, f.institution), tier.in_([t.value for t in f.tiers])]
    if f.group:
        where.append(key == f.group)
    return (
        sa.select(
            *columns,
            Organization.name.label("institution"),
            College.name.label("college"),
            key.label("group"),
            ev.c.n,
            ev.c.avg,
            ev.c.mx,
            ev.c.interested,
            tier.label("tier"),
        )
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .outerjoin(ev, ev.c.patent_id == Patent.id)
        .where(*where)
        .order_by(
            key,
            tier,
            ev.c.avg.desc().nulls_last(),
            sa.func.coalesce(ev.c.n, 0).desc(),
            Patent.value_grade.desc().nulls_last(),
            Patent.trl.desc().nulls_last(),
            Patent.id,
        )
    )


def _promotion_row(r: sa.Row, rules: TierRules) -> PromotionRow:
    m = r._mapping
    facts = TierFacts(
        self_grade=m["value_grade"],
        trl=m["trl"],
        willingness=m["transfer_willingness"],
        eval_count=int(m["n"] or 0),
        eval_avg=_float(m["avg"]),
        max_stars=m["mx"],
        interested=int(m["interested"] or 0),
    )
    return PromotionRow(dict(m), Tier(m["tier"]), compute_tier(facts, rules))


def promotion_page(user: User, f: PromotionFilters, per_page: int) -> Page:
    """One page of the promotion list: grouped by industry, then tier, then evaluation."""
    rules = current_rules()
    stmt = _promotion_stmt(user, f, rules)
    page = paginate(stmt, _count(stmt), f.page, per_page, scalars=False)
    page.items = [_promotion_row(r, rules) for r in page.items]
    return page


def iter_promotion(user: User, f: PromotionFilters) -> Iterator[PromotionRow]:
    """Every row of the list (all pages) for the export, streamed in batches."""
    rules = current_rules()
    stmt = _promotion_stmt(user, f, rules, export=True)
    for r in db.session.execute(stmt.execution_options(yield_per=EXPORT_BATCH)):
        yield _promotion_row(r, rules)


@dataclass(frozen=True)
class GroupCount:
    group: str
    counts: dict[Tier, int]

    @property
    def promoted(self) -> int:
        return sum(self.counts.get(t, 0) for t in PROMOTED)


def promotion_summary(user: User, f: PromotionFilters) -> list[GroupCount]:
    """Per industry (or field): promotable patents per tier, in the same scope (ignores the
    group and tier filters, so the officer sees where the promotable patents are)."""
    ev = evaluation_stats()
    # Group over a subquery's plain columns: PostgreSQL would not match GROUP BY expressions
    # whose bound parameters are numbered differently from the SELECT list's.
    inner = (
        sa.select(
            _group_key(f.by).label("grp"),
            patent_tier_sql(ev, current_rules()).label("tier"),
        )
        .outerjoin(ev, ev.c.patent_id == Patent.id)
        .where(*_promotable(user, f.institution))
        .subquery("tiered")
    )
    stmt = sa.select(inner.c.grp, inner.c.tier, sa.func.count()).group_by(inner.c.grp, inner.c.tier)
    groups: dict[str, dict[Tier, int]] = {}
    for group, t, count in db.session.execute(stmt):
        groups.setdefault(group, {})[Tier(t)] = count
    out = [GroupCount(g, c) for g, c in groups.items()]
    out.sort(key=lambda g: (-g.promoted, -sum(g.counts.values()), g.group))
    return out[:MAX_GROUP_CHOICES]


# ---------------------------------------------------------------------------- invite helpers


def find_enterprises(name: str, limit: int = 6) -> list[Organization]:
    """Enterprises whose name is ``name`` exactly, else those containing it (up to ``limit``)."""
    name = name.strip()
    if not name:
        return []
    exact = db.session.scalar(
        sa.select(Organization).where(
            Organization.kind == OrgKind.ENTERPRISE, Organization.name == name
        )
    )
    if exact is not None:
        return [exact]
    stmt = (
        sa.select(Organization)
        .where(
            Organization.kind == OrgKind.ENTERPRISE,
            contains(name, Organization.name, ignore_case=True),
        )
        .order_by(Organization.name)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
