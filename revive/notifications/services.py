"""notify(): add an inbox row in the caller's transaction; e-mail is sent by a worker after the
commit when SMTP is configured (REVIVE_SMTP_HOST). Also: marking read (by a user, or settled
when what a notification asked for is moot), and the e-mail itself.

Read state lives on the row (one per recipient organization): when one member of an
organization reads its notification, it is read for the whole organization — the inbox is the
organization's shared in-tray, like a department's mailbox.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from sqlalchemy import event
from sqlalchemy.orm import Session

from revive import clock, queue
from revive.accounts import confirm, recovery
from revive.accounts.models import PasswordReset, User
from revive.common.fields import one_line
from revive.db import utcnow
from revive.extensions import db
from revive.notifications import queries, scope
from revive.notifications.models import EmailBatch, Notification, NotificationRead

logger = logging.getLogger(__name__)


def notify(
    kind: str,
    title: str,
    *,
    organization_id: int | None = None,
    user_id: int | None = None,
    body: str | None = None,
    link: str | None = None,
    deal_id: int | None = None,
    created_at: datetime | None = None,
    supersede: bool = False,
) -> Notification:
    """Add a notification to the session (not committed). Call send_emails() after commit.

    ``created_at``: the moment the text speaks from (a text naming a deadline passes the
    moment it computed the deadline from, so its date and its text agree); default now.

    ``supersede``: the news replaces what the same kind of notice about the same deal told
    the same recipient within ``SUPERSEDE_WINDOW`` (an answer changed back and forth): that
    notice gets the new text and moment and is unread again, instead of a new one each
    time; its e-mail goes out once (a queued one sends the newest text), so repeated changes
    cannot flood an inbox or a mailbox."""
    if supersede and deal_id is not None:
        row = _recent_notice(kind, deal_id, organization_id, user_id)
        if row is not None:
            row.title, row.body, row.link = title[:300], body, link
            row.created_at = created_at or utcnow()
            row.read_at = row.read_by_id = None
            db.session.execute(
                sa.delete(NotificationRead).where(NotificationRead.notification_id == row.id)
            )
            return row
    row = Notification(
        kind=kind,
        title=title[:300],
        organization_id=organization_id,
        user_id=user_id,
        body=body,
        link=link,
        deal_id=deal_id,
        email_status="queued" if smtp_configured() else None,
        created_at=created_at or utcnow(),
    )
    db.session.add(row)
    return row


SUPERSEDE_WINDOW = timedelta(minutes=30)


def _recent_notice(
    kind: str, deal_id: int, organization_id: int | None, user_id: int | None
) -> Notification | None:
    """The latest notice of ``kind`` about the deal to this recipient, if it is recent."""
    return db.session.scalars(
        sa.select(Notification)
        .where(
            Notification.kind == kind,
            Notification.deal_id == deal_id,
            Notification.organization_id.is_(None)
            if organization_id is None
            else Notification.organization_id == organization_id,
            Notification.user_id.is_(None) if user_id is None else Notification.user_id == user_id,
            Notification.created_at >= utcnow() - SUPERSEDE_WINDOW,
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(1)
    ).first()


def smtp_configured() -> bool:
    return bool(current_app.config.get("REVIVE_SMTP_HOST"))


def send_emails(notifications: Sequence[Notification], *, after_commit: bool = False) -> None:
    """After commit: enqueue the e-mail for each queued notification (for those gathered by
    ``one_email_each``, their batch's once). A broker outage leaves them 'queued'; the in-app
    inbox already has them, so nothing is lost.

    ``after_commit=True`` (for rows added by a signal receiver inside someone else's
    transaction, which cannot call this after its commit): the e-mails are enqueued when the
    session commits, for the rows that were committed (a rolled-back savepoint's are not)."""
    if not smtp_configured():  # notify() queued none: no need to reload the committed rows
        return
    if after_commit:
        db.session.info.setdefault(_OUTBOX, []).extend(notifications)
        return
    batches: set[int] = set()
    for n in notifications:
        if n.email_status != "queued":
            continue
        if n.email_batch_id is not None:
            batches.add(n.email_batch_id)
            continue
        _enqueue(n.id)
    for batch_id in sorted(batches):
        queue.send(BATCH_TASK, batch_id, own_connection=True)


def one_email_each(notifications: Sequence[Notification], subject: str) -> EmailBatch | None:
    """In the caller's transaction, before its commit: the notices of one bulk action (an
    officer pushing many matches at once) are e-mailed together, one e-mail per person listing
    those that concern them (title and link each), instead of one e-mail per notice; the inbox
    keeps its notice per deal. ``subject`` says what was done (e.g. 技术经理人推送了专利对接).
    send_emails() after the commit sends the batch. None (each mailed alone, as before) when
    they concern one deal only, or none is to be e-mailed (no SMTP)."""
    # (a notice of a savepoint rolled back afterwards is no longer in the session: not mailed)
    queued = [n for n in notifications if n in db.session and n.email_status == "queued"]
    if len({n.deal_id or -n.id for n in queued}) < 2:  # one deal: its own e-mails, as before
        return None
    batch = EmailBatch(subject=one_line(subject)[:300], email_status="queued")
    db.session.add(batch)
    db.session.flush()
    for n in queued:
        n.email_batch_id = batch.id
    return batch


def _enqueue(notification_id: int) -> None:
    # Stamped on a connection of its own: also called from the session's after_commit. With
    # the broker down the row stays 'queued' and unsent; the recovery sweep sends it.
    queue.send(EMAIL_TASK, notification_id, own_connection=True)


def _give_up_email(notification_id: int) -> None:
    db.session.rollback()
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.email_status == "queued")
        .values(email_status="failed")
    )
    db.session.commit()


