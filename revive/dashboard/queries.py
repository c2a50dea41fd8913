"""Read-only figures for the dashboard: a handful of GROUP BY queries over the user's scope.

Every figure is computed in SQL (COUNT / SUM(CASE …) grouped by one column), never by loading
patents into Python, so the page stays fast at hundreds of thousands of patents. The scope is
the same WHERE clause the inventory list uses (``visible_patents_clause``), so the dashboard can
never count a patent the user could not open.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.dashboard import cache
from revive.dashboard.funnel import NO_COLLEGE_LABEL, rate_dict
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from revive.inventory.permissions import READ_ALL_ROLES, visible_patents_clause
from revive.templating import format_rate

# Workflow order for the funnel: the main path first, then the three ways out of it.
FUNNEL_ORDER: tuple[EntryStatus, ...] = (
    EntryStatus.DRAFT,
    EntryStatus.PENDING_COLLEGE,
    EntryStatus.PENDING_SCHOOL,
    EntryStatus.ENTERED,
    EntryStatus.RETURNED,
    EntryStatus.NOT_ENTERED,
    EntryStatus.ABANDON,
)
UNSET_GRADE_LABEL = "未自评"
UNSET_TRL_LABEL = "未评"
UNSET_WILLINGNESS_LABEL = "未填写"
# Charts show at most this many colleges/universities (largest first); the table lists all.
CHART_MAX_BARS = 20

# COUNT(CASE WHEN … THEN id END) counts matching rows and is an integer on every backend
# (SUM(CASE …) comes back as Decimal on PostgreSQL).
_ENTERED = sa.func.count(sa.case((Patent.status == EntryStatus.ENTERED, Patent.id)))
_PENDING = sa.func.count(
    sa.case(
        (Patent.status.in_([EntryStatus.PENDING_COLLEGE, EntryStatus.PENDING_SCHOOL]), Patent.id)
    )
)


@dataclass(frozen=True)
class Bucket:
    """One bar of a distribution: a stable key (for the API), a Chinese label, a count."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class BreakdownRow:
    """One college (or university) line of the progress table."""

    id: int | None
    name: str
    total: int
    entered: int
    pending: int

    @property
    def rate(self) -> str:
        return format_rate(self.entered, self.total)


@dataclass
class DashboardSummary:
    scope_label: str
    total: int = 0
    entered: int = 0
    pending_college: int = 0
    pending_school: int = 0
    by_status: list[Bucket] = field(default_factory=list)
    by_grade: list[Bucket] = field(default_factory=list)
    by_trl: list[Bucket] = field(default_factory=list)
    by_willingness: list[Bucket] = field(default_factory=list)
    # "college" for a university admin, "university" for read-all roles, None otherwise.
    breakdown_kind: str | None = None
    breakdown: list[BreakdownRow] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    @property
    def entry_rate(self) -> str:
        return format_rate(self.entered, self.total)

    @property
    def graded(self) -> int:
        return sum(b.count for b in self.by_grade if b.key != "none")

    @property
    def good_prospects(self) -> int:
        """Patents self-rated 4★ or 5★."""
        return sum(b.count for b in self.by_grade if b.key in ("4", "5"))

    def to_dict(self) -> dict[str, Any]:
        def buckets(items: list[Bucket]) -> list[dict[str, Any]]:
            return [{"key": b.key, "label": b.label, "count": b.count} for b in items]

        return {
            "scope": self.scope_label,
            "total": self.total,
            "entered": self.entered,
            "entry_rate": rate_dict(self.entered, self.total),
            "pending_college": self.pending_college,
            "pending_school": self.pending_school,
            "by_status": buckets(self.by_status),
            "by_value_grade": buckets(self.by_grade),
            "by_trl": buckets(self.by_trl),
            "by_willingness": buckets(self.by_willingness),
            "breakdown_kind": self.breakdown_kind,
            "breakdown": [
                {
                    "id": r.id,
                    "name": r.name,
                    "total": r.total,
                    "entered": r.entered,
                    "pending": r.pending,
                    "entry_rate": rate_dict(r.entered, r.total),
                }
                for r in self.breakdown
            ],
        }


