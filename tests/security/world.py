"""One world for the global authorization table: two universities, two enterprises, the seven
roles on the 甲 side, and one "own" and one "other" object of every kind a route can address.

"own" is always an object the 甲-side user of a scoped role is tied to (甲大学's patent in the
college admin's college naming the inventor, 甲企业's demand, a deal 甲大学 × 甲企业, …);
"other" belongs to 乙大学 / 乙企业 and involves nobody on the 甲 side.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, g

from revive.accounts import confirm, recovery, sessions, tokens
from revive.accounts import services as account_services
from revive.accounts.models import College, Organization, Role, TokenScope, User, UserSession
from revive.alerts import services as alert_services
from revive.alerts.models import AlertKind
from revive.common.spreadsheets import write_xlsx
from revive.db import utcnow
from revive.demands.models import DemandStatus
from revive.exports import services as export_services
from revive.exports.models import ExportJob, ExportStatus
from revive.extensions import db
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.models import EntryStatus
from revive.licensing.models import LicenceApplication
from revive.matching.models import IndexBuild, MatchRun, RunScope, RunStatus
from revive.notifications.models import Notification
from revive.pools.models import Pool, PoolPatent, Roadshow, RoadshowPatent
from tests.deals.helpers import make_world
from tests.evaluations.helpers import make_invite
from tests.factories import make_college, make_patent, make_user
from tests.licensing.helpers import make_declaration
from tests.matching.helpers import entered, make_demand
from tests.review.helpers import make_match


@dataclass
class World:
    users: dict[Role, User]
    uni_a: Organization
    uni_b: Organization
    college_a: College
    # key → (own id, other id); per-role own objects live in ``own_by_role``.
    ids: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    own_by_role: dict[str, dict[Role, Any]] = field(default_factory=dict)
    titles_other: list[str] = field(default_factory=list)  # never shown to scoped roles
    user_ids: dict[Role, int] = field(default_factory=dict)

    def obj(self, key: str, role: Role | None, own: bool) -> Any:
        if own and key in self.own_by_role and role is not None:
            return self.own_by_role[key][role]
        pair = self.ids[key]
        return pair[0] if own else pair[1]


def sign_in(client, user_id: int | None) -> None:
    """Log ``client`` in without the login form (None: stay anonymous): a new server-side
    session (a write: open it before watching for writes) named by the client's cookie.
    Tests share one app context, so Flask-Login's per-request user cache in ``g`` is dropped
    as well."""
    if user_id is not None:
        token = sessions.start_session(db.session.get(User, user_id), ip=None, user_agent=None)
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user_id)
            sess["_fresh"] = True
            sess[sessions.SESSION_KEY] = token
    g.pop("_login_user", None)


def _job(institution: Organization, college: College | None, user: User) -> ImportJob:
    upload = Path(current_app.config["UPLOAD_FOLDER"]) / f"security-{institution.id}.csv"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_text("申请号,专利名称\n2019100000001,一种测试方法\n", encoding="utf-8")
    job = ImportJob(
        kind="patents",
        status=ImportStatus.VALIDATED,
        institution_id=institution.id,
        college_id=college.id if college else None,
        created_by_id=user.id,
        filename="patents.csv",
        stored_path=str(upload),
        file_format="csv",
        total_rows=1,
        processed_rows=1,
        preview_counts={"new": 1},
    )
    db.session.add(job)
    db.session.commit()
    return job


def _export(user: User) -> ExportJob:
    """A finished background export of ``user``'s (the audit log for an enterprise user, the
    inventory for everyone else), its file on disk."""
    kind = "audit" if user.role == Role.ENTERPRISE else "patents"
    path = export_services.export_dir() / f"security-{user.id}.xlsx"
    write_xlsx(path, ["编号"], [[user.id]])
    job = ExportJob(
        kind=kind,
        status=ExportStatus.SUCCEEDED,
        created_by_id=user.id,
        scope=export_services.scope_of(user),
        params={},
        params_key=export_services.params_key(kind, "xlsx", {}),
        file_format="xlsx",
        filename=f"导出-{user.id}.xlsx",
        ascii_filename=f"export-{user.id}.xlsx",
        total_rows=1,
        processed_rows=1,
        stored_path=str(path),
        file_size=path.stat().st_size,
        finished_at=utcnow(),
    )
    db.session.add(job)
    db.session.commit()
    return job


def _application(declaration: Any, user: User) -> Any:
    """An application to implement ``declaration`` by ``user``'s enterprise (no notices)."""
    from revive.licensing import applications

    row = LicenceApplication(
        declaration_id=declaration.id,
        patent_id=declaration.patent_id,
        enterprise_id=user.organization_id,
        applicant_id=user.id,
        applicant_name=user.organization.name,
        contact_name=user.name,
        contact_phone="0471-1234567",
        intended_use="安全测试世界的实施计划",
        terms_accepted=True,
        terms=applications.terms_snapshot(declaration),
    )
    db.session.add(row)
    db.session.commit()
    return row