def settle_batch(batch_id: int, status: str) -> None:
    """Mark a still-queued e-mail batch and its notices ``status`` (failed: the queue gave up;
    skipped: the demo's in-process worker sends no e-mail), and commit."""
    db.session.execute(
        sa.update(Notification)
        .where(Notification.email_batch_id == batch_id, Notification.email_status == "queued")
        .values(email_status=status)
    )
    db.session.execute(
        sa.update(EmailBatch)
        .where(EmailBatch.id == batch_id, EmailBatch.email_status == "queued")
        .values(email_status=status)
    )
    db.session.commit()


def _give_up_batch(batch_id: int) -> None:
    db.session.rollback()
    settle_batch(batch_id, "failed")


EMAIL_TASK = "notifications.email"
# A 'queued' notification is the outbox of its e-mail (revive.queue), unless it belongs to a
# batch: then the batch is (one e-mail per person), and the notification is never sent alone.
queue.register(
    queue.Kind(
        EMAIL_TASK,
        Notification,
        active=lambda: sa.and_(
            Notification.email_status == "queued", Notification.email_batch_id.is_(None)
        ),
        give_up=_give_up_email,
        changed=Notification.created_at,
    )
)
BATCH_TASK = "notifications.email_batch"
queue.register(
    queue.Kind(
        BATCH_TASK,
        EmailBatch,
        active=lambda: EmailBatch.email_status == "queued",
        give_up=_give_up_batch,
        changed=EmailBatch.created_at,
    )
)


_OUTBOX = "revive_notification_emails"


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    """The e-mails of notifications handed to send_emails(after_commit=True) in the committed
    transaction. The ids are read from the identity key (no SQL: the rows are expired)."""
    rows = session.info.pop(_OUTBOX, None)
    for row in rows or ():
        state = sa.inspect(row)
        if state.persistent and state.identity:
            _enqueue(state.identity[0])


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    """A real rollback (the transaction is gone): nothing to send. A savepoint's rollback does
    not fire this; the rows it took back are no longer persistent and are skipped above."""
    session.info.pop(_OUTBOX, None)


def app_link(endpoint: str, **values: object) -> str:
    """App-relative link for a notification, also from a worker or the CLI (no request there,
    and url_for needs one unless SERVER_NAME is set)."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


# ---------------------------------------------------------------------------- read state


def mark_read(notification_id: int, actor: User) -> Notification:
    """Mark one notification read for ``actor`` (no-op when already read): the row itself when
    it is addressed to them, else their own read of the organization's notification. Commits."""
    row = queries.get_for(actor, notification_id)
    if row.user_id == actor.id:
        if row.read_at is None:
            row.read_at, row.read_by_id = utcnow(), actor.id
            db.session.commit()
        return row
    if row.read_at is None and db.session.get(NotificationRead, (row.id, actor.id)) is None:
        db.session.add(NotificationRead(notification_id=row.id, user_id=actor.id))
        db.session.commit()
    return row


