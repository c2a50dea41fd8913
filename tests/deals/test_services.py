"""Deal services: failure reasons, contracts, responses, overdue reminders, notifications,
audit events and optimistic locking."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from revive import clock
from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.db import as_utc, utcnow
from revive.deals import queries, services
from revive.deals.models import Contract, Deal, DealEvent, Stage, UniversityResponse
from revive.errors import ConflictError, InvalidTransition, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory.models import PatentType
from revive.notifications.models import Notification
from revive.review import services as decisions
from tests.audit.helpers import events
from tests.deals.helpers import advance, contract_data, make_overdue, sign
from tests.factories import make_user
from tests.matching.helpers import entered


def _notes(deal: Deal, kind: str | None = None) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.deal_id == deal.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def _recipients(notes: list[Notification]) -> set[tuple[str, int]]:
    return {("org", n.organization_id) if n.organization_id else ("user", n.user_id) for n in notes}


def _audit(entity: str, entity_id: int) -> list[AuditEvent]:
    return events(entity=entity, entity_id=entity_id)


# ---------------------------------------------------------------------------- push


def test_push_creates_a_recommended_deal_with_a_deadline_and_tells_both_sides(world, app):
    before = utcnow()
    deal = world.own_deal()
    assert deal.stage == Stage.RECOMMENDED
    assert deal.university_id == world.uni_a.id and deal.enterprise_id == world.ent_a.id
    days = app.config["REVIVE_RESPONSE_DAYS"]
    due = as_utc(deal.response_due_at)
    assert before + timedelta(days=days) <= due <= utcnow() + timedelta(days=days)
    assert _recipients(_notes(deal, "match_pushed")) == {
        ("org", world.ent_a.id),
        ("org", world.uni_a.id),
    }
    assert [e.to_stage for e in deal.events] == [Stage.RECOMMENDED]


# ---------------------------------------------------------------------------- failure


def test_failing_needs_a_reason_from_the_list(world):
    deal = world.own_deal()
    for reason in (None, "", "no_such_reason"):
        with pytest.raises(ValidationFailed, match="未成交原因"):
            services.change_stage(deal.id, "fail", world.officer, reason=reason)
        db.session.rollback()
    assert db.session.get(Deal, deal.id).stage == Stage.RECOMMENDED


def test_other_reason_needs_a_comment(world):
    deal = world.own_deal()
    for blank in ("  ", "\u200b", "\ufeff\u200d\u3000"):  # spaces or invisible characters only
        with pytest.raises(ValidationFailed, match="其他"):
            services.change_stage(deal.id, "fail", world.officer, reason="other", comment=blank)
    services.change_stage(deal.id, "fail", world.officer, reason="other", comment="企业被收购")
    deal = db.session.get(Deal, deal.id)
    assert (deal.stage, deal.failure_reason, deal.failure_comment) == (
        Stage.FAILED,
        "other",
        "企业被收购",
    )
    assert "其他：企业被收购" in deal.events[-1].comment


def test_failure_is_audited_and_both_sides_hear_of_it(world):
    deal = world.own_deal()
    services.change_stage(deal.id, "fail", world.officer, reason="price", comment="报价差距大")
    (event,) = [a for a in _audit("deal", deal.id) if a.action == "fail"]
    assert event.actor_id == world.officer.id
    assert event.organization_id == world.uni_a.id
    assert event.data == {
        "from_stage": "recommended",
        "to_stage": "failed",
        "reason": "price",
        "comment": "报价差距大",
    }
    # the officer acted: both organizations are told, the officer is not told of their own act
    assert _recipients(_notes(deal, "deal_stage")) == {
        ("org", world.ent_a.id),
        ("org", world.uni_a.id),
    }


# ---------------------------------------------------------------------------- notifications


@pytest.mark.parametrize(
    ("role", "told"),
    [
        (Role.ENTERPRISE, {"uni", "officer"}),
        (Role.UNIVERSITY_ADMIN, {"ent", "officer"}),
        (Role.INVENTOR, {"ent", "officer"}),
        (Role.OFFICER, {"ent", "uni"}),
        (Role.PLATFORM_ADMIN, {"ent", "uni", "officer"}),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else "",
)
def test_a_stage_change_notifies_the_other_side(world, role, told):
    deal = world.own_deal(response=UniversityResponse.INTERESTED)
    actor = world.users[role]
    services.change_stage(deal.id, "contact", actor)
    names = {("org", world.ent_a.id): "ent", ("org", world.uni_a.id): "uni"}
    names[("user", world.officer.id)] = "officer"
    notes = _notes(deal, "deal_stage")
    assert {names[r] for r in _recipients(notes)} == told
    assert all(n.link == f"/deals/{deal.id}" for n in notes)
    assert all("已接洽" in n.title for n in notes)


def test_an_enterprise_cannot_put_a_link_in_a_deal_comment(world):
    """An enterprise's comment goes into the university's and the officer's notices and
    e-mails: a self-registered account's text carries no links. Staff may quote an address."""
    deal = world.own_deal(response=UniversityResponse.INTERESTED)
    before = len(_notes(deal))
    with pytest.raises(ValidationFailed, match="说明不能包含网址"):
        services.change_stage(
            deal.id,
            "contact",
            world.users[Role.ENTERPRISE],
            comment="请访问 http://revive-verify.example/login 重新验证账号",
        )
    db.session.rollback()
    assert db.session.get(Deal, deal.id).stage == Stage.RECOMMENDED
    assert len(_notes(deal)) == before
    services.change_stage(deal.id, "contact", world.officer, comment="资料见 https://x.example.cn")
    assert db.session.get(Deal, deal.id).stage == Stage.CONTACTED


