"""Every state change of a patent, demand, match, deal, contract, evaluation and open licence
leaves an audit event — checked through the public path (HTTP where there is a route).

ROUTE_CASES lists every state-changing route with the change it makes and the event expected
(object type and id, action, actor, organisation, before/after or changed fields, a Chinese
label). EXEMPT lists the routes that change no audited object, each with its reason. A new
POST/PUT/PATCH/DELETE route in neither fails test_every_writing_route_is_audited_or_exempt.
SERVICE_CASES covers the changes without a route of their own (the import worker's commit,
the patent's 实施状态 set by a signed contract).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from revive.accounts import services as account_services
from revive.accounts import tokens
from revive.accounts.models import ApiToken, College, Organization, OrgKind, Role, TokenScope, User
from revive.audit import labels as audit_labels
from revive.audit.labels import action_label
from revive.audit.models import AuditEvent
from revive.audit.queries import ENTITY_LABELS
from revive.deals.models import Deal, Stage
from revive.demands import services as demand_services
from revive.demands.models import Demand
from revive.engine import shipped_model
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.extensions import db
from revive.imports import services as import_services
from revive.inventory.models import EntryStatus, Patent
from revive.licensing.models import OpenLicenceDeclaration
from revive.matching.models import Match, StrengthModelVersion
from revive.settings.models import PlatformSetting
from tests.audit.helpers import events
from tests.deals.helpers import advance, contract_data, make_deal, make_overdue, sign
from tests.evaluations.helpers import make_invite
from tests.factories import PASSWORD, make_college, make_org, make_patent, make_user
from tests.imports.helpers import HEADER, csv_bytes, row
from tests.licensing.helpers import make_declaration, valid_body
from tests.matching.helpers import make_demand
from tests.onboarding.helpers import code as institution_code

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CJK = re.compile(r"[\u4e00-\u9fff]")

# Routes that change no audited object (patent, demand, match, deal, contract, evaluation,
# evaluation invite, open licence), with the reason. Anything else that writes must be audited.
EXEMPT: dict[str, str] = {
    "accounts.login": "session only",
    "accounts.logout": "session only",
    "accounts.register": "account self-registration: users table (created_at), not a "
    "transfer object",
    "accounts.change_password": "the user's own credentials",
    "accounts.revoke_session": "the user's own sign-in sessions (user_sessions: revoked_at, why)",
    "accounts.revoke_all_sessions": "the user's own sign-in sessions (user_sessions)",
    "accounts.forgot_password": "asks for a reset link, changes no account (password_resets "
    "keeps when and from where; using the link is audited, see accounts.reset_password)",
    "accounts.resend_confirmation": "a new e-mail confirmation link for the registration "
    "(password_resets keeps when; opening it is audited, see accounts.confirm_email)",
    "accounts.invite": "member administration: invitations table (inviter, time)",
    "accounts.revoke_invitation": "member administration: invitations table",
    "accounts.create_staff": "member administration (platform admin)",
    "accounts.deactivate": "member administration (users.is_active)",
    "accounts.reactivate": "member administration (users.is_active)",
    "accounts.add_college": "organisation structure, not a transfer object",
    "accounts.rename_college": "organisation structure, not a transfer object",
    "onboarding.add_colleges": "organisation structure, not a transfer object (as "
    "accounts.add_college)",
    "onboarding.import_upload_post": "stores the file and queues a dry run: no institution "
    "changes until the commit (each committed row is audited, see the service case)",
    "notifications.open_notification": "marks one inbox item read",
    "notifications.mark_read": "marks one inbox item read",
    "notifications.mark_all_read": "marks inbox items read",
    "api.read_notification": "marks one inbox item read",
    "api.read_all_notifications": "marks inbox items read",
    "imports.upload_post": "stores the file and queues a dry run: no patent changes until the "
    "commit (each committed row is audited, see SERVICE_CASES)",
    "demands.import_upload_post": "stores the file and queues a dry run: no demand changes "
    "until the commit (each committed row is audited)",
    "imports.cancel": "cancels a job that has written nothing",
    "api.create_import_job": "stores the file and queues a dry run (as imports.upload_post): "
    "each committed row is audited",
    "matching.rebuild": "recomputes the search index (index_builds: requested_by, times)",
    "api.create_index_build": "recomputes the search index (index_builds: requested_by, times)",
    "matching.rematch_all": "queues a match run: candidates are machine proposals (match_runs "
    "keeps who asked and when); each decision on them is audited",
    "matching.rematch_demand": "queues a match run for one demand (see matching.rematch_all)",
    "api.create_match_run": "queues a match run for one demand (see matching.rematch_all)",
    "inventory.invitation_patents": "chooses the patents a pending inventor invitation links "
    "when accepted (invitation_patents: who chose, when); each link is audited when it is "
    "made, as the chooser's decision (see the accounts.accept_invite case)",
}


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    uni: Organization
    college: College
    ent: Organization
    uni_admin: User
    officer: User
    ent_user: User
    platform_admin: User
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def w(app) -> World:
    uni = make_org("甲大学")
    college = make_college(uni, "材料学院")
    ent = make_org("丙科技有限公司", kind=OrgKind.ENTERPRISE)
    return World(
        uni=uni,
        college=college,
        ent=ent,
        uni_admin=make_user(Role.UNIVERSITY_ADMIN, organization=uni, name="王管理"),
        officer=make_user(Role.OFFICER, name="李经理"),
        ent_user=make_user(Role.ENTERPRISE, organization=ent, name="赵企业"),
        platform_admin=make_user(Role.PLATFORM_ADMIN, name="周平台"),
    )


def _entered(w: World, **kw: Any) -> Patent:
    kw.setdefault("patentees", "甲大学")
    kw.setdefault("legal_status", "有效")
    return make_patent(w.uni, college=w.college, status=EntryStatus.ENTERED, **kw)


def _candidate(w: World) -> Match:
    patent = _entered(w)
    demand = make_demand(w.ent, title="需要一种复合材料")
    match = Match(demand_id=demand.id, patent_id=patent.id, score=0.5, terms=[["材料", 1.0]])
    db.session.add(match)
    db.session.commit()
    return match


def _deal(w: World, *stages: Stage) -> Deal:
    deal = make_deal(
        patent=_entered(w), enterprise=w.ent, officer=w.officer, title="需要一种复合材料"
    )
    return advance(deal, *stages, actor=w.officer) if stages else deal


@dataclass
class Expect:
    entity: str
    entity_id: int
    action: str
    actor: User
    organization_id: int | None
    data: Callable[[dict], bool]  # the before/after or changed fields the event must carry


# ---------------------------------------------------------------------------- route cases
#
# Each case: (who logs in, the request) and the event it must leave. ``call`` gets the world
# and the logged-in client, performs the change, asserts it happened, and returns Expect.

Call = Callable[[World, Any], Expect]
ROUTE_CASES: dict[str, tuple[str, Call]] = {}


def case(endpoint: str, login: str) -> Callable[[Call], Call]:
    def register(fn: Call) -> Call:
        assert endpoint not in ROUTE_CASES, endpoint
        ROUTE_CASES[endpoint] = (login, fn)
        return fn

    return register


def _ok(resp: Any, *codes: int) -> Any:
    assert resp.status_code in (codes or (200, 201, 302)), resp.get_data(as_text=True)[:500]
    return resp


PATENT_FORM = {
    "application_no": "201710601862.3",
    "title": "一种污水脱氮工艺",
    "patent_type": "invention",
}


def _new_patent(w: World) -> Patent:
    return db.session.scalar(sa.select(Patent).where(Patent.application_no == "201710601862.3"))


@case("inventory.create", "uni_admin")
def _(w, client):
    _ok(client.post("/patents/new", data={**PATENT_FORM, "college": "材料学院"}))
    p = _new_patent(w)
    return Expect("patent", p.id, "create", w.uni_admin, w.uni.id, lambda d: "title" in d["fields"])


@case("api.create_patent", "uni_admin")
def _(w, client):
    _ok(client.post("/api/v1/patents", json=PATENT_FORM), 201)
    p = _new_patent(w)
    return Expect(
        "patent", p.id, "create", w.uni_admin, w.uni.id, lambda d: "application_no" in d["fields"]
    )


def _title_change(old: str) -> Callable[[dict], bool]:
    return lambda d: d["changes"]["title"] == [old, "一种改进的复合材料制备方法"]


@case("inventory.edit", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college)
    form = {
        "application_no": p.application_no,
        "title": "一种改进的复合材料制备方法",
        "patent_type": "invention",
        "college": "材料学院",
        "abstract": p.abstract,
        "version": p.version,
    }
    old = p.title
    _ok(client.post(f"/patents/{p.id}/edit", data=form), 302)
    return Expect("patent", p.id, "edit", w.uni_admin, w.uni.id, _title_change(old))


@case("inventory.delete", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college, title="一种录错的专利")
    pid, appno = p.id, p.application_no
    _ok(client.post(f"/patents/{pid}/delete", data={"version": p.version}), 302)
    assert db.session.get(Patent, pid) is None
    return Expect(
        "patent",
        pid,
        "delete",
        w.uni_admin,
        w.uni.id,
        lambda d: d["application_no"] == appno and d["title"] == "一种录错的专利",
    )


@case("api.delete_patent", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college)
    pid, appno = p.id, p.application_no
    _ok(client.delete(f"/api/v1/patents/{pid}"), 204)
    return Expect(
        "patent", pid, "delete", w.uni_admin, w.uni.id, lambda d: d["application_no"] == appno
    )


@case("api.update_patent", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college)
    old = p.title
    _ok(client.patch(f"/api/v1/patents/{p.id}", json={"title": "一种改进的复合材料制备方法"}))
    return Expect("patent", p.id, "edit", w.uni_admin, w.uni.id, _title_change(old))


def _moved(src: EntryStatus, dst: EntryStatus) -> Callable[[dict], bool]:
    return lambda d: (d["from_status"], d["to_status"]) == (src.value, dst.value)


@case("inventory.act", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college)
    _ok(client.post(f"/patents/{p.id}/actions/submit", data={"version": p.version}), 302)
    return Expect(
        "patent",
        p.id,
        "submit",
        w.uni_admin,
        w.uni.id,
        _moved(EntryStatus.DRAFT, EntryStatus.PENDING_COLLEGE),
    )


@case("api.patent_action", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college, status=EntryStatus.PENDING_SCHOOL)
    _ok(client.post(f"/api/v1/patents/{p.id}/actions/school_return", json={"comment": "补材料"}))
    return Expect(
        "patent",
        p.id,
        "school_return",
        w.uni_admin,
        w.uni.id,
        lambda d: (
            _moved(EntryStatus.PENDING_SCHOOL, EntryStatus.RETURNED)(d) and d["comment"] == "补材料"
        ),
    )


def _batch_expect(w: World, done: list[Patent]) -> Expect:
    for p in done[1:]:  # every patent of the batch has its own event
        (e,) = events(entity="patent", entity_id=p.id)
        assert e.action == "college_approve" and e.actor_id == w.uni_admin.id
    return Expect(
        "patent",
        done[0].id,
        "college_approve",
        w.uni_admin,
        w.uni.id,
        _moved(EntryStatus.PENDING_COLLEGE, EntryStatus.PENDING_SCHOOL),
    )


@case("inventory.batch", "uni_admin")
def _(w, client):
    ps = [make_patent(w.uni, college=w.college, status=EntryStatus.PENDING_COLLEGE) for _ in "ab"]
    data = {"ids": [str(p.id) for p in ps], "action": "college_approve"}
    _ok(client.post("/patents/review/batch", data=data), 302)
    return _batch_expect(w, ps)


@case("inventory.submit_batch", "uni_admin")
def _(w, client):
    ps = [make_patent(w.uni, college=w.college) for _ in "ab"]
    _ok(client.post("/patents/submit", data={"scope": "ids", "ids": [str(p.id) for p in ps]}), 302)
    (e,) = events(entity="patent", entity_id=ps[1].id)
    assert e.action == "submit" and e.actor_id == w.uni_admin.id
    return Expect(
        "patent",
        ps[0].id,
        "submit",
        w.uni_admin,
        w.uni.id,
        _moved(EntryStatus.DRAFT, EntryStatus.PENDING_COLLEGE),
    )


@case("inventory.assign_college", "uni_admin")
def _(w, client):
    target = make_college(w.uni, "信息学院")
    ps = [make_patent(w.uni, college=w.college) for _ in "ab"]
    data = {"scope": "ids", "ids": [str(p.id) for p in ps], "target_college": str(target.id)}
    _ok(client.post("/patents/assign-college", data=data), 200)
    (e,) = events(entity="patent", entity_id=ps[1].id)
    assert e.action == "assign_college" and e.actor_id == w.uni_admin.id
    return Expect(
        "patent",
        ps[0].id,
        "assign_college",
        w.uni_admin,
        w.uni.id,
        lambda d: d["changes"]["college"] == ["材料学院", "信息学院"],
    )


@case("inventory.set_fee_reduction", "uni_admin")
def _(w, client):
    _ok(client.post("/patents/annual-fees/reduction", data={"reduction_pct": "70"}), 302)
    return Expect(
        "organization",
        w.uni.id,
        "fee_reduction",
        w.uni_admin,
        w.uni.id,
        lambda d: d["changes"]["reduction_pct"] == [None, 70],
    )


@case("api.batch_actions", "uni_admin")
def _(w, client):
    ps = [make_patent(w.uni, college=w.college, status=EntryStatus.PENDING_COLLEGE) for _ in "ab"]
    body = {"ids": [p.id for p in ps], "action": "college_approve"}
    assert _ok(client.post("/api/v1/patents/batch-actions", json=body)).json["done"]
    return _batch_expect(w, ps)


def _inventor_link(
    w: World, p: Patent, action: str, inventor: User, via: str, **data: Any
) -> Expect:
    def check(d: dict) -> bool:
        expected = {"inventor_id": inventor.id, "inventor": inventor.name, "via": via, **data}
        return d == expected

    return Expect("patent", p.id, action, w.uni_admin, w.uni.id, check)


@case("inventory.patent_inventors", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college)
    inventor = make_user(Role.INVENTOR, organization=w.uni, name="张伟")
    url = f"/patents/{p.id}/inventors"
    _ok(client.post(url, data={"op": "link", "user_ids": [str(inventor.id)]}), 302)
    assert events(entity="patent", entity_id=p.id, action="link_inventor")
    _ok(client.post(url, data={"op": "unlink", "user_ids": [str(inventor.id)]}), 302)
    return _inventor_link(w, p, "unlink_inventor", inventor, "patent")


@case("inventory.inventor_patents", "uni_admin")
def _(w, client):
    p = make_patent(w.uni, college=w.college, inventors=None)
    inventor = make_user(Role.INVENTOR, organization=w.uni, name="张伟")
    data = {"op": "link", "patent_ids": [str(p.id)]}
    _ok(client.post(f"/patents/inventors/{inventor.id}", data=data), 302)
    return _inventor_link(w, p, "link_inventor", inventor, "person")


@case("accounts.accept_invite", "uni_admin")
def _(w, client):
    # The inviter ticks a patent naming the invitee; the invitee's acceptance makes the link,
    # audited as the inviter's decision (the invitee's typed name links nothing).
    p = make_patent(w.uni, college=w.college)
    p.inventors = "张伟；李四"
    db.session.commit()
    invitation, token = account_services.invite_user(
        actor=w.uni_admin,
        organization_id=w.uni.id,
        email="zw@uni.edu.cn",
        name="张伟",
        role=Role.INVENTOR,
    )
    url = f"/patents/inventors/invitations/{invitation.id}"
    _ok(client.post(url, data={"patent_ids": [str(p.id)]}), 302)
    password = {"password": "Welcome123", "confirm": "Welcome123"}
    _ok(client.post(f"/invite/{token}", data={"name": "张伟", **password}), 302)
    user = db.session.scalar(sa.select(User).where(User.email == "zw@uni.edu.cn"))
    return _inventor_link(w, p, "link_inventor", user, "invitation", invitation_id=invitation.id)


def _file(content: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=name)


def _commit_import(w: World, client: Any, content: bytes) -> None:
    job = import_services.create_patent_import(
        _file(content, "专利.csv"), actor=w.uni_admin, institution_id=w.uni.id, enqueue=False
    )
    import_services.validate_job(job.id)
    _ok(client.post(f"/imports/{job.id}/commit", data={"mode": "valid_only"}), 302)
    import_services.commit_job(job.id)  # what the worker runs for the queued commit


@case("imports.commit", "uni_admin")
def _(w, client):
    _commit_import(w, client, csv_bytes([row(7, trl="5")], HEADER))
    patent = db.session.scalar(sa.select(Patent))
    (created,) = events(entity="patent", entity_id=patent.id)
    assert created.action == "import_create" and "trl" in created.data["fields"]
    _commit_import(w, client, csv_bytes([row(7, trl="7")], HEADER))
    return Expect(
        "patent",
        patent.id,
        "import_update",
        w.uni_admin,
        w.uni.id,
        lambda d: d["changes"] == {"trl": [5, 7]} and d["import_job_id"],
    )


@case("api.commit_import_job", "uni_admin")
def _(w, client):
    job = import_services.create_patent_import(
        _file(csv_bytes([row(8, trl="4")], HEADER), "专利.csv"),
        actor=w.uni_admin,
        institution_id=w.uni.id,
        enqueue=False,
    )
    import_services.validate_job(job.id)
    resp = _ok(client.post(f"/api/v1/import-jobs/{job.id}/commit", json={"mode": "valid_only"}))
    assert resp.get_json()["status"] == "commit_queued"
    import_services.commit_job(job.id)  # what the worker runs for the queued commit
    patent = db.session.scalar(sa.select(Patent))
    return Expect(
        "patent",
        patent.id,
        "import_create",
        w.uni_admin,
        w.uni.id,
        lambda d: d["import_job_id"] == job.id and "trl" in d["fields"],
    )


DEMAND_FORM = {"title": "需要一种氨氮废水处理工艺", "description": "氨氮超标，求低成本处理工艺"}


def _new_demand() -> Demand:
    return db.session.scalar(sa.select(Demand).where(Demand.title == DEMAND_FORM["title"]))


@case("demands.post", "ent_user")
def _(w, client):
    _ok(client.post("/demands/new", data=DEMAND_FORM), 302)
    return Expect("demand", _new_demand().id, "create", w.ent_user, w.ent.id, lambda d: True)


@case("api.post_demand", "ent_user")
def _(w, client):
    _ok(client.post("/api/v1/demands", json=DEMAND_FORM), 201)
    return Expect("demand", _new_demand().id, "create", w.ent_user, w.ent.id, lambda d: True)


@case("demands.edit", "ent_user")
def _(w, client):
    d = make_demand(w.ent, **DEMAND_FORM)
    form = {**DEMAND_FORM, "region": "内蒙古", "version": d.version}
    _ok(client.post(f"/demands/{d.id}/edit", data=form), 302)
    return Expect(
        "demand", d.id, "edit", w.ent_user, w.ent.id, lambda data: "region" in data["fields"]
    )


@case("api.update_demand", "ent_user")
def _(w, client):
    d = make_demand(w.ent, **DEMAND_FORM)
    _ok(client.patch(f"/api/v1/demands/{d.id}", json={"region": "内蒙古"}))
    return Expect(
        "demand", d.id, "edit", w.ent_user, w.ent.id, lambda data: data["fields"] == ["region"]
    )


@case("demands.close", "ent_user")
def _(w, client):
    d = make_demand(w.ent)
    _ok(client.post(f"/demands/{d.id}/close", data={"reason": "已解决", "version": d.version}))
    return Expect("demand", d.id, "close", w.ent_user, w.ent.id, lambda x: x["reason"] == "已解决")


@case("matching.ask_detail", "officer")
def _(w, client):
    d = make_demand(w.ent)
    _ok(client.post(f"/matching/demands/{d.id}/ask-detail", data={"note": "请说明产量"}), 302)
    return Expect(
        "demand", d.id, "detail_requested", w.officer, w.ent.id, lambda x: x["note"] == "请说明产量"
    )


@case("api.close_demand", "ent_user")
def _(w, client):
    d = make_demand(w.ent)
    _ok(client.post(f"/api/v1/demands/{d.id}/close", json={"reason": "已解决"}))
    return Expect("demand", d.id, "close", w.ent_user, w.ent.id, lambda x: x["reason"] == "已解决")


def _closed_demand(w: World) -> Demand:
    d = make_demand(w.ent)
    demand_services.close_demand(d.id, actor=w.ent_user, reason="已解决")
    return d


@case("demands.reopen", "ent_user")
def _(w, client):
    d = _closed_demand(w)
    _ok(client.post(f"/demands/{d.id}/reopen", data={"deadline": ""}), 302)
    return Expect("demand", d.id, "reopen", w.ent_user, w.ent.id, lambda x: x["reason"] == "已解决")


@case("api.reopen_demand", "ent_user")
def _(w, client):
    d = _closed_demand(w)
    _ok(client.post(f"/api/v1/demands/{d.id}/reopen", json={}))
    return Expect("demand", d.id, "reopen", w.ent_user, w.ent.id, lambda x: x["reason"] == "已解决")


def _accepted(w: World, m: Match) -> Expect:
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == m.id))
    # The accepted match becomes a deal: audited too.
    (push,) = events(entity="deal", entity_id=deal.id)
    assert push.action == "push" and push.data["match_id"] == m.id
    return Expect(
        "match", m.id, "accepted", w.officer, None, lambda d: d["patent_id"] == m.patent_id
    )


def _rejected(w: World, m: Match) -> Expect:
    return Expect("match", m.id, "rejected", w.officer, None, lambda d: d["reason"] == "vague")


@case("api.decide_match", "officer")
def _(w, client):
    m = _candidate(w)
    body = {"decision": "rejected", "reason_code": "vague"}
    _ok(client.post(f"/api/v1/matches/{m.id}/decision", json=body))
    return _rejected(w, m)


@case("review.decide", "officer")
def _(w, client):
    # From the match page (back=match): an acceptance, audited with its deal.
    accepted = _candidate(w)
    data = {"back": "match", "decision": "accept"}
    _ok(client.post(f"/review/matches/{accepted.id}/decision", data=data), 302)
    _accepted(w, accepted)
    (event,) = events(entity="match", entity_id=accepted.id)
    assert event.action == "accepted" and event.actor_id == w.officer.id
    # From the queue: a rejection.
    m = _candidate(w)
    data = {"decision": "reject", "reason_code": "vague"}
    _ok(client.post(f"/review/matches/{m.id}/decision", data=data), 302)
    return _rejected(w, m)


@case("review.decide_bulk", "officer")
def _(w, client):
    ms = [_candidate(w) for _ in "ab"]
    data = {"decision": "accept", "match_ids": [str(m.id) for m in ms]}
    _ok(client.post("/review/decisions", data=data), 302)
    _accepted(w, ms[1])
    return _accepted(w, ms[0])


@case("api.review_decisions", "officer")
def _(w, client):
    ms = [_candidate(w) for _ in "ab"]
    body = {"decision": "rejected", "reason_code": "vague", "match_ids": [m.id for m in ms]}
    assert len(_ok(client.post("/api/v1/review/decisions", json=body)).json["done"]) == 2
    (other,) = events(entity="match", entity_id=ms[1].id)
    assert other.action == "rejected"
    return _rejected(w, ms[0])


@case("matching.refit_strength", "platform_admin")
def _(w, client):
    _ok(client.post("/matching/strength-models"), 302)
    row = db.session.scalar(sa.select(StrengthModelVersion))
    serving = shipped_model().version
    return Expect(
        "strength_model",
        row.id,
        "refit_request",
        w.platform_admin,
        None,
        lambda d: d["serving"] == serving,
    )


def _staged(w: World, deal: Deal, action: str, src: Stage, dst: Stage, actor=None) -> Expect:
    return Expect(
        "deal",
        deal.id,
        action,
        actor or w.officer,
        w.uni.id,
        lambda d: (d["from_stage"], d["to_stage"]) == (src.value, dst.value),
    )


@case("deals.change_stage", "officer")
def _(w, client):
    deal = _deal(w)
    _ok(client.post(f"/deals/{deal.id}/stage", data={"action": "contact"}), 302)
    return _staged(w, deal, "contact", Stage.RECOMMENDED, Stage.CONTACTED)


@case("api.change_deal_stage", "officer")
def _(w, client):
    deal = _deal(w, Stage.CONTACTED)
    body = {"action": "fail", "reason": "price", "comment": "报价差距大"}
    _ok(client.post(f"/api/v1/deals/{deal.id}/stage", json=body))
    return _staged(w, deal, "fail", Stage.CONTACTED, Stage.FAILED)


@case("deals.respond", "uni_admin")
def _(w, client):
    deal = _deal(w)
    _ok(client.post(f"/deals/{deal.id}/response", data={"response": "interested"}), 302)
    return Expect(
        "deal",
        deal.id,
        "respond",
        w.uni_admin,
        w.uni.id,
        lambda d: d["response"] == "interested" and "previous" not in d,
    )


@case("deals.remind", "officer")
def _(w, client):
    deal = make_overdue(_deal(w), days=3)
    _ok(client.post(f"/deals/{deal.id}/remind", data={"comment": "请尽快答复"}), 302)
    return Expect("deal", deal.id, "remind", w.officer, w.uni.id, lambda d: d["days_overdue"] == 3)


@case("deals.extend_deadline", "officer")
def _(w, client):
    deal = make_overdue(_deal(w), days=3)
    _ok(client.post(f"/deals/{deal.id}/deadline", data={"days": "7", "reason": "委员会开会"}), 302)
    return Expect(
        "deal",
        deal.id,
        "extend_deadline",
        w.officer,
        w.uni.id,
        lambda d: d["extension_days"] == 7 and d["comment"] == "委员会开会",
    )


@case("api.respond_deal", "uni_admin")
def _(w, client):
    deal = _deal(w)
    _ok(client.post(f"/api/v1/deals/{deal.id}/response", json={"response": "declined"}))
    return Expect(
        "deal", deal.id, "respond", w.uni_admin, w.uni.id, lambda d: d["response"] == "declined"
    )


def _contract_expect(w: World, deal: Deal, action: str, check: Callable[[dict], bool]) -> Expect:
    db.session.refresh(deal)
    assert deal.contract is not None
    return Expect("contract", deal.contract.id, action, w.officer, w.uni.id, check)


@case("deals.record_contract", "officer")
def _(w, client):
    deal = _deal(w, Stage.CONTACTED, Stage.NEGOTIATING)
    _ok(client.post(f"/deals/{deal.id}/contract", data=contract_data(kind="assignment")), 302)
    signed = events(entity="deal", entity_id=deal.id)[-1]
    assert (signed.action, signed.data["to_stage"]) == ("sign", "signed")
    return _contract_expect(
        w, deal, "create", lambda d: d["kind"] == "assignment" and d["amount_wan"] == "120.50"
    )


@case("api.record_deal_contract", "officer")
def _(w, client):
    deal = sign(_deal(w), actor=w.officer)
    version = db.session.get(type(deal), deal.id).version  # a correction names what it read
    body = {**contract_data(amount_wan="99"), "version": version}
    _ok(client.post(f"/api/v1/deals/{deal.id}/contract", json=body))
    return _contract_expect(
        w, deal, "update", lambda d: d["changes"]["amount_wan"] == ["120.50", "99.00"]
    )


EVALUATION = {"prospect_stars": "4", "intent": "license", "improvement_needs": "耐温性"}


def _evaluated(w: World, p: Patent, action: str, check: Callable[[dict], bool]) -> Expect:
    e = db.session.scalar(sa.select(Evaluation).where(Evaluation.patent_id == p.id))
    return Expect("evaluation", e.id, action, w.ent_user, w.ent.id, check)


def _evaluable(w: World) -> Patent:
    p = _entered(w)
    make_invite(p, w.ent)  # an enterprise evaluates what it was invited to (or pushed)
    return p


@case("evaluations.evaluate", "ent_user")
def _(w, client):
    p = _evaluable(w)
    _ok(client.post(f"/evaluations/patents/{p.id}/evaluate", data=EVALUATION), 302)
    return _evaluated(w, p, "create", lambda d: d["prospect_stars"] == 4 and "before" not in d)


@case("api.evaluate", "ent_user")
def _(w, client):
    p = _evaluable(w)
    url = f"/api/v1/evaluations/patents/{p.id}"
    _ok(client.post(url, json=EVALUATION), 201)
    _ok(client.post(url, json={**EVALUATION, "prospect_stars": 2}), 200)
    return _evaluated(
        w,
        p,
        "update",
        lambda d: (
            d["before"] == {"prospect_stars": 4, "intent": "license"} and d["prospect_stars"] == 2
        ),
    )


def _invited(w: World, p: Patent) -> Expect:
    i = db.session.scalar(sa.select(EvaluationInvite).where(EvaluationInvite.patent_id == p.id))
    return Expect(
        "evaluation_invite",
        i.id,
        "create",
        w.officer,
        w.uni.id,
        lambda d: d["enterprise_id"] == w.ent.id,
    )


@case("evaluations.invite", "officer")
def _(w, client):
    p = _entered(w)
    _ok(client.post(f"/evaluations/patents/{p.id}/invites", data={"enterprise_id": w.ent.id}))
    return _invited(w, p)


@case("api.invite", "officer")
def _(w, client):
    p = _entered(w)
    url = f"/api/v1/evaluations/patents/{p.id}/invites"
    _ok(client.post(url, json={"enterprise_name": "丙科技"}), 201)
    return _invited(w, p)


def _declared(w: World, p: Patent) -> Expect:
    d = db.session.scalar(sa.select(OpenLicenceDeclaration))
    return Expect(
        "open_licence",
        d.id,
        "declare",
        w.uni_admin,
        w.uni.id,
        lambda x: x["patent_id"] == p.id and x["lump_sum_wan"] == "50",
    )


@case("licensing.new", "uni_admin")
def _(w, client):
    p = _entered(w)
    _ok(client.post(f"/open-licences/new?patent_id={p.id}", data=valid_body()), 302)
    return _declared(w, p)


@case("api.declare_open_licence", "uni_admin")
def _(w, client):
    p = _entered(w)
    _ok(client.post("/api/v1/open-licences", json={"patent_id": p.id, **valid_body()}), 201)
    return _declared(w, p)


def _withdrawn(w: World, d: OpenLicenceDeclaration, reason: str | None) -> Expect:
    return Expect(
        "open_licence", d.id, "withdraw", w.uni_admin, w.uni.id, lambda x: x.get("reason") == reason
    )


@case("licensing.withdraw", "uni_admin")
def _(w, client):
    d = make_declaration(_entered(w))
    _ok(client.post(f"/open-licences/{d.id}/withdraw", data={"reason": "已独占许可"}), 302)
    return _withdrawn(w, d, "已独占许可")


@case("api.withdraw_open_licence", "uni_admin")
def _(w, client):
    d = make_declaration(_entered(w))
    _ok(client.post(f"/api/v1/open-licences/{d.id}/withdraw", json={}))
    return _withdrawn(w, d, None)


@case("accounts.admin_reset_password", "uni_admin")
def _(w, client):
    member = make_user(Role.INVENTOR, organization=w.uni, name="忘了密码的老师")
    resp = _ok(client.post(f"/members/{member.id}/reset-password"), 200)
    assert "/password/reset/" in resp.get_data(as_text=True)
    return Expect(
        "user",
        member.id,
        "password_reset_link",
        w.uni_admin,
        w.uni.id,
        lambda d: d["email"] == member.email and "expires_at" in d,
    )


@case("accounts.create_enterprise_user", "platform_admin")
def _(w, client):
    form = {"organization_id": w.ent.id, "name": "新同事", "email": "colleague@ent.com.cn"}
    resp = _ok(client.post("/members/enterprise-users", data=form), 200)
    assert "/password/reset/" in resp.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "colleague@ent.com.cn"))
    return Expect(
        "user",
        user.id,
        "create_enterprise_user",
        w.platform_admin,
        w.ent.id,
        lambda d: d["email"] == "colleague@ent.com.cn",
    )


@case("accounts.reset_password", "ent_user")
def _(w, client):
    from revive.accounts import recovery

    _, token = recovery.issue_admin_reset(w.ent_user.id, actor=make_user(Role.PLATFORM_ADMIN))
    form = {"password": "Fresh-pass42", "confirm": "Fresh-pass42"}
    _ok(client.post(f"/password/reset/{token}", data=form), 302)
    return Expect(
        "user", w.ent_user.id, "password_reset", w.ent_user, w.ent.id, lambda d: d["via"] == "admin"
    )


@case("accounts.confirm_email", "ent_user")
def _(w, client):
    from revive.accounts import confirm, recovery

    newcomer = make_user(Role.ENTERPRISE, organization=w.ent, name="新同事")
    row = confirm.start(newcomer)
    db.session.commit()
    _ok(client.post(f"/email/confirm/{recovery.token_of(row)}"), 302)
    return Expect("user", newcomer.id, "confirm_email", newcomer, w.ent.id, lambda d: True)


@case("onboarding.add_institution", "platform_admin")
def _(w, client):
    form = {
        "name": "北疆工业大学",
        "credit_code": institution_code(7),
        "region": "包头市",
        "institution_type": "institute",
    }
    _ok(client.post("/institutions/", data=form), 302)
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "北疆工业大学"))
    return Expect(
        "organization",
        org.id,
        "create",
        w.platform_admin,
        org.id,
        lambda d: d["credit_code"] == institution_code(7) and d["institution_type"] == "institute",
    )


@case("accounts.create_api_token", "ent_user")
def _(w, client):
    form = {"name": "ERP 同步", "scope": "write", "password": PASSWORD}
    form["expires_on"] = tokens.default_expiry_date().isoformat()
    _ok(client.post("/account/tokens", data=form), 200)
    token = db.session.scalar(sa.select(ApiToken))
    return Expect(
        "api_token",
        token.id,
        "create",
        w.ent_user,
        w.ent.id,
        lambda d: d["name"] == "ERP 同步" and d["scope"] == "write" and d["prefix"],
    )


@case("accounts.revoke_api_token", "uni_admin")
def _(w, client):
    member = make_user(Role.INVENTOR, organization=w.uni)
    token, _ = tokens.create_token(actor=member, name="旧脚本", scope=TokenScope.READ)
    _ok(client.post(f"/account/tokens/{token.id}/revoke", data={"back": "members"}), 302)
    return Expect(
        "api_token",
        token.id,
        "revoke",
        w.uni_admin,
        w.uni.id,
        lambda d: d["reason"] == "admin" and d["user_id"] == member.id,
    )


# ---------------------------------------------------------------------------- the pool (issue 14)

INTENT_MESSAGE = "想了解这项技术的中试情况和许可条件"


def _intent_of(p: Patent) -> Match:
    return db.session.scalar(sa.select(Match).where(Match.patent_id == p.id))


def _intended(w: World, p: Patent) -> Expect:
    m = _intent_of(p)
    return Expect(
        "match",
        m.id,
        "intent",
        w.ent_user,
        w.ent.id,
        lambda d: d["message"] == INTENT_MESSAGE and d["patent_id"] == p.id,
    )


@case("pool.intent", "ent_user")
def _(w, client):
    p, d = _entered(w), make_demand(w.ent)
    data = {"demand": str(d.id), "message": INTENT_MESSAGE}
    _ok(client.post(f"/pool/patents/{p.id}/intents", data=data), 302)
    return _intended(w, p)


@case("pool.withdraw_intent", "ent_user")
def _(w, client):
    p, d = _entered(w), make_demand(w.ent)
    data = {"demand": str(d.id), "message": INTENT_MESSAGE}
    _ok(client.post(f"/pool/patents/{p.id}/intents", data=data), 302)
    m = _intent_of(p)
    _ok(client.post(f"/pool/intents/{m.id}/withdraw"), 302)
    return Expect(
        "match", m.id, "withdraw_intent", w.ent_user, w.ent.id, lambda d: d["patent_id"] == p.id
    )


@case("api.withdraw_intent", "ent_user")
def _(w, client):
    p = _entered(w)
    body = {"message": INTENT_MESSAGE, "new_demand_title": "引进复合材料技术"}
    created = client.post(f"/api/v1/pool/patents/{p.id}/intents", json=body)
    _ok(created, 201)
    intent_id = created.get_json()["id"]
    _ok(client.delete(f"/api/v1/intents/{intent_id}"), 204)
    return Expect(
        "match",
        intent_id,
        "withdraw_intent",
        w.ent_user,
        w.ent.id,
        lambda d: d["patent_id"] == p.id,
    )


@case("api.create_intent", "ent_user")
def _(w, client):
    p = _entered(w)
    body = {"message": INTENT_MESSAGE, "new_demand_title": "引进复合材料技术"}
    _ok(client.post(f"/api/v1/pool/patents/{p.id}/intents", json=body), 201)
    return _intended(w, p)


@case("demands.alerts", "ent_user")
def _(w, client):
    d = make_demand(w.ent)
    _ok(client.post(f"/demands/{d.id}/alerts", data={"subscribed": "0"}), 302)
    return Expect("demand", d.id, "alerts_off", w.ent_user, w.ent.id, lambda x: True)


@case("api.set_demand_alerts", "ent_user")
def _(w, client):
    d = make_demand(w.ent, alert_subscribed=False)
    _ok(client.post(f"/api/v1/demands/{d.id}/alerts", json={"subscribed": True}))
    return Expect("demand", d.id, "alerts_on", w.ent_user, w.ent.id, lambda x: True)


def _added(w: World, p: Patent) -> Expect:
    m = _intent_of(p)
    return Expect(
        "match", m.id, "officer_add", w.officer, None, lambda d: d["note"] == "该团队有中试线"
    )


@case("review.add_candidate_post", "officer")
def _(w, client):
    p, d = _entered(w), make_demand(w.ent)
    data = {"patent_id": str(p.id), "note": "该团队有中试线"}
    _ok(client.post(f"/review/demands/{d.id}/candidates", data=data), 302)
    return _added(w, p)


@case("api.add_candidate", "officer")
def _(w, client):
    p, d = _entered(w), make_demand(w.ent)
    body = {"patent_id": p.id, "note": "该团队有中试线"}
    _ok(client.post(f"/api/v1/demands/{d.id}/candidates", json=body), 201)
    return _added(w, p)


def _setting(w: World) -> Expect:
    row = db.session.scalar(sa.select(PlatformSetting).where(PlatformSetting.key == "public_pool"))
    return Expect(
        "setting",
        row.id,
        "update",
        w.platform_admin,
        None,
        lambda d: d["key"] == "public_pool" and d["before"] is False and d["after"] is True,
    )


@case("settings.save", "platform_admin")
def _(w, client):
    _ok(client.post("/admin/settings/", data={"public_pool": ["0", "1"]}), 302)
    return _setting(w)


@case("api.update_settings", "platform_admin")
def _(w, client):
    _ok(client.patch("/api/v1/settings", json={"public_pool": True}))
    return _setting(w)


POOL_FORM = {"name": "乳业", "description": "乳制品加工与奶牛养殖", "key_terms": "牛奶 酸奶"}


def _pool(w: World) -> Any:
    from revive.pools import services as pool_services

    return pool_services.save_pool(POOL_FORM, actor=w.officer)


@case("pools.create", "officer")
def _(w, client):
    from revive.pools.models import Pool

    _ok(client.post("/pools/new", data={**POOL_FORM, "industry_codes": "C144"}), 302)
    pool = db.session.scalar(sa.select(Pool))
    return Expect(
        "pool", pool.id, "create", w.officer, None, lambda d: "industry_codes" in d["fields"]
    )


@case("pools.edit", "officer")
def _(w, client):
    pool = _pool(w)
    form = {**POOL_FORM, "key_terms": "牛奶 酸奶 奶酪", "version": pool.version}
    _ok(client.post(f"/pools/{pool.id}/edit", data=form), 302)
    return Expect(
        "pool",
        pool.id,
        "edit",
        w.officer,
        None,
        lambda d: d["changes"]["key_terms"] == ["牛奶 酸奶", "牛奶 酸奶 奶酪"],
    )


@case("pools.rank", "officer")
def _(w, client):
    pool = _pool(w)
    _ok(client.post(f"/pools/{pool.id}/rank"), 302)
    return Expect("pool", pool.id, "rank", w.officer, None, lambda d: d["run_id"])


@case("pools.decide", "officer")
def _(w, client):
    from revive.pools.models import PoolPatent

    pool, patent = _pool(w), _entered(w)
    member = PoolPatent(pool_id=pool.id, patent_id=patent.id, score=0.3, rank=1)
    db.session.add(member)
    db.session.commit()
    data = {"kind": "patent", "act": f"exclude:{member.id}", "comment": "不属于乳业"}
    _ok(client.post(f"/pools/{pool.id}/members", data=data), 302)
    return Expect(
        "pool",
        pool.id,
        "exclude_patent",
        w.officer,
        None,
        lambda d: (
            d["patent_id"] == patent.id
            and d["member_state"] == "candidate"
            and d["comment"] == "不属于乳业"
        ),
    )


def _roadshow(w: World) -> Any:
    from revive.pools import roadshows

    data = {"tier": "B", "title": "乳业专场", "held_on": "2026-12-20", "place": "呼和浩特"}
    return roadshows.create_roadshow(data, [_entered(w).id], [w.ent.id], actor=w.officer)


@case("roadshows.roadshow_new", "officer")
def _(w, client):
    from revive.pools.models import Roadshow

    patent = _entered(w)
    data = {
        "tier": "A",
        "title": "稀土专场",
        "held_on": "2026-12-20",
        "place": "包头",
        "patent_ids": [str(patent.id)],
        "enterprise_ids": [str(w.ent.id)],
    }
    _ok(client.post("/roadshows/new", data=data), 302)
    r = db.session.scalar(sa.select(Roadshow))
    return Expect(
        "roadshow",
        r.id,
        "create",
        w.officer,
        None,
        lambda d: d["patent_count"] == 1 and d["enterprise_count"] == 1 and d["tier"] == "A",
    )


@case("roadshows.roadshow_invite", "officer")
def _(w, client):
    r = _roadshow(w)
    _ok(client.post(f"/roadshows/{r.id}/invite"), 302)
    (invite,) = db.session.scalars(sa.select(EvaluationInvite)).all()
    assert events(entity="evaluation_invite", entity_id=invite.id)  # each invite audited too
    return Expect("roadshow", r.id, "invite", w.officer, None, lambda d: d["invited"] == 1)


# ---------------------------------------------------------------------------- 开放许可实施申请

APPLY_FORM = {
    "contact_name": "赵经理",
    "contact_phone": "0471-1234567",
    "intended_use": "用于本公司复合材料产线",
    "accept_terms": "1",
}


def _application(w: World) -> Any:
    from revive.licensing import applications

    d = make_declaration(_entered(w))
    return applications.apply(d.id, APPLY_FORM, actor=w.ent_user)


def _applied(w: World, d: OpenLicenceDeclaration) -> Expect:
    from revive.licensing.models import LicenceApplication

    a = db.session.scalar(sa.select(LicenceApplication))
    return Expect(
        "licence_application",
        a.id,
        "apply",
        w.ent_user,
        w.uni.id,
        lambda x: x["declaration_id"] == d.id and x["fee_summary"] == "一次性付费 50 万元",
    )


@case("licensing.apply", "ent_user")
def _(w, client):
    d = make_declaration(_entered(w))
    _ok(client.post(f"/open-licences/{d.id}/apply", data=APPLY_FORM), 302)
    return _applied(w, d)


@case("api.apply_open_licence", "ent_user")
def _(w, client):
    d = make_declaration(_entered(w))
    body = {**APPLY_FORM, "accept_terms": True}
    _ok(client.post(f"/api/v1/open-licences/{d.id}/applications", json=body), 201)
    return _applied(w, d)


def _application_moved(w: World, a: Any, action: str, actor: User, to: str) -> Expect:
    return Expect(
        "licence_application",
        a.id,
        action,
        actor,
        w.uni.id,
        lambda x: x["from_status"] == "submitted" and x["to_status"] == to,
    )


def _holder_case(endpoint: str, path: str, action: str, to: str, api: bool) -> None:
    @case(endpoint, "uni_admin")
    def _(w, client):
        a = _application(w)
        url = f"{'/api/v1/licence-applications' if api else '/open-licences/applications'}/{a.id}"
        if api:
            _ok(client.post(f"{url}/{path}", json={"note": "欢迎来访"}), 200)
        else:
            _ok(client.post(f"{url}/{path}", data={"note": "欢迎来访"}), 302)
        return _application_moved(w, a, action, w.uni_admin, to)


_holder_case("licensing.confirm_application", "confirm", "confirm", "confirmed", api=False)
_holder_case("licensing.sign_application", "sign", "sign", "signed", api=False)
_holder_case("api.confirm_licence_application", "confirm", "confirm", "confirmed", api=True)
_holder_case("api.sign_licence_application", "sign", "sign", "signed", api=True)


@case("licensing.withdraw_application", "ent_user")
def _(w, client):
    a = _application(w)
    _ok(client.post(f"/open-licences/applications/{a.id}/withdraw", data={"reason": "预算"}), 302)
    return _application_moved(w, a, "withdraw", w.ent_user, "withdrawn")


@case("api.withdraw_licence_application", "ent_user")
def _(w, client):
    a = _application(w)
    _ok(client.post(f"/api/v1/licence-applications/{a.id}/withdraw", json={}), 200)
    return _application_moved(w, a, "withdraw", w.ent_user, "withdrawn")


# ---------------------------------------------------------------------------- standing alerts


@case("alerts.unsubscribe", "ent_user")
def _(w, client):
    from revive.alerts import services as alerts
    from revive.alerts.models import AlertKind

    token = alerts.unsubscribe_token(w.ent_user.id, AlertKind.MATCHES)
    _ok(client.post(f"/alerts/unsubscribe/{token}"), 200)
    return Expect(
        "user",
        w.ent_user.id,
        "alerts_unsubscribe",
        w.ent_user,
        w.ent.id,
        lambda d: d == {"kind": "matches", "via": "unsubscribe_link"},
    )


@case("alerts.set_preference", "officer")
def _(w, client):
    _ok(client.post("/alerts/preferences", data={"kind": "queue", "subscribed": "0"}), 302)
    return Expect(
        "user",
        w.officer.id,
        "alerts_unsubscribe",
        w.officer,
        None,
        lambda d: d == {"kind": "queue", "via": "account_page"},
    )


# ---------------------------------------------------------------------------- checks


def _check(expect: Expect) -> AuditEvent:
    db.session.expire_all()
    found = events(entity=expect.entity, entity_id=expect.entity_id, action=expect.action)
    assert found, f"no {expect.entity} #{expect.entity_id} {expect.action} event"
    event = found[-1]
    assert event.actor_id == expect.actor.id
    assert event.organization_id == expect.organization_id
    assert expect.data(event.data), event.data
    assert CJK.search(ENTITY_LABELS[event.entity])
    label = action_label(event.entity, event.action)
    assert CJK.search(label), f"no Chinese label for {event.entity}.{event.action}"
    # Every key and value it recorded reads in Chinese too (tests/audit/test_audit_labels.py).
    assert not audit_labels.missing(event.entity, event.action, event.data), event.data
    return event


def test_every_writing_route_is_audited_or_exempt(app):
    writing = {
        r.endpoint for r in app.url_map.iter_rules() if r.methods and r.methods & WRITE_METHODS
    }
    unlisted = writing - set(ROUTE_CASES) - set(EXEMPT)
    assert not unlisted, (
        f"state-changing routes without an audit case or an exemption: {sorted(unlisted)}; "
        "record an audit event in the service and add a case to ROUTE_CASES"
    )
    assert not set(ROUTE_CASES) & set(EXEMPT)
    gone = (set(ROUTE_CASES) | set(EXEMPT)) - writing
    assert not gone, f"listed routes that no longer exist or no longer write: {sorted(gone)}"


@pytest.mark.parametrize("endpoint", sorted(ROUTE_CASES))
def test_route_leaves_an_audit_event(w, client, auth, endpoint):
    login, call = ROUTE_CASES[endpoint]
    auth.login(getattr(w, login))
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    expect = call(w, client)
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) > before
    event = _check(expect)
    # The page shows it, with the Chinese labels, to the staff who read everything.
    auth.logout()
    auth.login(make_user(Role.REGULATOR))
    page = client.get(f"/audit/?entity={event.entity}&entity_id={event.entity_id}")
    text = page.get_data(as_text=True)
    assert f"{ENTITY_LABELS[event.entity]} #{event.entity_id}" in text
    assert action_label(event.entity, event.action) in text


# ---------------------------------------------------------------------------- service cases


def test_demand_import_commit_audits_created_and_updated_demands(w, client, auth, enqueued):
    from revive.demands.importers import create_demand_import
    from tests.demands.helpers import HEADER as DEMAND_HEADER
    from tests.demands.helpers import row as demand_row

    auth.login(w.officer)
    for description in ("盐碱地亩产低，想找耐盐碱品种", "盐碱地亩产低，想找耐盐碱水稻品种"):
        job = create_demand_import(
            _file(csv_bytes([demand_row(description=description)], DEMAND_HEADER), "需求.csv"),
            actor=w.officer,
            enqueue=False,
        )
        import_services.validate_job(job.id)
        _ok(client.post(f"/imports/{job.id}/commit", data={"mode": "valid_only"}), 302)
        import_services.commit_job(job.id)
    demand = db.session.scalar(sa.select(Demand))
    created, updated = events(entity="demand", entity_id=demand.id)
    for event, action in ((created, "import_create"), (updated, "import_update")):
        assert event.action == action and event.actor_id == w.officer.id
        assert event.organization_id == demand.enterprise_id and event.data["import_job_id"]
        assert CJK.search(action_label("demand", action))
    assert "title" in created.data["fields"] and updated.data["fields"] == ["description"]


def test_institution_import_commit_audits_created_and_updated_organizations(w, tmp_path):
    from revive.onboarding.importers import create_institution_import
    from tests.onboarding.helpers import institutions_csv
    from tests.onboarding.helpers import row as institution_row

    admin = make_user(Role.PLATFORM_ADMIN)
    for region in ("呼和浩特市", "包头市"):
        path = tmp_path / f"{region}.csv"
        path.write_bytes(institutions_csv([institution_row(1, region=region)]))
        job = create_institution_import(path, actor=admin, enqueue=False)
        import_services.validate_job(job.id)
        import_services.request_commit(job.id, actor=admin, enqueue=False)
        import_services.commit_job(job.id)
    org = db.session.scalar(sa.select(Organization).where(Organization.name == "北疆第1大学"))
    created, updated = events(entity="organization", entity_id=org.id)
    for event, action in ((created, "import_create"), (updated, "import_update")):
        assert event.action == action and event.actor_id == admin.id
        assert event.organization_id == org.id and event.data["import_job_id"]
        assert CJK.search(action_label("organization", action))
    # Regions are stored as the province's 盟市 (revive.accounts.regions), however typed.
    assert updated.data["changes"] == {"region": ["内蒙古自治区呼和浩特市", "内蒙古自治区包头市"]}


def test_signing_sets_the_patents_implementation_status_in_the_audit_log(w):
    deal = sign(_deal(w), actor=w.officer, kind="equity")
    expect = Expect(
        "patent",
        deal.patent_id,
        "implementation",
        w.officer,
        w.uni.id,
        lambda d: (
            d["changes"] == {"implementation_status": [None, "equity"]}
            and d["deal_id"] == deal.id
            and d["contract_id"] == deal.contract.id
        ),
    )
    _check(expect)
