"""Standing alerts below the pages: which new candidates raise an alert (once per pair), who
is told in the inbox, officers' notices of new demands and intents, the daily digest (one a
day per person, grouped by demand), its e-mail and unsubscribe link, and the menu's counts.
(Named test_services.py: it runs on PostgreSQL too — the "since" windows, EXISTS, upserts.)"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from revive import clock
from revive.accounts.models import Role
from revive.alerts import queries, services
from revive.alerts.models import AlertDigest, AlertKind, MatchAlert
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.demands import services as demand_services
from revive.errors import NotFoundError
from revive.extensions import db
from revive.matching import jobs, manual, tokens
from revive.matching.models import Match, MatchRun, MatchTier, RunScope, RunStatus
from revive.notifications.models import Notification
from tests.alerts.conftest import SILICON_DEMAND
from tests.factories import make_user
from tests.matching.helpers import drain, entered, make_demand, make_enterprise
from tests.notifications.test_services import FakeSMTP
from tests.notifications.test_services import smtp as smtp  # noqa: F401  (fixture)


def _alerts() -> list[MatchAlert]:
    return list(db.session.scalars(sa.select(MatchAlert).order_by(MatchAlert.id)))


def _notes(kind: str, **where) -> list[Notification]:
    stmt = sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(Notification, key) == value)
    return list(db.session.scalars(stmt))


def _rematch_all(world) -> None:
    jobs.request_match_run(RunScope.ALL_DEMANDS)
    drain(world.enqueued)


def _tomorrow_morning():
    """09:00 local tomorrow: past REVIVE_DIGEST_HOUR, within the lookback of today's rows."""
    return clock.local_moment(clock.local_date(utcnow()) + timedelta(days=1), time(9, 0))


# ---------------------------------------------------------------------------- match alerts


def test_a_new_patent_that_fits_alerts_the_enterprise_and_each_officer_in_the_inbox(world):
    patent = world.enter_new()
    (alert,) = _alerts()
    assert (alert.demand_id, alert.patent_id) == (world.demand.id, patent.id)
    assert alert.tier == MatchTier.STRONG and alert.enterprise_told
    (org_note,) = _notes(services.MATCH_KIND, organization_id=world.ent.id)
    assert world.demand.title in org_note.title and patent.title in org_note.body
    assert org_note.link == f"/demands/{world.demand.id}#demand-suggestions"
    for officer in (world.officer, world.officer2):
        (note,) = _notes(services.MATCH_KIND, user_id=officer.id)
        assert "1 条需求、1 件专利" in note.title and world.ent.name in note.body
    # In the inbox only: the e-mail is the daily digest.
    assert all(n.email_status is None for n in _notes(services.MATCH_KIND))
    assert not [t for t, _ in world.enqueued if t == "notifications.email"]


def test_a_pair_is_alerted_once_even_when_its_candidate_comes_back(world):
    world.enter_new()
    _rematch_all(world)
    assert len(_alerts()) == 1
    # The candidate leaves (e.g. a refit moved it out of the top 20) and is proposed again.
    db.session.execute(sa.delete(Match).where(Match.demand_id == world.demand.id))
    db.session.commit()
    _rematch_all(world)
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) >= 1
    assert len(_alerts()) == 1
    assert len(_notes(services.MATCH_KIND, organization_id=world.ent.id)) == 1
    assert len(_notes(services.MATCH_KIND, user_id=world.officer.id)) == 1


def test_recording_the_same_run_twice_alerts_nothing_more(world):
    world.enter_new()
    run = db.session.scalar(
        sa.select(MatchRun)
        .where(MatchRun.scope == RunScope.ALL_DEMANDS)
        .order_by(MatchRun.id.desc())
    )
    assert services.record_match_alerts(run.id) == []
    assert len(_alerts()) == 1


