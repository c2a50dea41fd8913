"""Notices of the inventory review: inventors hear of 退回 (with the comment), 入库, 不入库 and
建议放弃 on their patents, in the transaction of the move; reviewers get one digest a day of new
submissions; the menu counts what waits, one query per count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from revive import clock
from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory import services as inventory
from revive.inventory.models import EntryStatus
from revive.notifications import queries as inbox
from revive.notifications.models import Notification
from revive.notifications.review import send_review_digests
from tests.factories import make_college, make_org, make_patent, make_user

S = EntryStatus
# 09:00 in Beijing on 2 March 2025 (01:00 UTC): after the default digest hour (8).
MORNING = datetime(2025, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def uni(app):
    org = make_org("甲大学")
    college = make_college(org, "材料学院")
    other = make_college(org, "化工学院")
    return {
        "org": org,
        "college": college,
        "other": other,
        "admin": make_user(Role.UNIVERSITY_ADMIN, organization=org, name="王校管"),
        "college_admin": make_user(
            Role.COLLEGE_ADMIN, organization=org, college=college, name="李院管"
        ),
        "other_admin": make_user(Role.COLLEGE_ADMIN, organization=org, college=other),
        "inventor": make_user(Role.INVENTOR, organization=org, name="张发明"),
        "co_inventor": make_user(Role.INVENTOR, organization=org, name="赵发明"),
    }


def _patent(uni, status=S.DRAFT, college="college", **kw):
    return make_patent(
        uni["org"],
        college=uni[college],
        status=status,
        inventors=[uni["inventor"], uni["co_inventor"]],
        **kw,
    )


def _notices(user, kind=None):
    stmt = sa.select(Notification).where(inbox.inbox_clause(user)).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt))


@pytest.mark.parametrize(
    ("status", "action", "actor", "kind", "title", "body"),
    [
        (
            S.PENDING_COLLEGE,
            "college_return",
            "college_admin",
            "patent_returned",
            "被学院退回",
            "意见：补数据",
        ),
        (
            S.PENDING_SCHOOL,
            "school_return",
            "admin",
            "patent_returned",
            "被学校退回",
            "意见：补数据",
        ),
        (S.PENDING_SCHOOL, "enter", "admin", "patent_entered", "已登记入库", "审核通过"),
        (S.PENDING_SCHOOL, "not_enter", "admin", "patent_not_entered", "未予入库", "原因：补数据"),
        (S.PENDING_SCHOOL, "abandon", "admin", "patent_abandon", "建议放弃", "原因：补数据"),
        (S.ENTERED, "reopen", "admin", "patent_returned", "撤回了", "意见：补数据"),
    ],
)
def test_inventors_hear_of_every_review_outcome(uni, status, action, actor, kind, title, body):
    p = _patent(
        uni, status, title="一种复合材料", trl=5, value_grade=3, transfer_willingness="willing"
    )
    inventory.perform_action(p.id, action, actor=uni[actor], comment="补数据")
    for person in ("inventor", "co_inventor"):
        (n,) = _notices(uni[person])
        assert n.kind == kind and title in n.title and "《一种复合材料》" in n.title
        assert body in n.body and p.application_no in n.body
        assert uni[actor].name in n.body
        assert n.link == f"/patents/{p.id}" and n.user_id == uni[person].id
    assert not _notices(uni["other_admin"])  # addressed to the inventors only


def test_moves_that_are_no_outcome_tell_nobody(uni):
    p = _patent(uni)
    inventory.perform_action(p.id, "submit", actor=uni["inventor"])
    inventory.perform_action(p.id, "college_approve", actor=uni["college_admin"])
    assert not _notices(uni["inventor"]) and not _notices(uni["co_inventor"])


def test_a_refused_batch_item_leaves_no_notice(uni):
    ok = _patent(uni, S.PENDING_COLLEGE)
    refused = _patent(uni, S.PENDING_COLLEGE, college="other")  # not this college admin's
    result = inventory.perform_batch(
        [ok.id, refused.id], "college_return", actor=uni["college_admin"], comment="补数据"
    )
    assert result.done == [ok.id] and [pid for pid, _ in result.refused] == [refused.id]
    links = {n.link for n in _notices(uni["inventor"])}
    assert links == {f"/patents/{ok.id}"}


def test_the_notice_is_dated_with_the_move_and_in_the_inbox(uni, client, auth):
    p = _patent(uni, S.PENDING_SCHOOL, title="一种复合材料")
    moment = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)
    with clock.held_at(moment):
        inventory.perform_action(p.id, "school_return", actor=uni["admin"], comment="补数据")
    (n,) = _notices(uni["inventor"])
    assert n.created_at == moment
    auth.login(uni["inventor"])
    page = client.get("/inbox/").get_data(as_text=True)
    assert "被学校退回" in page and "2025-03-02 01:30" in page  # Beijing time


def test_the_email_goes_after_the_commit_for_committed_notices_only(
    uni, app, enqueued, monkeypatch
):
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    ok = _patent(uni, S.PENDING_COLLEGE)
    refused = _patent(uni, S.PENDING_COLLEGE, college="other")
    inventory.perform_batch(
        [ok.id, refused.id], "college_return", actor=uni["college_admin"], comment="补数据"
    )
    sent = sorted(args[0] for name, args in enqueued if name == "notifications.email")
    ids = sorted(n.id for n in _notices(uni["inventor"]) + _notices(uni["co_inventor"]))
    assert sent == ids and len(ids) == 2


# ---------------------------------------------------------------------------- digest


def _submit(uni, college="college", at=MORNING - timedelta(hours=12), **kw):
    p = _patent(uni, college=college, **kw)
    with clock.held_at(at):
        inventory.perform_action(p.id, "submit", actor=uni["inventor"])
    return p


def test_reviewers_get_one_digest_a_day_of_what_arrived(uni):
    mine = _submit(uni, title="一种新型催化剂")
    _submit(uni, college="other", title="一种隔壁学院的专利")
    assert send_review_digests(MORNING) == 2  # this college's admin and the other's
    (digest,) = _notices(uni["college_admin"], "review_digest")
    assert digest.title == "待学院审核：新到 1 件专利（2025-03-02 汇总）"
    assert f"{mine.application_no}《一种新型催化剂》" in digest.body
    assert "隔壁学院" not in digest.body
    assert digest.link == "/patents/review" and digest.created_at == MORNING
    assert "共有 1 件专利等待您审核" in digest.body
    assert not _notices(uni["admin"], "review_digest")  # nothing waits for the school yet
    # The same day again: nothing more (the hourly beat runs it 16 more times).
    _submit(uni, at=MORNING + timedelta(minutes=10))
    assert send_review_digests(MORNING + timedelta(hours=1)) == 0


def test_the_next_digest_lists_only_what_arrived_since_and_still_waits(uni):
    first = _submit(uni, title="第一件")
    send_review_digests(MORNING)
    second = _submit(uni, at=MORNING + timedelta(hours=3), title="第二件")
    reviewed = _submit(uni, at=MORNING + timedelta(hours=4), title="已处理的")
    with clock.held_at(MORNING + timedelta(hours=5)):
        inventory.perform_action(reviewed.id, "college_approve", actor=uni["college_admin"])
    next_day = MORNING + timedelta(days=1)
    assert send_review_digests(next_day) >= 1
    digest = _notices(uni["college_admin"], "review_digest")[-1]
    assert "第二件" in digest.body and "第一件" not in digest.body and "已处理的" not in digest.body
    assert "共有 2 件专利等待您审核" in digest.body  # the first still waits too
    assert second.application_no in digest.body and first.application_no not in digest.body
    # The university admin hears of the approved one, now 待学校审核.
    (school,) = _notices(uni["admin"], "review_digest")
    assert school.title.startswith("待学校审核：新到 1 件") and "已处理的" in school.body


def test_no_digest_before_the_digest_hour(uni, app, monkeypatch):
    _submit(uni)
    early = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)  # 06:00 in Beijing
    assert send_review_digests(early) == 0
    monkeypatch.setitem(app.config, "REVIVE_DIGEST_HOUR", 6)
    assert send_review_digests(early) == 1


# ---------------------------------------------------------------------------- menu counts


def _count_statements(client, path):
    from revive.extensions import db as _db

    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(_db.engine, "before_cursor_execute", record)
    try:
        html = client.get(path).get_data(as_text=True)
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", record)
    return html, seen


def test_the_menu_counts_the_review_queue_once_per_request(uni, client, auth):
    for _ in range(3):
        _submit(uni)
    auth.login(uni["college_admin"])
    html, statements = _count_statements(client, "/patents/review")
    nav = html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    assert 'aria-label="3 件待审核">3</span>' in nav
    counts = [s for s in statements if "count(patents.id)" in s and "patents.status" in s]
    # The queue page counts its own list; the menu adds one COUNT, shown twice (item, group).
    assert len(counts) == 2, counts


def test_an_inventor_sees_what_was_returned_to_them(uni, client, auth):
    p = _patent(uni, S.PENDING_COLLEGE)
    inventory.perform_action(p.id, "college_return", actor=uni["college_admin"], comment="补")
    auth.login(uni["inventor"])
    nav = client.get("/").get_data(as_text=True).split('<nav class="mainnav"', 1)[1]
    assert 'aria-label="1 件退回待修改"' in nav.split("</nav>", 1)[0]


@pytest.mark.parametrize(
    ("status", "action", "title"),
    [
        (S.PENDING_SCHOOL, "school_return", "学校退回了本学院的专利《一种复合材料》"),
        (S.PENDING_SCHOOL, "not_enter", "本学院的专利《一种复合材料》未予入库"),
        (S.ENTERED, "reopen", "学校撤回了本学院专利《一种复合材料》的审核结论"),
    ],
)
def test_the_college_admin_hears_of_the_schools_decisions_on_its_patents(
    uni, status, action, title
):
    """A tester's college admin heard nothing when the school returned two of its patents."""
    p = _patent(uni, status, title="一种复合材料")
    inventory.perform_action(p.id, action, actor=uni["admin"], comment="联系电话缺失")
    (n,) = _notices(uni["college_admin"])
    assert title in n.title and "联系电话缺失" in n.body and n.link == f"/patents/{p.id}"
    assert not _notices(uni["other_admin"])  # another college's admin


