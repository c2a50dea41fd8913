"""Read helpers for inventory pages, the API and exports: one SELECT each, scoped by permissions.

The list is built to stay fast at 100,000+ patents: the visibility clause and every filter are
plain equality / range predicates on ``patents`` columns (covered by the composite indexes on
institution_id + status / college_id / updated_at), the page is fetched with LIMIT/OFFSET and
only the columns the table shows (no abstracts), and the total is one COUNT over the same WHERE
— for cross-university readers capped at COUNT_CAP ("10000+ 条"), as counting a million rows
costs half a second. Every sort is served by an index read in either direction (NOT NULL
columns plainly, grade/TRL through nulls-last sort-key expression indexes).
Text search is a substring match on title and abstract; on PostgreSQL the pg_trgm GIN indexes
serve patterns of 3+ characters, shorter ones are filtered within the scope's own index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.db import escape_like
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import workflow
from revive.inventory.appno import ApplicationNoError, normalize_application_no
from revive.inventory.models import (
    GRADE_SORT_KEYS,
    TRL_SORT_KEYS,
    EntryStatus,
    ImplementationStatus,
    Patent,
    PatentRevision,
    PatentType,
    StatusChange,
    Willingness,
)
from revive.inventory.permissions import READ_ALL_ROLES, visible_patents_clause
from revive.pagination import Page, page_of, paginate, streamed  # noqa: F401  (Page re-exported)
from revive.web import int_arg

NONE = "none"  # filter value meaning "not filled in" (IS NULL)

SORTS: dict[str, tuple[str, Any]] = {
    "updated_at": ("更新时间", Patent.updated_at),
    "application_no": ("申请号", Patent.application_no),
    "title": ("专利名称", Patent.title),
    "grade": ("价值自评", Patent.value_grade),
    "trl": ("技术成熟度", Patent.trl),
}
# Nullable sort columns are ordered by an expression that puts "not filled in" last in both
# directions, each matching an expression index (ix_patents_*_asc / *_desc) so the first page
# of a million-row list is an index walk, not a sort. NOT NULL columns sort plainly (a B-tree
# index scanned either way; NULLS LAST on them would only keep PostgreSQL from using it).
NULLS_LAST_KEYS: dict[str, tuple[Any, Any]] = {
    "grade": GRADE_SORT_KEYS,
    "trl": TRL_SORT_KEYS,
}
DEFAULT_SORT = "updated_at"
MAX_QUERY_LEN = 100
# 法律状态 is free text (import template: "如：有效、审中、失效"); these are offered in the
# filter, any other stored spelling (≤ 50 characters, the column) is matched as typed.
LEGAL_STATUSES = ("有效", "审中", "失效")
MAX_LEGAL_STATUS_LEN = 50
# Date-range filters: (query-string key, column, label); ISO dates, bounds included.
DATE_RANGES = (
    ("filed_from", "filed_to", "filing_date", "申请日"),
    ("granted_from", "granted_to", "grant_date", "授权日"),
)


@dataclass(frozen=True)
class ListFilters:
    """Parsed, validated list parameters. Unknown or malformed values are dropped, not errors."""

    college: int | str | None = None  # college id, or NONE for "no college"
    status: EntryStatus | None = None
    grade: int | str | None = None  # 1–5 or NONE
    trl: int | str | None = None  # 1–9 or NONE
    willingness: Willingness | str | None = None  # enum or NONE
    patent_type: PatentType | None = None
    legal_status: str | None = None  # exact text, or NONE
    implementation: ImplementationStatus | str | None = None  # enum or NONE
    filed_from: date | None = None
    filed_to: date | None = None
    granted_from: date | None = None
    granted_to: date | None = None
    institution: int | None = None  # cross-university readers only (see parse_filters)
    q: str = ""
    sort: str = DEFAULT_SORT
    direction: str = "desc"
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments reproducing these filters (for links and export URLs)."""
        f = replace(self, **overrides) if overrides else self
        args = {
            **{k: getattr(f, k) for k in FILTER_KEYS if k != "q"},
            "q": f.q or None,
            "sort": f.sort if f.sort != DEFAULT_SORT else None,
            "dir": f.direction if f.direction != "desc" else None,
            "page": f.page if f.page != 1 else None,
        }
        return {k: _arg(v) for k, v in args.items() if v is not None}

    @property
    def active(self) -> bool:
        return any(getattr(self, k) not in (None, "") for k in FILTER_KEYS)


