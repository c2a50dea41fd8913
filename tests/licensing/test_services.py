"""declare / withdraw: rows, audit events, every violation at once, locking, permissions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.errors import ConflictError, InvalidTransition, NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory.models import EntryStatus, PatentType
from revive.licensing import services
from revive.licensing.models import DeclarationStatus, FeeMode, OpenLicenceDeclaration
from tests.factories import make_patent, make_user
from tests.licensing.helpers import make_declaration, valid_body


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OpenLicenceDeclaration.id)))


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "open_licence", AuditEvent.action == action
            )
        )
    )


def test_declare_writes_the_declaration_and_an_audit_event(world):
    admin = world.users[Role.UNIVERSITY_ADMIN]
    body = valid_body(
        fee_mode="entry_plus_royalty",
        lump_sum_wan=None,
        entry_fee_wan="10",
        royalty_profit_pct="15.5",
        terms="按季度结算",
    )
    d = services.declare(world.own.id, body, actor=admin)
    db.session.expire_all()
    d = db.session.get(OpenLicenceDeclaration, d.id)
    assert d.patent_id == world.own.id
    assert d.status == DeclarationStatus.ACTIVE
    assert d.fee_mode == FeeMode.ENTRY_PLUS_ROYALTY
    assert (d.entry_fee_wan, d.royalty_profit_pct) == (Decimal("10"), Decimal("15.5"))
    assert d.lump_sum_wan is None and d.royalty_sales_pct is None
    assert (d.start_date, d.end_date) == (date(2025, 1, 1), date(2027, 12, 31))
    assert d.declared_by_id == admin.id and d.terms == "按季度结算"
    [event] = _events("declare")
    assert event.entity_id == d.id and event.actor_id == admin.id
    assert event.organization_id == world.uni_a.id
    assert event.data["patent_id"] == world.own.id
    assert event.data["entry_fee_wan"] == "10"


def test_declare_reports_every_violation_and_writes_nothing(world):
    patent = make_patent(
        world.uni_a,
        status=EntryStatus.ENTERED,
        patent_type=PatentType.UTILITY,
        patentees="甲大学；乙公司",
    )
    body = valid_body(
        lump_sum_wan="2000.01",
        royalty_sales_pct="3",
        end_date="2025-06-30",
        exclusive_licence_in_force="1",
        in_fee_grace_period="1",
        pledged="1",
    )
    with pytest.raises(services.DeclarationRejected) as exc:
        services.declare(patent.id, body, actor=world.users[Role.UNIVERSITY_ADMIN])
    keys = [k for k, _ in exc.value.errors]
    assert sorted(keys) == sorted(
        [
            "lump_sum_wan",
            "royalty_sales_pct",
            "end_date",
            "co_owners_consent",
            "exclusive_licence_in_force",
            "in_fee_grace_period",
            "pledgee_consent",
            "evaluation_report_no",
        ]
    )
    assert exc.value.status_code == 422
    assert set(exc.value.details) == set(keys)
    assert _count() == 0
    assert _events("declare") == []


@pytest.mark.parametrize("status", [EntryStatus.DRAFT, EntryStatus.PENDING_SCHOOL])
def test_only_entered_patents_can_be_declared(world, status):
    patent = make_patent(world.uni_a, status=status)
    with pytest.raises(services.DeclarationRejected) as exc:
        services.declare(patent.id, valid_body(), actor=world.users[Role.UNIVERSITY_ADMIN])
    assert [k for k, _ in exc.value.errors] == ["patent"]
    assert _count() == 0


def test_one_active_declaration_per_patent_until_withdrawn(world):
    admin = world.users[Role.UNIVERSITY_ADMIN]
    first = services.declare(world.own.id, valid_body(), actor=admin)
    with pytest.raises(services.DeclarationRejected) as exc:
        services.declare(world.own.id, valid_body(lump_sum_wan="60"), actor=admin)
    assert "已有生效的开放许可声明" in exc.value.details["patent"]
    services.withdraw(first.id, actor=admin)
    second = services.declare(world.own.id, valid_body(lump_sum_wan="60"), actor=admin)
    assert second.id != first.id and second.lump_sum_wan == Decimal("60")


def test_withdraw_sets_status_time_and_audit(world):
    admin = world.users[Role.COLLEGE_ADMIN]
    d = make_declaration(world.own)
    services.withdraw(d.id, actor=admin, expected_version=d.version, reason="已签独占许可")
    db.session.expire_all()
    d = db.session.get(OpenLicenceDeclaration, d.id)
    assert d.status == DeclarationStatus.WITHDRAWN
    assert d.withdrawn_at is not None
    [event] = _events("withdraw")
    assert event.entity_id == d.id and event.actor_id == admin.id
    assert event.data == {"patent_id": world.own.id, "reason": "已签独占许可"}


def test_withdraw_twice_is_an_invalid_transition(world):
    d = make_declaration(world.own, status=DeclarationStatus.WITHDRAWN)
    with pytest.raises(InvalidTransition):
        services.withdraw(d.id, actor=world.users[Role.UNIVERSITY_ADMIN])


def test_withdraw_with_a_stale_version_changes_nothing(world):
    d = make_declaration(world.own)
    with pytest.raises(ConflictError):
        services.withdraw(d.id, actor=world.users[Role.UNIVERSITY_ADMIN], expected_version=99)
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, d.id).status == DeclarationStatus.ACTIVE
    assert _events("withdraw") == []


def test_withdraw_racing_another_writer_is_a_conflict(world):
    """The row changed between our read and our write: the version column catches it."""
    d = make_declaration(world.own)
    admin = world.users[Role.UNIVERSITY_ADMIN]
    loaded = services.get_declaration_for(admin, d.id)
    assert loaded.version == 1
    db.session.execute(
        sa.update(OpenLicenceDeclaration.__table__)
        .where(OpenLicenceDeclaration.id == d.id)
        .values(version=2)
    )
    with pytest.raises(ConflictError):
        services.withdraw(d.id, actor=admin)
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, d.id).status == DeclarationStatus.ACTIVE


@pytest.mark.parametrize("role", [Role.INVENTOR, Role.OFFICER, Role.REGULATOR])
def test_who_sees_the_patent_but_is_no_admin_may_not_declare(world, role):
    with pytest.raises(PermissionDenied):
        services.declare(world.own.id, valid_body(), actor=world.users[role])
    assert _count() == 0


def test_another_universitys_admin_cannot_see_the_patent(world):
    with pytest.raises(NotFoundError):
        services.declare(world.other.id, valid_body(), actor=world.users[Role.UNIVERSITY_ADMIN])


def test_college_admin_acts_only_on_their_colleges_patents(world):
    admin = world.users[Role.COLLEGE_ADMIN]
    sibling = make_patent(world.uni_a, college=world.college_a2, status=EntryStatus.ENTERED)
    with pytest.raises(NotFoundError):
        services.declare(sibling.id, valid_body(), actor=admin)
    d = make_declaration(sibling)
    with pytest.raises(PermissionDenied):  # the listed declaration is public, the act is not
        services.withdraw(d.id, actor=admin)
    assert services.declare(world.own.id, valid_body(), actor=admin).patent_id == world.own.id


def test_platform_admin_declares_for_any_university(world):
    d = services.declare(world.other.id, valid_body(), actor=world.users[Role.PLATFORM_ADMIN])
    assert d.patent_id == world.other.id
    services.withdraw(d.id, actor=make_user(Role.PLATFORM_ADMIN))
    assert d.status == DeclarationStatus.WITHDRAWN
