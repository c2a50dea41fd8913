"""The same 申请号 filed by two requests at once (an integrator's parallel sync, a client
retrying after a timeout): one record, and the other request is told which record holds it,
not a 500. Each request pauses between its duplicate check and its insert."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.errors import ValidationFailed
from revive.extensions import db
from revive.inventory import services
from revive.inventory.models import Patent
from tests.demands.test_races import PAUSE_S, _race, race_app  # noqa: F401  (fixture)
from tests.factories import make_org, make_user


def _pause_before_inserting_a_patent(session: Any, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, Patent) for obj in session.new):
        time.sleep(PAUSE_S)


def test_one_application_number_filed_twice_at_once_is_one_patent(race_app, enqueued):  # noqa: F811
    with race_app.app_context():
        university = make_org("并发大学")
        admin = make_user(Role.UNIVERSITY_ADMIN, organization=university)
        db.session.commit()
        ids = {"admin": admin.id, "university": university.id}

    def create(title: str):
        def call() -> Any:
            with race_app.app_context():
                actor = db.session.get(User, ids["admin"])
                data = {"application_no": "202110000005.4", "title": title}
                try:
                    return services.create_patent(
                        data, institution_id=ids["university"], actor=actor
                    ).id
                except ValidationFailed as exc:
                    return exc.details

        return call

    sa.event.listen(db.session, "before_flush", _pause_before_inserting_a_patent)
    try:
        results = _race([create("甲"), create("乙")])
    finally:
        sa.event.remove(db.session, "before_flush", _pause_before_inserting_a_patent)
    with race_app.app_context():
        stored = db.session.scalars(
            sa.select(Patent.id).where(Patent.institution_id == ids["university"])
        ).all()
    assert len(stored) == 1, results
    created = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, dict)]
    assert created == stored and len(refused) == 1, results
    assert refused[0]["patent_id"] == stored[0] and "已登记" in refused[0]["application_no"]


def test_edits_of_different_fields_without_a_version_all_apply(race_app, enqueued):  # noqa: F811
    """An integrator's parallel PATCHes without ``version`` got 409s (the docs promise a 409
    only when ``version`` is sent); each now waits for the other and applies."""
    with race_app.app_context():
        university = make_org("并发大学")
        admin = make_user(Role.UNIVERSITY_ADMIN, organization=university)
        patent = services.create_patent(
            {"application_no": "202110000005.4", "title": "一种材料"},
            institution_id=university.id,
            actor=admin,
        )
        ids = {"admin": admin.id, "patent": patent.id}

    def edit(field: str, value: str):
        def call() -> Any:
            with race_app.app_context():
                actor = db.session.get(User, ids["admin"])
                services.update_patent(ids["patent"], {field: value}, actor=actor)
                return "saved"

        return call

    sa.event.listen(db.session, "before_flush", _pause_before_updating_a_patent)
    try:
        results = _race([edit("advantages", "成本低"), edit("prospects", "市场大")])
    finally:
        sa.event.remove(db.session, "before_flush", _pause_before_updating_a_patent)
    assert results == ["saved", "saved"], results
    with race_app.app_context():
        stored = db.session.get(Patent, ids["patent"])
        assert (stored.advantages, stored.prospects) == ("成本低", "市场大")


def _pause_before_updating_a_patent(session: Any, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, Patent) for obj in session.dirty):
        time.sleep(PAUSE_S)