def build_world() -> World:
    dw = make_world()  # 甲/乙 universities and enterprises, the seven roles on the 甲 side
    uni_a, uni_b, college_a, users = dw.uni_a, dw.uni_b, dw.college_a, dw.users
    college_b = make_college(uni_b, "乙材料学院")
    inventor = users[Role.INVENTOR]
    admin_b = make_user(Role.UNIVERSITY_ADMIN, organization=uni_b)
    ent_user_b = make_user(Role.ENTERPRISE, organization=dw.ent_b)
    member_a = make_user(Role.INVENTOR, organization=uni_a, is_active_flag=False)
    member_b = make_user(Role.INVENTOR, organization=uni_b, is_active_flag=False)
    w = World(users, uni_a, uni_b, college_a)

    pa = entered(uni_a, college=college_a, inventors=[inventor], title="甲校已入库专利")
    pb = entered(uni_b, college=college_b, title="乙校已入库专利")
    draft_a = make_patent(uni_a, college=college_a, inventors=[inventor], title="甲校草稿专利")
    draft_b = make_patent(uni_b, college=college_b, title="乙校草稿专利")
    pending_a = make_patent(
        uni_a, college=college_a, inventors=[inventor], status=EntryStatus.PENDING_COLLEGE
    )
    pending_b = make_patent(uni_b, college=college_b, status=EntryStatus.PENDING_COLLEGE)
    da = make_demand(dw.ent_a, title="甲企业的技术需求")
    dmb = make_demand(dw.ent_b, title="乙企业的技术需求")
    closed = {"status": DemandStatus.CLOSED, "closed_at": utcnow(), "close_reason": "安全测试"}
    cda = make_demand(dw.ent_a, title="甲企业已关闭的需求", **closed)
    cdb = make_demand(dw.ent_b, title="乙企业已关闭的需求", **closed)
    ma = make_match(da, pa)
    mb = make_match(dmb, pb)
    deal_a = dw.own_deal()
    deal_b = dw.other_deal(patent=pb, title="乙方成交需求")
    make_invite(pa, dw.ent_a)
    decl_a, decl_b = make_declaration(pa), make_declaration(pb)
    app_a = _application(decl_a, users[Role.ENTERPRISE])
    app_b = _application(decl_b, ent_user_b)
    run_a = MatchRun(scope=RunScope.DEMAND, demand_id=da.id, status=RunStatus.SUCCEEDED)
    run_b = MatchRun(scope=RunScope.DEMAND, demand_id=dmb.id, status=RunStatus.SUCCEEDED)
    build = IndexBuild(status=RunStatus.FAILED, error="安全测试")
    db.session.add_all([run_a, run_b, build])
    db.session.commit()
    pool = Pool(name="安全测试产业池", description="复合材料", key_terms="材料")
    db.session.add(pool)
    db.session.flush()
    member = PoolPatent(pool_id=pool.id, patent_id=pa.id, score=0.2, rank=1)
    db.session.add(member)
    roadshow = Roadshow(
        title="安全测试路演",
        held_on=pa.created_at.date(),
        place="呼和浩特",
        pool_id=pool.id,
        items=[RoadshowPatent(patent_id=pa.id, position=0)],
        enterprises=[dw.ent_a],
    )
    db.session.add(roadshow)
    db.session.commit()
    job_a = _job(uni_a, college_a, users[Role.UNIVERSITY_ADMIN])
    job_b = _job(uni_b, college_b, admin_b)
    inv_a, token_a = account_services.invite_user(
        actor=users[Role.UNIVERSITY_ADMIN],
        organization_id=uni_a.id,
        email="invitee-a@example.edu.cn",
        name="甲受邀人",
        role=Role.INVENTOR,
    )
    inv_b, token_b = account_services.invite_user(
        actor=admin_b,
        organization_id=uni_b.id,
        email="invitee-b@example.edu.cn",
        name="乙受邀人",
        role=Role.INVENTOR,
    )
    notes = {}
    for role, user in users.items():
        n = Notification(user_id=user.id, kind="test", title=f"给{role.value}的通知", link="/")
        db.session.add(n)
        notes[role] = n
    note_b = Notification(user_id=admin_b.id, kind="test", title="给乙校管理员的通知", link="/")
    db.session.add(note_b)
    db.session.commit()
    # A password-reset link on each side, issued by each university's admin.
    _, reset_a = recovery.issue_admin_reset(
        make_user(Role.INVENTOR, organization=uni_a).id, actor=users[Role.UNIVERSITY_ADMIN]
    )
    _, reset_b = recovery.issue_admin_reset(
        make_user(Role.INVENTOR, organization=uni_b).id, actor=admin_b
    )
    # An e-mail confirmation link of a new registration on each side.
    confirms = []
    for org in (dw.ent_a, dw.ent_b):
        row = confirm.start(make_user(Role.ENTERPRISE, organization=org))
        db.session.commit()
        confirms.append(recovery.token_of(row))
    # A signed-in browser of each 甲-side user (theirs to end), and one of 乙大学's admin.
    for user in (*users.values(), admin_b):
        sessions.start_session(user, ip="10.0.0.1", user_agent="另一台电脑")
    user_sessions = {
        s.user_id: s.id for s in db.session.scalars(sa.select(UserSession).order_by(UserSession.id))
    }
    # An API token of each 甲-side user (theirs to revoke), and one of 乙大学's admin.
    api_tokens = {
        user.id: tokens.create_token(actor=user, name="世界令牌", scope=TokenScope.READ)[0].id
        for user in (*users.values(), admin_b)
    }

    # A finished export of each 甲-side user (theirs alone to open), and one of 乙大学's admin.
    exports = {role: _export(user).id for role, user in users.items()}
    export_b = _export(admin_b)
    w.ids = {
        "export": (exports[Role.PLATFORM_ADMIN], export_b.id),
        "patent": (pa.id, pb.id),
        "draft": (draft_a.id, draft_b.id),
        "pending": (pending_a.id, pending_b.id),
        "demand": (da.id, dmb.id),
        "closed_demand": (cda.id, cdb.id),
        "match": (ma.id, mb.id),
        "deal": (deal_a.id, deal_b.id),
        "declaration": (decl_a.id, decl_b.id),
        "application": (app_a.id, app_b.id),
        "run": (run_a.id, run_b.id),
        "build": (build.id, build.id),
        "job": (job_a.id, job_b.id),
        "invitation": (inv_a.id, inv_b.id),
        "token": (token_a, token_b),
        "college": (college_a.id, college_b.id),
        "member": (member_a.id, member_b.id),
        "notification": (notes[Role.PLATFORM_ADMIN].id, note_b.id),
        "user_session": (user_sessions[users[Role.PLATFORM_ADMIN].id], user_sessions[admin_b.id]),
        "reset_token": (reset_a, reset_b),
        "confirm_token": (confirms[0], confirms[1]),
        "api_token": (api_tokens[users[Role.PLATFORM_ADMIN].id], api_tokens[admin_b.id]),
        "pool": (pool.id, pool.id),
        "roadshow": (roadshow.id, roadshow.id),
        "pool_member": (member.id, member.id),
        "alert_token": (
            alert_services.unsubscribe_token(users[Role.ENTERPRISE].id, AlertKind.MATCHES),
            alert_services.unsubscribe_token(ent_user_b.id, AlertKind.MATCHES),
        ),
    }
    w.user_ids = {role: user.id for role, user in users.items()}
    w.own_by_role = {
        "notification": {r: n.id for r, n in notes.items()},
        "user_session": {r: user_sessions[u.id] for r, u in users.items()},
        "api_token": {r: api_tokens[u.id] for r, u in users.items()},
        "export": exports,
    }
    w.titles_other = ["乙校已入库专利", "乙企业的技术需求"]
    return w


