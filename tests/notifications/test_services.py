"""Inbox scope, read state, and e-mail delivery through the Celery task with a fake SMTP."""

from __future__ import annotations

import smtplib
from typing import ClassVar

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.db import utcnow
from revive.errors import NotFoundError
from revive.extensions import db
from revive.notifications import queries, services
from revive.notifications.models import Notification
from tests.factories import make_user


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what would have been sent."""

    instances: ClassVar[list[FakeSMTP]] = []
    fail_with: ClassVar[Exception | None] = None

    def __init__(self, host: str, port: int, timeout: float | None = None) -> None:
        self.host, self.port = host, port
        self.sent: list = []
        self.tls = False
        self.login_as: tuple[str, str] | None = None
        self.closed = False
        FakeSMTP.instances.append(self)
        if isinstance(FakeSMTP.fail_with, OSError):
            raise FakeSMTP.fail_with

    def starttls(self) -> None:
        self.tls = True

    def login(self, user: str, password: str) -> None:
        self.login_as = (user, password)

    def send_message(self, msg) -> None:
        if FakeSMTP.fail_with is not None:
            raise FakeSMTP.fail_with
        self.sent.append(msg)

    def quit(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.instances, FakeSMTP.fail_with = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {
        "REVIVE_SMTP_HOST": "smtp.example.cn",
        "REVIVE_SMTP_PORT": 587,
        "REVIVE_SMTP_USER": "mailer",
        "REVIVE_SMTP_PASSWORD": "secret",
        "REVIVE_SMTP_FROM": "revive@example.cn",
        "REVIVE_SMTP_TLS": True,
        "REVIVE_BASE_URL": "https://revive.example.cn",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


def _sent_to(smtp) -> list[str]:
    return sorted(m["To"].addresses[0].addr_spec for s in smtp.instances for m in s.sent)


# ---------------------------------------------------------------------------- e-mail


def test_push_queues_mail_and_the_task_sends_it_to_the_right_people(world, smtp, enqueued):
    from workers import tasks

    make_user(Role.UNIVERSITY_ADMIN, organization=world.uni_a, is_active_flag=False)
    make_user(Role.INVENTOR, organization=world.uni_a)  # not an inventor of this patent
    make_user(Role.UNIVERSITY_ADMIN, organization=world.uni_b)  # another university
    deal = world.own_deal()
    queued = [args[0] for name, args in enqueued if name == "notifications.email"]
    notes = {n.organization_id: n for n in db.session.scalars(sa.select(Notification))}
    assert sorted(queued) == sorted(n.id for n in notes.values())
    assert all(n.email_status == "queued" for n in notes.values())

    tasks.send_notification_email(notes[world.uni_a.id].id)
    assert _sent_to(smtp) == sorted(
        world.users[r].email for r in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR)
    )
    conn = smtp.instances[0]
    assert conn.tls and conn.login_as == ("mailer", "secret") and conn.closed
    msg = conn.sent[0]
    assert msg["From"] == "revive@example.cn"
    assert deal.patent.title in msg["Subject"]
    assert f"https://revive.example.cn/deals/{deal.id}" in msg.get_content()
    db.session.expire_all()
    assert db.session.get(Notification, notes[world.uni_a.id].id).email_status == "sent"

    tasks.send_notification_email(notes[world.ent_a.id].id)
    assert world.users[Role.ENTERPRISE].email in _sent_to(smtp)


def test_user_addressed_mail_goes_to_that_user_only(world, smtp):
    n = services.notify("t", "只给经理", user_id=world.officer.id)
    db.session.commit()
    assert services.deliver_email(n.id) == "sent"
    assert _sent_to(smtp) == [world.officer.email]


@pytest.mark.parametrize("brk", ["\n", "\u2028", "\x85", "\r\n"])
def test_a_title_or_name_with_a_line_break_is_mailed_on_one_line(world, smtp, brk):
    """A header is one line: a line break in a title (stored before titles were made one
    line) or in a name made the message unbuildable, and the job failed over and over."""
    world.officer.name = f"王{brk}Bcc: x@evil.cn"
    n = services.notify("t", f"新推荐{brk}Bcc: a@b.cn", user_id=world.officer.id)
    db.session.commit()
    assert services.deliver_email(n.id) == "sent"
    msg = smtp.instances[0].sent[0]
    assert msg["Subject"] == "[Revive] 新推荐 Bcc: a@b.cn"
    assert msg["Bcc"] is None and _sent_to(smtp) == [world.officer.email]


def test_a_message_that_cannot_be_built_is_recorded_failed_not_retried(world, smtp, monkeypatch):
    n = services.notify("t", "通知", organization_id=world.ent_a.id)
    db.session.commit()

    def refuse(*args):
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr(services, "_message", refuse)
    assert services.deliver_email(n.id) == "failed"
    db.session.expire_all()
    assert db.session.get(Notification, n.id).email_status == "failed"


def test_sending_twice_does_not_mail_twice(world, smtp):
    n = services.notify("t", "通知", organization_id=world.ent_a.id)
    db.session.commit()
    services.deliver_email(n.id)
    services.deliver_email(n.id)
    assert len(_sent_to(smtp)) == 1


@pytest.mark.parametrize(
    "error",
    [
        smtplib.SMTPAuthenticationError(535, b"bad"),
        smtplib.SMTPRecipientsRefused({}),
        OSError("down"),
    ],
    ids=["auth", "refused", "connect"],
)
def test_smtp_failure_is_recorded_not_raised(world, smtp, error):
    from workers import tasks

    n = services.notify("t", "通知", organization_id=world.ent_a.id)
    db.session.commit()
    smtp.fail_with = error
    tasks.send_notification_email(n.id)  # no exception escapes the task
    db.session.expire_all()
    assert db.session.get(Notification, n.id).email_status == "failed"
    if not isinstance(error, OSError):
        assert smtp.instances[0].closed  # the connection is closed after the failure


def test_without_smtp_nothing_is_queued_or_sent(world, enqueued, monkeypatch):
    monkeypatch.setattr(smtplib, "SMTP", lambda *a, **k: pytest.fail("SMTP used"))
    world.own_deal()
    assert [name for name, _ in enqueued if name == "notifications.email"] == []
    n = db.session.scalars(sa.select(Notification)).first()
    assert n.email_status is None
    assert services.deliver_email(n.id) == "skipped"


def test_nobody_to_mail_is_skipped(world, smtp):
    org_without_users = world.uni_b
    n = services.notify("t", "通知", organization_id=org_without_users.id)
    db.session.commit()
    assert services.deliver_email(n.id) == "skipped"
    assert smtp.instances == []
    assert services.deliver_email(987654) is None  # deleted meanwhile


def test_broker_down_leaves_mail_queued(world, smtp, monkeypatch):
    import revive.queue
    from revive.errors import ServiceUnavailable

    def down(*_a):
        raise ServiceUnavailable()

    monkeypatch.setattr(revive.queue, "enqueue", down)
    deal = world.own_deal()  # the push itself succeeds
    notes = db.session.scalars(sa.select(Notification).where(Notification.deal_id == deal.id))
    assert {n.email_status for n in notes} == {"queued"}


# ---------------------------------------------------------------------------- inbox scope


def test_inbox_shows_org_and_personal_notifications_unread_first(world):
    ent_user = world.users[Role.ENTERPRISE]
    old = services.notify("t", "旧的已读", organization_id=world.ent_a.id)
    mine = services.notify("t", "给我个人", user_id=ent_user.id)
    theirs = services.notify("t", "别家的", organization_id=world.ent_b.id)
    db.session.commit()
    services.mark_read(old.id, ent_user)
    newest = services.notify("t", "最新未读", organization_id=world.ent_a.id)
    db.session.commit()
    page = queries.inbox_page(ent_user, 1, 50)
    assert [n.id for n in page.items] == [newest.id, mine.id, old.id]
    assert theirs.id not in [n.id for n in page.items]
    assert queries.unread_count(ent_user) == 2
    assert [n.id for n in queries.inbox_page(ent_user, 1, 50, unread_only=True).items] == [
        newest.id,
        mine.id,
    ]


def test_org_notification_about_a_deal_reaches_only_members_who_see_the_deal(world):
    deal = world.own_deal()
    neighbour = make_user(Role.COLLEGE_ADMIN, college=world.other_college_a)
    stranger_inventor = make_user(Role.INVENTOR, organization=world.uni_a)
    (note,) = db.session.scalars(
        sa.select(Notification).where(
            Notification.deal_id == deal.id, Notification.organization_id == world.uni_a.id
        )
    )
    for role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR):
        assert note.id in [n.id for n in queries.inbox_page(world.users[role], 1, 50).items]
    for user in (neighbour, stranger_inventor):
        assert queries.inbox_page(user, 1, 50).items == []
        assert queries.unread_count(user) == 0
        with pytest.raises(NotFoundError):
            services.mark_read(note.id, user)
    general = services.notify("t", "全校通知", organization_id=world.uni_a.id)
    db.session.commit()
    assert [n.id for n in queries.inbox_page(neighbour, 1, 50).items] == [general.id]


def test_read_state_is_per_member(world):
    """A new user found an inventor's 全部标为已读 cleared the university admin's requests to
    answer: an organization's notification is read for each member on their own."""
    ent_user = world.users[Role.ENTERPRISE]
    other_member = make_user(Role.ENTERPRISE, organization=world.ent_a)
    n = services.notify("t", "通知", organization_id=world.ent_a.id)
    mine = services.notify("t", "给我的", user_id=other_member.id)
    db.session.commit()
    services.mark_read(n.id, other_member)
    services.mark_read(n.id, other_member)  # twice: nothing more
    assert queries.unread_count(other_member) == 1  # only their personal one
    assert queries.unread_count(ent_user) == 1  # the organization's: still unread for them
    services.mark_read(mine.id, other_member)
    db.session.expire_all()
    assert db.session.get(Notification, mine.id).read_by_id == other_member.id
    assert db.session.get(Notification, n.id).read_at is None  # not read for everyone
    (row,) = queries.with_reads(ent_user, [db.session.get(Notification, n.id)])
    assert row.seen_at is None
    (row,) = queries.with_reads(other_member, [db.session.get(Notification, n.id)])
    assert row.seen_at is not None


