"""revive seed-demo: idempotent, every role present, the workflow fully represented."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts import uscc
from revive.accounts.models import Organization, OrgKind, Role, User
from revive.audit.models import AuditEvent
from revive.demo.cli import demo_logins_command, seed_demo_command
from revive.demo.seed import DEMO_PASSWORD, demo_logins
from revive.extensions import db
from revive.inventory.appno import normalize_application_no
from revive.inventory.models import EntryStatus, Patent, StatusChange, patent_inventors


def test_seeding_again_adds_nothing(seeded):
    first, second = seeded
    assert first.created["patents"] >= 300
    assert first.created["deals"] >= 20
    assert set(second.created.values()) == {0}, second.created
    assert second.totals == first.totals
    assert second.patents_by_status == first.patents_by_status
    assert second.deals_by_stage == first.deals_by_stage


def test_every_role_has_a_user_who_can_log_in(seeded, ctx):
    _, summary = seeded
    assert set(summary.users_by_role) == set(Role)
    client = ctx.test_client()
    emails = [db.session.scalar(sa.select(User.email).where(User.role == r).limit(1)) for r in Role]
    for email in emails:
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post("/logout")


def test_patents_cover_every_workflow_state_with_an_audit_trail(ctx):
    counts = dict(
        db.session.execute(sa.select(Patent.status, sa.func.count()).group_by(Patent.status)).all()
    )
    assert set(counts) == set(EntryStatus)
    last_change = dict(
        db.session.execute(
            sa.select(StatusChange.patent_id, StatusChange.to_status).order_by(
                StatusChange.patent_id, StatusChange.id
            )
        ).all()
    )  # last row per patent wins
    for patent in db.session.scalars(sa.select(Patent)):
        if patent.status == EntryStatus.DRAFT:
            assert patent.id not in last_change
        else:
            assert last_change[patent.id] == patent.status


def test_entered_patents_are_self_assessed(ctx):
    entered = db.session.scalars(
        sa.select(Patent).where(Patent.status == EntryStatus.ENTERED)
    ).all()
    assert entered
    for patent in entered:
        assert patent.trl is not None
        assert patent.value_grade is not None
        assert patent.transfer_willingness is not None
        assert patent.entered_at is not None


def test_records_are_valid_and_distinct(ctx):
    patents = db.session.scalars(sa.select(Patent)).all()
    assert all(normalize_application_no(p.application_no) == p.application_no for p in patents)
    assert len({p.title for p in patents}) == len(patents)
    assert all(80 <= len(p.abstract) <= 200 for p in patents)


def test_inventor_accounts_are_named_on_their_patents(ctx):
    inventors = db.session.scalars(sa.select(User).where(User.role == Role.INVENTOR)).all()
    for user in inventors:
        linked = db.session.scalars(
            sa.select(Patent).where(Patent.inventor_users.contains(user))
        ).all()
        assert linked, user.email
        assert all(user.name in p.inventors.split("；") for p in linked)


def test_every_inventor_link_is_an_audited_decision(ctx):
    # No link from a name: each (patent, account) pair has a link_inventor event, decided by
    # the filing inventor themself or by the college admin of the patent's college, dated when
    # the patent was filed (before its review history).
    links = db.session.execute(
        sa.select(patent_inventors.c.patent_id, patent_inventors.c.user_id)
    ).all()
    assert links
    audited = {
        (e.entity_id, e.data["inventor_id"]): e
        for e in db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "patent", AuditEvent.action == "link_inventor"
            )
        )
    }
    assert set(links) == set(audited)
    for (patent_id, user_id), event in audited.items():
        patent = db.session.get(Patent, patent_id)
        decider = db.session.get(User, event.actor_id)
        if event.data["via"] == "filed":
            assert decider.id == user_id == patent.created_by_id
        else:
            assert event.data["via"] == "patent"
            assert decider.role == Role.COLLEGE_ADMIN and decider.college_id == patent.college_id
        assert event.created_at <= patent.status_changed_at


def test_enterprises_have_valid_credit_codes(ctx):
    codes = db.session.scalars(
        sa.select(Organization.credit_code).where(Organization.kind == OrgKind.ENTERPRISE)
    ).all()
    assert len(codes) >= 2
    assert all(uscc.is_valid(code) for code in codes)


def test_cli_reports_the_seed_and_the_logins_with_what_they_show(ctx):
    runner = ctx.test_cli_runner()
    seeded_again = runner.invoke(seed_demo_command)
    assert seeded_again.exit_code == 0, seeded_again.output
    assert "本次新增：单位 0，" in seeded_again.output
    assert "对接阶段：已推荐" in seeded_again.output
    logins = runner.invoke(demo_logins_command)
    assert logins.exit_code == 0
    for login in demo_logins():
        assert login.email in logins.output
        assert f"看点：{login.shows}" in logins.output
    roles = {login.label for login in demo_logins()}
    assert roles == {role.label for role in Role}
