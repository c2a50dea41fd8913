"""Every rule of app.url_map (HTML and /api/v1, except static) × 7 roles + anonymous × own/other.

One table, ``TABLE``: per (endpoint, method), which roles may use it, and for routes that address
an object (a patent, demand, deal, match, run, import job, notification, declaration, invitation,
college, member), which roles may also use it on the *other* object — one that belongs to
乙大学 / 乙企业 and involves no 甲-side user (see tests/security/world.py).

Checks, per cell:
- anonymous → login redirect (HTML) or 401 JSON (API), and nothing written;
- refused → 403/404 (405 accepted), nothing written (every row of every table compared), and the
  other side's titles never in the answer;
- allowed GET → 2xx/3xx (never a redirect to the login page), a non-empty body when 200;
- allowed write → not 401/403/404 and no 5xx (the domain tests check the effect itself).

``test_every_route_has_a_row`` fails when a route appears without a row (or a row is stale), so a
new endpoint cannot ship without an authorization rule here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import g, url_for

from revive.accounts.models import Role
from revive.extensions import db
from tests.factories import PASSWORD
from tests.security.world import (
    Snapshot,
    World,
    WriteWatch,
    build_world,
    empty_tables,
    sign_in,
)

PA, UA, CA, INV = Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR
ENT, OFF, REG = Role.ENTERPRISE, Role.OFFICER, Role.REGULATOR
ALL = frozenset(Role)
NONE: frozenset[Role] = frozenset()
UNSCOPED = frozenset({PA, OFF, REG})  # read everything
STAFF = frozenset({PA, OFF})
UNI = frozenset({UA, CA, INV})
INVENTORY = UNSCOPED | UNI
FILERS = UNI | {PA}
REVIEWERS = frozenset({UA, CA})
STATS = UNSCOPED | REVIEWERS  # dashboards, calibration, promotion, rejections
REGIONAL = UNSCOPED
MANAGERS = frozenset({PA, UA})  # members, invitations, colleges
LINKERS = frozenset({PA, UA, CA})  # inventor links
POSTERS = STAFF | {ENT}
DECLARERS = frozenset({PA, UA, CA})
IMPORTERS = frozenset({PA, UA, CA})
AUDIT = frozenset({PA, UA, ENT, OFF, REG})
ROLES: list[Role | None] = [*Role, None]
WRITE = {"POST", "PUT", "PATCH", "DELETE"}

Body = Callable[[World, Role | None, bool], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    endpoint: str
    method: str
    roles: frozenset[Role] | None  # None: public (anonymous too)
    obj: str | None = None  # World key of the object in the URL (or in the body/query)
    param: str | None = None  # the URL argument (or query key) carrying the object's id
    other: frozenset[Role] | None = None  # roles allowed on the other object (default: unscoped)
    args: tuple[tuple[str, Any], ...] = ()  # fixed URL arguments
    body: Body | None = None
    batch: bool = False  # the other object is refused inside a 2xx answer (batch endpoints)
    # (title, roles): a list answer allowed to one of ``roles`` must not contain ``title``
    hides: tuple[tuple[str, frozenset[Role]], ...] = ()

    @property
    def api(self) -> bool:
        return self.endpoint.startswith("api.")

    @property
    def id(self) -> str:
        return f"{self.endpoint}-{self.method}"

    def allowed(self, role: Role | None, own: bool) -> bool:
        if self.roles is None:
            return True
        if role is None or role not in self.roles:
            return False
        if own or self.obj is None:
            return True
        other = self.other if self.other is not None else self.roles & UNSCOPED
        return role in other


def entry(endpoint: str, method: str, roles: frozenset[Role] | None, **kw: Any) -> Row:
    if "args" in kw:
        kw["args"] = tuple(kw["args"].items())
    return Row(endpoint, method, roles, **kw)


def _obj_body(key: str, field: str, as_list: bool = False) -> Body:
    def body(w: World, role: Role | None, own: bool) -> dict[str, Any]:
        value = w.obj(key, role, own)
        return {field: [value] if as_list else value}

    return body


def _enterprise_user(w: World, _role: Role | None, _own: bool) -> dict[str, Any]:
    return {
        "organization_id": str(w.users[ENT].organization_id),
        "name": "安全测试企业用户",
        "email": "new-enterprise-user@example.com.cn",
    }


def _org_body(w: World, _role: Role | None, own: bool) -> dict[str, Any]:
    return {
        "organization_id": str((w.uni_a if own else w.uni_b).id),
        "name": "安全测试学院",
        "email": "new-member@example.edu.cn",
        "role": "inventor",
        "college_id": "0",
    }


def _colleges_body(w: World, _role: Role | None, own: bool) -> dict[str, Any]:
    return {"organization_id": str((w.uni_a if own else w.uni_b).id), "names": "安全测试学院"}


def _token_body(w: World, _role: Role | None, _own: bool) -> dict[str, Any]:
    return {
        "name": "安全测试令牌",
        "scope": "read",
        "expires_on": "2099-01-01",
        "password": PASSWORD,
    }


def _decide(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"decision": "rejected", "reason_code": "other", "comment": "安全测试"}


def _bulk_html(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"match_ids": [str(w.obj("match", role, own))], **_decide(w, role, own)}


def _bulk_api(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"match_ids": [w.obj("match", role, own)], **_decide(w, role, own)}


def _declare(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {
        "patent_id": w.obj("draft", role, own),
        "fee_mode": "lump_sum",
        "lump_sum_wan": "50",
        "start_date": "2025-01-01",
        "end_date": "2027-12-31",
    }


def _stage(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"action": "contact", "version": 1}


def _respond(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"decision": "interested", "comment": "安全测试", "version": 1}


def _patch_demand(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"title": "被改写的需求标题"}


def _patent_batch(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"ids": [w.obj("pending", role, own)], "action": "college_approve"}


def _patent_batch_html(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"ids": [str(w.obj("pending", role, own))], "action": "college_approve"}


def _assign_college(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    # Own: 甲's draft to 甲's college (already there: nothing to move); other: 乙's draft is
    # reported as not found inside the 200 result page.
    return {
        "scope": "ids",
        "ids": [str(w.obj("draft", role, own))],
        "target_college": str(w.college_a.id),
    }


def _link_inventor(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    # Own: the inventor already linked to 甲's patent (a no-op link); other: 乙's patent takes
    # no 甲 account (a message, nothing written).
    return {"op": "link", "user_ids": [str(w.user_ids[INV])]}


def _unlink_patent(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"op": "unlink", "patent_ids": [str(w.obj("patent", role, own))]}


def _edit_patent(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"title": "被改写的专利标题"}


def _intent_html(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    # Always the enterprise's own demand: an intent is for any entered patent (own or other).
    return {"demand": str(w.ids["demand"][0]), "message": "安全测试：想了解许可条件"}


def _intent_api(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"demand_id": w.ids["demand"][0], "message": "安全测试：想了解许可条件"}


def _add_candidate_html(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"patent_id": str(w.ids["patent"][0]), "note": "安全测试"}


def _add_candidate_api(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"patent_id": w.ids["patent"][0], "note": "安全测试"}


def _pool_body(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"name": "安全测试产业池二", "description": "复合材料", "key_terms": "材料"}


def _pool_decide(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {"kind": "patent", "decision": "exclude", "member_ids": [str(w.ids["pool_member"][0])]}


def _roadshow_body(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {
        "tier": "A",
        "title": "安全测试路演二",
        "held_on": "2026-12-20",
        "place": "包头",
        "patent_ids": [str(w.obj("patent", role, own))],
    }


def _apply_html(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {
        "contact_name": "安全测试",
        "contact_phone": "0471-1234567",
        "intended_use": "安全测试",
        "accept_terms": "1",
    }


def _apply_api(w: World, role: Role | None, own: bool) -> dict[str, Any]:
    return {**_apply_html(w, role, own), "accept_terms": True}


ENTS = frozenset({ENT})
APP_READERS = frozenset({PA, OFF, REG, UA, CA, ENT})
# The other side's application names 乙校's patent; 甲's enterprise and admins never list it.
OTHER_APPLICATION = (("乙校已入库专利", frozenset({ENT, UA, CA})),)
CSV = {"fmt": "csv"}
# Titles of the other side's objects (tests/security/world.py) and who must never see them.
OTHER_PATENTS = (("乙校已入库专利", UNI), ("乙校草稿专利", UNI))
OTHER_DEAL = (("乙方成交需求", UNI | {ENT}),)
OTHER_DEMAND = (("乙企业的技术需求", frozenset({ENT})),)
# The demands export: an enterprise's file holds its own demands only, closed ones included.
OTHER_DEMANDS_ANY_STATE = (*OTHER_DEMAND, ("乙企业已关闭的需求", frozenset({ENT})))
OTHER_NOTE = (("给乙校管理员的通知", ALL),)
# The pool shows entered patents of every university, never a draft.
DRAFTS = (("乙校草稿专利", ALL), ("甲校草稿专利", ALL))

TABLE: list[Row] = [
    # ----- accounts
    entry("accounts.login", "GET", None),
    entry("accounts.login", "POST", None),
    entry("accounts.register", "GET", None),
    entry("accounts.register", "POST", None),
    entry("accounts.accept_invite", "GET", None, obj="token", param="token"),
    entry("accounts.accept_invite", "POST", None, obj="token", param="token"),
    entry("accounts.logout", "POST", ALL),
    entry("accounts.change_password", "GET", ALL),
    entry("accounts.change_password", "POST", ALL),
    entry("accounts.forgot_password", "GET", None),
    entry("accounts.forgot_password", "POST", None),
    entry("accounts.reset_password", "GET", None, obj="reset_token", param="token"),
    entry("accounts.reset_password", "POST", None, obj="reset_token", param="token"),
    entry("accounts.confirm_email", "GET", None, obj="confirm_token", param="token"),
    entry("accounts.confirm_email", "POST", None, obj="confirm_token", param="token"),
    entry("accounts.resend_confirmation", "POST", None),
    entry("accounts.admin_reset_password", "POST", MANAGERS, obj="member", other={PA}),
    entry("accounts.account", "GET", ALL),
    entry("accounts.revoke_session", "POST", ALL, obj="user_session", other=NONE),
    entry("accounts.revoke_all_sessions", "POST", ALL),
    entry("accounts.members", "GET", MANAGERS),
    entry("accounts.invite", "POST", MANAGERS, obj="org", body=_org_body, other={PA}),
    entry("accounts.add_college", "POST", MANAGERS, obj="org", body=_org_body, other={PA}),
    entry("accounts.rename_college", "POST", MANAGERS, obj="college", other={PA}, body=_org_body),
    entry("accounts.revoke_invitation", "POST", MANAGERS, obj="invitation", other={PA}),
    entry("accounts.deactivate", "POST", MANAGERS, obj="member", other={PA}),
    entry("accounts.reactivate", "POST", MANAGERS, obj="member", other={PA}),
    entry("accounts.create_staff", "POST", frozenset({PA})),
    entry("accounts.create_enterprise_user", "POST", frozenset({PA}), body=_enterprise_user),
    # personal API tokens: everyone makes their own; the owner or the owner's managers revoke
    entry("accounts.create_api_token", "POST", ALL, body=_token_body),
    entry("accounts.revoke_api_token", "POST", ALL, obj="api_token", other={PA}),
    entry("accounts.member_tokens", "GET", MANAGERS),
    # ----- onboarding: institutions (platform admin), colleges in bulk (members' managers)
    entry("onboarding.institutions", "GET", frozenset({PA})),
    entry("onboarding.add_institution", "POST", frozenset({PA})),
    entry("onboarding.import_upload", "GET", frozenset({PA})),
    entry("onboarding.import_upload_post", "POST", frozenset({PA})),
    entry("onboarding.import_template", "GET", frozenset({PA})),
    entry("onboarding.add_colleges", "POST", MANAGERS, obj="org", body=_colleges_body, other={PA}),
    # ----- the API's own description: public, no data
    entry("api.openapi_json", "GET", None),
    entry("api_docs", "GET", None),
    entry("_favicon", "GET", None),  # a redirect to the static icon
    entry("health.healthz", "GET", None),  # load balancers' health check: no data
    # ----- dashboard
    entry("dashboard.home", "GET", ALL),
    entry("dashboard.monthly", "GET", STATS),
    entry("dashboard.breakdown", "GET", STATS),
    entry("dashboard.contracts", "GET", STATS),
    entry("dashboard.overdue", "GET", STATS),
    entry("dashboard.unmet", "GET", REGIONAL),
    entry("dashboard.workload", "GET", REGIONAL),
    entry("dashboard.export_table", "GET", REGIONAL, args={"table": "workload", "fmt": "csv"}),
    entry("api.dashboard_summary", "GET", ALL - {ENT}),  # enterprises: dashboard_enterprise
    entry("api.dashboard_breakdown", "GET", STATS),
    entry("api.dashboard_contracts", "GET", STATS),
    entry("api.dashboard_funnel", "GET", STATS),
    entry("api.dashboard_overdue", "GET", STATS),
    entry("api.dashboard_unmet", "GET", REGIONAL),
    entry("api.dashboard_workload", "GET", REGIONAL),
    entry("api.dashboard_enterprise", "GET", frozenset({ENT})),
    entry("dashboard.regions", "GET", REGIONAL),
    # ----- industry pools and roadshows: staff define and curate, the regulator reads;
    # universities and enterprises have no pool pages (their patents / demands show elsewhere)
    entry("pools.index", "GET", UNSCOPED),
    entry("pools.create", "GET", STAFF),
    entry("pools.create", "POST", STAFF, body=_pool_body),
    entry("pools.edit", "GET", STAFF, obj="pool"),
    entry("pools.edit", "POST", STAFF, obj="pool", body=_pool_body),
    entry("pools.detail", "GET", UNSCOPED, obj="pool"),
    entry("pools.rank", "POST", STAFF, obj="pool"),
    entry("pools.decide", "POST", STAFF, obj="pool", body=_pool_decide),
    entry("pools.export_pool", "GET", UNSCOPED, obj="pool", args=CSV),
    entry("roadshows.roadshow_list", "GET", UNSCOPED),
    entry("roadshows.roadshow_new", "GET", STAFF),
    entry("roadshows.roadshow_new", "POST", STAFF, body=_roadshow_body),
    entry("roadshows.roadshow_detail", "GET", UNSCOPED, obj="roadshow"),
    entry("roadshows.roadshow_print", "GET", UNSCOPED, obj="roadshow"),
    entry("roadshows.roadshow_xlsx", "GET", UNSCOPED, obj="roadshow"),
    entry("roadshows.roadshow_invite", "POST", STAFF, obj="roadshow"),
    entry("api.list_pools", "GET", UNSCOPED),
    entry("api.get_pool", "GET", UNSCOPED, obj="pool"),
    entry("api.pool_members", "GET", UNSCOPED, obj="pool"),
    # ----- inventory
    entry("inventory.list_patents", "GET", INVENTORY, hides=OTHER_PATENTS),
    entry("inventory.export_patents", "GET", INVENTORY, args=CSV, hides=OTHER_PATENTS),
    entry("inventory.annual_fees", "GET", INVENTORY),
    entry(
        "inventory.set_fee_reduction",
        "POST",
        frozenset({UA}),
        body=lambda w, role, own: {"reduction_pct": "70"},
    ),
    entry(
        "inventory.assign_college",
        "POST",
        frozenset({UA}),
        obj="draft",
        body=_assign_college,
        batch=True,
    ),
    entry(
        "inventory.submit_batch",
        "POST",
        frozenset({UA, CA}),
        obj="draft",
        body=lambda w, role, own: {"scope": "ids", "ids": [str(w.obj("draft", role, own))]},
        batch=True,
    ),
    entry("inventory.detail", "GET", INVENTORY, obj="patent"),
    entry("inventory.create", "GET", FILERS),
    entry("inventory.create", "POST", FILERS),
    entry("inventory.edit", "GET", FILERS, obj="draft", other={PA}),
    entry("inventory.edit", "POST", FILERS, obj="draft", other={PA}, body=_edit_patent),
    entry("inventory.act", "POST", FILERS, obj="draft", other={PA}, args={"action": "submit"}),
    entry("inventory.delete", "POST", FILERS, obj="draft", other={PA}),
    # inventor links: an admin's decision (platform, university, or the patent's college admin)
    entry(
        "inventory.patent_inventors", "POST", LINKERS, obj="patent", other={PA}, body=_link_inventor
    ),
    entry("inventory.inventor_patents", "GET", LINKERS, obj="member", other={PA}),
    entry(
        "inventory.inventor_patents", "POST", LINKERS, obj="member", other={PA}, body=_unlink_patent
    ),
    entry("inventory.invitation_patents", "GET", MANAGERS, obj="invitation", other={PA}),
    entry("inventory.invitation_patents", "POST", MANAGERS, obj="invitation", other={PA}),
    entry("inventory.review_queue", "GET", REVIEWERS),
    entry("inventory.batch", "POST", REVIEWERS, obj="pending", body=_patent_batch_html, batch=True),
    entry("api.list_patents", "GET", INVENTORY, hides=OTHER_PATENTS),
    entry("api.create_patent", "POST", FILERS),
    entry("api.get_patent", "GET", INVENTORY, obj="patent"),
    entry("api.update_patent", "PATCH", FILERS, obj="draft", other={PA}, body=_edit_patent),
    entry("api.patent_action", "POST", FILERS, obj="draft", other={PA}, args={"action": "submit"}),
    entry("api.delete_patent", "DELETE", FILERS, obj="draft", other={PA}),
    entry("api.batch_actions", "POST", REVIEWERS, obj="pending", body=_patent_batch, batch=True),
    # ----- imports (a patent import job: the officer imports demands only; a college admin sees
    # its college's jobs but only the uploader or a university admin may commit or cancel one)
    entry("imports.upload", "GET", IMPORTERS),
    entry("imports.upload_post", "POST", IMPORTERS),
    entry("imports.template", "GET", IMPORTERS),
    entry("imports.jobs", "GET", IMPORTERS | {OFF}),
    entry("imports.job", "GET", IMPORTERS, obj="job", other={PA}),
    entry("imports.commit", "POST", MANAGERS, obj="job", other={PA}),
    entry("imports.cancel", "POST", MANAGERS, obj="job", other={PA}),
    entry("imports.errors_xlsx", "GET", IMPORTERS, obj="job", other={PA}),
    entry("imports.annotated_xlsx", "GET", IMPORTERS, obj="job", other={PA}),
    entry("api.import_jobs", "GET", IMPORTERS | {OFF}),
    entry("api.import_job", "GET", IMPORTERS, obj="job", other={PA}),
    entry("api.import_job_errors", "GET", IMPORTERS, obj="job", other={PA}),
    # the API's upload (no kind: patents) and commit, as the pages'
    entry("api.create_import_job", "POST", IMPORTERS),
    entry("api.commit_import_job", "POST", MANAGERS, obj="job", other={PA}),
    # ----- demands (university users see every open public demand)
    entry("demands.list_demands", "GET", ALL, hides=OTHER_DEMAND),
    entry(
        "demands.export_demands", "GET", REGIONAL | {ENT}, args=CSV, hides=OTHER_DEMANDS_ANY_STATE
    ),
    entry("demands.detail", "GET", ALL, obj="demand", other=ALL - {ENT}),
    entry("demands.post", "GET", frozenset({ENT})),
    entry("demands.post", "POST", frozenset({ENT})),
    entry("demands.edit", "GET", POSTERS, obj="demand", other=STAFF),
    entry("demands.edit", "POST", POSTERS, obj="demand", other=STAFF),
    entry("demands.close", "GET", POSTERS, obj="demand", other=STAFF),
    entry("demands.close", "POST", POSTERS, obj="demand", other=STAFF),
    entry("demands.import_upload", "GET", STAFF),
    entry("demands.import_upload_post", "POST", STAFF),
    entry("demands.import_template", "GET", STAFF),
    entry("api.list_demands", "GET", ALL, hides=OTHER_DEMAND),
    entry("api.post_demand", "POST", POSTERS),
    entry("api.get_demand", "GET", ALL, obj="demand", other=ALL - {ENT}),
    entry("api.update_demand", "PATCH", POSTERS, obj="demand", other=STAFF, body=_patch_demand),
    entry("api.close_demand", "POST", POSTERS, obj="demand", other=STAFF),
    entry("demands.reopen", "GET", POSTERS, obj="closed_demand", other=STAFF),
    entry("demands.reopen", "POST", POSTERS, obj="closed_demand", other=STAFF),
    entry("api.reopen_demand", "POST", POSTERS, obj="closed_demand", other=STAFF),
    # ----- matching and review
    entry("matching.engine", "GET", STAFF),
    entry("matching.rebuild", "POST", STAFF),
    entry("matching.build_page", "GET", STAFF, obj="build"),
    entry("matching.rematch_all", "POST", STAFF),
    entry("matching.refit_strength", "POST", frozenset({PA})),
    entry("matching.run_page", "GET", STAFF | {ENT}, obj="run", other=STAFF),
    entry("matching.demand_matches", "GET", STAFF | {ENT}, obj="demand", other=STAFF),
    entry("matching.rematch_demand", "POST", STAFF, obj="demand"),
    entry("matching.ask_detail", "POST", STAFF, obj="demand"),
    entry("matching.match_page", "GET", STAFF, obj="match"),
    entry("api.create_index_build", "POST", STAFF),
    entry("api.index_build", "GET", STAFF, obj="build"),
    entry("api.match_run", "GET", STAFF | {ENT}, obj="run", other=STAFF),
    entry("api.demand_matches", "GET", STAFF | {ENT}, obj="demand", other=STAFF),
    entry("api.create_match_run", "POST", STAFF, obj="demand"),
    entry("api.decide_match", "POST", STAFF, obj="match", body=_decide),
    entry("review.queue", "GET", STAFF),
    entry("review.decide", "POST", STAFF, obj="match", body=_decide),
    entry("review.decide_bulk", "POST", STAFF, obj="match", body=_bulk_html),
    entry("review.rejections", "GET", STATS),
    entry("review.export_rejections", "GET", STATS),
    entry("api.review_queue", "GET", STAFF),
    entry("api.review_decisions", "POST", STAFF, obj="match", body=_bulk_api),
    entry("api.review_rejections", "GET", STATS),
    # ----- deals
    entry("deals.board", "GET", ALL, hides=OTHER_DEAL),
    entry("deals.export_deals", "GET", ALL, args=CSV, hides=OTHER_DEAL),
    entry("deals.detail", "GET", ALL, obj="deal"),
    entry("deals.change_stage", "POST", STAFF | UNI | {ENT}, obj="deal", body=_stage),
    entry("deals.respond", "POST", UNI, obj="deal", body=_respond),
    entry("deals.record_contract", "POST", STAFF, obj="deal"),
    entry("deals.remind", "POST", STAFF, obj="deal"),
    entry("deals.extend_deadline", "POST", STAFF, obj="deal"),
    entry("api.list_deals", "GET", ALL, hides=OTHER_DEAL),
    entry("api.get_deal", "GET", ALL, obj="deal"),
    entry("api.change_deal_stage", "POST", STAFF | UNI | {ENT}, obj="deal", body=_stage),
    entry("api.respond_deal", "POST", UNI, obj="deal", body=_respond),
    entry("api.record_deal_contract", "POST", STAFF, obj="deal"),
    # ----- evaluations
    entry("evaluations.todo", "GET", frozenset({ENT})),
    entry("evaluations.evaluate", "GET", frozenset({ENT}), obj="patent", other=NONE),
    entry("evaluations.evaluate", "POST", frozenset({ENT}), obj="patent", other=NONE),
    entry("evaluations.invite", "POST", STAFF | {UA}, obj="patent", other=STAFF),
    entry("evaluations.calibration", "GET", STATS),
    entry("evaluations.calibration_xlsx", "GET", STATS),
    entry("evaluations.promotion", "GET", STATS),
    entry("evaluations.promotion_xlsx", "GET", STATS),
    entry("api.todo", "GET", frozenset({ENT})),
    entry("api.evaluate", "POST", frozenset({ENT}), obj="patent", other=NONE),
    entry("api.invite", "POST", STAFF | {UA}, obj="patent", other=STAFF),
    entry("api.patent_evaluations", "GET", INVENTORY | {ENT}, obj="patent"),
    entry("api.calibration", "GET", STATS),
    entry("api.promotion", "GET", STATS),
    # ----- licensing (the declaration list is public to every logged-in user)
    entry("licensing.list_declarations", "GET", ALL),
    entry("licensing.export_declarations", "GET", ALL),
    entry("licensing.detail", "GET", ALL, obj="declaration", other=ALL),
    entry("licensing.new", "GET", DECLARERS, obj="draft", param="patent_id", other={PA}),
    entry("licensing.new", "POST", DECLARERS, obj="draft", param="patent_id", other={PA}),
    entry("licensing.withdraw", "POST", DECLARERS, obj="declaration", other={PA}),
    entry("api.list_open_licences", "GET", ALL),
    entry("api.get_open_licence", "GET", ALL, obj="declaration", other=ALL),
    entry("api.declare_open_licence", "POST", DECLARERS, obj="draft", body=_declare, other={PA}),
    entry("api.withdraw_open_licence", "POST", DECLARERS, obj="declaration", other={PA}),
    # 开放许可实施申请: an enterprise applies to any listed declaration; own = 甲企业's application
    # to 甲大学's declaration, other = 乙企业's to 乙大学's (the holder's admins act on their own
    # patents'; staff and the regulator read all)
    entry("licensing.apply", "GET", ENTS, obj="declaration", other=ENTS),
    entry("licensing.apply", "POST", ENTS, obj="declaration", other=ENTS, body=_apply_html),
    entry("licensing.applications_list", "GET", APP_READERS, hides=OTHER_APPLICATION),
    entry("licensing.application", "GET", APP_READERS, obj="application"),
    entry("licensing.confirm_application", "POST", DECLARERS, obj="application", other={PA}),
    entry("licensing.sign_application", "POST", DECLARERS, obj="application", other={PA}),
    entry("licensing.withdraw_application", "POST", ENTS, obj="application", other=NONE),
    entry("api.apply_open_licence", "POST", ENTS, obj="declaration", other=ENTS, body=_apply_api),
    entry("api.list_licence_applications", "GET", APP_READERS, hides=OTHER_APPLICATION),
    entry("api.get_licence_application", "GET", APP_READERS, obj="application"),
    entry("api.confirm_licence_application", "POST", DECLARERS, obj="application", other={PA}),
    entry("api.sign_licence_application", "POST", DECLARERS, obj="application", other={PA}),
    entry("api.withdraw_licence_application", "POST", ENTS, obj="application", other=NONE),
    # ----- notifications (own = addressed to the user; other = to 乙大学's admin)
    entry("notifications.inbox", "GET", ALL, hides=OTHER_NOTE),
    entry("notifications.open_notification", "POST", ALL, obj="notification", other=NONE),
    entry("notifications.mark_read", "POST", ALL, obj="notification", other=NONE),
    entry("notifications.mark_all_read", "POST", ALL),
    entry("audit.log", "GET", AUDIT),
    entry("audit.export", "GET", AUDIT),
    entry("api.list_notifications", "GET", ALL, hides=OTHER_NOTE),
    entry("api.read_notification", "POST", ALL, obj="notification", other=NONE),
    entry("api.read_all_notifications", "POST", ALL),
    # ----- the pool (issue 14): every logged-in role reads entered patents' public fields
    # (anonymous visitors only when the platform admin turns it on: off here); intents are
    # the enterprise's, on any entered patent, for its own demand
    entry("pool.search", "GET", ALL, hides=DRAFTS),
    entry("pool.patent", "GET", ALL, obj="patent", other=ALL),
    entry(
        "pool.intent",
        "POST",
        frozenset({ENT}),
        obj="patent",
        other=frozenset({ENT}),
        body=_intent_html,
    ),
    entry("pool.intents", "GET", frozenset({ENT}), hides=OTHER_DEMAND),
    entry("pool.withdraw_intent", "POST", frozenset({ENT}), obj="match"),
    entry("api.withdraw_intent", "DELETE", frozenset({ENT}), obj="match", param="intent_id"),
    entry("demands.alerts", "POST", POSTERS, obj="demand", other=STAFF),
    entry("review.add_candidate", "GET", STAFF, obj="demand"),
    entry("review.add_candidate_post", "POST", STAFF, obj="demand", body=_add_candidate_html),
    entry("settings.edit", "GET", frozenset({PA})),
    entry("settings.save", "POST", frozenset({PA})),
    entry("api.search_pool", "GET", ALL, hides=DRAFTS),
    entry("api.get_pool_patent", "GET", ALL, obj="patent", other=ALL),
    entry(
        "api.create_intent",
        "POST",
        frozenset({ENT}),
        obj="patent",
        other=frozenset({ENT}),
        body=_intent_api,
    ),
    entry("api.list_intents", "GET", frozenset({ENT}), hides=OTHER_DEMAND),
    entry("api.demand_overview", "GET", frozenset({ENT}), obj="demand", other=NONE),
    entry(
        "api.set_demand_alerts",
        "POST",
        POSTERS,
        obj="demand",
        other=STAFF,
        body=lambda w, r, o: {"subscribed": False},
    ),
    entry("api.add_candidate", "POST", STAFF, obj="demand", body=_add_candidate_api),
    # ----- standing alerts: the e-mail's unsubscribe link needs no login (the signed token is
    # the credential: own = 甲企业's user's, other = 乙企业's); the switches are per user
    entry("alerts.unsubscribe", "GET", None, obj="alert_token", param="token"),
    entry("alerts.unsubscribe", "POST", None, obj="alert_token", param="token"),
    entry(
        "alerts.set_preference",
        "POST",
        frozenset({ENT, OFF}),
        body=lambda w, r, o: {"kind": "matches", "subscribed": "0"},
    ),
    # ----- background exports: each job is its requester's alone (administrators included)
    entry("exports.jobs", "GET", ALL),
    entry("exports.job", "GET", ALL, obj="export", other=NONE),
    entry("exports.progress", "GET", ALL, obj="export", other=NONE),
    entry("exports.download", "GET", ALL, obj="export", other=NONE),
    entry("api.get_settings", "GET", frozenset({PA})),
    entry(
        "api.update_settings", "PATCH", frozenset({PA}), body=lambda w, r, o: {"public_pool": False}
    ),
]

# The URL argument of each object kind when ``param`` is not given.
PARAMS = {
    "patent": "patent_id",
    "draft": "patent_id",
    "pending": None,  # only in bodies
    "demand": "demand_id",
    "closed_demand": "demand_id",
    "match": "match_id",
    "deal": "deal_id",
    "declaration": "declaration_id",
    "application": "application_id",
    "run": "run_id",
    "build": "build_id",
    "job": "job_id",
    "export": "job_id",
    "invitation": "invitation_id",
    "college": "college_id",
    "member": "user_id",
    "notification": "notification_id",
    "user_session": "session_id",
    "api_token": "token_id",
    "alert_token": "token",
    "org": None,
    "pool": "pool_id",
    "roadshow": "roadshow_id",
}

# Routes whose allowed answer signs the browser out (a redirect to the login page is right).
SIGN_OUT = frozenset({"accounts.logout", "accounts.revoke_all_sessions"})
# Public pages whose answer is to go and sign in (a confirmed address, a new link asked for).
TO_LOGIN = SIGN_OUT | {"accounts.confirm_email", "accounts.resend_confirmation"}


def _url(row: Row, w: World, role: Role | None, own: bool) -> str:
    values = dict(row.args)
    if row.obj is not None:
        param = row.param or PARAMS[row.obj]
        if param:
            values[param] = w.obj(row.obj, role, own)
    return url_for(row.endpoint, **values)


def _client(app, w: World, role: Role | None):
    """A client signed in as the role's 甲-side user (this writes a session row)."""
    client = app.test_client()
    sign_in(client, w.user_ids.get(role))
    return client


