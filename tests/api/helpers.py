"""Seed data for the API runs: both sides' objects of every kind, and the ids to call."""

from __future__ import annotations

from typing import Any

from flask import g

from revive.accounts.models import Role
from revive.db import utcnow
from revive.deals.models import Stage
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.models import EntryStatus
from revive.licensing import applications
from revive.matching.models import IndexBuild, Match, MatchRun, RunScope, RunStatus
from revive.notifications.models import Notification
from revive.pools.models import MemberState, Pool, PoolDemand, PoolPatent
from tests.deals.helpers import advance, make_world, sign
from tests.factories import make_patent, make_user
from tests.licensing.helpers import make_declaration
from tests.matching.helpers import entered, make_demand

MISSING_ID = 999_999  # one id per path argument that names no row
APPLICATION = {  # 开放许可实施申请 details
    "contact_name": "赵经理",
    "contact_phone": "0471-1234567",
    "intended_use": "用于本公司产线",
    "accept_terms": True,
}
# A role allowed on each route, first match in this order, signs in to call it.
ROLE_ORDER = (Role.UNIVERSITY_ADMIN, Role.OFFICER, Role.ENTERPRISE, Role.PLATFORM_ADMIN)


def allowed_roles(app, operation_id: str) -> frozenset | None:
    """The roles the route's ``roles_required`` admits (None: any logged-in user)."""
    return getattr(app.view_functions.get(f"api.{operation_id}"), "allowed_roles", None)


def signed_in_clients(app, world) -> dict[Role, Any]:
    """A test client per role of ``ROLE_ORDER``, each logged in as the world's user of it."""
    clients = {}
    for role in ROLE_ORDER:
        g.pop("_login_user", None)  # the test's app context would keep the previous user
        client = app.test_client()
        response = client.post(
            "/login", data={"email": world.users[role].email, "password": "Passw0rd!"}
        )
        assert response.status_code == 302
        g.pop("_login_user", None)
        clients[role] = client
    return clients


def first_allowed_role(allowed: frozenset | None) -> Role:
    """The first role of ``ROLE_ORDER`` that ``allowed`` (from ``allowed_roles``) admits."""
    return next(r for r in ROLE_ORDER if allowed is None or r in allowed)


def seed() -> tuple[Any, dict[str, list[int]]]:
    """Both sides' objects of every kind; returns the world and the ids per path argument."""
    w = make_world()
    ent_user = w.users[Role.ENTERPRISE]
    own_deal = w.own_deal()
    other_deal = w.other_deal()
    negotiating = advance(w.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    signed = sign(w.own_deal())
    draft = make_patent(w.uni_a, college=w.college_a)
    submitted = make_patent(w.uni_a, college=w.college_a, status=EntryStatus.PENDING_COLLEGE)
    entered_a = entered(w.uni_a, college=w.college_a)
    entered_b = entered(w.uni_b)
    own_demand = make_demand(w.ent_a, title="甲企业的开放需求")
    other_demand = make_demand(w.ent_b, title="乙企业的开放需求")
    candidates = []
    for demand, patent in ((own_demand, entered_a), (other_demand, entered_b)):
        m = Match(demand_id=demand.id, patent_id=patent.id, score=0.4, terms=[["材料", 1.0]])
        db.session.add(m)
        candidates.append(m)
    run = MatchRun(scope=RunScope.DEMAND, demand_id=own_demand.id, status=RunStatus.SUCCEEDED)
    build = IndexBuild(
        status=RunStatus.SUCCEEDED,
        doc_count=4,
        vocab_size=10,
        path="/nonexistent/index",
        finished_at=utcnow(),
    )
    db.session.add_all([run, build])
    evaluation = Evaluation(
        patent_id=own_deal.patent_id,
        enterprise_id=w.ent_a.id,
        user_id=ent_user.id,
        prospect_stars=4,
        intent=CooperationIntent.LICENSE,
    )
    invite = EvaluationInvite(patent_id=entered_a.id, enterprise_id=w.ent_a.id)
    job = ImportJob(
        kind="patents",
        status=ImportStatus.VALIDATED,
        institution_id=w.uni_a.id,
        filename="盘点.xlsx",
        stored_path="/nonexistent/盘点.xlsx",
        total_rows=10,
        processed_rows=4,
    )
    note = Notification(user_id=ent_user.id, kind="test", title="测试通知", body="正文")
    org_note = Notification(organization_id=w.uni_a.id, kind="test", title="高校通知")
    db.session.add_all([evaluation, invite, job, note, org_note])
    db.session.commit()
    pool = Pool(name="乳业", description="乳制品加工与奶牛养殖", key_terms="牛奶 酸奶")
    db.session.add(pool)
    db.session.flush()
    db.session.add_all(
        [
            PoolPatent(pool_id=pool.id, patent_id=entered_a.id, score=0.3, rank=1),
            PoolPatent(
                pool_id=pool.id,
                patent_id=entered_b.id,
                score=0.2,
                rank=2,
                state=MemberState.INCLUDED,
                decided_at=utcnow(),
            ),
            PoolDemand(pool_id=pool.id, demand_id=own_demand.id, score=0.1, rank=1),
        ]
    )
    db.session.commit()
    own_licence = make_declaration(entered_a)
    other_licence = make_declaration(entered_b)
    own_application = applications.apply(own_licence.id, APPLICATION, actor=ent_user)
    other_application = applications.apply(
        other_licence.id, APPLICATION, actor=make_user(Role.ENTERPRISE, organization=w.ent_b)
    )
    deals = [own_deal.id, other_deal.id, negotiating.id, signed.id]
    matches = [m.id for m in candidates] + [own_deal.match_id, other_deal.match_id]
    ids = {
        "patent_id": [draft.id, submitted.id, entered_a.id, entered_b.id, own_deal.patent_id],
        "demand_id": [own_demand.id, other_demand.id, own_deal.demand_id, other_deal.demand_id],
        "deal_id": deals,
        "match_id": matches,
        "run_id": [run.id],
        "build_id": [build.id],
        "declaration_id": [own_licence.id, other_licence.id],
        "application_id": [own_application.id, other_application.id],
        "notification_id": [note.id, org_note.id],
        "job_id": [job.id],
        "pool_id": [pool.id],
    }
    return w, {k: [*v, MISSING_ID] for k, v in ids.items()}
