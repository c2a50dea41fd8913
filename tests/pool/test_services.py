"""The enterprise's side of the loop, below the pages: the public field set, search, intents,
officers' picks, what re-matching and closing do to them, the push note, the demand overview,
settings. (Named test_services.py: it runs on PostgreSQL too — LIKE on concatenations, the
tier CASE, JSON.)"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import sqlalchemy as sa

from revive.accounts.models import OrgKind, Role
from revive.api.pool import PublicPatentSchema
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.deals.models import Deal
from revive.demands import services as demand_services
from revive.demands.models import Demand, DemandStatus
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.evaluations.tiers import Tier
from revive.extensions import db
from revive.inventory.models import EntryStatus, TransferMode, Willingness
from revive.inventory.public import PRIVATE_FIELDS, PUBLIC_FIELDS, PublicPatent
from revive.matching import indexes, learning, manual, search
from revive.matching import queries as matching_queries
from revive.matching.models import DemandReading, Match, MatchSource, MatchState, MatchTier
from revive.notifications.models import Notification
from revive.pool import queries, status
from revive.review import services as decisions
from revive.settings import services as settings
from tests.factories import make_org, make_patent, make_user
from tests.matching.helpers import decide_match, make_demand
from tests.pool.conftest import SILICON, match_now

SILICON_DEMAND = {
    "title": "动力电池硅碳负极循环寿命提升",
    "description": "硅碳负极在充放电中体积膨胀，循环寿命不足。希望引进硅碳负极包覆改性技术，"
    "抑制体积膨胀、提高循环寿命和容量保持率。",
}


# ---------------------------------------------------------------------------- public fields


def test_public_field_set_never_holds_private_fields():
    assert not set(PUBLIC_FIELDS) & PRIVATE_FIELDS
    assert {"asking_price", "price_public", "value_grade"}.isdisjoint(PUBLIC_FIELDS)
    names = {f.name for f in dataclasses.fields(PublicPatent)}
    assert not names & PRIVATE_FIELDS
    assert "price_wan" in names  # only when the university marks it public


def test_public_view_hides_contacts_grade_and_price_unless_marked_public(world):
    p = world.patents["silicon"]
    view = queries.public_views([p])[0]
    record = PublicPatentSchema().dump(view)  # what the API answers (revive/api/pool.py)
    text = repr(record)
    for secret in ("0471-7654321", "secret.contact", "王老师", "某保密合作企业"):
        assert secret not in text
    assert "value_grade" not in record and view.price_wan is None
    assert view.price_text == "面议"
    assert view.region == "内蒙古自治区呼和浩特市" and view.college == "材料学院"
    assert view.inventors == p.inventors and view.modes_text == "普通许可、开放许可"
    p.price_public = True
    db.session.commit()
    shown = queries.public_views([p])[0]
    assert (
        shown.price_text == "88.52 万元"
        and PublicPatentSchema().dump(shown)["price_wan"] == "88.52"
    )


def test_a_patent_outside_the_pool_is_not_found(world):
    for key in ("draft", "pending"):
        with pytest.raises(NotFoundError):
            queries.get_public_patent(world.patents[key].id)
    _, view = queries.get_public_patent(world.patents["water"].id)
    assert view.licence is not None and "50" in view.licence.fee_summary
    assert view.licence.terms == "许可期内提供技术指导"


# ---------------------------------------------------------------------------- search


def _titles(f: queries.PoolFilters) -> list[str]:
    return [p.title for p in queries.search_page(f).items]


def test_search_ranks_by_the_engine_and_never_shows_drafts(world):
    found = queries.search_page(queries.parse_filters({"q": "硅碳负极 体积膨胀 循环寿命"}))
    assert found.ranked and found.page.index_version is not None
    titles = [p.title for p in found.items]
    assert titles[0] == SILICON["title"]
    assert "一种未入库的硅碳负极草稿专利" not in titles and "一种待审核的硅碳负极专利" not in titles
    assert found.page.scores[world.patents["silicon"].id] > 0


def test_search_without_words_lists_the_newest_entered_first(world):
    found = queries.search_page(queries.parse_filters({}))
    assert not found.ranked
    assert found.page.total == 4  # the four entered patents, not the draft or the pending one
    assert found.items[0].id == max(
        p.id for k, p in world.patents.items() if k in ("silicon", "battery", "water", "irrigation")
    )


def test_search_without_an_index_filters_the_words_in_sql(world, monkeypatch):
    monkeypatch.setattr(indexes, "load_active_index", lambda: None)
    found = queries.search_page(queries.parse_filters({"q": "污水"}))
    assert not found.ranked and [p.title for p in found.items] == [world.patents["water"].title]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"industry": "C38"}, {"silicon"}),
        ({"trl_min": "6"}, {"silicon", "water"}),
        ({"trl_min": "4", "trl_max": "6"}, {"silicon", "battery"}),
        ({"trl_min": "6", "trl_max": "4"}, {"silicon", "battery"}),  # swapped, not refused
        ({"mode": "license"}, {"silicon", "water"}),  # not matched inside "open_license"
        ({"mode": "open_license"}, {"silicon"}),
        ({"open_licence": "1"}, {"water"}),
        ({"region": "浙江"}, {"water", "irrigation"}),
        ({"tier": "D"}, set()),
    ],
)
def test_search_filters(world, args, expected):
    names = {v.id: k for k, v in world.patents.items()}
    found = queries.search_page(queries.parse_filters(args))
    assert {names[p.id] for p in found.items} == expected


def test_search_filters_by_university_and_tier(world):
    f = queries.parse_filters({"university": str(world.uni_b.id)})
    assert {p.institution for p in queries.search_page(f).items} == {"乙大学"}
    # Unevaluated, self 5★ and TRL 6: B 推荐推广 (evaluations.tiers); the others C.
    b = queries.search_page(queries.parse_filters({"tier": "B"})).items
    assert [p.id for p in b] == [world.patents["silicon"].id]
    assert Tier.B.value == "B"


@pytest.mark.parametrize(
    "args",
    [
        {"trl_min": "x", "trl_max": "99", "mode": "nope", "tier": "Z", "university": "-1"},
        {"page": "999999", "q": "\u0000"},
        {"industry": "%", "region": "_"},
    ],
)
def test_bad_search_parameters_are_ignored(world, args):
    f = queries.parse_filters(args)
    found = queries.search_page(f)
    assert found.page.total >= 0 and found.page.page >= 1


def test_search_words_respect_the_filters(world):
    f = queries.parse_filters({"q": "硅碳负极", "university": str(world.uni_b.id)})
    found = queries.search_page(f)
    # nothing ranked in that university: the text look-up that follows keeps the filters too
    assert not found.ranked and SILICON["title"] not in [p.title for p in found.items]
    assert found.page.total == 0


def test_suggestions_share_two_consecutive_characters_with_a_word(monkeypatch):
    """explore2 F15: 砂轮 掉砂 suggested 两轮、涡轮、燃气轮机、砂浆、石英砂、转轮 — one
    character in common. Only words holding a bigram of a query word are suggested, the most
    common first, never a word of the query itself."""
    vocabulary = ["两轮", "涡轮", "燃气轮机", "砂浆", "石英砂", "转轮", "砂轮片", "金刚石砂轮"]
    vocabulary += ["砂轮", "掉砂现象", "~砂轮"]
    idf = np.array([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0, 1.8, 0.5, 2.5, 0.1])
    fake = SimpleNamespace(vocabulary=vocabulary, idf=idf)
    monkeypatch.setattr(indexes, "load_active_index", lambda: (None, fake))
    assert search.query_bigrams("砂轮 掉砂") == {"砂轮", "掉砂"}
    assert search.suggest_words("砂轮 掉砂") == ["金刚石砂轮", "砂轮片", "掉砂现象"]
    assert search.suggest_words("砂") == [] and search.suggest_words("轮 砂") == []


def test_search_pages_beyond_the_last_are_clamped(world):
    result = search.search("", [sa.true()], 99, 2)
    assert result.page == result.pages


# ---------------------------------------------------------------------------- intents


def test_an_intent_creates_a_candidate_in_the_review_pipeline(world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "  想了解中试情况  ", demand_id=demand.id
    )
    assert m.source == MatchSource.INTENT and m.state == MatchState.CANDIDATE
    assert m.intent_message == "想了解中试情况" and m.intent_by_id == world.enterprise.id
    assert m.strength is not None and m.score > 0 and m.tier  # assessed with the loaded index
    assert m.rank is None  # not a place in the engine's ranking
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "intent"))
    assert event.organization_id == world.ent.id and event.data["message"] == "想了解中试情况"


def test_an_intent_on_a_machine_candidate_is_attached_to_it(world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    machine = db.session.scalar(
        sa.select(Match).where(
            Match.demand_id == demand.id, Match.patent_id == world.patents["silicon"].id
        )
    )
    assert machine.source == MatchSource.MACHINE
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "请安排交流", demand_id=demand.id
    )
    assert m.id == machine.id and m.source == MatchSource.MACHINE and m.has_intent
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) >= 1
    with pytest.raises(InvalidTransition, match="已就这条需求申请过"):
        manual.submit_intent(world.enterprise, m.patent_id, "再来一次", demand_id=demand.id)


def test_an_enterprise_withdraws_an_intent_officers_have_not_handled(world, enqueued):
    """An SME tester who picked the wrong demand could not take the request back. A pair made
    by the intent goes; a machine candidate stays without it; a decided one cannot."""
    demand = make_demand(world.ent, **SILICON_DEMAND)
    own = manual.submit_intent(
        world.enterprise, world.patents["battery"].id, "想了解", demand_id=demand.id
    )
    own_id = own.id
    assert manual.withdraw_intent(world.enterprise, own_id) is None
    assert db.session.get(Match, own_id) is None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "withdraw_intent"))
    assert event.entity_id == own_id and event.organization_id == world.ent.id

    match_now(enqueued, demand.id)
    machine = db.session.scalar(
        sa.select(Match).where(
            Match.demand_id == demand.id, Match.patent_id == world.patents["silicon"].id
        )
    )
    manual.submit_intent(world.enterprise, machine.patent_id, "请安排交流", demand_id=demand.id)
    kept = manual.withdraw_intent(world.enterprise, machine.id)
    assert kept is not None and kept.source == MatchSource.MACHINE and not kept.has_intent
    with pytest.raises(InvalidTransition, match="已经撤回"):
        manual.withdraw_intent(world.enterprise, machine.id)
    db.session.rollback()

    other = make_user(Role.ENTERPRISE, organization=make_org("别家公司", kind=OrgKind.ENTERPRISE))
    with pytest.raises(NotFoundError):
        manual.withdraw_intent(other, machine.id)
    with pytest.raises(PermissionDenied):
        manual.withdraw_intent(world.officer, machine.id)


def test_an_intent_can_make_a_minimal_demand(world, enqueued):
    patent = world.patents["battery"]
    title = manual.default_demand_title(patent)
    assert patent.title in title
    m = manual.submit_intent(
        world.enterprise, patent.id, "希望引进高镍正极", new_demand_title=title
    )
    demand = db.session.get(Demand, m.demand_id)
    assert demand.enterprise_id == world.ent.id and demand.title == title
    assert demand.description == "希望引进高镍正极" and demand.status == DemandStatus.OPEN
    assert any(name == "matching.match_run" for name, _ in enqueued)  # matched like any post


def test_a_demand_made_from_an_intent_has_the_users_contact(world, enqueued):
    """explore2 F18: a demand made on the patent page had no contact (联系人 —) although the
    account has one; the demand form starts with the user's own. A value the demand's own
    check would refuse is left out rather than refusing the intent."""
    world.enterprise.phone = "0471-1234567"
    db.session.commit()
    m = manual.submit_intent(
        world.enterprise, world.patents["battery"].id, "希望了解工艺", new_demand_title="引进"
    )
    demand = db.session.get(Demand, m.demand_id)
    assert demand.contact_name == "赵企业"
    assert demand.contact_phone == "0471-1234567"
    assert demand.contact_email == world.enterprise.email
    world.enterprise.phone = "请打座机"
    db.session.commit()
    m = manual.submit_intent(
        world.enterprise, world.patents["water"].id, "了解膜组件", new_demand_title="污水"
    )
    demand = db.session.get(Demand, m.demand_id)
    assert demand.contact_name == "赵企业" and demand.contact_phone is None


def test_the_same_new_demand_intent_sent_twice_posts_one_demand(world, enqueued):
    """A second click or a retried API call: refused, nothing posted twice; another title
    (another need) is a new demand."""
    patent = world.patents["battery"]
    first = manual.submit_intent(world.enterprise, patent.id, "了解成本", new_demand_title="储能")
    with pytest.raises(ConflictError, match="您已就该专利申请对接（需求“储能”）"):
        manual.submit_intent(world.enterprise, patent.id, "了解成本", new_demand_title="储能")
    titles = db.session.scalars(
        sa.select(Demand.title).where(Demand.enterprise_id == world.ent.id, Demand.title == "储能")
    ).all()
    assert titles == ["储能"]
    other = manual.submit_intent(world.enterprise, patent.id, "另一需求", new_demand_title="快充")
    assert other.demand_id != first.demand_id


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"message": ""}, ValidationFailed),
        ({"message": "长" * (manual.INTENT_MESSAGE_MAX + 1)}, ValidationFailed),
        ({"message": 12}, ValidationFailed),
        ({"message": "好", "demand_id": None}, ValidationFailed),  # neither demand nor a new one
        ({"message": "好", "demand_id": None, "new_demand_title": "  "}, ValidationFailed),
        ({"message": "好", "demand_id": None, "new_demand_title": "长" * 301}, ValidationFailed),
    ],
)
def test_intent_input_is_checked(world, kwargs, error):
    kwargs.setdefault("demand_id", make_demand(world.ent).id)
    with pytest.raises(error):
        manual.submit_intent(world.enterprise, world.patents["silicon"].id, **kwargs)
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0


def test_intents_are_refused_outside_their_rules(world):
    mine, theirs = make_demand(world.ent), make_demand(world.ent_b)
    silicon = world.patents["silicon"].id
    with pytest.raises(NotFoundError):  # another enterprise's demand looks like none
        manual.submit_intent(world.enterprise, silicon, "好", demand_id=theirs.id)
    with pytest.raises(NotFoundError):  # not in the pool
        manual.submit_intent(world.enterprise, world.patents["draft"].id, "好", demand_id=mine.id)
    with pytest.raises(PermissionDenied):
        manual.submit_intent(world.officer, silicon, "好", demand_id=mine.id)
    demand_services.close_demand(mine.id, actor=world.enterprise, reason="已解决")
    with pytest.raises(InvalidTransition, match="已关闭"):
        manual.submit_intent(world.enterprise, silicon, "好", demand_id=mine.id)


@pytest.mark.parametrize("state", [MatchState.ACCEPTED, MatchState.REJECTED])
def test_a_decided_pair_is_not_reopened_by_an_intent(world, state):
    demand = make_demand(world.ent)
    m = manual.add_candidate(world.officer, demand.id, world.patents["silicon"].id, "推荐")
    decide_match(m.id, state, world.officer, reason_code="too_costly")
    with pytest.raises(InvalidTransition):
        manual.submit_intent(world.enterprise, m.patent_id, "好", demand_id=demand.id)


def test_rematching_keeps_intents_and_picks_and_closing_keeps_them(world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    water = manual.submit_intent(
        world.enterprise, world.patents["water"].id, "顺便了解污水技术", demand_id=demand.id
    )
    picked = manual.add_candidate(world.officer, demand.id, world.patents["irrigation"].id, "试试")
    match_now(enqueued, demand.id)
    match_now(enqueued, demand.id)
    kept = {m.id for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))}
    assert {water.id, picked.id} <= kept
    demand_services.close_demand(demand.id, actor=world.enterprise, reason="已解决")
    left = set(db.session.scalars(sa.select(Match.id).where(Match.demand_id == demand.id)))
    assert left == {water.id, picked.id}  # the engine's candidates went, people's stayed


def test_learning_reads_only_the_engines_proposals(world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "好", demand_id=demand.id
    )
    decide_match(m.id, "accepted", world.officer)
    assert m.id not in learning.decisions().match_ids


# ---------------------------------------------------------------------------- officers


def test_an_officer_adds_a_patent_by_hand(world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.add_candidate(world.officer, demand.id, world.patents["silicon"].id, "团队有中试线")
    assert m.source == MatchSource.OFFICER and m.note == "团队有中试线"
    assert m.added_by_id == world.officer.id and m.strength is not None
    again = manual.add_candidate(world.officer, demand.id, m.patent_id, "更新说明")
    assert again.id == m.id and again.note == "更新说明"  # one's own note is replaced
    # Another officer's note on the same candidate is kept beside (a concurrency test lost it).
    colleague = make_user(Role.OFFICER, name="李经理")
    both = manual.add_candidate(colleague, demand.id, m.patent_id, "企业在包头有厂")
    assert both.note == "更新说明\n企业在包头有厂" and both.added_by_id == colleague.id
    with pytest.raises(PermissionDenied):
        manual.add_candidate(world.enterprise, demand.id, m.patent_id)
    with pytest.raises(NotFoundError):
        manual.add_candidate(world.officer, demand.id, world.patents["draft"].id)
    with pytest.raises(ValidationFailed):
        manual.add_candidate(world.officer, demand.id, m.patent_id, "长" * 2001)


def test_without_an_index_a_pick_is_shown_as_added_by_hand(world, monkeypatch):
    monkeypatch.setattr(indexes, "load_active_index", lambda: None)
    demand = make_demand(world.ent)
    m = manual.add_candidate(world.officer, demand.id, world.patents["water"].id, None)
    assert m.strength is None and m.tier is None and m.score == 0.0 and m.note is None


# ---------------------------------------------------------------------------- the push note


def test_the_push_note_reaches_the_deal_and_the_enterprises_notification(world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "请安排交流", demand_id=demand.id
    )
    decisions.decide(m.id, "accepted", world.officer, comment="团队可提供中试样品")
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == m.id))
    assert deal.note == "团队可提供中试样品"
    to_enterprise = db.session.scalar(
        sa.select(Notification).where(Notification.organization_id == world.ent.id)
    )
    assert "团队可提供中试样品" in to_enterprise.body and "对接申请" in to_enterprise.body
    to_university = db.session.scalar(
        sa.select(Notification).where(Notification.organization_id == world.uni.id)
    )
    assert "请安排交流" in to_university.body and "团队可提供中试样品" in to_university.body


def test_an_officers_note_is_pushed_when_the_push_form_says_nothing(world):
    demand = make_demand(world.ent)
    m = manual.add_candidate(world.officer, demand.id, world.patents["water"].id, "可现场考察")
    decisions.decide_selected([m.id], "accepted", world.officer)
    assert db.session.scalar(sa.select(Deal.note).where(Deal.match_id == m.id)) == "可现场考察"


# ---------------------------------------------------------------------------- overview


def test_the_overview_suggests_strong_candidates_and_counts_the_rest(world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    ov = status.demand_overview(world.enterprise, demand)
    shown = [s.patent.id for g in ov.groups for s in g.items]
    assert shown and shown[0] == world.patents["silicon"].id
    assert all(
        s.match.tier in (MatchTier.STRONG, MatchTier.MEDIUM) for g in ov.groups for s in g.items
    )
    assert world.patents["draft"].id not in shown
    assert ov.under_review >= len(shown) and ov.declined == 0 and not ov.unmet
    assert status.demand_overview(world.ent_b_user, demand) is None
    assert status.demand_overview(world.officer, demand) is None


def test_every_candidate_declined_makes_the_demand_unmet(world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND, cooperation_modes="license")
    match_now(enqueued, demand.id)
    for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id)).all():
        decide_match(m.id, "rejected", world.officer, reason_code="too_costly", comment="内部")
    ov = status.demand_overview(world.enterprise, demand)
    assert ov.unmet and ov.declined >= 1 and not ov.suggestion_count
    hints = ov.broaden_hints()
    assert any("普通许可" in h for h in hints)


@pytest.mark.parametrize(
    ("modes", "added", "not_added"),
    [
        ("license", "增加“合作开发”“转让”等方式", "“普通许可”“合作开发”"),
        ("joint_dev", "增加“普通许可”“转让”等方式", "增加“普通许可”“合作开发”"),
        ("assignment,license", "增加“合作开发”“独占或排他许可”等方式", "增加“普通许可”"),
        (
            "assignment,license,exclusive,open_license,joint_dev",
            "增加“作价入股”，可接受这种方式",
            "等方式",
        ),
    ],
)
def test_the_broadening_hint_adds_only_modes_not_chosen(world, modes, added, not_added):
    """explore2 F5: "目前只选了“普通许可”：增加“普通许可”“合作开发”等方式"."""
    demand = make_demand(world.ent, **SILICON_DEMAND, cooperation_modes=modes)
    (hint,) = [
        h
        for h in status.demand_overview(world.enterprise, demand).broaden_hints()
        if "合作方式" in h
    ]
    assert added in hint and not_added not in hint


def test_no_mode_hint_when_every_mode_is_chosen(world):
    every = ",".join(m.value for m in TransferMode)
    demand = make_demand(world.ent, **SILICON_DEMAND, cooperation_modes=every)
    hints = status.demand_overview(world.enterprise, demand).broaden_hints()
    assert not any("合作方式" in h for h in hints)


def test_only_a_posting_with_product_codes_is_told_to_avoid_them(world):
    """An SME trial's clear starch request was advised to avoid internal product codes."""
    plain = make_demand(world.ent, **SILICON_DEMAND)
    coded = make_demand(
        world.ent, title="XJ-200 型负极改性", description=SILICON_DEMAND["description"]
    )
    for demand, told in ((plain, False), (coded, True)):
        hints = status.demand_overview(world.enterprise, demand).broaden_hints()
        assert any("产品型号" in h for h in hints) == told