def mark_all_read(actor: User) -> int:
    """Mark every notification the user sees and has not read as read, for them (the
    organization's notifications stay unread for the other members). Commits; returns how
    many."""
    now = utcnow()
    unread = queries.inbox_clause(actor), ~queries.read_clause(actor)
    mine = db.session.execute(
        sa.update(Notification)
        .where(*unread, Notification.user_id == actor.id)
        .values(read_at=now, read_by_id=actor.id)
        .execution_options(synchronize_session=False)  # the commit expires loaded rows
    ).rowcount
    org_ids = list(
        db.session.scalars(
            sa.select(Notification.id).where(
                *unread, Notification.user_id.is_distinct_from(actor.id)
            )
        )
    )
    if org_ids:
        db.session.execute(
            sa.insert(NotificationRead),
            [{"notification_id": i, "user_id": actor.id, "read_at": now} for i in org_ids],
        )
    db.session.commit()
    return mine + len(org_ids)


def settle(deal_id: int, kinds: Sequence[str], *, organization_id: int) -> int:
    """Mark the organization's unread notifications of ``kinds`` about a deal read: they asked
    for something the deal no longer needs (e.g. an answer after the deal ended). Read by
    nobody (``read_by_id`` stays None: the platform settled them). In the caller's
    transaction, no commit; returns how many."""
    return db.session.execute(
        sa.update(Notification)
        .where(
            Notification.deal_id == deal_id,
            Notification.organization_id == organization_id,
            Notification.kind.in_(list(kinds)),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount


# ---------------------------------------------------------------------------- e-mail


def email_recipients(n: Notification, members: dict[int, list[User]] | None = None) -> list[User]:
    """Active users with an e-mail address: the addressed user, or the members of the addressed
    organization who may see the notification's deal (if it has one). ``members``: the
    organizations' members read so far (a batch's notices share a few organizations)."""
    if n.user_id is not None:
        users = [n.user] if n.user is not None else []
    else:
        members = {} if members is None else members
        if n.organization_id not in members:
            members[n.organization_id] = list(
                db.session.scalars(
                    sa.select(User)
                    .where(User.organization_id == n.organization_id)
                    .order_by(User.id)
                )
            )
        users = members[n.organization_id]
        if n.deal_id is not None:
            may_see = scope.deals().may_see
            users = [u for u in users if may_see(u, n.deal_id)]
    return [u for u in users if u.is_active and u.email]


def absolute_link(link: str | None) -> str | None:
    """A full address for an e-mail (REVIVE_BASE_URL + the app-relative link)."""
    return _absolute(link)


def sender_address() -> str:
    return current_app.config.get("REVIVE_SMTP_FROM") or "noreply@revive.local"


def send_messages(messages: list[EmailMessage]) -> None:
    """Send ready-made e-mails over one SMTP connection (the alert digests); SMTP errors and
    OSError propagate to the caller, which records the outcome."""
    _send(messages)


def _absolute(link: str | None) -> str | None:
    if not link:
        return None
    base = str(current_app.config.get("REVIVE_BASE_URL") or "").rstrip("/")
    return f"{base}{link}" if base else link


SIGNATURE = "—— Revive 存量专利盘活平台（系统邮件，请勿直接回复）"


def compose(to: User, subject: str, sender: str, lines: list[str]) -> EmailMessage:
    """An e-mail from the platform to ``to``: the headers every message carries (a header is
    one line: a title or name holding a line break could not be sent at all), body ``lines``."""
    msg = EmailMessage()
    msg["Subject"] = f"[Revive] {one_line(subject)}"
    msg["From"] = sender
    msg["To"] = formataddr((one_line(to.name), to.email))
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
    msg.set_content("\n".join(lines))
    return msg


def _message(n: Notification, to: User, sender: str) -> EmailMessage:
    lines = [f"{to.name}，您好：", "", n.title]
    if n.body:
        lines += ["", n.body]
    lines += ["", f"时间：{clock.format_dt(n.created_at)}（{clock.zone_label()}）"]
    link = _absolute(n.link)
    if link:
        lines += ["", f"查看详情：{link}"]
    lines += ["", SIGNATURE]
    return compose(to, n.title, sender, lines)


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    host, port = cfg["REVIVE_SMTP_HOST"], int(cfg.get("REVIVE_SMTP_PORT") or 587)
    if port == 465:  # implicit TLS (SMTPS)
        return smtplib.SMTP_SSL(host, port, timeout=30)
    return smtplib.SMTP(host, port, timeout=30)


def _send(messages: list[EmailMessage]) -> None:
    cfg = current_app.config
    conn = _connect()
    try:
        if cfg.get("REVIVE_SMTP_TLS") and not isinstance(conn, smtplib.SMTP_SSL):
            conn.starttls()
        if cfg.get("REVIVE_SMTP_USER"):
            conn.login(cfg["REVIVE_SMTP_USER"], cfg.get("REVIVE_SMTP_PASSWORD") or "")
        for msg in messages:
            conn.send_message(msg)
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def deliver_email(notification_id: int) -> str | None:
    """Send one notification by e-mail (the worker's job) and record the outcome on the row:
    sent, failed (SMTP error: logged, never raised), or skipped (no SMTP, nobody to send to).
    Safe to run twice: a sent notification is not sent again. Commits; returns the status."""
    n = db.session.get(Notification, notification_id)
    if n is None:
        return None
    if n.email_status == "sent":
        return n.email_status
    if n.email_batch_id is not None:  # mailed with its batch (deliver_batch), never alone
        return n.email_status
    recipients = email_recipients(n) if smtp_configured() else []
    if not recipients:
        n.email_status = "skipped"
        db.session.commit()
        return n.email_status
    sender = current_app.config.get("REVIVE_SMTP_FROM") or "noreply@revive.local"
    try:
        _send([_message(n, user, sender) for user in recipients])
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        # ValueError: a message the e-mail package refuses to build; sending it again would
        # fail the same way, so it is recorded as failed rather than retried
        logger.warning("E-mail for notification %s failed: %s", n.id, exc)
        n.email_status = "failed"
    else:
        n.email_status = "sent"
    db.session.commit()
    return n.email_status


# A batch's e-mail lists this many notices; the rest are counted (另有 N 项) and in the inbox.
BATCH_LISTED = 20


def _batch_message(
    batch: EmailBatch, rows: Sequence[Notification], to: User, sender: str
) -> EmailMessage:
    """One person's e-mail for a batch: the notices that concern them, title and link each
    (and the first line of the notice, e.g. the answer deadline), at most BATCH_LISTED."""
    lines = [
        f"{to.name}，您好：",
        "",
        f"{one_line(batch.subject)}，与您相关的共 {len(rows)} 项"
        f"（{clock.zone_label()} {clock.format_dt(batch.created_at)}）：",
    ]
    for i, n in enumerate(rows[:BATCH_LISTED], start=1):
        lines += ["", f"{i}. {one_line(n.title)}"]
        first = one_line((n.body or "").strip().split("\n", 1)[0])
        if first:
            lines.append(f"   {first[:200]}")
        link = _absolute(n.link)
        if link:
            lines.append(f"   查看详情：{link}")
    hidden = len(rows) - BATCH_LISTED
    inbox = _absolute(app_link("notifications.inbox"))
    if hidden > 0:
        lines += ["", f"另有 {hidden} 项未在邮件中列出，请登录平台在站内消息中查看：{inbox}"]
    else:
        lines += ["", f"站内消息：{inbox}"]
    lines += ["", SIGNATURE]
    return compose(to, f"{batch.subject}（{len(rows)} 项）", sender, lines)


def deliver_batch(batch_id: int) -> str | None:
    """Send a batch (the worker's job): one e-mail per person, listing the batch's notices
    that person would have been mailed one by one (``email_recipients`` of each); a person
    concerned by one notice only gets that notice's own e-mail. The outcome is recorded on the
    batch and on its notifications (a notice nobody was to get: skipped). Safe to run twice.
    Commits; returns the status."""
    batch = db.session.get(EmailBatch, batch_id)
    if batch is None:
        return None
    if batch.email_status != "queued":
        return batch.email_status
    rows = list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.email_batch_id == batch.id, Notification.email_status == "queued")
            .order_by(Notification.id)
        )
    )
    per_user: dict[int, tuple[User, list[Notification]]] = {}
    if smtp_configured():
        members: dict[int, list[User]] = {}
        for n in rows:
            for user in email_recipients(n, members):
                per_user.setdefault(user.id, (user, []))[1].append(n)
    status = "skipped"
    if per_user:
        sender = sender_address()
        try:
            _send(
                [
                    _message(mine[0], user, sender)
                    if len(mine) == 1
                    else _batch_message(batch, mine, user, sender)
                    for user, mine in per_user.values()
                ]
            )
        except (smtplib.SMTPException, OSError, ValueError) as exc:  # ValueError: unbuildable
            logger.warning("E-mail batch %s failed: %s", batch.id, exc)
            status = "failed"
        else:
            status, batch.sent_at = "sent", utcnow()
    reached = {n.id for _, mine in per_user.values() for n in mine}
    for n in rows:
        n.email_status = status if n.id in reached else "skipped"
    batch.email_status = status
    db.session.commit()
    return status