def test_a_patent_entered_before_the_demand_was_posted_raises_no_alert(world):
    patent = entered(
        world.uni, title="一种硅碳负极预锂化方法", abstract="硅碳负极预锂化，提高首效和循环寿命。"
    )
    # Posted after the patent entered, matched once the patent reaches the index.
    demand_services.post_demand(
        {**SILICON_DEMAND, "title": "硅碳负极首效提升"}, actor=world.ent_user
    )
    drain(world.enqueued)
    tokens.tokenize_patents([patent.id])
    drain(world.enqueued)
    assert patent.id not in {a.patent_id for a in _alerts() if a.demand.title == "硅碳负极首效提升"}


def test_a_demand_without_alerts_tells_the_officers_only(world):
    demand_services.set_alerts(world.demand.id, False, actor=world.ent_user)
    world.enter_new()
    (alert,) = _alerts()
    assert not alert.enterprise_told
    assert not _notes(services.MATCH_KIND, organization_id=world.ent.id)
    assert len(_notes(services.MATCH_KIND, user_id=world.officer.id)) == 1


def test_an_officer_who_turned_alerts_off_is_not_told(world):
    services.set_preference(
        world.officer2, AlertKind.MATCHES, False, actor=world.officer2, via="account_page"
    )
    world.enter_new()
    assert _notes(services.MATCH_KIND, user_id=world.officer.id)
    assert not _notes(services.MATCH_KIND, user_id=world.officer2.id)


def _candidate_of_run(world, tier: MatchTier) -> MatchRun:
    """An all-demand run that added one candidate of ``tier`` for a patent entered after the
    demand (no engine involved)."""
    patent = entered(world.uni, title="一种硅碳负极粘结剂")
    run = MatchRun(
        scope=RunScope.ALL_DEMANDS,
        status=RunStatus.SUCCEEDED,
        started_at=utcnow() - timedelta(seconds=1),
        finished_at=utcnow(),
    )
    db.session.add(run)
    db.session.flush()
    db.session.add(
        Match(
            demand_id=world.demand.id,
            patent_id=patent.id,
            score=0.3,
            strength=0.2,
            tier=tier,
            run_id=run.id,
            terms=[],
        )
    )
    db.session.commit()
    return run


@pytest.mark.parametrize(
    ("setting", "tier", "alerted"),
    [
        ("strong", MatchTier.STRONG, True),
        ("strong", MatchTier.MEDIUM, False),
        ("medium", MatchTier.MEDIUM, True),
        ("medium", MatchTier.WEAK, False),
    ],
)
def test_the_alert_tier_is_a_setting(world, app, monkeypatch, setting, tier, alerted):
    monkeypatch.setitem(app.config, "REVIVE_ALERT_MIN_TIER", setting)
    run = _candidate_of_run(world, tier)
    assert bool(services.record_match_alerts(run.id)) is alerted


def test_the_tier_setting_is_checked_at_start(monkeypatch):
    from revive.config import load_config

    monkeypatch.setenv("REVIVE_ALERT_MIN_TIER", "中")
    assert load_config()["REVIVE_ALERT_MIN_TIER"] == "medium"
    monkeypatch.setenv("REVIVE_ALERT_MIN_TIER", "weak")
    with pytest.raises(ValueError, match="REVIVE_ALERT_MIN_TIER"):
        load_config()


def test_a_single_demand_run_raises_no_alert(world):
    run = _candidate_of_run(world, MatchTier.STRONG)
    run.scope, run.demand_id = RunScope.DEMAND, world.demand.id
    db.session.commit()
    services.on_match_run_finished(run.id, RunScope.DEMAND.value)
    assert not _alerts()


# ---------------------------------------------------------------------------- queue notices


def test_officers_hear_of_a_demand_an_enterprise_posted(world):
    for officer in (world.officer, world.officer2):
        (note,) = _notes(services.DEMAND_KIND, user_id=officer.id)
        assert world.demand.title in note.title and world.ent.name in note.title
        assert note.link == f"/matching/demands/{world.demand.id}"


