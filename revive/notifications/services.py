"""notify(): add an inbox row in the caller's transaction; e-mail is sent by a worker after the
commit when SMTP is configured (REVIVE_SMTP_HOST)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import current_app

from revive import queue
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.notifications.models import Notification

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
) -> Notification:
    """Add a notification to the session (not committed). Call send_emails() after commit."""
    row = Notification(
        kind=kind,
        title=title[:300],
        organization_id=organization_id,
        user_id=user_id,
        body=body,
        link=link,
        deal_id=deal_id,
        email_status="queued" if smtp_configured() else None,
    )
    db.session.add(row)
    return row


def smtp_configured() -> bool:
    return bool(current_app.config.get("REVIVE_SMTP_HOST"))


def send_emails(notifications: Sequence[Notification]) -> None:
    """After commit: enqueue the e-mail for each queued notification. A broker outage leaves
    them 'queued'; the in-app inbox already has them, so nothing is lost."""
    for n in notifications:
        if n.email_status != "queued":
            continue
        try:
            queue.enqueue("notifications.email", n.id)
        except ServiceUnavailable:
            logger.warning("e-mail for notification %s left queued (broker down)", n.id)