def _confirm_message(row: PasswordReset, sender: str) -> EmailMessage:
    user = row.user
    hours = max(1, int((row.expires_at - row.created_at).total_seconds() // 3600))
    org = user.organization.name if user.organization else ""
    lines = [
        f"{user.name}，您好：",
        "",
        f"有人（希望是您本人）用邮箱 {user.email} 在 Revive 注册了企业账号「{org}」。",
        f"请在 {hours} 小时内（{clock.zone_label()} {clock.format_dt(row.expires_at)} 前）"
        "打开下面的链接并点击「确认验证」，之后即可登录：",
        "",
        confirm.link(recovery.token_of(row)),
        "",
        "如果不是您本人注册，请忽略本邮件：未验证的注册到期后自动失效，不会占用该企业的信用代码。",
        "",
        SIGNATURE,
    ]
    return compose(user, "验证注册邮箱", sender, lines)


def _reset_message(reset: PasswordReset, sender: str) -> EmailMessage:
    if reset.purpose == "confirm":
        return _confirm_message(reset, sender)
    user = reset.user
    minutes = max(1, int((reset.expires_at - reset.created_at).total_seconds() // 60))
    lines = [
        f"{user.name}，您好：",
        "",
        f"有人（希望是您本人）申请重置 Revive 账号 {user.email} 的密码。",
        f"请在 {minutes} 分钟内（{clock.zone_label()} {clock.format_dt(reset.expires_at)} 前）"
        "打开下面的链接设置新密码（链接只能使用一次）：",
        "",
        recovery.reset_link(recovery.token_of(reset)),
        "",
        "设置新密码后，所有设备上的登录都会退出。",
        "如果不是您本人申请，请忽略本邮件，您的密码不会改变。",
        "",
        SIGNATURE,
    ]
    return compose(user, "重置密码", sender, lines)


def deliver_password_reset(reset_id: int) -> str | None:
    """E-mail the link of a password reset asked for through the "忘记密码" form (the worker's
    job; revive/accounts/recovery.py). The link is rebuilt from the row, never carried by the
    queue. Skipped when the link is no longer usable, already e-mailed (safe to run twice) or
    SMTP is not configured; an SMTP error is logged, not raised. Commits; returns the outcome."""
    reset = db.session.get(PasswordReset, reset_id)
    if reset is None:
        return None
    if reset.emailed_at is not None:
        return "sent"
    if not reset.is_pending or reset.expires_at <= utcnow() or not smtp_configured():
        return "skipped"
    sender = current_app.config.get("REVIVE_SMTP_FROM") or "noreply@revive.local"
    try:
        _send([_reset_message(reset, sender)])
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        logger.warning("Password reset e-mail %s failed: %s", reset.id, exc)
        return "failed"
    reset.emailed_at = utcnow()
    db.session.commit()
    return "sent"