def test_a_notification_the_platform_settled_is_read_for_everyone(world):
    n = services.notify("t", "已处理", organization_id=world.ent_a.id)
    db.session.commit()
    n.read_at = utcnow()  # as services.settle does: read_by_id stays None
    db.session.commit()
    assert queries.unread_count(world.users[Role.ENTERPRISE]) == 0


def test_mark_all_read_touches_only_what_the_user_sees(world):
    ent_user = world.users[Role.ENTERPRISE]
    colleague = make_user(Role.ENTERPRISE, organization=world.ent_a)
    ours = [services.notify("t", f"通知{i}", organization_id=world.ent_a.id) for i in range(3)]
    personal = services.notify("t", "给我的", user_id=ent_user.id)
    theirs = services.notify("t", "别家的", organization_id=world.ent_b.id)
    db.session.commit()
    assert services.mark_all_read(ent_user) == 4
    assert services.mark_all_read(ent_user) == 0
    assert queries.unread_count(ent_user) == 0
    assert queries.unread_count(colleague) == 3  # the colleague's own state is untouched
    db.session.expire_all()
    assert db.session.get(Notification, personal.id).read_at is not None
    assert all(db.session.get(Notification, n.id).read_at is None for n in ours)
    assert db.session.get(Notification, theirs.id).read_at is None


def test_staff_without_organization_see_only_personal_notifications(world):
    officer = world.officer
    world.own_deal()  # push notifications go to the two organizations, not to the officer
    assert queries.unread_count(officer) == 0
    n = services.notify("t", "给经理", user_id=officer.id)
    db.session.commit()
    assert [x.id for x in queries.inbox_page(officer, 1, 50).items] == [n.id]