def test_other_universities_and_enterprises_are_never_notified(world):
    deal = world.own_deal()
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    services.change_stage(deal.id, "contact", world.users[Role.ENTERPRISE])
    orgs = {n.organization_id for n in _notes(deal)} - {None}
    assert orgs == {world.uni_a.id, world.ent_a.id}


# ---------------------------------------------------------------------------- response


def test_university_response_is_recorded_with_time_and_event(world):
    deal = world.own_deal()
    admin = world.users[Role.UNIVERSITY_ADMIN]
    services.respond(deal.id, "interested", admin, comment="请联系技术转移中心李老师")
    deal = db.session.get(Deal, deal.id)
    assert deal.response == UniversityResponse.INTERESTED
    assert deal.responded_by_id == admin.id and deal.responded_at is not None
    assert deal.response_comment == "请联系技术转移中心李老师"
    assert deal.stage == Stage.RECOMMENDED  # answering does not move the stage
    assert deal.events[-1].kind == "response"
    assert "愿意对接" in deal.events[-1].comment
    assert _recipients(_notes(deal, "deal_response")) == {
        ("org", world.ent_a.id),
        ("user", world.officer.id),
    }
    assert [a.action for a in _audit("deal", deal.id)][-1] == "respond"


def test_labels_are_accepted_and_a_changed_answer_keeps_the_first_answer_time(world):
    deal = world.own_deal()
    inventor = world.users[Role.INVENTOR]
    services.respond(deal.id, "暂不对接", inventor)
    first = db.session.get(Deal, deal.id).responded_at
    with pytest.raises(InvalidTransition, match="无需重复"):
        services.respond(deal.id, "declined", inventor)
    services.respond(deal.id, "interested", world.users[Role.COLLEGE_ADMIN], comment="条件满足")
    deal = db.session.get(Deal, deal.id)
    assert deal.response == UniversityResponse.INTERESTED
    assert deal.responded_at == first
    assert [e.kind for e in deal.events].count("response") == 2


def test_an_answer_changed_back_and_forth_leaves_one_unread_notice_per_recipient(world):
    """A tester changed a deal's answer 16 times: 32 notices (and e-mails). A change within
    half an hour replaces the last notice: its text is the latest answer and it is unread
    again, even for someone who had read the previous one."""
    from revive.notifications import queries as inbox
    from revive.notifications import services as notices

    deal = world.own_deal()
    admin, enterprise = world.users[Role.UNIVERSITY_ADMIN], world.users[Role.ENTERPRISE]
    services.respond(deal.id, "interested", admin)
    first = _notes(deal, "deal_response")
    read = next(n.id for n in first if n.organization_id)
    notices.mark_read(read, enterprise)

    def unread() -> set[int]:
        return {n.id for n in inbox.inbox_page(enterprise, 1, 50, unread_only=True).items}

    assert read not in unread()
    for answer in ("declined", "interested", "declined"):
        services.respond(deal.id, answer, admin)
    notes = _notes(deal, "deal_response")
    assert [n.id for n in notes] == [n.id for n in first]  # the same two rows
    assert all("暂不对接" in n.title for n in notes)
    assert read in unread()  # the news is new again
    # after a quiet half hour, the next change is news of its own
    for n in notes:
        n.created_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    services.respond(deal.id, "interested", admin)
    assert len(_notes(deal, "deal_response")) == 4