FILTER_KEYS = tuple(
    f.name for f in fields(ListFilters) if f.name not in ("sort", "direction", "page")
)


def _arg(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _int_in(raw: Any, lo: int, hi: int, *, allow_none: bool = True) -> int | str | None:
    if allow_none and str(raw or "").strip() == NONE:
        return NONE
    value = int_arg(raw)
    return value if value is not None and lo <= value <= hi else None


def _enum(enum_cls: type, raw: Any, *, allow_none: bool = False) -> Any:
    text = str(raw or "").strip()
    if allow_none and text == NONE:
        return NONE
    try:
        return enum_cls(text)
    except ValueError:
        return None


def _date(raw: Any) -> date | None:
    """An ISO date (2020-05-01) in the patent system's years; anything else is ignored."""
    text = str(raw or "").strip()
    if len(text) != 10:
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if 1985 <= value.year <= 2200 else None


def _legal_status(raw: Any) -> str | None:
    text = str(raw or "").strip()
    if not text or len(text) > MAX_LEGAL_STATUS_LEN or not text.isprintable():
        return None
    return text


def parse_filters(args: Mapping[str, Any], user: User | None = None) -> ListFilters:
    """Read list filters from query-string (or JSON) arguments; bad values are ignored.

    ``institution`` (单位) is a filter of the cross-university lists only: for anyone else
    (``user`` given, not a cross-university reader) their own unit's id is a no-op and another
    unit's is refused (an integrator's sync set up with a wrong id quietly read its own
    university's patents instead)."""
    college_raw = str(args.get("college") or "").strip()
    sort = str(args.get("sort") or DEFAULT_SORT)
    direction = str(args.get("dir") or args.get("direction") or "desc").lower()
    institution = int_arg(args.get("institution"))
    if institution is not None and user is not None and user.role not in READ_ALL_ROLES:
        if institution != user.organization_id:
            raise PermissionDenied("您只能查看本单位的专利（institution 不是您所在的单位）")
        institution = None
    if institution is not None and institution <= 0:
        institution = None
    return ListFilters(
        college=NONE if college_raw == NONE else int_arg(college_raw),
        status=_enum(EntryStatus, args.get("status")),
        grade=_int_in(args.get("grade"), 1, 5),
        trl=_int_in(args.get("trl"), 1, 9),
        willingness=_enum(Willingness, args.get("willingness"), allow_none=True),
        patent_type=_enum(PatentType, args.get("patent_type")),
        legal_status=_legal_status(args.get("legal_status")),
        implementation=_enum(ImplementationStatus, args.get("implementation"), allow_none=True),
        filed_from=_date(args.get("filed_from")),
        filed_to=_date(args.get("filed_to")),
        granted_from=_date(args.get("granted_from")),
        granted_to=_date(args.get("granted_to")),
        institution=institution,
        q=str(args.get("q") or "").strip()[:MAX_QUERY_LEN],
        sort=sort if sort in SORTS else DEFAULT_SORT,
        direction=direction if direction in ("asc", "desc") else "desc",
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def _null_or_eq(column: Any, value: Any) -> sa.ColumnElement[bool]:
    return column.is_(None) if value == NONE else column == value


def where_clauses(user: User, f: ListFilters) -> list[sa.ColumnElement[bool]]:
    """The visibility clause plus one predicate per active filter."""
    clauses: list[sa.ColumnElement[bool]] = [visible_patents_clause(user)]
    if f.college is not None:
        clauses.append(_null_or_eq(Patent.college_id, f.college))
    if f.status is not None:
        clauses.append(Patent.status == f.status)
    if f.grade is not None:
        clauses.append(_null_or_eq(Patent.value_grade, f.grade))
    if f.trl is not None:
        clauses.append(_null_or_eq(Patent.trl, f.trl))
    if f.willingness is not None:
        clauses.append(_null_or_eq(Patent.transfer_willingness, f.willingness))
    if f.patent_type is not None:
        clauses.append(Patent.patent_type == f.patent_type)
    if f.legal_status is not None:
        clauses.append(_null_or_eq(Patent.legal_status, f.legal_status))
    if f.implementation is not None:
        clauses.append(_null_or_eq(Patent.implementation_status, f.implementation))
    for low, high, key, _label in DATE_RANGES:
        column = getattr(Patent, key)
        if getattr(f, low) is not None:
            clauses.append(column >= getattr(f, low))
        if getattr(f, high) is not None:
            clauses.append(column <= getattr(f, high))
    if f.institution is not None:
        clauses.append(Patent.institution_id == f.institution)
    if f.q:
        clauses.append(_search(f.q))
    return clauses


_NUMBER_PREFIX = re.compile(r"(?:CN|ZL)?\d{6,12}", re.IGNORECASE)


def _search(q: str) -> sa.ColumnElement[bool]:
    """The keyword in title or abstract, or the patent of that 申请号 (staff look patents up
    by number first: CN/ZL prefixes, spaces, a missing or full-width dot as typed), or whose
    申请号 starts with the digits typed (six at least)."""
    keyword = _keyword(q)
    try:
        number = normalize_application_no(q, require_check=False)
    except ApplicationNoError:
        number = None
    if number is not None:
        return sa.or_(Patent.application_no == number, keyword)
    compact = re.sub(r"\s", "", q)
    if _NUMBER_PREFIX.fullmatch(compact):
        digits = re.sub(r"\D", "", compact)
        return sa.or_(Patent.application_no.like(f"{digits}%"), keyword)
    return keyword


def _keyword(q: str) -> sa.ColumnElement[bool]:
    """Title or abstract contains ``q`` as typed (its % and _ are not wildcards).

    Case-insensitive only when ``q`` has cased letters: ILIKE lower-cases every row (~3x slower
    than LIKE on Chinese text, where it changes nothing). The pattern is rendered into the SQL
    (quoted by the dialect), not sent as a parameter: a prepared statement's generic plan cannot
    see that a 1–2 character pattern has no trigram, picks the pg_trgm GIN index anyway and
    reads all of it (seconds at 1M rows); with the pattern in the text each search is planned
    for what it is."""
    pattern = sa.bindparam(
        "keyword", f"%{escape_like(q)}%", sa.String(), unique=True, literal_execute=True
    )
    cased = q.lower() != q.upper()
    return sa.or_(
        *(
            (c.ilike(pattern, escape="\\") if cased else c.like(pattern, escape="\\"))
            for c in (Patent.title, Patent.abstract)
        )
    )


def _order_by(f: ListFilters) -> list[Any]:
    column = SORTS[f.sort][1]
    asc_key, desc_key = NULLS_LAST_KEYS.get(f.sort, (column, column))
    # id makes the order total, so a patent never shows on two pages (or on none).
    if f.direction == "asc":
        return [asc_key.asc(), Patent.id.asc()]
    return [desc_key.desc(), Patent.id.desc()]


# Only what the list table shows: no abstracts or other long text.
LIST_COLUMNS = (
    Patent.id,
    Patent.application_no,
    Patent.title,
    Patent.patent_type,
    Patent.status,
    Patent.value_grade,
    Patent.trl,
    Patent.transfer_willingness,
    Patent.updated_at,
    Patent.institution_id,
    Patent.college_id,
    Patent.version,
    # the next annual fee (inventory.fees)
    Patent.filing_date,
    Patent.grant_date,
    Patent.legal_status,
    Patent.patentees,
    College.name.label("college_name"),
    Organization.name.label("institution_name"),
)


class AtLeast(int):
    """A capped count: compares and divides as the cap, prints as "10000+" (the pagination
    macro and the list's result count show it as is)."""

    def __str__(self) -> str:
        return f"{int(self)}+"


@dataclass
class ListPage(Page):
    """A page of the inventory list; ``capped``: there are more than ``total`` matches (the
    count stopped at the cap, the list pages through the first ``total``)."""

    @property
    def capped(self) -> bool:
        return isinstance(self.total, AtLeast)


# Counting every match of a cross-university list costs a scan of the whole table (0.5 s at
# 1M patents); past this many the list says "10,000+" and pages through those.
COUNT_CAP = 10_000


def list_page(
    user: User,
    f: ListFilters,
    per_page: int,
    *,
    cap: int | None = None,
    application_no: str | None = None,
    updated_since: datetime | None = None,
) -> ListPage:
    """One page of the inventory list (row tuples with LIST_COLUMNS) plus the total count —
    exact, or with ``cap`` at most ``cap`` and ``capped`` set when there are more. The API's
    sync filters: ``application_no`` (normalised, exact) and ``updated_since`` (changed after)."""
    clauses = where_clauses(user, f)
    if application_no is not None:
        clauses.append(Patent.application_no == application_no)
    if updated_since is not None:
        clauses.append(Patent.updated_at > updated_since)
    stmt = (
        sa.select(*LIST_COLUMNS)
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .where(*clauses)
        .order_by(*_order_by(f))
    )
    if cap is None:
        count = sa.select(sa.func.count(Patent.id)).where(*clauses)
    else:
        first = sa.select(Patent.id).where(*clauses).limit(cap + 1).subquery()
        count = sa.select(sa.func.count()).select_from(first)
    found = db.session.scalar(count) or 0
    total = AtLeast(cap) if cap is not None and found > cap else found
    base = page_of(f.page, total, per_page)
    page = ListPage(base.items, base.total, base.page, base.per_page)
    page.items = list(db.session.execute(stmt.limit(per_page).offset(page.offset)))
    return page


def count_cap(user: User) -> int | None:
    """The list's count cap for ``user``: cross-university readers get COUNT_CAP; a
    university's own list (≤ its patents, counted from its index) stays exact."""
    return COUNT_CAP if user.role in READ_ALL_ROLES else None


MAX_FILTERED_IDS = 5000  # "all matching the filter" (batch college assignment): one request


def filtered_ids(
    user: User,
    f: ListFilters,
    limit: int | None = None,
    statuses: Iterable[EntryStatus] | None = None,
) -> list[int]:
    """Ids of every patent the list shows for these filters (all pages), in id order;
    ValidationFailed when none, or more than ``limit`` (a batch over the whole filter stays a
    bounded request: narrow the filter, or tick rows). ``limit``: MAX_FILTERED_IDS.
    ``statuses``: only patents in one of them (what a batch action can move)."""
    limit = limit or MAX_FILTERED_IDS
    clauses = where_clauses(user, f)
    if statuses is not None:
        clauses.append(Patent.status.in_(list(statuses)))
    stmt = sa.select(Patent.id).where(*clauses).order_by(Patent.id)
    return _bounded_ids(
        stmt,
        limit,
        "没有符合筛选条件的专利",
        f"符合筛选条件的专利超过 {limit} 条，一次最多处理 {limit} 条：请进一步筛选后再操作",
    )


def _bounded_ids(stmt: sa.Select, limit: int, none: str, too_many: str) -> list[int]:
    """The ids ``stmt`` selects, at most ``limit`` (one more is read to tell): a batch over a
    server-made list stays a bounded request. ValidationFailed ``none`` / ``too_many``."""
    ids = list(db.session.scalars(stmt.limit(limit + 1)))
    if not ids:
        raise ValidationFailed(none)
    if len(ids) > limit:
        raise ValidationFailed(too_many)
    return ids


# ---------------------------------------------------------------------------- export

EXPORT_BATCH = 1000


def export_rows(user: User, f: ListFilters) -> Iterator[sa.Row]:
    """Every patent matching the filters (all pages), streamed in batches of EXPORT_BATCH.

    Rows carry the model columns by key (``entered_at``: when it last entered the pool, set
    with each 入库 of the status log) plus ``college_name`` and ``institution_name``; column
    tuples, not ORM objects, so 100,000 rows stream without filling the session's identity map.
    """
    columns = [c for c in Patent.__table__.columns]
    stmt = (
        sa.select(
            *[getattr(Patent, c.key) for c in columns],
            College.name.label("college_name"),
            Organization.name.label("institution_name"),
        )
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .where(*where_clauses(user, f))
        .order_by(*_order_by(f))
    )
    return streamed(stmt, batch=EXPORT_BATCH)


def export_count(user: User, f: ListFilters, limit: int | None = None) -> int:
    """How many rows ``export_rows`` gives for these filters; with ``limit``, at most that
    many (a bounded count: whether an export is large, without counting a million rows)."""
    ids = sa.select(Patent.id).where(*where_clauses(user, f))
    if limit is not None:
        ids = ids.limit(limit)
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0


# ---------------------------------------------------------------------------- review queue


def review_scope(user: User) -> sa.ColumnElement[bool] | None:
    """What waits for this reviewer: None for users who review nothing.

    College admin: 待学院审核 in their college. University admin: 待学校审核 of their university,
    plus 待学院审核 patents that no college admin can pick up: without a college, or of a college
    with no active college admin (a tester's 429 patents of 5 such colleges could only be
    approved one by one, from each patent's page).
    """
    if user.role == Role.COLLEGE_ADMIN:
        return sa.and_(
            Patent.institution_id == user.organization_id,
            Patent.college_id == user.college_id,
            Patent.status == EntryStatus.PENDING_COLLEGE,
        )
    if user.role == Role.UNIVERSITY_ADMIN:
        return sa.and_(
            Patent.institution_id == user.organization_id,
            sa.or_(
                Patent.status == EntryStatus.PENDING_SCHOOL,
                sa.and_(
                    Patent.status == EntryStatus.PENDING_COLLEGE,
                    sa.or_(Patent.college_id.is_(None), ~_has_college_admin()),
                ),
            ),
        )
    return None


def _has_college_admin() -> sa.Exists:
    """SQL: the patent's college has an active college admin."""
    return (
        sa.select(User.id)
        .where(
            User.college_id == Patent.college_id,
            User.role == Role.COLLEGE_ADMIN,
            User.is_active_flag.is_(True),
        )
        .exists()
    )


def review_ids(
    user: User, statuses: Iterable[EntryStatus], limit: int = MAX_FILTERED_IDS
) -> list[int]:
    """Ids of every patent waiting in the reviewer's queue that an action from ``statuses``
    can move, oldest submission first (a batch over the whole queue: a college admin with 738
    waiting had to tick and send 50 at a time); ValidationFailed when none or over ``limit``."""
    scope = review_scope(user)
    if scope is None:
        raise ValidationFailed("您没有待审核的专利")
    stmt = (
        sa.select(Patent.id)
        .where(visible_patents_clause(user), scope, Patent.status.in_(list(statuses)))
        .order_by(Patent.status_changed_at.asc(), Patent.id.asc())
    )
    return _bounded_ids(
        stmt,
        limit,
        "队列中没有可以执行该操作的专利",
        f"队列中的专利超过 {limit} 件，一次最多处理 {limit} 件：请分批勾选处理",
    )


def review_statuses(user: User) -> set[EntryStatus]:
    """The statuses of what waits in the reviewer's queue: which review stages it holds, so
    the queue offers only the actions that can move something (a university admin was shown
    学院审核通过 / 学院退回 with no 待学院审核 patent waiting, UX review ua-review-d)."""
    scope = review_scope(user)
    if scope is None:
        return set()
    return set(
        db.session.scalars(
            sa.select(Patent.status).where(visible_patents_clause(user), scope).distinct()
        )
    )


def batch_actions(user: User) -> list[workflow.Action]:
    """The batch actions of the user's role that can move something waiting in the queue
    (``review_statuses``); the page enables each only for ticked rows of its stages, and
    services.perform_batch still refuses a patent of another stage."""
    waiting = review_statuses(user)
    return [
        a
        for a in workflow.ACTIONS.values()
        if a.batch and user.role in a.roles and a.sources & waiting
    ]


def review_page(user: User, page: int, per_page: int) -> Page:
    """The reviewer's queue, oldest submission first (first come, first served)."""
    scope = review_scope(user)
    if scope is None:
        return Page([], 0, 1, per_page)
    clauses = [visible_patents_clause(user), scope]
    stmt = (
        sa.select(*LIST_COLUMNS, Patent.status_changed_at, Patent.submitted_at)
        .join(Organization, Organization.id == Patent.institution_id)
        .outerjoin(College, College.id == Patent.college_id)
        .where(*clauses)
        .order_by(Patent.status_changed_at.asc(), Patent.id.asc())
    )
    count = sa.select(sa.func.count(Patent.id)).where(*clauses)
    return paginate(stmt, count, page, per_page, scalars=False)


# ---------------------------------------------------------------------------- detail & choices


def status_log(patent_id: int) -> list[StatusChange]:
    """The workflow log of one patent, newest first, with actors loaded."""
    stmt = (
        sa.select(StatusChange)
        .where(StatusChange.patent_id == patent_id)
        .options(sa.orm.joinedload(StatusChange.actor))
        .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
    )
    return list(db.session.scalars(stmt))


def revisions(patent_id: int) -> list[PatentRevision]:
    """Field-change history of one patent, newest first, with actors loaded."""
    stmt = (
        sa.select(PatentRevision)
        .where(PatentRevision.patent_id == patent_id)
        .options(sa.orm.joinedload(PatentRevision.actor))
        .order_by(PatentRevision.created_at.desc(), PatentRevision.id.desc())
    )
    return list(db.session.scalars(stmt))


def changes_since(
    patent_id: int, since: datetime | None
) -> tuple[list[PatentRevision], list[StatusChange]]:
    """Field edits and workflow moves of one patent after ``since`` (oldest first): what a
    form loaded at ``since`` did not show. Nothing without a time."""
    if since is None:
        return [], []
    edits = sa.select(PatentRevision).where(
        PatentRevision.patent_id == patent_id, PatentRevision.created_at > since
    )
    moves = sa.select(StatusChange).where(
        StatusChange.patent_id == patent_id, StatusChange.created_at > since
    )
    return (
        list(
            db.session.scalars(
                edits.options(sa.orm.joinedload(PatentRevision.actor)).order_by(
                    PatentRevision.created_at, PatentRevision.id
                )
            )
        ),
        list(
            db.session.scalars(
                moves.options(sa.orm.joinedload(StatusChange.actor)).order_by(
                    StatusChange.created_at, StatusChange.id
                )
            )
        ),
    )


@dataclass
class CollegeChoices:
    """Colleges a user may filter by or file into, as (id, name) pairs."""

    filter: list[tuple[int, str]] = field(default_factory=list)
    file_into: list[tuple[int, str]] = field(default_factory=list)


def college_choices(user: User) -> CollegeChoices:
    if user.role == Role.COLLEGE_ADMIN and user.college is not None:
        own = [(user.college.id, user.college.name)]
        return CollegeChoices(own, own)
    if user.organization_id and user.role in (Role.UNIVERSITY_ADMIN, Role.INVENTOR):
        rows = db.session.execute(
            sa.select(College.id, College.name)
            .where(College.institution_id == user.organization_id)
            .order_by(College.name)
        )
        pairs = [(cid, name) for cid, name in rows]
        return CollegeChoices(pairs, pairs)
    return CollegeChoices()


def university_choices() -> list[tuple[int, str]]:
    """Every university (id, name) by name: the platform admin's filing form, and the
    university filters of the dashboard and the evaluation lists."""
    rows = db.session.execute(
        sa.select(Organization.id, Organization.name)
        .where(Organization.kind == OrgKind.UNIVERSITY)
        .order_by(Organization.name)
    )
    return [(oid, name) for oid, name in rows]


def colleges_of(institution_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(College.name)
            .where(College.institution_id == institution_id)
            .order_by(College.name)
        )
    )