def test_a_demand_nothing_answers_is_unmet_with_nothing_pushed(world, enqueued):
    demand = make_demand(
        world.ent,
        title="航空发动机叶片单晶铸造",
        description="需要单晶高温合金叶片定向凝固铸造工艺",
    )
    match_now(enqueued, demand.id)
    ov = status.demand_overview(world.enterprise, demand)
    assert ov.matched and not ov.suggestion_count and ov.unmet


def test_the_overview_lists_pushed_notes_and_intents(world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "请安排交流", demand_id=demand.id
    )
    ov = status.demand_overview(world.enterprise, demand)
    assert [r.status for r in ov.intents] == ["审核中"] and ov.under_review == 1
    decisions.decide(m.id, "accepted", world.officer, comment="推荐理由")
    ov = status.demand_overview(world.enterprise, demand)
    assert [r.note for r in ov.pushed] == ["推荐理由"]
    assert [r.status for r in ov.intents] == ["已推送"] and ov.intents[0].deal_id


# ---------------------------------------------------------------------------- alerts, settings


def test_alert_subscription(world):
    demand = make_demand(world.ent)
    assert demand.alert_subscribed is True  # on by default
    demand_services.set_alerts(demand.id, False, actor=world.enterprise)
    assert db.session.get(Demand, demand.id).alert_subscribed is False
    with pytest.raises(ValidationFailed):
        demand_services.set_alerts(demand.id, "no", actor=world.enterprise)
    with pytest.raises(NotFoundError):
        demand_services.set_alerts(demand.id, True, actor=world.ent_b_user)
    with pytest.raises(PermissionDenied):
        demand_services.set_alerts(demand.id, True, actor=world.users[Role.REGULATOR])