def test_an_officer_asks_an_overdue_university_again_once_a_day(world):
    """催办: the automatic reminder goes out once; an officer found a deal 15 days overdue
    with nothing more to do than wait."""
    deal = make_overdue(world.own_deal(), days=15)
    services.remind(deal.id, world.officer, comment="企业急需，请本周内答复")
    (note,) = _notes(deal, "response_reminder")
    assert note.organization_id == world.uni_a.id
    assert "王经理" in note.body and "已逾期 15 天" in note.body and "本周内" in note.body
    assert deal.events[-1].kind == "reminder"
    (event,) = [e for e in _audit("deal", deal.id) if e.action == "remind"]
    assert event.data["days_overdue"] == 15
    with pytest.raises(InvalidTransition, match="每天最多催办一次"):
        services.remind(deal.id, world.officer)
    db.session.rollback()
    deal = db.session.get(Deal, deal.id)
    deal.events[-1].created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    services.remind(deal.id, world.officer)
    assert len(_notes(deal, "response_reminder")) == 2


def test_only_an_overdue_unanswered_deal_is_reminded_and_only_by_staff(world):
    deal = world.own_deal()
    with pytest.raises(InvalidTransition, match="没有逾期"):
        services.remind(deal.id, world.officer)
    db.session.rollback()
    make_overdue(deal)
    for role in (Role.UNIVERSITY_ADMIN, Role.ENTERPRISE):
        with pytest.raises(PermissionDenied):
            services.remind(deal.id, world.users[role])
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    with pytest.raises(InvalidTransition):
        services.remind(deal.id, world.officer)
    assert _notes(deal, "response_reminder") == []


@pytest.mark.parametrize("value", ["", "maybe", None])
def test_response_must_be_one_of_the_two(world, value):
    deal = world.own_deal()
    with pytest.raises(ValidationFailed):
        services.respond(deal.id, value, world.users[Role.UNIVERSITY_ADMIN])


@pytest.mark.parametrize(
    "role", [Role.ENTERPRISE, Role.OFFICER, Role.PLATFORM_ADMIN, Role.REGULATOR]
)
def test_only_the_university_side_may_respond(world, role):
    deal = world.own_deal()
    with pytest.raises(PermissionDenied):
        services.respond(deal.id, "interested", world.users[role])
    assert db.session.get(Deal, deal.id).response is None


def test_a_closed_deal_cannot_be_answered(world):
    deal = world.own_deal()
    services.change_stage(deal.id, "fail", world.officer, reason="demand_changed")
    with pytest.raises(InvalidTransition):
        services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])


# ---------------------------------------------------------------------------- overdue


def test_overdue_means_open_unanswered_and_past_due(world):
    fresh = world.own_deal()
    late = make_overdue(world.own_deal())
    answered = make_overdue(world.own_deal())
    services.respond(answered.id, "declined", world.users[Role.UNIVERSITY_ADMIN])
    failed = make_overdue(world.own_deal())
    services.change_stage(failed.id, "fail", world.officer, reason="no_response")
    states = {
        d.id: queries.is_overdue(db.session.get(Deal, d.id))
        for d in (fresh, late, answered, failed)
    }
    assert states == {fresh.id: False, late.id: True, answered.id: False, failed.id: False}
    overdue_ids = set(db.session.scalars(sa.select(Deal.id).where(queries.overdue_clause())))
    assert overdue_ids == {late.id}


def test_late_answer_is_marked_in_the_audit(world):
    deal = make_overdue(world.own_deal())
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    assert _audit("deal", deal.id)[-1].data["late"] is True
    assert not queries.is_overdue(db.session.get(Deal, deal.id))