def test_the_college_admin_is_not_told_of_its_own_return(uni):
    p = _patent(uni, S.PENDING_COLLEGE, title="一种复合材料")
    inventory.perform_action(p.id, "college_return", actor=uni["college_admin"], comment="补")
    assert not _notices(uni["college_admin"])


# ---------------------------------------------------------------------------- batches


def test_a_batch_tells_each_person_once_with_their_patents_listed(uni):
    """A school's batch 不入库 of many patents had sent their college admin one message each."""
    patents = [_patent(uni, S.PENDING_SCHOOL, title=f"一种复合材料{i}") for i in range(25)]
    solo = make_patent(
        uni["org"], college=uni["other"], status=S.PENDING_SCHOOL, title="一种单独的专利"
    )
    result = inventory.perform_batch(
        [p.id for p in patents] + [solo.id], "not_enter", actor=uni["admin"], comment="无市场"
    )
    assert len(result.done) == 26
    for person in ("inventor", "co_inventor"):
        (n,) = _notices(uni[person])
        assert n.kind == "patent_not_entered" and n.title == "您的 25 件专利未予入库"
        assert "王校管" in n.body and "原因：无市场" in n.body
        assert f"· {patents[0].application_no}《一种复合材料0》" in n.body
        assert "《一种复合材料19》" in n.body and "《一种复合材料20》" not in n.body
        assert "……另有 5 件" in n.body
        assert n.link == "/patents/?status=not_entered"
    (college,) = _notices(uni["college_admin"])
    assert college.title == "本学院的 25 件专利未予入库"
    # One patent in the batch: the single notice, as if it had been decided alone.
    (other,) = _notices(uni["other_admin"])
    assert other.title == "本学院的专利《一种单独的专利》未予入库"
    assert other.link == f"/patents/{solo.id}" and solo.application_no in other.body


def test_a_person_both_inventor_and_college_admin_reads_a_neutral_title(uni):
    both = [
        make_patent(
            uni["org"],
            college=uni["college"],
            status=S.PENDING_SCHOOL,
            inventors=[uni["college_admin"]] if i else [uni["inventor"]],
        )
        for i in range(3)
    ]
    inventory.perform_batch(
        [p.id for p in both], "school_return", actor=uni["admin"], comment="补数据"
    )
    (n,) = _notices(uni["college_admin"])  # inventor of two, college admin of the third
    assert n.title == "3 件专利被学校退回，请修改后重新提交"
    (mine,) = _notices(uni["inventor"])  # one patent: the single notice
    assert "您的专利《" in mine.title


def test_a_batch_sends_one_email_per_person(uni, app, enqueued, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    patents = [_patent(uni, S.PENDING_COLLEGE) for _ in range(4)]
    inventory.perform_batch(
        [p.id for p in patents], "college_return", actor=uni["college_admin"], comment="补"
    )
    sent = sorted(args[0] for name, args in enqueued if name == "notifications.email")
    ids = sorted(n.id for n in _notices(uni["inventor"]) + _notices(uni["co_inventor"]))
    assert sent == ids and len(ids) == 2