def test_settings_default_off_and_change_by_the_platform_admin_only(world):
    assert settings.current() == {"public_pool": False}
    with pytest.raises(PermissionDenied):
        settings.update_settings({"public_pool": True}, actor=world.officer)
    with pytest.raises(ValidationFailed):
        settings.update_settings({"nope": True}, actor=world.users[Role.PLATFORM_ADMIN])
    assert settings.update_settings(
        {"public_pool": "1"}, actor=world.users[Role.PLATFORM_ADMIN]
    ) == {"public_pool": True}
    assert settings.public_pool() is True


def test_entered_status_is_what_makes_a_patent_public(world):
    p = world.patents["battery"]
    p.status = EntryStatus.NOT_ENTERED
    db.session.commit()
    assert p.id not in {v.id for v in queries.search_page(queries.parse_filters({})).items}
    assert TransferMode.LICENSE.value == "license"


def test_ranked_search_with_every_filter_and_a_pool_change(world):
    args = {
        "q": "硅碳负极 循环寿命",
        "tier": "B",
        "industry": "C38",
        "mode": "license",
        "trl_min": "5",
        "region": "内蒙古",
        "university": str(world.uni.id),
    }
    found = queries.search_page(queries.parse_filters(args))
    assert found.ranked and [p.id for p in found.items] == [world.patents["silicon"].id]
    world.patents["silicon"].status = EntryStatus.NOT_ENTERED  # leaves the pool
    db.session.commit()
    again = queries.search_page(queries.parse_filters({"q": "硅碳负极 循环寿命"}))
    assert world.patents["silicon"].id not in [p.id for p in again.items]