def has_dashboard(user: User) -> bool:
    """Enterprises get a welcome page instead of inventory figures."""
    return user.role != Role.ENTERPRISE


def scope_label(user: User) -> str:
    if user.role in READ_ALL_ROLES:
        return "全平台"
    org = user.organization.name if user.organization else ""
    if user.role == Role.COLLEGE_ADMIN and user.college:
        return f"{org} · {user.college.name}"
    if user.role == Role.INVENTOR:
        return f"{org} · 我参与的专利"
    return org


def dashboard_summary(user: User, university_id: int | None = None) -> DashboardSummary:
    """All dashboard figures for ``user``'s scope (five or six aggregate queries). The
    platform-wide summary of the read-all roles is cached (revive.dashboard.cache).

    ``university_id``: a read-all user's view narrowed to that university (checked by the
    caller, ``dashboard.scope.scope_for``): the university's own figures, per college, with
    an empty scope label for the caller to set. Ignored for every other role."""
    if user.role in READ_ALL_ROLES:
        if university_id is not None:
            return cache.cached(f"summary:u{university_id}")
        return cache.cached("summary")
    if user.role == Role.UNIVERSITY_ADMIN and user.organization_id is not None:
        summary = cache.cached(f"summary:u{user.organization_id}")
        summary.scope_label = scope_label(user)
        return summary
    return _summary(user)


def _encode_summary(s: DashboardSummary) -> dict[str, Any]:
    return dataclasses.asdict(s)


def _decode_summary(d: dict[str, Any]) -> DashboardSummary:
    lists = {k: [Bucket(**b) for b in d[k]] for k in _BUCKET_LISTS}
    rows = [BreakdownRow(**r) for r in d["breakdown"]]
    rest = {k: v for k, v in d.items() if k not in (*_BUCKET_LISTS, "breakdown")}
    return DashboardSummary(**rest, **lists, breakdown=rows)


_BUCKET_LISTS = ("by_status", "by_grade", "by_trl", "by_willingness")


def _summary(user: User) -> DashboardSummary:
    scope = visible_patents_clause(user)
    summary = DashboardSummary(scope_label=scope_label(user))

    status_counts = _count_by(Patent.status, scope)
    summary.by_status = [Bucket(s.value, s.label, status_counts.get(s, 0)) for s in FUNNEL_ORDER]
    summary.total = sum(status_counts.values())
    summary.entered = status_counts.get(EntryStatus.ENTERED, 0)
    summary.pending_college = status_counts.get(EntryStatus.PENDING_COLLEGE, 0)
    summary.pending_school = status_counts.get(EntryStatus.PENDING_SCHOOL, 0)
    if summary.total == 0:
        summary.by_grade = _grade_buckets({})
        summary.by_trl = _trl_buckets({})
        summary.by_willingness = _willingness_buckets({})
    else:
        summary.by_grade = _grade_buckets(_count_by(Patent.value_grade, scope))
        summary.by_trl = _trl_buckets(_count_by(Patent.trl, scope))
        summary.by_willingness = _willingness_buckets(_count_by(Patent.transfer_willingness, scope))

    if user.role in READ_ALL_ROLES:
        summary.breakdown_kind = "university"
        summary.breakdown = _university_breakdown(scope)
    elif user.role == Role.UNIVERSITY_ADMIN and user.organization_id is not None:
        summary.breakdown_kind = "college"
        summary.breakdown = _college_breakdown(user.organization_id, scope)
    return summary


def _summary_aggregate(**stand_in: Any) -> cache.Aggregate:
    """The cached summary: ``_summary`` for an unsaved user with ``stand_in``'s role and org."""
    return cache.Aggregate(
        lambda: _summary(User(**stand_in)), _encode_summary, _decode_summary, lambda s: s.total
    )


cache.register("summary", _summary_aggregate(role=Role.PLATFORM_ADMIN))
cache.register_family(
    "summary",
    lambda arg: _summary_aggregate(
        role=Role.UNIVERSITY_ADMIN, organization_id=int(arg.removeprefix("u"))
    ),
)