def _call(client, row: Row, w: World, role: Role | None, own: bool):
    body = row.body(w, role, own) if row.body else {}
    url = _url(row, w, role, own)
    if row.api:
        resp = client.open(url, method=row.method, json=body if row.method in WRITE else None)
    else:
        resp = client.open(url, method=row.method, data=body if row.method in WRITE else None)
    g.pop("_login_user", None)
    data = resp.get_data()
    resp.close()
    return resp, data


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _check(row: Row, w: World, role: Role | None, own: bool, resp, data: bytes, msg: str):
    status = resp.status_code
    if row.allowed(role, own):
        if row.method in WRITE:
            assert status not in (401, 403, 404) and status < 500, f"{msg}: {status} {data[:300]}"
        else:
            assert 200 <= status < 400, f"{msg}: {status} {data[:300]}"
            if status == 200:
                assert data, f"{msg}: empty 200"
                text = _text(data)
                if row.api:  # JSON escapes non-ASCII text
                    text = json.dumps(json.loads(data), ensure_ascii=False)
                for title, roles in row.hides:
                    assert role not in roles or title not in text, f"{msg}: lists {title}"
        if 300 <= status < 400 and row.endpoint not in TO_LOGIN:
            assert "/login" not in resp.headers.get("Location", ""), f"{msg}: sent to login"
        return
    if role is None:
        if row.api:
            assert status == 401, f"{msg}: {status}"
            assert resp.is_json and json.loads(data)["error"] == "unauthorized", msg
        else:
            assert status == 302, f"{msg}: {status}"
            assert "/login" in resp.headers["Location"], msg
        return
    if row.batch and not own and role in (row.roles or ()):
        assert status < 500, f"{msg}: {status}"
    else:
        assert status in (403, 404, 405), f"{msg}: refused with {status} {data[:300]}"
    text = _text(data)
    for title in w.titles_other:
        assert title not in text, f"{msg}: refusal shows {title}"