def empty_tables() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    db.session.expire_all()


def _is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


class Snapshot:
    """Every row of every table, restorable with the same ids (the world's ids stay valid).

    Ids were drawn from the sequences when the world was built, so re-inserting them never
    collides with later ids. On PostgreSQL only the tables that changed, and the tables that
    reference them, are reset; on SQLite (cheap) all of them."""

    def __init__(self) -> None:
        db.session.commit()
        self.rows = {
            t.name: [dict(r._mapping) for r in db.session.execute(sa.select(t))]
            for t in db.metadata.sorted_tables
        }
        self.sums = table_sums()
        self.children: dict[str, set[str]] = {t.name: set() for t in db.metadata.sorted_tables}
        for table in db.metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table.name != table.name:
                    self.children[fk.column.table.name].add(table.name)

    def _tables_to_reset(self) -> set[str]:
        if self.sums is None:
            return set(self.rows)
        now = table_sums()
        todo = [name for name, value in now.items() if value != self.sums[name]]
        reset: set[str] = set()
        while todo:
            name = todo.pop()
            if name not in reset:
                reset.add(name)
                todo.extend(self.children[name])
        return reset

    def restore(self) -> None:
        db.session.rollback()
        reset = self._tables_to_reset()
        tables = [t for t in db.metadata.sorted_tables if t.name in reset]
        for table in reversed(tables):
            db.session.execute(table.delete())
        for table in tables:
            if self.rows[table.name]:
                db.session.execute(table.insert(), self.rows[table.name])
        db.session.commit()
        db.session.expire_all()