def test_the_dashboard_counts_the_suggestions_the_demand_page_lists(world):
    """matching.queries.suggestion_counts (the enterprise dashboard's 机器推荐) applies the demand
    page's rules in SQL: undecided machine candidates that are not weak, patents still in the
    pool, at most SUGGESTIONS_PER_NEED per sub-need; an intent keeps a weak one shown."""
    demand = make_demand(world.ent, **SILICON_DEMAND)
    db.session.add(
        DemandReading(
            demand_id=demand.id,
            needs=[{"label": "负极", "text": "硅碳负极"}, {"label": "回收", "text": "电池回收"}],
        )
    )
    single = make_demand(world.ent, title="电池回收", description="废旧锂电池回收")
    other = make_demand(world.ent_b, title="电池回收", description="废旧锂电池回收")

    def add(d, tier, *, need=0, state=MatchState.CANDIDATE, source=MatchSource.MACHINE, **kw):
        patent = make_patent(
            world.uni,
            status=kw.pop("status", EntryStatus.ENTERED),
            transfer_willingness=Willingness.WILLING,
        )
        db.session.add(
            Match(
                demand_id=d.id,
                patent_id=patent.id,
                score=0.3,
                strength=0.2,
                tier=tier,
                need=need,
                state=state,
                source=source,
                **kw,
            )
        )

    now = utcnow()
    for _ in range(12):  # over the cap of the first sub-need
        add(demand, MatchTier.STRONG)
    add(demand, MatchTier.MEDIUM, need=1)
    add(demand, None, need=1)  # from before strength: shown
    add(demand, MatchTier.WEAK, need=1, intent_at=now, intent_message="想了解")  # asked: shown
    add(demand, MatchTier.WEAK, need=1)  # weak: not shown
    decided = {"decided_at": now, "decided_by_id": world.officer.id}
    add(demand, MatchTier.STRONG, need=1, state=MatchState.REJECTED, **decided)
    add(demand, MatchTier.STRONG, need=1, state=MatchState.ACCEPTED, **decided)  # pushed
    add(demand, MatchTier.STRONG, need=1, source=MatchSource.OFFICER, added_by_id=world.officer.id)
    add(demand, MatchTier.STRONG, need=1, status=EntryStatus.PENDING_SCHOOL)  # left the pool
    add(single, MatchTier.MEDIUM, need=3)  # a sub-need index a single-need reading lacks
    add(single, MatchTier.MEDIUM)
    add(other, MatchTier.STRONG)
    db.session.commit()

    counts = matching_queries.suggestion_counts(world.ent.id)

    assert counts == {demand.id: 10 + 3, single.id: 2}
    # the page says that more are under review than it lists (a tester read 「机器推荐 10 件」
    # beside 「审核中 11 条」 and wondered where the 11th was)
    ov = status.demand_overview(world.enterprise, demand)
    assert ov.under_review > ov.suggestion_count and ov.per_need == 10
    for d in (demand, single):
        assert counts[d.id] == status.demand_overview(world.enterprise, d).suggestion_count
    assert matching_queries.suggestion_counts(world.ent_b.id) == {other.id: 1}
    # the patent page's 机器推荐 (explore2 F4) are exactly the matches these pages list
    listed = {
        s.match.id
        for d in (demand, single)
        for g in status.demand_overview(world.enterprise, d).groups
        for s in g.items
    }
    assert matching_queries.suggested_ids([demand.id, single.id]) == listed


