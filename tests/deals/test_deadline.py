"""延长答复期限: staff give a university more time to answer (an officer trial could only
催办 while the deadline stayed). The new deadline counts from the later of the current one and
now; the university is told; the timeline and audit log keep the old and new deadlines; the
automatic overdue reminder goes out again once the new deadline passes unanswered."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.db import as_utc, utcnow
from revive.deals import services
from revive.deals.models import Deal
from revive.errors import InvalidTransition, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.notifications.models import Notification
from tests.audit.helpers import events
from tests.deals.helpers import make_overdue


def _notes(deal: Deal, kind: str) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.deal_id == deal.id, Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def test_an_overdue_deal_gets_days_from_today_and_the_university_is_told(world):
    deal = make_overdue(world.own_deal(), days=10)
    old = as_utc(deal.response_due_at)
    before = utcnow()
    services.extend_deadline(deal.id, world.officer, "14", "学校成果转化委员会每月开会审议")
    deal = db.session.get(Deal, deal.id)
    due = as_utc(deal.response_due_at)
    assert before + timedelta(days=14) <= due <= utcnow() + timedelta(days=14)
    (note,) = _notes(deal, "response_deadline")
    assert note.organization_id == world.uni_a.id
    assert "每月开会审议" in note.body and "延长至" in note.body
    assert deal.events[-1].kind == "deadline" and "每月开会审议" in deal.events[-1].comment
    (event,) = [
        e for e in events(entity="deal", entity_id=deal.id) if e.action == "extend_deadline"
    ]
    assert event.data["extension_days"] == 14
    assert event.data["previous_due"] == old.isoformat()


def test_a_deadline_not_yet_passed_is_moved_from_itself(world):
    deal = world.own_deal()
    old = as_utc(deal.response_due_at)
    assert old > utcnow()
    services.extend_deadline(deal.id, world.officer, 7, "企业补充材料中")
    assert as_utc(db.session.get(Deal, deal.id).response_due_at) == old + timedelta(days=7)


def test_the_overdue_reminder_goes_out_again_once_the_new_deadline_passes(world):
    deal = make_overdue(world.own_deal(), days=10)
    assert deal.id in services.notify_overdue()
    first = len(_notes(deal, "response_overdue"))  # the university and the officer
    services.extend_deadline(deal.id, world.officer, 3, "等待学院意见")
    assert deal.id not in services.notify_overdue()  # not overdue now
    # three days later: the first reminder was sent ten days ago, before the new deadline
    for note in _notes(deal, "response_overdue"):
        note.created_at = utcnow() - timedelta(days=3)
    db.session.get(Deal, deal.id).response_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    assert deal.id in services.notify_overdue()
    assert deal.id not in services.notify_overdue()  # once per deadline
    assert len(_notes(deal, "response_overdue")) == 2 * first


@pytest.mark.parametrize(
    ("days", "reason", "field"),
    [(0, "原因", "days"), (61, "原因", "days"), ("abc", "原因", "days"), (7, "  ", "reason")],
)
def test_days_and_reason_are_checked(world, days, reason, field):
    deal = world.own_deal()
    due = deal.response_due_at
    with pytest.raises(ValidationFailed) as caught:
        services.extend_deadline(deal.id, world.officer, days, reason)
    assert field in caught.value.details
    db.session.rollback()
    assert db.session.get(Deal, deal.id).response_due_at == due


def test_only_staff_extend_and_only_while_an_answer_is_awaited(world):
    deal = world.own_deal()
    for role in (Role.UNIVERSITY_ADMIN, Role.ENTERPRISE, Role.REGULATOR):
        with pytest.raises(PermissionDenied):
            services.extend_deadline(deal.id, world.users[role], 7, "原因")
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    with pytest.raises(InvalidTransition, match="已答复"):
        services.extend_deadline(deal.id, world.officer, 7, "原因")
    assert _notes(deal, "response_deadline") == []


def test_the_deal_page_offers_it_to_staff_and_keeps_a_refused_form(world, client, auth):
    deal = make_overdue(world.own_deal())
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert "延长答复期限" not in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    auth.logout()
    auth.login(world.officer)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f'action="/deals/{deal.id}/deadline"' in page
    response = client.post(f"/deals/{deal.id}/deadline", data={"days": "90", "reason": "开会"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "1–60 之间的整数" in page and 'value="开会"' in page
    response = client.post(
        f"/deals/{deal.id}/deadline", data={"days": "5", "reason": "开会"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "答复期限已延长至" in page and "延长答复期限" in page and "开会" in page


def test_an_answer_after_a_lapsed_deadline_stays_late_whatever_the_extension(world):
    """A trial: an officer extended a deal 7 days overdue, the university answered within the
    new deadline, and 按期答复率 rose as if it had answered on time."""
    from revive.dashboard import activity
    from revive.deals.permissions import visible_deals_clause

    deal = make_overdue(world.own_deal(), days=7)
    services.extend_deadline(deal.id, world.officer, 10, "学校委员会开会")
    assert db.session.get(Deal, deal.id).lapsed_at is not None
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    figs = activity.overdue_figures(visible_deals_clause(world.officer), False)
    assert (figs.total.answered, figs.total.on_time, figs.total.late) == (1, 0, 1)


def test_repeated_extensions_stop_at_the_cap_and_an_admin_is_named_as_such(world):
    deal = world.own_deal()
    due = as_utc(deal.response_due_at)
    admin = world.users[Role.PLATFORM_ADMIN]
    services.extend_deadline(deal.id, admin, 30, "多次延长")  # due in 7 days + 30
    with pytest.raises(ValidationFailed, match="最多延到今天起 60 天"):
        services.extend_deadline(deal.id, admin, 30, "多次延长")  # would be 67 days out
    db.session.rollback()
    assert as_utc(db.session.get(Deal, deal.id).response_due_at) <= utcnow() + timedelta(days=60)
    assert as_utc(db.session.get(Deal, deal.id).response_due_at) > due
    (note, *_) = _notes(deal, "response_deadline")
    assert note.body.startswith("平台管理员") and "技术经理人平台管理员" not in note.body