def table_sums() -> dict[str, tuple] | None:
    """PostgreSQL: per table, (row count, sum of row hashes), in one query; None elsewhere."""
    if db.engine.dialect.name != "postgresql":
        return None
    sql = " UNION ALL ".join(
        f"SELECT '{t.name}', count(*), coalesce(sum(hashtext(x::text)::bigint), 0) "
        f'FROM "{t.name}" x'
        for t in db.metadata.sorted_tables
    )
    return {name: (n, h) for name, n, h in db.session.execute(sa.text(sql))}


def checksum() -> str:
    """A digest of every row of every table: equal before and after = nothing was written."""
    db.session.expire_all()
    sums = table_sums()
    if sums is not None:
        return repr(sorted(sums.items()))
    digest = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(sa.select(table).order_by(*order)).all()
        digest.update(f"{table.name}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


class WriteWatch:
    """Did anything write to the database? SQLite: the connection's total_changes counter
    (exact and free); other databases: a checksum of every row."""

    def __init__(self) -> None:
        self.sqlite = _is_sqlite()
        self.mark = self._value()

    def _value(self) -> object:
        if self.sqlite:
            return db.session.connection().connection.dbapi_connection.total_changes
        return checksum()

    def changed(self) -> bool:
        value = self._value()
        changed, self.mark = value != self.mark, value
        return changed