def test_an_enterprise_asks_for_at_most_the_hourly_number_of_introductions(world, app, monkeypatch):
    """A security review sent 40 intents in a row from a fresh account, each notifying the
    officers; a company's staff do not, so the account waits an hour after
    REVIVE_INTENTS_PER_HOUR."""
    from revive.errors import RateLimited

    monkeypatch.setitem(app.config, "REVIVE_INTENTS_PER_HOUR", 2)
    demand = make_demand(world.ent, **SILICON_DEMAND)
    silicon, battery, third = list(world.patents.values())[:3]
    manual.submit_intent(world.enterprise, silicon.id, "一", demand_id=demand.id)
    manual.submit_intent(world.enterprise, battery.id, "二", demand_id=demand.id)
    with pytest.raises(RateLimited, match="每个企业每小时最多申请对接 2 次"):
        manual.submit_intent(world.enterprise, third.id, "三", demand_id=demand.id)
    db.session.rollback()
    assert (
        db.session.scalar(sa.select(sa.func.count(Match.id)).where(Match.intent_at.is_not(None)))
        == 2
    )


def test_withdrawn_intents_still_count_toward_the_hourly_budget(
    world, app, monkeypatch, client, auth
):
    """A security review sent 40 intents in an hour, withdrawing each after sending it: the cap
    counted live matches, and a withdrawal deletes the intent's match (or clears the intent).
    Each had notified the officers."""
    monkeypatch.setitem(app.config, "REVIVE_INTENTS_PER_HOUR", 3)
    demand = make_demand(world.ent, **SILICON_DEMAND)
    silicon = world.patents["silicon"]
    auth.login(world.enterprise)
    for i in range(3):
        sent = client.post(
            f"/api/v1/pool/patents/{silicon.id}/intents",
            json={"message": f"spam {i}", "demand_id": demand.id},
        )
        assert sent.status_code == 201, sent.get_json()
        assert client.delete(f"/api/v1/intents/{sent.get_json()['id']}").status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0  # all withdrawn
    refused = client.post(
        f"/api/v1/pool/patents/{silicon.id}/intents",
        json={"message": "spam 3", "demand_id": demand.id},
    )
    assert refused.status_code == 429
    body = refused.get_json()
    assert "每个企业每小时最多申请对接 3 次" in body["message"]
    assert "撤回的申请也计入" in body["message"]
    assert int(refused.headers["Retry-After"]) > 3000
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0