def test_notify_overdue_reminds_the_university_and_the_officer_once(world):
    late = make_overdue(world.own_deal())
    on_time = world.own_deal()
    other = make_overdue(world.other_deal())
    assert sorted(services.notify_overdue()) == sorted([late.id, other.id])
    assert _recipients(_notes(late, "response_overdue")) == {
        ("org", world.uni_a.id),
        ("user", world.officer.id),
    }
    assert _recipients(_notes(other, "response_overdue")) == {
        ("org", world.uni_b.id),
        ("user", world.officer.id),
    }
    assert _notes(on_time, "response_overdue") == []
    # the deadline is a moment: its day alone read as a day earlier than it was
    due = clock.format_dt(db.session.get(Deal, late.id).response_due_at)
    bodies = [n.body for n in _notes(late, "response_overdue")]
    assert any(f"未在答复期限 {due}（北京时间）前答复" in b for b in bodies), bodies
    assert services.notify_overdue() == []  # once per deal
    assert len(_notes(late, "response_overdue")) == 2


def test_notify_overdue_command_and_task(world, runner):
    make_overdue(world.own_deal())
    from revive.deals.cli import notify_overdue_command

    result = runner.invoke(notify_overdue_command)
    assert result.exit_code == 0, result.output
    assert "已提醒 1 条" in result.output
    from workers import tasks

    make_overdue(world.own_deal())
    tasks.notify_overdue_deals()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Notification.kind == "response_overdue", Notification.organization_id.is_not(None)
            )
        )
        == 2
    )


def test_reminder_links_work_without_a_request(world, app, monkeypatch):
    """The worker and the CLI have no request and production sets no SERVER_NAME."""
    deal = make_overdue(world.own_deal())
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    with app.app_context():
        assert services.notify_overdue() == [deal.id]
    db.session.expire_all()
    assert {n.link for n in _notes(deal, "response_overdue")} == {f"/deals/{deal.id}"}


# ---------------------------------------------------------------------------- contract


def _negotiating(world) -> Deal:
    return advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)


def test_signing_records_a_traceable_contract(world):
    deal = _negotiating(world)
    contract = services.record_contract(
        deal.id, contract_data(kind="转让", amount_wan="88", record_no=""), world.officer
    )
    contract = db.session.get(Contract, contract.id)
    assert contract.deal.stage == Stage.SIGNED
    # contract → deal → demand + patent
    assert contract.deal.demand_id == deal.demand_id
    assert contract.deal.patent_id == deal.patent_id
    assert contract.deal.match.demand_id == deal.demand_id
    assert (contract.kind.label, contract.amount_wan, contract.record_no) == (
        "转让",
        Decimal("88.00"),
        None,
    )
    assert contract.created_by_id == world.officer.id
    (audit,) = _audit("contract", contract.id)
    assert audit.data["deal_id"] == deal.id
    assert audit.data["demand_id"] == deal.demand_id
    assert audit.data["patent_id"] == deal.patent_id
    assert audit.data["amount_wan"] == "88.00"
    sign_event = db.session.get(Deal, deal.id).events[-1]
    assert (sign_event.from_stage, sign_event.to_stage) == (Stage.NEGOTIATING, Stage.SIGNED)
    assert "转让合同" in sign_event.comment
    assert _recipients(_notes(deal, "deal_stage")) >= {
        ("org", world.ent_a.id),
        ("org", world.uni_a.id),
    }


TODAY = date.today()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "", "合同类型"),
        ("kind", "赠与", "合同类型"),
        ("amount_wan", "", "合同金额"),
        ("amount_wan", "-1", "不能为负数"),
        ("amount_wan", "abc", "须为数字"),
        ("amount_wan", "NaN", "须为数字"),
        ("amount_wan", "1.234", "两位小数"),
        ("amount_wan", "1000000000000000", "须小于 1,000,000 万元"),
        ("amount_wan", "1e15", "不要用科学计数法"),
        ("amount_wan", "1000000", "100 亿元"),
        ("amount_wan", "10000", "超过 1 亿元"),  # unconfirmed
        ("signed_on", "", "签约日期"),
        ("signed_on", "2024-13-01", "签约日期"),
        ("signed_on", (TODAY + timedelta(days=2)).isoformat(), "不能晚于今天"),
        ("signed_on", "2000-01-01", "不能早于推荐日期"),
        ("parties", "  ", "当事方"),
        ("parties", "甲" * 501, "当事方"),
        ("record_no", "9" * 101, "备案号"),
    ],
)
def test_contract_validation(world, field, value, message):
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed, match=message) as exc:
        services.record_contract(deal.id, contract_data(**{field: value}), world.officer)
    assert field in exc.value.details
    db.session.rollback()
    deal = db.session.get(Deal, deal.id)
    assert deal.stage == Stage.NEGOTIATING and deal.contract is None