def test_a_demand_posted_by_staff_or_by_an_officer_who_opted_out_tells_nobody(world):
    services.set_preference(
        world.officer2, AlertKind.QUEUE, False, actor=world.officer2, via="account_page"
    )
    demand_services.post_demand(
        {"title": "企业委托发布的需求", "description": "需要一种耐盐碱水稻品种。"},
        actor=world.officer,
        enterprise_id=world.ent.id,
    )
    demand_services.post_demand(
        {"title": "企业自己发布的第二条需求", "description": "需要污水脱氮工艺。"},
        actor=world.ent_user,
    )
    titles = [n.title for n in _notes(services.DEMAND_KIND)]
    assert not [t for t in titles if "企业委托发布的需求" in t]
    assert len([t for t in titles if "第二条需求" in t]) == 1  # officer2 opted out
    assert not [
        n for n in _notes(services.DEMAND_KIND, user_id=world.officer2.id) if "第二条" in n.title
    ]


def test_officers_hear_of_an_intent(world):
    patent = world.old["water"]
    match = manual.submit_intent(
        world.ent_user, patent.id, "想了解膜生物反应器的中试数据", demand_id=world.demand.id
    )
    (note,) = _notes(services.INTENT_KIND, user_id=world.officer.id)
    assert world.ent.name in note.title and patent.title in note.title
    assert "中试数据" in note.body and note.link == f"/matching/matches/{match.id}"


# ---------------------------------------------------------------------------- digests


def _digests(user=None) -> list[AlertDigest]:
    stmt = sa.select(AlertDigest).order_by(AlertDigest.id)
    if user is not None:
        stmt = stmt.where(AlertDigest.user_id == user.id)
    return list(db.session.scalars(stmt))


def test_no_digest_without_smtp_or_before_the_digest_hour(world, app, monkeypatch):
    world.enter_new()
    assert services.send_alert_digests(_tomorrow_morning()) == 0  # no SMTP: the inbox has it
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    early = _tomorrow_morning() - timedelta(hours=3)  # 06:00 local
    assert services.send_alert_digests(early) == 0
    assert not _digests()


def test_one_digest_a_day_per_person_listing_new_matches_by_demand(world, smtp, enqueued):
    patent = world.enter_new()
    second = make_demand(world.ent, title="硅碳负极膨胀抑制", alert_subscribed=True)
    run = _candidate_of_run(world, MatchTier.STRONG)
    db.session.execute(sa.update(Match).where(Match.run_id == run.id).values(demand_id=second.id))
    db.session.commit()
    services.record_match_alerts(run.id)
    morning = _tomorrow_morning()
    made = services.send_alert_digests(morning)
    assert made == 3  # the enterprise's user and both officers
    (mine,) = _digests(world.ent_user)
    assert mine.kinds == ["matches"] and mine.counts["matches"] == {"matches": 2, "demands": 2}
    body = mine.body
    first, other = body.index(f"需求“{world.demand.title}”"), body.index("需求“硅碳负极膨胀抑制”")
    assert body.index(patent.title) > first  # each patent under its demand
    assert f"https://revive.example.cn/pool/patents/{patent.id}" in body
    assert f"https://revive.example.cn/demands/{world.demand.id}" in body
    assert other > first
    (theirs,) = _digests(world.officer)
    assert theirs.kinds == ["matches", "queue"] and "新需求" in theirs.body
    assert [a for t, a in enqueued if t == "alerts.digest_email"] == [(d.id,) for d in _digests()]
    # Once a day: a later beat the same day makes nothing, even with something new.
    with clock.held_at(morning + timedelta(hours=2)):
        world.enter_new(title="一种硅碳负极的喷雾干燥包覆方法")
    assert services.send_alert_digests(morning + timedelta(hours=3)) == 0
    # The next day: only what arrived since the last digest.
    assert services.send_alert_digests(morning + timedelta(days=1)) == 3
    latest = _digests(world.ent_user)[-1]
    assert "喷雾干燥" in latest.body and patent.title not in latest.body


