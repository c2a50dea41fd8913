"""End to end: an enterprise posts a demand over HTTP → Redis → a real Celery worker builds the
index (there is none yet) and matches → PostgreSQL; the right patent comes out on top."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from revive.accounts.models import OrgKind, Role
from revive.extensions import db
from revive.matching.models import IndexBuild, MatchRun, RunStatus
from tests.factories import make_org, make_user
from tests.integration.conftest import wait_for
from tests.matching.helpers import BATTERY_DEMAND, pool

pytestmark = pytest.mark.integration

JSON = {"Accept": "application/json"}


def _latest_run(demand_id: int) -> int | None:
    db.session.rollback()  # see the worker's commits
    return db.session.scalar(
        sa.select(MatchRun.id).where(MatchRun.demand_id == demand_id).order_by(MatchRun.id.desc())
    )


def _run(client, run_id: int) -> dict:
    response = client.get(f"/api/v1/match-runs/{run_id}", headers=JSON)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_posted_demand_is_matched_by_the_worker(app, client, auth, live_queue):
    patents = pool(make_org("集成测试大学"))
    enterprise = make_org("集成测试电池公司", kind=OrgKind.ENTERPRISE)
    poster = make_user(Role.ENTERPRISE, organization=enterprise)
    officer = make_user(Role.OFFICER)
    auth.login(poster)

    response = client.post("/api/v1/demands", json=dict(BATTERY_DEMAND), headers=JSON)
    assert response.status_code == 201, response.get_data(as_text=True)
    demand_id = response.get_json()["id"]
    run_id = wait_for(lambda: _latest_run(demand_id), timeout=10, what="the match run row")

    finished = wait_for(
        lambda: not (s := _run(client, run_id))["is_active"] and s,
        timeout=90,
        what="index build + match run by the worker",
    )
    assert finished["status"] == "succeeded", finished
    assert finished["match_count"] >= 1
    db.session.rollback()
    build = db.session.scalar(sa.select(IndexBuild).order_by(IndexBuild.id.desc()))
    assert build.status == RunStatus.SUCCEEDED and build.doc_count == 3
    assert finished["index_version"] == build.id

    auth.logout()
    auth.login(officer)
    items = client.get(f"/api/v1/demands/{demand_id}/matches", headers=JSON).get_json()["items"]
    assert items[0]["patent"]["id"] == patents["battery"].id
    assert items[0]["rank"] == 1 and items[0]["terms"]


def test_all_demand_run_is_a_chord_over_the_shards(app, live_queue, request):
    """The worker (shards of 2 patents, fan-out 2) scores an all-demand run as parallel
    shard tasks whose lists a callback merges; the right patents come out on top."""
    from revive.matching import jobs
    from revive.matching.models import Match, RunScope
    from tests.matching.helpers import WATER, make_demand

    patents = pool(make_org("分片测试大学"))
    battery = make_demand(**BATTERY_DEMAND)
    water = make_demand(title="养殖污水处理", description=WATER["abstract"])
    build = jobs.request_index_build()
    wait_for(lambda: _status(IndexBuild, build.id) == RunStatus.SUCCEEDED, 90, what="index build")
    db.session.rollback()
    assert db.session.get(IndexBuild, build.id).shard_count >= 2
    run = jobs.request_match_run(RunScope.ALL_DEMANDS)
    wait_for(
        lambda: _status(MatchRun, run.id) in (RunStatus.SUCCEEDED, RunStatus.FAILED),
        90,
        what="the fanned-out match run",
    )
    db.session.rollback()
    finished = db.session.get(MatchRun, run.id)
    assert finished.status == RunStatus.SUCCEEDED, finished.error
    top = {
        d.id: db.session.scalar(
            sa.select(Match.patent_id).where(Match.demand_id == d.id, Match.rank == 1)
        )
        for d in (battery, water)
    }
    assert top == {battery.id: patents["battery"].id, water.id: patents["water"].id}
    assert finished.match_count >= 2 and finished.processed == finished.total == 2
    log_path = request.getfixturevalue("_data_dir") / "celery-worker.log"
    log = (log_path).read_text("utf-8", errors="replace")
    assert f"Match run {run.id} fanned out over 2 parts" in log
    assert "matching.score_shards" in log and f"Match run {run.id} merged" in log
    # a part's result (the demands' readings) is not logged, and Celery's lines carry the
    # zone's offset like the app's (an operator's trial)
    assert WATER["abstract"][:20] not in log
    assert re.search(r"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{4}: INFO", log), log[:500]


def _status(model, row_id: int):
    db.session.rollback()
    row = db.session.get(model, row_id)
    return row.status if row is not None else None