def _cells(row: Row) -> list[tuple[Role | None, bool]]:
    sides = (True, False) if row.obj is not None else (True,)
    cells = [(role, own) for role in ROLES for own in sides]
    # Refusals first: they must leave the world untouched, so one world serves all of them.
    return sorted(cells, key=lambda c: row.allowed(*c))


@pytest.fixture(scope="module")
def flask_app(_app):
    return _app


@pytest.fixture(scope="module")
def world(_app):
    """One world for the whole table, restored from a snapshot after any allowed write."""
    ctx = _app.app_context()
    ctx.push()
    try:
        empty_tables()
        w = build_world()
        yield w, Snapshot()
    finally:
        db.session.remove()
        empty_tables()
        db.session.remove()
        ctx.pop()


@pytest.mark.parametrize("row", TABLE, ids=[r.id for r in TABLE])
def test_authorization(flask_app, world, row: Row):
    w, snapshot = world
    dirty = False
    for role, own in _cells(row):
        if dirty:
            snapshot.restore()
            dirty = False
        msg = f"{row.id} as {role.value if role else 'anonymous'} on {'own' if own else 'other'}"
        client = _client(flask_app, w, role)
        watch = WriteWatch()  # after signing in: only the request's own writes count
        resp, data = _call(client, row, w, role, own)
        _check(row, w, role, own, resp, data, msg)
        if watch.changed():
            assert row.allowed(role, own), f"{msg}: refused, yet the database changed"
            dirty = True
    if dirty:
        snapshot.restore()


def test_every_route_has_a_row(flask_app):
    routes = {
        (rule.endpoint, method)
        for rule in flask_app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    rows = [(row.endpoint, row.method) for row in TABLE]
    assert len(rows) == len(set(rows)), "duplicate rows"
    missing = routes - set(rows)
    assert not missing, f"routes without an authorization row in TABLE: {sorted(missing)}"
    stale = set(rows) - routes
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


def test_table_covers_every_role():
    assert set(ROLES) == {*Role, None}
    assert len(Role) == 7