# An enterprise's application to implement an open licence (licensing.applications.apply)
LICENCE_APPLICATION = {
    "contact_name": "赵经理",
    "contact_phone": "0471-1234567",
    "intended_use": "用于本公司产线。",
    "accept_terms": "1",
}


def test_intents_and_open_licence_applications_share_one_hourly_budget(world, app, monkeypatch):
    """The README promised one budget for 申请对接 and 申请实施开放许可 per enterprise; each
    had its own (30 + 30). Withdrawn applications count too."""
    from revive.errors import RateLimited
    from revive.licensing import applications
    from revive.licensing.models import OpenLicenceDeclaration

    monkeypatch.setitem(app.config, "REVIVE_INTENTS_PER_HOUR", 3)
    declaration = db.session.scalars(sa.select(OpenLicenceDeclaration)).one()
    details = dict(LICENCE_APPLICATION)
    demand = make_demand(world.ent, **SILICON_DEMAND)
    silicon, battery = world.patents["silicon"], world.patents["battery"]
    manual.submit_intent(world.enterprise, silicon.id, "一", demand_id=demand.id)
    applied = applications.apply(declaration.id, details, actor=world.enterprise)
    applications.act(applied.id, "withdraw", actor=world.enterprise)
    manual.submit_intent(world.enterprise, battery.id, "二", demand_id=demand.id)
    with pytest.raises(RateLimited, match="申请对接与申请实施开放许可共用这一额度"):
        applications.apply(declaration.id, details, actor=world.enterprise)
    db.session.rollback()
    with pytest.raises(RateLimited, match="每个企业每小时最多申请对接 3 次"):
        manual.submit_intent(world.enterprise, world.patents["water"].id, "三", demand_id=demand.id)
    db.session.rollback()
    # another enterprise has a budget of its own
    other_demand = make_demand(world.ent_b, **SILICON_DEMAND)
    manual.submit_intent(world.ent_b_user, silicon.id, "乙", demand_id=other_demand.id)