def test_the_digest_leaves_out_turned_off_alerts_and_unsubscribed_demands(world, smtp):
    world.enter_new()
    demand_services.set_alerts(world.demand.id, False, actor=world.ent_user)
    services.set_preference(
        world.officer, AlertKind.QUEUE, False, actor=world.officer, via="account_page"
    )
    services.set_preference(
        world.officer2, AlertKind.MATCHES, False, actor=world.officer2, via="account_page"
    )
    services.send_alert_digests(_tomorrow_morning())
    assert not _digests(world.ent_user)
    assert _digests(world.officer)[0].kinds == ["matches"]
    assert _digests(world.officer2)[0].kinds == ["queue"]


def test_the_digest_email_carries_an_unsubscribe_link_per_kind(world, smtp):
    world.enter_new()
    services.send_alert_digests(_tomorrow_morning())
    (digest,) = _digests(world.ent_user)
    assert services.deliver_digest(digest.id) == "sent"
    (msg,) = [m for s in smtp.instances for m in s.sent]
    assert msg["To"].addresses[0].addr_spec == world.ent_user.email
    text = msg.get_content()
    link = services.unsubscribe_link(world.ent_user.id, AlertKind.MATCHES)
    assert link.startswith("https://revive.example.cn/alerts/unsubscribe/") and link in text
    assert msg["List-Unsubscribe"] == f"<{link}>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "北京时间" in text and "新专利匹配提醒" in text
    assert services.deliver_digest(digest.id) == "sent"  # not sent twice
    assert sum(len(s.sent) for s in smtp.instances) == 1
    (officers,) = _digests(world.officer)
    services.deliver_digest(officers.id)
    officer_text = [m for s in smtp.instances for m in s.sent][-1].get_content()
    assert officer_text.count("/alerts/unsubscribe/") == 2  # one per kind


def test_a_failed_or_pointless_send_is_recorded(world, smtp):
    world.enter_new()
    services.send_alert_digests(_tomorrow_morning())
    digest = _digests(world.ent_user)[0]
    FakeSMTP.fail_with = OSError("connection refused")
    assert services.deliver_digest(digest.id) == "failed"
    FakeSMTP.fail_with = None
    world.officer.is_active_flag = False
    db.session.commit()
    assert services.deliver_digest(_digests(world.officer)[0].id) == "skipped"


# ---------------------------------------------------------------------------- unsubscribe


def test_the_token_names_one_user_and_one_kind(world):
    token = services.unsubscribe_token(world.ent_user.id, AlertKind.MATCHES)
    assert services.read_unsubscribe_token(token) == (world.ent_user, AlertKind.MATCHES)
    for bad in (token[:-2] + "xx", "abc", token.replace(".", "", 1)):
        with pytest.raises(NotFoundError):
            services.read_unsubscribe_token(bad)
    # Signed for this purpose only: another signer's token with the same payload is refused.
    from itsdangerous import URLSafeSerializer

    other = URLSafeSerializer(
        "test-secret-of-the-suite-and-its-workers", salt="revive.other"
    ).dumps({"u": 1, "k": "matches"})
    with pytest.raises(NotFoundError):
        services.read_unsubscribe_token(other)


def test_unsubscribing_turns_the_kind_off_and_is_audited(world):
    token = services.unsubscribe_token(world.officer.id, AlertKind.QUEUE)
    services.unsubscribe(token)
    assert not services.subscribed(world.officer.id, AlertKind.QUEUE)
    assert services.subscribed(world.officer.id, AlertKind.MATCHES)
    services.unsubscribe(token)  # twice: nothing more
    events = list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "alerts_unsubscribe"))
    )
    assert len(events) == 1 and events[0].data == {"kind": "queue", "via": "unsubscribe_link"}