def _count_by(column: Any, scope: sa.ColumnElement[bool]) -> dict[Any, int]:
    stmt = sa.select(column, sa.func.count(Patent.id)).where(scope).group_by(column)
    return {key: count for key, count in db.session.execute(stmt)}


def _grade_buckets(counts: dict[int | None, int]) -> list[Bucket]:
    buckets = [Bucket(str(g), f"{g}★", counts.get(g, 0)) for g in range(1, 6)]
    return [*buckets, Bucket("none", UNSET_GRADE_LABEL, counts.get(None, 0))]


def _trl_buckets(counts: dict[int | None, int]) -> list[Bucket]:
    buckets = [Bucket(str(t), f"TRL {t}", counts.get(t, 0)) for t in range(1, 10)]
    return [*buckets, Bucket("none", UNSET_TRL_LABEL, counts.get(None, 0))]


def _willingness_buckets(counts: dict[Willingness | None, int]) -> list[Bucket]:
    buckets = [Bucket(w.value, w.label, counts.get(w, 0)) for w in Willingness]
    return [*buckets, Bucket("none", UNSET_WILLINGNESS_LABEL, counts.get(None, 0))]


def _progress_by(column: Any, scope: sa.ColumnElement[bool]) -> dict[Any, tuple[int, int, int]]:
    """(total, entered, pending) per value of ``column``: one GROUP BY."""
    stmt = (
        sa.select(column, sa.func.count(Patent.id), _ENTERED, _PENDING)
        .where(scope)
        .group_by(column)
    )
    return {
        key: (total, entered, pending) for key, total, entered, pending in db.session.execute(stmt)
    }


def _college_breakdown(institution_id: int, scope: sa.ColumnElement[bool]) -> list[BreakdownRow]:
    """Every college of the institution (zero rows included: who has not started yet)."""
    figures = _progress_by(Patent.college_id, scope)
    colleges = db.session.execute(
        sa.select(College.id, College.name).where(College.institution_id == institution_id)
    ).all()
    rows = [BreakdownRow(cid, name, *figures.pop(cid, (0, 0, 0))) for cid, name in colleges]
    if None in figures:
        rows.append(BreakdownRow(None, NO_COLLEGE_LABEL, *figures.pop(None)))
    # Patents pointing at another institution's college cannot exist in scope; ignore leftovers.
    return _sorted(rows)


def _university_breakdown(scope: sa.ColumnElement[bool]) -> list[BreakdownRow]:
    """Every university on the platform, including those that have not uploaded anything."""
    figures = _progress_by(Patent.institution_id, scope)
    orgs = db.session.execute(
        sa.select(Organization.id, Organization.name).where(
            sa.or_(Organization.kind == OrgKind.UNIVERSITY, Organization.id.in_(list(figures)))
        )
    ).all()
    return _sorted([BreakdownRow(oid, name, *figures.get(oid, (0, 0, 0))) for oid, name in orgs])


def _sorted(rows: list[BreakdownRow]) -> list[BreakdownRow]:
    return sorted(rows, key=lambda r: (-r.total, -r.entered, r.name))


# ---------------------------------------------------------------------------- mix per unit
#
# The overview's four distributions (entry status, value grade, TRL, willingness) per university
# (regional views) or per college (a university's view, or a regional view narrowed to one),
# so a provincial manager compares universities' inventories, 建议放弃 / 不入库 included. One
# GROUP BY with a COUNT(CASE …) per bucket; cached like the summary (``mix-by-university``,
# ``mix-by-college:u12``).

# TRL in three bands (the TRL_HELP stages): principle and concept, lab to pilot, real use.
TRL_BANDS: tuple[tuple[int, int], ...] = ((1, 3), (4, 6), (7, 9))


@dataclass(frozen=True)
class MixDimension:
    key: str  # status | grade | trl | willingness
    title: str
    buckets: tuple[tuple[str, str], ...]  # (key, label), in table order