def test_an_open_licence_application_counts_the_budget_under_the_enterprises_lock(
    world, monkeypatch
):
    """Security re-test F5: 60 requests at once let 35 through a cap of 30, counting with
    nothing locked. The enterprise's row is locked before the count, in the transaction that
    writes the application and its audit event (the intents' race: tests/matching/test_races)."""
    from revive.accounts.models import Organization
    from revive.licensing import applications
    from revive.licensing.models import OpenLicenceDeclaration

    declaration = db.session.scalars(sa.select(OpenLicenceDeclaration)).one()
    details = dict(LICENCE_APPLICATION)
    seen: list[object] = []
    lock_row, check_hourly = manual.lock_row, manual.check_hourly

    def locking(model, row_id):
        seen.append((model, row_id))
        lock_row(model, row_id)

    def counting(*args, **kw):
        seen.append("count")
        check_hourly(*args, **kw)

    monkeypatch.setattr(manual, "lock_row", locking)
    monkeypatch.setattr(manual, "check_hourly", counting)
    db.session.commit()

    def committed(_session):
        seen.append("commit")

    sa.event.listen(db.session, "after_commit", committed)
    try:
        applications.apply(declaration.id, details, actor=world.enterprise)
    finally:
        sa.event.remove(db.session, "after_commit", committed)
    assert seen[:3] == [(Organization, world.ent.id), "count", "commit"], seen


