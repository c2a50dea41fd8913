"""List queries: filter parsing, LIKE escaping, and correctness at 100,000 patents."""

from __future__ import annotations

import itertools
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.common.spreadsheets import CSV_CHUNK_ROWS
from revive.db import escape_like
from revive.extensions import db
from revive.inventory import export, queries
from revive.inventory.models import EntryStatus, Patent, PatentType, Willingness
from tests.factories import make_college, make_org, make_user


def test_parse_filters_keeps_valid_values_and_drops_the_rest():
    f = queries.parse_filters(
        {
            "college": "12",
            "status": "entered",
            "grade": "5",
            "trl": "none",
            "willingness": "willing",
            "patent_type": "utility",
            "q": "  锂电池 ",
            "sort": "trl",
            "dir": "ASC",
            "page": "3",
        }
    )
    assert f == queries.ListFilters(
        college=12,
        status=EntryStatus.ENTERED,
        grade=5,
        trl="none",
        willingness=Willingness.WILLING,
        patent_type=PatentType.UTILITY,
        q="锂电池",
        sort="trl",
        direction="asc",
        page=3,
    )
    bad = queries.parse_filters(
        {
            "college": "x",
            "status": "gone",
            "grade": "6",
            "trl": "0",
            "willingness": "maybe",
            "sort": "password",
            "dir": "sideways",
            "page": "-2",
            "q": "长" * 500,
        }
    )
    assert bad == queries.ListFilters(q="长" * queries.MAX_QUERY_LEN)
    assert f.to_args()["dir"] == "asc"
    assert "page" not in f.to_args(page=1)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("100%", "100\\%"), ("a_b", "a\\_b"), ("c:\\d", "c:\\\\d"), ("锂电池", "锂电池")],
)
def test_escape_like(raw, escaped):
    assert escape_like(raw) == escaped


# ---------------------------------------------------------------------------- 100,000 rows

N = 100_000
CHUNK = 10_000
STATUSES = [
    EntryStatus.DRAFT,
    EntryStatus.PENDING_COLLEGE,
    EntryStatus.PENDING_SCHOOL,
    EntryStatus.ENTERED,
    EntryStatus.NOT_ENTERED,
]


def _row(i: int, inst_ids: list[int], college_ids: list[int], base: datetime) -> dict:
    status = STATUSES[i % 5]
    graded = status == EntryStatus.ENTERED or i % 3 == 0
    return {
        "institution_id": inst_ids[i % 2],
        "college_id": college_ids[i % 2] if i % 4 else None,
        "application_no": f"{2000 + i % 20}1{i:07d}.X",
        "title": f"专利{i:06d}"
        + ("石墨烯" if i % 10 == 0 else "")
        + ("50%_纯" if i == 4242 else ""),
        "abstract": "一种材料" + ("锂电池" if i % 7 == 0 else ""),
        "patent_type": PatentType.INVENTION if i % 3 else PatentType.UTILITY,
        "status": status,
        "status_changed_at": base,
        "submitted_at": None if status == EntryStatus.DRAFT else base,
        "entered_at": base if status == EntryStatus.ENTERED else None,
        "trl": (i % 9) + 1 if graded else None,
        "value_grade": (i % 5) + 1 if graded else None,
        "transfer_willingness": Willingness.WILLING if graded else None,
        "created_at": base,
        "updated_at": base + timedelta(seconds=i),
        "version": 1,
    }


@pytest.fixture
def big_inventory(app):
    inst_a, inst_b = make_org("甲大学"), make_org("乙大学")
    colleges = [make_college(inst_a, "甲学院"), make_college(inst_b, "乙学院")]
    base = datetime(2024, 1, 1, tzinfo=UTC)
    inst_ids, college_ids = [inst_a.id, inst_b.id], [c.id for c in colleges]
    started = time.perf_counter()
    # A Core insert (executemany in pages): the ORM's bulk insert groups rows by which columns
    # are None, and these rows vary, so it would send nearly one INSERT a row.
    for start in range(0, N, CHUNK):
        db.session.execute(
            sa.insert(Patent.__table__),
            [_row(i, inst_ids, college_ids, base) for i in range(start, min(N, start + CHUNK))],
        )
    db.session.commit()
    print(f"\n[perf] bulk insert of {N} patents: {time.perf_counter() - started:.2f}s")
    yield {"inst_a": inst_a, "college_a": colleges[0]}
    if db.engine.dialect.name == "postgresql":  # faster than the per-test DELETE of 100k rows
        db.session.rollback()
        db.session.execute(sa.text("TRUNCATE patents CASCADE"))
        db.session.commit()


