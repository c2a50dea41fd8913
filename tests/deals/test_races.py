"""Contracts recorded at the same moment on two deals of one patent.

A concurrency test signed two exclusive licences of one patent for the same years, each
request having checked the patent's other contracts before either wrote. Signing now holds
the patent's row (as an open-licence declaration does), so the second signer waits, then
sees the first contract and is refused. The requests run in threads with a pause between a
signer's check and its insert (see tests/demands/test_races.py for the set-up)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.clock import local_today
from revive.deals import services
from revive.deals.models import Contract, Deal, Stage
from revive.extensions import db
from tests.deals.helpers import advance, contract_data, make_deal
from tests.demands.test_races import PAUSE_S, _race, race_app  # noqa: F401  (fixture)
from tests.factories import make_user
from tests.matching.helpers import make_enterprise

LATER = (local_today() + timedelta(days=730)).isoformat()


def _two_deals_of_one_patent(app: Any) -> dict[str, Any]:
    """Two deals in 洽谈中 on one patent, with two enterprises, pushed by one officer."""
    with app.app_context():
        officer = make_user(Role.OFFICER)
        first = make_deal(officer=officer, enterprise=make_enterprise("甲科技有限公司"))
        second = make_deal(
            patent=first.patent, officer=officer, enterprise=make_enterprise("乙科技有限公司")
        )
        for deal in (first, second):
            advance(deal, Stage.CONTACTED, Stage.NEGOTIATING, actor=officer)
        return {"deals": [first.id, second.id], "officer": officer.id, "patent": first.patent_id}


def _signing(app: Any, ids: dict[str, Any], **contract: Any):
    """A request recording the contract on a deal: "signed", or what it was told."""

    def sign(deal_id: int):
        def call() -> str:
            with app.app_context():
                actor = db.session.get(User, ids["officer"])
                try:
                    services.record_contract(deal_id, contract_data(**contract), actor)
                except Exception as exc:  # noqa: BLE001 - what each got is compared
                    db.session.rollback()
                    return getattr(exc, "message", repr(exc))
                return "signed"

        return call

    return [sign(deal_id) for deal_id in ids["deals"]]


def test_two_exclusive_licences_signed_at_once_leave_one(race_app, enqueued, monkeypatch):  # noqa: F811
    ids = _two_deals_of_one_patent(race_app)
    checked = services._licence_overlapping

    def checked_then_paused(*args: Any, **kw: Any) -> Any:
        found = checked(*args, **kw)
        time.sleep(PAUSE_S)  # the check is made; the contract is written later
        return found

    monkeypatch.setattr(services, "_licence_overlapping", checked_then_paused)
    results = _race(_signing(race_app, ids, license_scope="exclusive", license_until=LATER))
    with race_app.app_context():
        contracts = db.session.scalars(
            sa.select(Contract).join(Deal).where(Deal.patent_id == ids["patent"])
        ).all()
    assert sorted(r == "signed" for r in results) == [False, True], results
    refused = next(r for r in results if r != "signed")
    assert "独占许可" in refused, results
    assert len(contracts) == 1, results


def test_an_answer_sent_twice_at_once_is_recorded_once_and_says_it_was_yours(
    race_app,  # noqa: F811
    enqueued,
    monkeypatch,
):
    """A concurrency test double-submitted a university's answer: the second read the generic
    「已被他人修改」. The deal is held while it is checked, so the second waits, then is told
    the change was the user's own."""
    from revive.deals.models import DealEvent
    from revive.inventory.models import Patent

    with race_app.app_context():
        officer = make_user(Role.OFFICER)
        deal = make_deal(officer=officer)
        patent = db.session.get(Patent, deal.patent_id)
        school = make_user(Role.UNIVERSITY_ADMIN, organization=patent.institution)
        ids = {"deal": deal.id, "school": school.id, "version": deal.version}

    monkeypatch.setattr(
        services.permissions, "check_respond", _paused(services.permissions.check_respond)
    )

    def answer():
        with race_app.app_context():
            actor = db.session.get(User, ids["school"])
            try:
                services.respond(ids["deal"], "interested", actor, expected_version=ids["version"])
            except Exception as exc:  # noqa: BLE001 - the refusal is what is compared
                db.session.rollback()
                return getattr(exc, "message", repr(exc))
            return "answered"

    results = _race([answer, answer])
    assert sorted(r == "answered" for r in results) == [False, True], results
    refused = next(r for r in results if r != "answered")
    assert "已由您于" in refused, results
    with race_app.app_context():
        events = db.session.scalars(
            sa.select(DealEvent).where(
                DealEvent.deal_id == ids["deal"], DealEvent.kind == "response"
            )
        ).all()
    assert len(events) == 1


def _paused(check):
    def paused(*args: Any, **kw: Any) -> Any:
        time.sleep(PAUSE_S)  # between reading the deal and writing the answer
        return check(*args, **kw)

    return paused


def test_two_assignments_of_one_patent_at_once_sign_one_and_end_the_other(
    race_app,  # noqa: F811
    enqueued,
    monkeypatch,
):
    """Two 转让 contracts on two deals of one patent at once: one signs, the other deal ends as
    the right left the university (neither waits on a deal the other holds: a deadlock)."""
    ids = _two_deals_of_one_patent(race_app)
    # both deals read before either contract is checked
    monkeypatch.setattr(services, "_clean_contract", _paused(services._clean_contract))
    results = _race(_signing(race_app, ids, kind="转让"))
    assert sorted(r == "signed" for r in results) == [False, True], results
    refused = next(r for r in results if r != "signed")
    assert "未成交" in refused or "专利权" in refused, results  # told why, not a deadlock
    with race_app.app_context():
        stages = sorted(db.session.get(Deal, d).stage.value for d in ids["deals"])
    assert stages == ["failed", "signed"], results