def test_an_intent_message_with_a_link_is_refused(world, client, auth):
    """The message is quoted in the officers' notices and, once pushed, in the university's
    notice and e-mail: no links, as in self-registration and open-licence applications."""
    demand = make_demand(world.ent, **SILICON_DEMAND)
    silicon = world.patents["silicon"]
    auth.login(world.enterprise)
    url = f"/api/v1/pool/patents/{silicon.id}/intents"
    text = "请访问 http://revive-verify.example/login 重新验证账号"
    refused = client.post(url, json={"message": text, "demand_id": demand.id})
    assert refused.status_code == 422
    assert refused.get_json()["details"]["message"].startswith("对接说明不能包含网址")
    page = client.post(
        f"/pool/patents/{silicon.id}/intents", data={"message": text, "demand": str(demand.id)}
    )
    assert page.status_code == 422 and "对接说明不能包含网址" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    sent = client.post(url, json={"message": "想了解中试情况", "demand_id": demand.id})
    assert sent.status_code == 201


def test_a_short_posting_is_not_told_to_write_more_generally(world):
    """A tester's 「锂电行业关键技术突破」 was told both to add technical detail and to describe
    the problem more generally."""
    demand = make_demand(world.ent, title="锂电行业关键技术突破", description="")
    db.session.add(DemandReading(demand_id=demand.id, is_thin=True, content_words=2))
    db.session.commit()
    hints = status.demand_overview(world.enterprise, demand).broaden_hints()
    assert not any("更通用的说法" in h for h in hints)