# ---------------------------------------------------------------------------- counts


def test_officers_count_new_demands_and_intents_since_they_last_looked(world):
    officer = world.officer
    assert queries.new_demands(officer) == 1
    services.mark_seen(officer, queries.DEMANDS)
    assert queries.new_demands(officer) == 0
    make_demand(make_enterprise(), title="又一条需求")
    assert queries.new_demands(officer) == 1
    assert queries.new_intents(officer) == 0
    manual.submit_intent(world.ent_user, world.old["water"].id, "想了解", demand_id=world.demand.id)
    assert queries.new_intents(officer) == 1
    services.mark_seen(officer, queries.INTENTS)
    assert queries.new_intents(officer) == 0
    assert queries.new_demands(world.ent_user) is None


def test_an_enterprise_counts_new_suggestions_on_its_demands(world):
    user = world.ent_user
    services.mark_seen(user, queries.SUGGESTIONS)
    assert queries.new_suggestions(user) == 0
    world.enter_new()
    assert queries.new_suggestions(user) == 1
    assert queries.new_suggestions_by_demand(user) == {world.demand.id: 1}
    other = make_user(Role.ENTERPRISE, organization=make_enterprise())
    assert queries.new_suggestions(other) == 0
    services.mark_seen(user, queries.SUGGESTIONS)
    assert queries.new_suggestions(user) == 0
    assert queries.new_suggestions(world.officer) is None


def test_new_suggestions_count_only_what_the_demand_page_lists(world):
    """A user saw 新推荐 20 on the demand list beside a demand page listing 10: the badge
    counted every 强 / 中 candidate, the page lists at most SUGGESTIONS_PER_NEED."""
    from revive.matching.queries import SUGGESTIONS_PER_NEED, suggestion_counts

    user = world.ent_user
    services.mark_seen(user, queries.SUGGESTIONS)
    extra = SUGGESTIONS_PER_NEED + 3
    for i in range(extra):
        patent = entered(world.uni, college=world.college, title=f"一种负极材料{i}")
        db.session.add(
            Match(
                demand_id=world.demand.id,
                patent_id=patent.id,
                score=0.5 - i / 100,
                strength=0.6,
                tier=MatchTier.STRONG,
                terms=[["负极", 1.0]],
            )
        )
    db.session.commit()
    listed = suggestion_counts(user.organization_id)[world.demand.id]
    assert listed == SUGGESTIONS_PER_NEED
    assert queries.new_suggestions_by_demand(user) == {world.demand.id: listed}
    assert queries.new_suggestions(user) == listed


def test_a_fanned_out_rematch_alerts_too(world, app, monkeypatch):
    """An all-demand run split over the shards (REVIVE_MATCH_FANOUT) finishes in its merge
    step; the alert is raised there."""
    monkeypatch.setitem(app.config, "REVIVE_INDEX_SHARD_DOCS", 1)
    monkeypatch.setitem(app.config, "REVIVE_MATCH_FANOUT", 2)
    patent = entered(
        world.uni,
        college=world.college,
        title="一种硅碳负极补锂材料",
        abstract="硅碳负极补锂，抑制体积膨胀，提高循环寿命和容量保持率。",
    )
    tokens.tokenize_patents(None, follow_up=False)
    jobs.request_index_build(kind="full")
    done = drain(world.enqueued)
    assert "matching.fan_out" in done  # scored per shard, stored by the merge step
    assert patent.id in {a.patent_id for a in _alerts()}


def test_the_readme_documents_the_alert_setting_in_both_languages():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    lines = readme.splitlines()
    row = next(line for line in lines if line.startswith("| `REVIVE_ALERT_MIN_TIER`"))
    assert "strong" in row and "medium" in row and "强" in row and "alert" in row
    assert "REVIVE_ALERT_MIN_TIER" in readme.split("## English", 1)[1]
