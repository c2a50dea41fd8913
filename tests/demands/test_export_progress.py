"""The demands export's progress columns (机器推荐数, 已推送专利数, 对接中, 已签约): counted by
the rules of the demand's own pages, in bulk, and only for those who may see them."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.deals import services as deal_services
from revive.deals.models import Deal, Stage
from revive.demands import export
from revive.demands.fields import match_header
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.matching import queries as matching_queries
from revive.matching.models import Match, MatchSource, MatchTier
from revive.pool import status
from revive.review import services as decisions
from tests.deals.helpers import World, advance, make_world, sign
from tests.factories import make_user
from tests.matching.helpers import entered, make_demand
from tests.statements import statements_run

PROGRESS = ["机器推荐数", "已推送专利数", "对接中", "已签约"]


def _candidate(demand: Demand, tier: MatchTier | None = MatchTier.STRONG, **kw) -> Match:
    patent = kw.pop("patent", None) or entered(kw.pop("university", None))
    match = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.4,
        strength=0.3,
        tier=tier,
        source=kw.pop("source", MatchSource.MACHINE),
        **kw,
    )
    db.session.add(match)
    db.session.commit()
    return match


def _push(demand: Demand, world: World) -> Deal:
    """An officer accepts a candidate of the demand: a pushed patent and its deal."""
    match = _candidate(demand, university=world.uni_a)
    decisions.decide(match.id, "accepted", world.officer)
    return db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id))


def _rows(client) -> dict[str, dict[str, str]]:
    response = client.get("/demands/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return {r[rows[0].index("需求名称")]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def _progress(row: dict[str, str]) -> list[str]:
    return [row[label] for label in PROGRESS]


def _busy_demand(world: World, title: str = "电池回收需求", enterprise=None) -> Demand:
    """12 listed machine suggestions (the page lists 10), candidates the page does not list,
    and three pushed patents: one signed, one in talks, one that failed."""
    demand = make_demand(enterprise or world.ent_a, title=title)
    for _ in range(12):
        _candidate(demand)
    _candidate(demand, MatchTier.WEAK)  # below the bar
    _candidate(demand, source=MatchSource.OFFICER, added_by_id=world.officer.id)  # a pick
    draft = entered(world.uni_a)
    draft.status = EntryStatus.PENDING_SCHOOL  # has left the pool
    db.session.commit()
    _candidate(demand, patent=draft)
    sign(_push(demand, world), actor=world.officer)
    advance(_push(demand, world), Stage.CONTACTED, actor=world.officer)
    failed = _push(demand, world)
    deal_services.change_stage(failed.id, "fail", world.officer, reason="price", comment="价高")
    return demand


def test_each_demand_reads_as_far_as_its_pages_say(app, client, auth, enqueued):
    """A provincial trial's export of demands said nothing of how far each got; the figures
    are those of the enterprise's own pages (its demand page's 机器推荐 and 已推送给您, the
    我的需求 list and dashboard), and of the deals board's stages."""
    world = make_world()
    demand = _busy_demand(world)
    make_demand(world.ent_b, title="无人问津的需求")
    auth.login(world.users[Role.REGULATOR])
    rows = _rows(client)
    assert _progress(rows["电池回收需求"]) == ["10", "3", "1", "1"]
    assert _progress(rows["无人问津的需求"]) == ["0", "0", "0", "0"]
    # the enterprise's own pages count the same
    page = status.demand_overview(world.users[Role.ENTERPRISE], demand)
    assert page.suggestion_count == 10 and len(page.pushed) == 3
    assert matching_queries.suggestion_counts(world.ent_a.id)[demand.id] == 10
    stages = [
        d.stage for d in db.session.scalars(sa.select(Deal).where(Deal.demand_id == demand.id))
    ]
    assert sorted(s.value for s in stages) == ["contacted", "failed", "signed"]


def test_only_staff_the_regulator_and_the_owner_see_the_figures(app, enqueued):
    world = make_world()
    own = _busy_demand(world, "甲企业的需求")
    other = _busy_demand(world, "另一条需求", enterprise=world.ent_b)
    header = export.header()
    columns = [header.index(label) for label in PROGRESS]

    def seen(user) -> dict[str, list]:
        rows = export.with_progress(user, [own, other])
        return {r[header.index("需求名称")]: [r[i] for i in columns] for r in rows}

    for role in (Role.OFFICER, Role.PLATFORM_ADMIN, Role.REGULATOR):
        assert seen(world.users[role]) == {
            "甲企业的需求": [10, 3, 1, 1],
            "另一条需求": [10, 3, 1, 1],
        }, role
    # an enterprise: its own demand only (were it ever given the export)
    assert seen(world.users[Role.ENTERPRISE]) == {
        "甲企业的需求": [10, 3, 1, 1],
        "另一条需求": ["", "", "", ""],
    }
    for role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR):
        assert set(map(tuple, seen(world.users[role]).values())) == {("", "", "", "")}, role


def test_the_figures_cost_no_query_per_demand(app, client, auth, enqueued):
    world = make_world()
    _busy_demand(world, "需求一")
    officer = make_user(Role.OFFICER)
    auth.login(officer)
    db.session.expire_all()
    with statements_run() as few:
        assert len(_rows(client)) == 1
    for i in range(4):
        _busy_demand(world, f"更多需求{i}")
    db.session.expire_all()
    with statements_run() as many:
        rows = _rows(client)
    assert len(rows) == 5
    assert {tuple(_progress(r)) for r in rows.values()} == {("10", "3", "1", "1")}
    assert len(many) == len(few), "\n".join(s[:120] for s in many)


def test_the_progress_columns_are_export_only(app):
    """The importer recognises them and reads nothing from them: an exported file imports
    back unchanged (tests/demands/test_importers.py::test_export_reimports_unchanged)."""
    header = export.header()
    assert header[-4:] == PROGRESS
    for label in PROGRESS:
        field = match_header(label)
        assert field is not None and not field.importable, label
    assert not match_header("机器候选数").importable
