"""``revive bench-web``: time the inventory list, the patent page, every dashboard page and the
exports' first byte against the configured database (meant for the ``revive scale-seed`` set).

Each case is requested through the Flask test client, logged in as the role that uses it: the
first request is reported as *cold* (the process's first request to that URL; the dashboard
snapshot table is emptied first with ``--cold-cache``), then ``--repeat`` more give p50 / p95.
Exports report the time to the first byte of the body (the download streams). Figures are
printed as a Markdown table; nothing is asserted. Read-only except for the dashboard cache.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from revive.accounts import sessions
from revive.accounts.models import College, Role, User
from revive.benchmark.metrics import percentile
from revive.dashboard import cache
from revive.extensions import db
from revive.inventory.models import Patent

TARGET_MS = 300.0


@dataclass
class Case:
    group: str
    name: str
    user: User
    url: str
    first_byte: bool = False


@dataclass
class Result:
    case: Case
    status: int
    cold_ms: float
    p50_ms: float
    p95_ms: float


def _pick_users() -> dict[str, User]:
    def first(role: Role) -> User:
        user = db.session.scalar(
            sa.select(User).where(User.role == role, User.is_active_flag).order_by(User.id)
        )
        if user is None:
            raise click.ClickException(f"没有 {role.label} 账号：请先运行 revive scale-seed")
        return user

    users = {r.value: first(r) for r in (Role.PLATFORM_ADMIN, Role.OFFICER, Role.ENTERPRISE)}
    # The university admin of the largest university (the heaviest single-university scope).
    biggest = db.session.execute(
        sa.select(Patent.institution_id)
        .group_by(Patent.institution_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).scalar()
    admin = db.session.scalar(
        sa.select(User).where(User.role == Role.UNIVERSITY_ADMIN, User.organization_id == biggest)
    )
    if admin is None:
        raise click.ClickException("最大的高校没有学校管理员账号")
    users["university_admin"] = admin
    return users


def cases() -> list[Case]:
    u = _pick_users()
    pa, officer, uni, ent = (
        u["platform_admin"],
        u["officer"],
        u["university_admin"],
        u["enterprise"],
    )
    uid = uni.organization_id
    college = db.session.scalar(
        sa.select(College.id).where(College.institution_id == uid).order_by(College.id)
    )
    patent_id = db.session.scalar(
        sa.select(Patent.id).where(Patent.institution_id == uid).order_by(Patent.id.desc())
    )
    out = [
        Case("inventory", "list, no filter (platform admin)", pa, "/patents/"),
        Case("inventory", "list, status=已入库", pa, "/patents/?status=entered"),
        Case("inventory", "list, status=退回 (4%)", pa, "/patents/?status=returned"),
        Case("inventory", "list, grade=5", pa, "/patents/?grade=5"),
        Case("inventory", "list, grade=未自评", pa, "/patents/?grade=none"),
        Case("inventory", "list, trl=9", pa, "/patents/?trl=9"),
        Case("inventory", "list, willingness=愿意", pa, "/patents/?willingness=willing"),
        Case("inventory", "list, type=外观设计", pa, "/patents/?patent_type=design"),
        Case("inventory", "list, keyword 石墨烯 (title)", pa, "/patents/?q=石墨烯"),
        Case("inventory", "list, keyword with no hit", pa, "/patents/?q=量子纠缠通信"),
        Case("inventory", "list, keyword + status", pa, "/patents/?q=传感器&status=entered"),
    ]
    for sort in ("updated_at", "application_no", "title", "grade", "trl"):
        for direction in ("asc", "desc"):
            out.append(
                Case(
                    "inventory",
                    f"list, sort {sort} {direction}",
                    pa,
                    f"/patents/?sort={sort}&dir={direction}",
                )
            )
    out += [
        Case("inventory", "list, page 100", pa, "/patents/?page=100"),
        Case("inventory", "list, page 10,000 (deep)", pa, "/patents/?page=10000"),
        Case("inventory", "list, officer, status=已入库", officer, "/patents/?status=entered"),
        Case("inventory", "list, university admin", uni, "/patents/"),
        Case("inventory", "list, university admin, college", uni, f"/patents/?college={college}"),
        Case("inventory", "list, university admin, keyword", uni, "/patents/?q=电池"),
        Case("inventory", "list, university admin, sort title", uni, "/patents/?sort=title"),
        Case("inventory", "patent detail", pa, f"/patents/{patent_id}"),
        Case("dashboard", "home / regional overview (platform admin)", pa, "/"),
        Case("dashboard", "home (officer)", officer, "/"),
        Case("dashboard", "by university", pa, "/dashboard/breakdown?by=university"),
        Case("dashboard", "by industry", pa, "/dashboard/breakdown?by=industry"),
        Case(
            "dashboard",
            "by college (one university)",
            pa,
            f"/dashboard/breakdown?by=college&university={uid}",
        ),
        Case("dashboard", "month by month (regional)", pa, "/dashboard/monthly"),
        Case("dashboard", "contracts (regional)", pa, "/dashboard/contracts"),
        Case("dashboard", "overdue (regional)", pa, "/dashboard/overdue"),
        Case("dashboard", "unmet demands", pa, "/dashboard/unmet"),
        Case("dashboard", "officer workload", pa, "/dashboard/workload"),
        Case("dashboard", "university view: home", uni, "/"),
        Case("dashboard", "university view: by college", uni, "/dashboard/breakdown"),
        Case("dashboard", "university view: by industry", uni, "/dashboard/breakdown?by=industry"),
        Case("dashboard", "enterprise view", ent, "/"),
        Case("export", "inventory .csv, all (first byte)", pa, "/patents/export.csv", True),
        Case("export", "inventory .xlsx, filtered (first byte)", uni, "/patents/export.xlsx", True),
        Case("export", "by university .csv", pa, "/dashboard/export/by-university.csv", True),
        Case("export", "funnel .xlsx", pa, "/dashboard/export/funnel.xlsx", True),
    ]
    return out


def _timed(client, case: Case) -> tuple[float, int]:
    t0 = time.perf_counter()
    if case.first_byte:
        response = client.get(case.url, buffered=False)
        body = iter(response.response)
        next(body, b"")
        elapsed = time.perf_counter() - t0
        response.close()
    else:
        response = client.get(case.url)
        elapsed = time.perf_counter() - t0
    return elapsed * 1000, response.status_code


def run_cases(
    selected: list[Case], repeat: int, echo: Callable[[str], None] = print
) -> list[Result]:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    results = []
    clients: dict[int, object] = {}
    for case in selected:
        client = clients.get(case.user.id)
        if client is None:
            client = app.test_client()
            token = sessions.start_session(case.user, ip=None, user_agent="bench_web")
            with client.session_transaction() as sess:  # logged in, no password round trip
                sess["_user_id"] = str(case.user.id)
                sess["_fresh"] = True
                sess[sessions.SESSION_KEY] = token
            clients[case.user.id] = client
        cold, status = _timed(client, case)
        warm = [_timed(client, case)[0] for _ in range(repeat)]
        result = Result(
            case,
            status,
            cold,
            statistics.median(warm) if warm else cold,
            percentile(warm, 95) if warm else cold,
        )
        echo(
            f"{case.group:9} {case.name:45} {status} cold {cold:8.1f}  p50 {result.p50_ms:8.1f}"
            f"  p95 {result.p95_ms:8.1f} ms"
        )
        results.append(result)
    return results


def markdown(results: list[Result]) -> str:
    lines = [
        "| page | role | cold (ms) | p50 (ms) | p95 (ms) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        flag = "" if r.status == 200 else f" (HTTP {r.status})"
        over = " ⚠" if r.p95_ms > TARGET_MS else ""
        lines.append(
            f"| {r.case.name}{flag} | {r.case.user.role.value} | {r.cold_ms:,.0f} | "
            f"{r.p50_ms:,.0f} | {r.p95_ms:,.0f}{over} |"
        )
    return "\n".join(lines)


@click.command("bench-web")
@click.option("--repeat", default=20, show_default=True, help="Warm requests per case.")
@click.option("--only", default="", help="Only cases whose name contains this text.")
@click.option("--skip", default="", help="Leave out cases whose name contains this text.")
@click.option("--cold-cache", is_flag=True, help="Empty the dashboard snapshot table first.")
@click.option("--no-cache", is_flag=True, help="Compute every dashboard figure in the request.")
@with_appcontext
def bench_web_command(repeat: int, only: str, skip: str, cold_cache: bool, no_cache: bool) -> None:
    """Time list, detail, dashboard and export pages (cold, p50, p95) as Markdown."""
    if no_cache:  # the behaviour before the cache: every aggregate runs in the request
        current_app.config["REVIVE_DASHBOARD_SYNC_LIMIT"] = 10**12
    if cold_cache:
        cache.clear()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(Patent))
    click.echo(f"{n:,} patents in {db.engine.url.database} ({db.engine.dialect.name})")
    selected = [c for c in cases() if only in c.name and not (skip and skip in c.name)]
    db.session.remove()
    results = run_cases(selected, repeat, click.echo)
    click.echo("")
    click.echo(markdown(results))