def _timed(label: str, fn):
    started = time.perf_counter()
    result = fn()
    print(f"[perf] {label}: {(time.perf_counter() - started) * 1000:.1f} ms")
    return result


def test_list_and_export_are_correct_at_100k(app, client, auth, big_inventory):
    uni_admin = make_user(Role.UNIVERSITY_ADMIN, organization=big_inventory["inst_a"])
    regulator = make_user(Role.REGULATOR)
    even = [i for i in range(N) if i % 2 == 0]  # institution A holds the even rows

    page = _timed(
        "regulator, page 1 of all, default sort",
        lambda: queries.list_page(regulator, queries.ListFilters(), 50),
    )
    assert page.total == N
    assert page.pages == N // 50
    assert [r.title[:8] for r in page.items[:2]] == [f"专利{N - 1:06d}", f"专利{N - 2:06d}"]

    f = queries.ListFilters(page=300, sort="updated_at", direction="asc")
    page = _timed(
        "university admin, page 300 by updated_at asc", lambda: queries.list_page(uni_admin, f, 50)
    )
    assert page.total == N // 2
    assert [int(r.title[2:8]) for r in page.items] == even[299 * 50 : 300 * 50]

    f = queries.ListFilters(status=EntryStatus.ENTERED, grade=4, sort="title", direction="desc")
    page = _timed(
        "university admin, status+grade filter, title desc",
        lambda: queries.list_page(uni_admin, f, 50),
    )
    expected = sorted((i for i in even if i % 5 == 3), reverse=True)
    assert page.total == len(expected)
    assert [int(r.title[2:8]) for r in page.items] == expected[:50]

    f = queries.ListFilters(q="锂电池", college=big_inventory["college_a"].id, trl=1)
    page = _timed(
        "university admin, text search in abstract + college + trl",
        lambda: queries.list_page(uni_admin, f, 50),
    )
    expected = [
        i for i in even if i % 7 == 0 and i % 4 and (i % 5 == 3 or i % 3 == 0) and i % 9 == 0
    ]
    assert page.total == len(expected)

    page = queries.list_page(uni_admin, queries.ListFilters(q="50%_"), 50)
    assert [r.title for r in page.items] == ["专利00424250%_纯"]

    # the page through HTTP
    auth.login(uni_admin)
    resp = _timed(
        "HTTP GET /patents/?page=1000&sort=trl&dir=asc",
        lambda: client.get("/patents/?page=1000&sort=trl&dir=asc"),
    )
    assert resp.status_code == 200
    assert "共 50000 条" in resp.get_data(as_text=True)

    # the whole filtered list as CSV: streamed in chunks, memory does not grow with rows
    rows = queries.export_rows(regulator, queries.ListFilters())
    chunks = lines = 0
    started = time.perf_counter()
    for chunk in export.iter_csv(rows):
        chunks += 1
        lines += chunk.count(b"\r\n")
    print(f"[perf] CSV export of {N} rows: {time.perf_counter() - started:.2f}s in {chunks} chunks")
    assert lines == N + 1
    assert chunks > N // CSV_CHUNK_ROWS

    tracemalloc.start()
    rows = queries.export_rows(regulator, queries.ListFilters())
    for _ in itertools.islice(export.iter_csv(rows), 40):  # 20,000 rows
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"[perf] CSV export, peak traced memory over 20,000 rows: {peak / 2**20:.1f} MiB")
    assert peak < 16 * 2**20  # loading 100,000 rows first would take several times this
