"""A bulk push (the review queue's 批量采纳, decide_selected): the inbox keeps one notice per
deal, but each person gets ONE e-mail for the action, listing the deals that concern them
(title and link each, at most BATCH_LISTED, then 另有 N 项). Sent by the worker's task
through the same SMTP path, with REVIVE_BASE_URL links; a single push mails as before."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive import queue
from revive.accounts.models import Role
from revive.db import utcnow
from revive.deals.models import Deal
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.matching.models import Match
from revive.notifications import services
from revive.notifications.models import EmailBatch, Notification
from revive.review import services as decisions
from tests.factories import make_user
from tests.matching.helpers import entered, make_demand
from tests.notifications.test_services import smtp as smtp  # noqa: F401  (fixture)

pytestmark = pytest.mark.dialect  # the outbox's SQL: the batch's sweep, its foreign key

BASE = "https://revive.example.cn"


def _matches(world, count: int, university=None) -> list[int]:
    """``count`` candidates of 甲企业's demands: patents of 甲材料学院 (the inventor's)."""
    ids = []
    for i in range(count):
        uni = university or world.uni_a
        college = world.college_a if uni == world.uni_a else None
        inventors = [world.users[Role.INVENTOR]] if uni == world.uni_a else None
        patent = entered(uni, college=college, inventors=inventors, title=f"批量专利{uni.id}-{i}")
        demand = make_demand(world.ent_a, title=f"批量需求{uni.id}-{i}")
        match = Match(demand_id=demand.id, patent_id=patent.id, score=0.5, terms=[["材料", 1.0]])
        db.session.add(match)
        db.session.commit()
        ids.append(match.id)
    return ids


def _messages(smtp) -> dict[str, list]:
    out: dict[str, list] = {}
    for conn in smtp.instances:
        for msg in conn.sent:
            out.setdefault(msg["To"].addresses[0].addr_spec, []).append(msg)
    return out


def _batch_task(enqueued) -> list[int]:
    return [args[0] for name, args in enqueued if name == services.BATCH_TASK]


def test_a_bulk_push_mails_each_person_once_listing_the_deals(world, smtp, enqueued):
    from workers import tasks

    admin_b = make_user(Role.UNIVERSITY_ADMIN, organization=world.uni_b)
    ids = _matches(world, 3) + _matches(world, 1, university=world.uni_b)
    result = decisions.decide_selected(ids, "accepted", world.officer)
    assert sorted(result["done"]) == sorted(ids)
    deals = list(db.session.scalars(sa.select(Deal).order_by(Deal.id)))
    assert len(deals) == 4
    # the inbox: a notice per deal for each side, as before
    kinds = Counter(
        (n.organization_id, n.deal_id) for n in db.session.scalars(sa.select(Notification))
    )
    assert len(kinds) == 8 and set(kinds.values()) == {1}
    # one task for the action, none per notice
    assert [name for name, _ in enqueued if name == services.EMAIL_TASK] == []
    (batch_id,) = _batch_task(enqueued)

    tasks.send_notification_email_batch(batch_id)
    sent = _messages(smtp)
    assert all(len(msgs) == 1 for msgs in sent.values()), {k: len(v) for k, v in sent.items()}
    ours = {
        world.users[r].email for r in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR)
    }
    assert set(sent) == ours | {world.users[Role.ENTERPRISE].email, admin_b.email}

    # the enterprise: all four deals in one e-mail, each with its title and full link
    (to_enterprise,) = sent[world.users[Role.ENTERPRISE].email]
    assert to_enterprise["Subject"] == "[Revive] 技术经理人推送了专利对接（4 项）"
    text = to_enterprise.get_content()
    for deal in deals:
        assert deal.patent.title in text and f"{BASE}/deals/{deal.id}\n" in text
    assert "另有" not in text and f"{BASE}/inbox/" in text
    # 甲大学's members: the three deals of 甲大学 (the answer deadline with each), not 乙大学's
    (to_inventor,) = sent[world.users[Role.INVENTOR].email]
    text = to_inventor.get_content()
    assert to_inventor["Subject"].endswith("（3 项）") and text.count("答复是否愿意对接") == 3
    assert "批量专利" + str(world.uni_b.id) not in text
    # 乙大学's admin is concerned by one deal: that notice's own e-mail, as a single push gives
    (to_b,) = sent[admin_b.email]
    assert "批量专利" in to_b["Subject"] and "（1 项）" not in to_b["Subject"]
    assert f"查看详情：{BASE}/deals/{deals[-1].id}" in to_b.get_content()

    db.session.expire_all()
    assert {n.email_status for n in db.session.scalars(sa.select(Notification))} == {"sent"}
    assert db.session.get(EmailBatch, batch_id).email_status == "sent"
    tasks.send_notification_email_batch(batch_id)  # a duplicate message: nothing mailed again
    assert sum(len(c.sent) for c in smtp.instances) == len(sent)


def test_a_long_list_is_capped_with_the_rest_counted(world, smtp, enqueued, monkeypatch):
    monkeypatch.setattr(services, "BATCH_LISTED", 2)
    decisions.decide_selected(_matches(world, 5), "accepted", world.officer)
    (batch_id,) = _batch_task(enqueued)
    services.deliver_batch(batch_id)
    (msg,) = _messages(smtp)[world.users[Role.ENTERPRISE].email]
    text = msg.get_content()
    assert msg["Subject"].endswith("（5 项）")
    assert "1. " in text and "2. " in text and "3. " not in text
    assert f"另有 3 项未在邮件中列出，请登录平台在站内消息中查看：{BASE}/inbox/" in text


def test_a_single_push_is_mailed_as_before(world, smtp, enqueued):
    (match_id,) = _matches(world, 1)
    decisions.decide(match_id, "accepted", world.officer)
    assert _batch_task(enqueued) == []
    assert len([1 for name, _ in enqueued if name == services.EMAIL_TASK]) == 2
    # ticking one candidate in the queue: the same two e-mails, no batch
    (other,) = _matches(world, 1)
    decisions.decide_selected([other], "accepted", world.officer)
    assert _batch_task(enqueued) == []
    assert len([1 for name, _ in enqueued if name == services.EMAIL_TASK]) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailBatch)) == 0


def test_broker_down_the_sweep_sends_the_batch_never_the_notices_alone(
    world, smtp, monkeypatch, app
):
    def down(*_a):
        raise ServiceUnavailable()

    monkeypatch.setattr(queue, "enqueue", down)
    decisions.decide_selected(_matches(world, 2), "accepted", world.officer)
    batch = db.session.scalar(sa.select(EmailBatch))
    assert batch.task_sent_at is None
    old = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(Notification).values(created_at=old))
    batch.created_at = old
    db.session.commit()
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args: sent.append((name, args)) or "t")
    assert queue.resend_stuck() == {services.BATCH_TASK: [batch.id]}
    # the notices' own task refuses a batched notice (its batch mails it)
    note = db.session.scalar(sa.select(Notification))
    assert not queue.claim(services.EMAIL_TASK, note.id, "task-1")
    assert services.deliver_email(note.id) == "queued" and smtp.instances == []


def test_declining_several_requests_at_once_mails_the_enterprise_once(world, smtp, enqueued):
    ids = _matches(world, 2)
    db.session.execute(
        sa.update(Match)
        .where(Match.id.in_(ids))
        .values(intent_at=utcnow(), intent_message="请推荐")
    )
    db.session.commit()
    decisions.decide_selected(ids, "rejected", world.officer, reason_code="vague")
    (batch_id,) = _batch_task(enqueued)
    services.deliver_batch(batch_id)
    (msg,) = _messages(smtp)[world.users[Role.ENTERPRISE].email]
    assert msg["Subject"] == "[Revive] 技术经理人审核了您的对接申请（2 项）"
    assert msg.get_content().count("对接申请未被采纳") == 2


def test_without_smtp_no_batch(world, enqueued):
    decisions.decide_selected(_matches(world, 2), "accepted", world.officer)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailBatch)) == 0
    assert _batch_task(enqueued) == []
