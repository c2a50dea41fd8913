"""Signing a contract sets the patent's 实施状态 (转让 → 已转让, 许可/开放许可 → 已许可,
作价入股 → 作价入股), never moving it back, with a field-history revision and an audit event;
correcting the contract's kind corrects the status it set."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.deals import services
from revive.deals.models import ContractKind
from revive.deals.services import implementation_after
from revive.errors import ValidationFailed
from revive.extensions import db
from revive.inventory.models import ImplementationStatus as I
from revive.inventory.models import Patent, PatentRevision
from tests.audit.helpers import events
from tests.deals.helpers import contract_data, make_deal, sign
from tests.factories import make_user

K = ContractKind


@pytest.mark.parametrize(
    ("current", "kind", "expected"),
    [
        (None, K.ASSIGNMENT, I.TRANSFERRED),
        (I.NOT_IMPLEMENTED, K.LICENSE, I.LICENSED),
        (I.SELF, K.OPEN_LICENSE, I.LICENSED),
        (I.LICENSED, K.EQUITY, I.EQUITY),
        (I.LICENSED, K.ASSIGNMENT, I.TRANSFERRED),
        (I.LICENSED, K.LICENSE, None),  # already so
        (I.TRANSFERRED, K.LICENSE, None),  # never back
        (I.EQUITY, K.OPEN_LICENSE, None),
        (I.INDUSTRIALIZED, K.ASSIGNMENT, None),
    ],
)
def test_implementation_after_a_contract(current, kind, expected):
    assert implementation_after(current, kind) == expected


def _patent(deal) -> Patent:
    db.session.expire_all()
    return db.session.get(Patent, deal.patent_id)


def _revisions(patent_id: int) -> list[PatentRevision]:
    return list(
        db.session.scalars(
            sa.select(PatentRevision)
            .where(PatentRevision.patent_id == patent_id)
            .order_by(PatentRevision.id)
        )
    )


def _audits(patent_id: int) -> list[AuditEvent]:
    return events(entity="patent", entity_id=patent_id, action="implementation")


def test_signing_a_licence_marks_the_patent_licensed_with_history_and_audit(app):
    officer = make_user(Role.OFFICER)
    deal = sign(make_deal(officer=officer), actor=officer, kind="license")
    patent = _patent(deal)
    assert patent.implementation_status == I.LICENSED
    (rev,) = _revisions(patent.id)
    assert rev.source == "contract" and rev.actor_id == officer.id
    assert rev.changes == {"implementation_status": [None, "licensed"]}
    (event,) = _audits(patent.id)
    assert event.actor_id == officer.id and event.organization_id == patent.institution_id
    assert event.data["changes"] == rev.changes
    assert (
        event.data["contract_id"] == deal.contract.id and event.data["contract_kind"] == "license"
    )


def test_an_industrialised_patent_stays_so_and_nothing_is_recorded(app):
    officer = make_user(Role.OFFICER)
    deal = make_deal(officer=officer)
    _patent(deal).implementation_status = I.INDUSTRIALIZED
    db.session.commit()
    sign(deal, actor=officer, kind="assignment")
    assert _patent(deal).implementation_status == I.INDUSTRIALIZED
    assert _revisions(deal.patent_id) == [] and _audits(deal.patent_id) == []


def _correct(deal, data, officer):
    """A correction of the signed deal's contract, made from its current version."""
    version = db.session.get(type(deal), deal.id).version
    return services.record_contract(deal.id, data, officer, expected_version=version)


def test_correcting_the_kind_corrects_the_status_it_set(app):
    officer = make_user(Role.OFFICER)
    deal = sign(make_deal(officer=officer), actor=officer, kind="license")
    _correct(deal, contract_data(kind="assignment"), officer)
    assert _patent(deal).implementation_status == I.TRANSFERRED
    assert [e.data["changes"] for e in _audits(deal.patent_id)] == [
        {"implementation_status": [None, "licensed"]},
        {"implementation_status": ["licensed", "transferred"]},
    ]
    # The amount alone changes nothing on the patent.
    _correct(deal, contract_data(kind="assignment", amount_wan="1"), officer)
    assert len(_audits(deal.patent_id)) == 2


def test_a_correction_leaves_a_status_someone_set_since(app):
    officer = make_user(Role.OFFICER)
    deal = sign(make_deal(officer=officer), actor=officer, kind="license")
    _patent(deal).implementation_status = I.INDUSTRIALIZED  # edited on the patent meanwhile
    db.session.commit()
    _correct(deal, contract_data(kind="equity"), officer)
    assert _patent(deal).implementation_status == I.INDUSTRIALIZED
    assert len(_audits(deal.patent_id)) == 1


def test_a_refused_signature_changes_nothing_on_the_patent(app):
    officer = make_user(Role.OFFICER)
    deal = make_deal(officer=officer)
    with pytest.raises(ValidationFailed, match="合同"):
        sign(deal, actor=officer, kind="license", parties="")
    assert _patent(deal).implementation_status is None
    assert _audits(deal.patent_id) == []