def test_a_large_amount_is_recorded_once_confirmed(world):
    """万元 is easy to mistake for 元: from 1 亿元 (10,000 万元) the figure is confirmed."""
    deal = _negotiating(world)
    contract = services.record_contract(
        deal.id, contract_data(amount_wan="35000", confirm_amount=True), world.officer
    )
    assert contract.amount_wan == Decimal("35000.00")


def test_correcting_a_contract_needs_the_version_it_was_read_at(world):
    deal = _negotiating(world)
    services.record_contract(deal.id, contract_data(), world.officer)
    with pytest.raises(ValidationFailed, match="version") as exc:
        services.record_contract(deal.id, contract_data(amount_wan="99"), world.officer)
    assert "version" in exc.value.details
    db.session.rollback()
    deal = db.session.get(Deal, deal.id)
    fixed = services.record_contract(
        deal.id, contract_data(amount_wan="99"), world.officer, expected_version=deal.version
    )
    assert fixed.amount_wan == Decimal("99.00")


def test_zero_amount_is_a_valid_contract(world):
    """Open licences and some equity deals carry no cash amount."""
    from tests.licensing.helpers import make_declaration

    deal = _negotiating(world)
    make_declaration(deal.patent, start_date=date(2020, 1, 1), end_date=date(2099, 12, 31))
    contract = services.record_contract(
        deal.id, contract_data(kind="open_license", amount_wan="0"), world.officer
    )
    assert contract.amount_wan == Decimal("0.00")


def test_signing_needs_a_contract_and_the_negotiating_stage(world):
    deal = world.own_deal()
    with pytest.raises(InvalidTransition):
        services.record_contract(deal.id, contract_data(), world.officer)
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed, match="登记合同"):
        services.change_stage(deal.id, "sign", world.officer)
    assert db.session.get(Deal, deal.id).stage == Stage.NEGOTIATING


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.UNIVERSITY_ADMIN, Role.REGULATOR])
def test_only_staff_record_contracts(world, role):
    deal = _negotiating(world)
    with pytest.raises(PermissionDenied):
        services.record_contract(deal.id, contract_data(), world.users[role])


def test_contract_correction_after_signing(world):
    deal = sign(world.own_deal(), record_no="")
    contract = deal.contract
    services.record_contract(
        deal.id,
        contract_data(record_no="2025-备-001"),
        world.officer,
        expected_version=deal.version,
    )
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).record_no == "2025-备-001"
    assert db.session.get(Deal, deal.id).events[-1].kind == "contract"
    update = _audit("contract", contract.id)[-1]
    assert update.action == "update"
    assert update.data["changes"] == {"record_no": [None, "2025-备-001"]}
    with pytest.raises(ValidationFailed, match="没有变化"):
        services.record_contract(
            deal.id,
            contract_data(record_no="2025-备-001"),
            world.officer,
            expected_version=db.session.get(Deal, deal.id).version,
        )


# ---------------------------------------------------------------------------- locking


def test_a_stale_version_is_refused(world):
    deal = world.own_deal(response=UniversityResponse.INTERESTED)
    seen = deal.version
    services.change_stage(deal.id, "contact", world.users[Role.ENTERPRISE], expected_version=seen)
    with pytest.raises(ConflictError, match="已被他人修改，请刷新"):
        services.change_stage(deal.id, "fail", world.officer, reason="price", expected_version=seen)
    with pytest.raises(ConflictError, match="已被他人修改，请刷新"):
        services.respond(deal.id, "declined", world.users[Role.INVENTOR], expected_version=seen)
    deal = db.session.get(Deal, deal.id)
    assert deal.stage == Stage.CONTACTED and deal.response == UniversityResponse.INTERESTED