MIX_DIMENSIONS: tuple[MixDimension, ...] = (
    MixDimension("status", "入库流程状态", tuple((s.value, s.label) for s in FUNNEL_ORDER)),
    MixDimension(
        "grade",
        "专利价值分级自评",
        (*((str(g), f"{g}★") for g in range(1, 6)), ("none", UNSET_GRADE_LABEL)),
    ),
    MixDimension(
        "trl",
        "技术成熟度（TRL）",
        (*((f"{lo}-{hi}", f"TRL {lo}–{hi}") for lo, hi in TRL_BANDS), ("none", UNSET_TRL_LABEL)),
    ),
    MixDimension(
        "willingness",
        "转化意愿",
        (*((w.value, w.label) for w in Willingness), ("none", UNSET_WILLINGNESS_LABEL)),
    ),
)


def _bucket_condition(dimension: str, key: str) -> sa.ColumnElement[bool]:
    if dimension == "status":
        return Patent.status == EntryStatus(key)
    if dimension == "grade":
        return Patent.value_grade.is_(None) if key == "none" else Patent.value_grade == int(key)
    if dimension == "trl":
        if key == "none":
            return Patent.trl.is_(None)
        lo, hi = (int(x) for x in key.split("-"))
        return Patent.trl.between(lo, hi)
    if key == "none":
        return Patent.transfer_willingness.is_(None)
    return Patent.transfer_willingness == Willingness(key)


_MIX_KEYS: tuple[tuple[str, str], ...] = tuple(
    (d.key, b) for d in MIX_DIMENSIONS for b, _label in d.buckets
)


@dataclass(frozen=True)
class UnitMix:
    """One university's (or college's) patents by status, grade, TRL band and willingness."""

    id: int | None
    name: str
    total: int
    counts: dict[tuple[str, str], int]

    def of(self, dimension: str) -> list[int]:
        """The bucket counts of ``dimension`` in table order (they add up to ``total``)."""
        d = next(x for x in MIX_DIMENSIONS if x.key == dimension)
        return [self.counts.get((dimension, b), 0) for b, _label in d.buckets]


def _mix_grouped(scope: sa.ColumnElement[bool], group: Any) -> dict[Any, list[int]]:
    """{unit: [total, *bucket counts in _MIX_KEYS order]}: one GROUP BY."""
    counts = [sa.func.count(sa.case((_bucket_condition(d, b), Patent.id))) for d, b in _MIX_KEYS]
    stmt = sa.select(group, sa.func.count(Patent.id), *counts).where(scope).group_by(group)
    return {row[0]: [int(v) for v in row[1:]] for row in db.session.execute(stmt)}


def _mix_aggregate(scope: sa.ColumnElement[bool], group: Any) -> cache.Aggregate:
    return cache.Aggregate(
        lambda: _mix_grouped(scope, group),
        lambda figures: [[key, values] for key, values in figures.items()],
        lambda payload: {key: values for key, values in payload},
        lambda figures: sum(values[0] for values in figures.values()),
    )


cache.register("mix-by-university", _mix_aggregate(sa.true(), Patent.institution_id))
cache.register_family(
    "mix-by-college",
    lambda arg: _mix_aggregate(
        Patent.institution_id == int(arg.removeprefix("u")), Patent.college_id
    ),
)


def unit_mix(summary: DashboardSummary, university_id: int | None) -> list[UnitMix]:
    """The mix of each unit of ``summary``'s progress table, in its order (every university,
    or every college of ``university_id`` and 未指定学院): [] when it has none (a college
    admin, an inventor)."""
    if summary.breakdown_kind == "university":
        figures = cache.cached("mix-by-university")
    elif summary.breakdown_kind == "college" and university_id is not None:
        figures = cache.cached(f"mix-by-college:u{university_id}")
    else:
        return []
    out = []
    for row in summary.breakdown:
        total, *counts = figures.get(row.id) or [0] * (len(_MIX_KEYS) + 1)
        out.append(UnitMix(row.id, row.name, total, dict(zip(_MIX_KEYS, counts, strict=True))))
    return out