def test_a_stale_form_of_the_same_user_says_the_change_was_theirs(world):
    """A second window or a double submit: "您", when, and the stage now (as a stale match
    decision says, matching.decisions.decided_message); a change by anyone else — even
    mixed with the user's own — keeps the general message and names nobody."""
    deal = world.own_deal(response=UniversityResponse.INTERESTED)
    ent = world.users[Role.ENTERPRISE]
    seen = deal.version
    services.change_stage(deal.id, "contact", ent, expected_version=seen)
    services.change_stage(deal.id, "negotiate", ent)
    changed_at = db.session.scalars(
        sa.select(DealEvent.created_at).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id)
    ).all()[-1]
    with pytest.raises(ConflictError) as own:
        services.change_stage(deal.id, "contact", ent, expected_version=seen)
    assert own.value.message == (
        f"该对接记录已由您于 {clock.format_dt(changed_at)} 修改（可能在另一个窗口或重复提交），"
        "当前阶段为「洽谈中」，请刷新后查看"
    )
    before_answer = db.session.get(Deal, deal.id).version
    services.respond(deal.id, "interested", world.users[Role.INVENTOR], comment="联系人：张老师")
    for stale in (seen, before_answer):  # the university's answer came after
        with pytest.raises(ConflictError) as other:
            services.change_stage(deal.id, "fail", ent, reason="price", expected_version=stale)
        assert other.value.message == services.STALE_DEAL
        assert "您" not in other.value.message and "张发明" not in other.value.message
    # the inventor's own second window
    with pytest.raises(ConflictError, match="已由您于"):
        services.respond(
            deal.id, "declined", world.users[Role.INVENTOR], expected_version=before_answer
        )


def test_a_write_made_after_the_page_was_read_is_seen_before_acting(world):
    """Another process saved the deal after this one had read it: the deal is held and read
    afresh before the move, so a form that named the version it showed is refused, and a move
    without one applies to what is there now (never over a change it did not see)."""
    deal = world.own_deal()
    shown = db.session.get(Deal, deal.id).version  # loaded in this session at version n
    db.session.execute(
        sa.text("UPDATE deals SET version = version + 1 WHERE id = :id"), {"id": deal.id}
    )
    with pytest.raises(ConflictError, match="请刷新"):
        services.change_stage(deal.id, "contact", world.officer, expected_version=shown)
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage == Stage.RECOMMENDED
    assert db.session.scalar(sa.select(sa.func.count()).where(DealEvent.deal_id == deal.id)) == 1
    moved = services.change_stage(deal.id, "contact", world.officer)
    assert moved.stage == Stage.CONTACTED and moved.version == shown + 2


def _candidate_read_then_bumped(world):
    """A candidate loaded in this session (held, so the identity map keeps it), then decided
    elsewhere (its version bumped)."""
    from revive.matching.models import Match
    from tests.matching.helpers import entered, make_demand

    match = Match(
        demand_id=make_demand(world.ent_a).id,
        patent_id=entered(world.uni_a).id,
        score=0.5,
        terms=[],
    )
    db.session.add(match)
    db.session.commit()
    db.session.get(Match, match.id)
    db.session.execute(
        sa.text("UPDATE matches SET version = version + 1 WHERE id = :id"), {"id": match.id}
    )
    return match


@pytest.mark.parametrize("decision", ["accepted", "rejected"])
def test_a_concurrent_decision_is_a_conflict(world, decision):
    """Accepting flushes the match before the commit (to create the deal): both are caught."""
    match = _candidate_read_then_bumped(world)
    with pytest.raises(ConflictError, match="已被他人处理，请刷新"):
        decisions.decide(match.id, decision, world.officer, reason_code="vague")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0


@pytest.mark.parametrize("decision", ["accepted", "rejected"])
def test_a_concurrent_decision_is_skipped_in_bulk(world, decision):
    match = _candidate_read_then_bumped(world)
    match_id = match.id
    result = decisions.decide_selected([match_id], decision, world.officer, reason_code="vague")
    assert result == {"done": [], "skipped": [(match_id, decisions.STALE_MATCH)]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0


def test_every_change_bumps_the_version(world):
    deal = world.own_deal()
    versions = [deal.version]
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    versions.append(db.session.get(Deal, deal.id).version)
    advance(deal, Stage.CONTACTED, Stage.NEGOTIATING)
    versions.append(db.session.get(Deal, deal.id).version)
    services.record_contract(deal.id, contract_data(), world.officer)
    versions.append(db.session.get(Deal, deal.id).version)
    services.record_contract(
        deal.id, contract_data(record_no="X-1"), world.officer, expected_version=versions[-1]
    )
    versions.append(db.session.get(Deal, deal.id).version)
    assert versions == sorted(set(versions))


def test_days_in_stage(world):
    deal = world.own_deal()
    assert queries.days_in_stage(deal) == 0
    deal.stage_changed_at = utcnow() - timedelta(days=3, hours=2)
    db.session.commit()
    assert queries.days_in_stage(db.session.get(Deal, deal.id)) == 3


def test_unknown_deal_is_not_found(world):
    from revive.errors import NotFoundError

    with pytest.raises(NotFoundError):
        services.change_stage(999999, "contact", world.officer)
    user = make_user(Role.ENTERPRISE)
    deal = world.own_deal()
    with pytest.raises(NotFoundError):
        services.change_stage(deal.id, "contact", user)


def test_comment_length_is_limited(world):
    deal = world.own_deal()
    with pytest.raises(ValidationFailed, match="不能超过 2000 字"):
        services.change_stage(deal.id, "contact", world.officer, comment="长" * 2001)
    with pytest.raises(ValidationFailed, match="答复说明不能超过"):
        services.respond(deal.id, "interested", world.users[Role.INVENTOR], comment="长" * 2001)
    assert db.session.get(Deal, deal.id).stage == Stage.RECOMMENDED


def test_no_contract_is_signed_for_a_patent_after_its_term_ended(world):
    """A user saw a utility model filed in 2014 licensed for 25 万元 in 2026."""
    expired = entered(
        world.uni_a,
        college=world.college_a,
        patent_type=PatentType.UTILITY,
        legal_status="有效",
    )
    deal = advance(world.own_deal(patent=expired), Stage.CONTACTED, Stage.NEGOTIATING)
    expired.filing_date = date(2014, 5, 27)  # corrected after the push (none is made past it)
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(deal.id, contract_data(), world.officer)
    assert "专利保护期已于 2024-05-27 届满" in refused.value.details["signed_on"]
    assert db.session.get(Deal, deal.id).stage == Stage.NEGOTIATING


def test_a_patent_assigned_on_one_deal_ends_its_other_deals(world):
    """A security review signed two 转让 contracts for one patent with two enterprises: the
    right left the university with the first. The other open deals end (未成交, 专利权已转让或
    作价入股), their enterprise is told, and none can be reopened or signed."""
    from revive.inventory.models import ImplementationStatus
    from tests.deals.helpers import make_deal
    from tests.matching.helpers import make_enterprise

    patent = entered(world.uni_a, college=world.college_a)
    first = world.own_deal(patent=patent)
    other_ent = make_enterprise("丙公司")
    second = make_deal(patent=patent, enterprise=other_ent, officer=world.officer)
    advance(second, Stage.CONTACTED, Stage.NEGOTIATING)
    sign(first, kind="assignment")
    second = db.session.get(Deal, second.id)
    assert second.stage == Stage.FAILED and second.failure_reason == "rights_gone"
    assert "转让合同" in second.failure_comment
    told = db.session.scalars(
        sa.select(Notification)
        .where(Notification.deal_id == second.id, Notification.organization_id == other_ent.id)
        .order_by(Notification.id)
    ).all()
    assert told and "专利权已不属于高校" in told[-1].title
    with pytest.raises(InvalidTransition, match="专利已转让"):
        services.change_stage(second.id, "reopen", world.officer, comment="再谈谈")
    # a deal left open from before (data older than this rule): its signing is refused
    third = make_deal(patent=entered(world.uni_a), enterprise=other_ent, officer=world.officer)
    advance(third, Stage.CONTACTED, Stage.NEGOTIATING)
    third.patent.implementation_status = ImplementationStatus.TRANSFERRED  # no signal: legacy
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(third.id, contract_data(kind="license"), world.officer)
    assert "专利已转让，专利权已不属于本单位" in refused.value.details["kind"]
    # the first deal's own contract can still be corrected (its record number added later)
    first = db.session.get(Deal, first.id)
    services.record_contract(
        first.id,
        contract_data(kind="assignment", record_no="2026110000999"),
        world.officer,
        expected_version=first.version,
    )


@pytest.mark.parametrize("typed", ["1e3", "1E+3", "2.5e2"])
def test_a_contract_amount_in_exponent_notation_is_refused(world, typed):
    """A tester's 1e3 was recorded as 1,000 万元; every other amount field refuses it."""
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(deal.id, contract_data(amount_wan=typed), world.officer)
    assert "不要用科学计数法" in refused.value.details["amount_wan"]
    contract = services.record_contract(deal.id, contract_data(amount_wan=1000), world.officer)
    assert contract.amount_wan == Decimal("1000.00")  # a JSON number is a number
