"""The matchmaking part of seed-demo (revive.demo.story): what the demo must show, reached
through the real services, dated coherently, and backed by what demo-logins promises."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from revive import clock, queue
from revive.accounts.models import Organization, Role, User
from revive.audit.models import AuditEvent
from revive.dashboard import activity
from revive.db import as_utc as aware
from revive.db import utcnow
from revive.deals import queries as deal_queries
from revive.deals.models import Contract, ContractKind, Deal, DealEvent, Stage
from revive.deals.reasons import FAILURE_REASONS
from revive.demands.models import Demand
from revive.demo.catalog import DOMAIN
from revive.demo.seed import DEMO_PASSWORD, demo_logins
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.evaluations.tiers import TierFacts
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.licensing import rules
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
from revive.licensing.services import patent_facts
from revive.matching import jobs
from revive.matching import tokens as matching_tokens
from revive.matching.models import IndexBuild, Match, MatchRun, MatchState, RunStatus
from revive.matching.reasons import REJECT_REASONS
from revive.notifications import queries as inbox
from revive.notifications.models import Notification


def org(name_part: str) -> Organization:
    return db.session.scalar(sa.select(Organization).where(Organization.name.contains(name_part)))


def user(local: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == f"{local}@{DOMAIN}"))


# ------------------------------------------------------------------------------ matching


def test_matching_ran_in_process_and_leaves_the_worker_nothing_to_do(ctx, enqueued):
    builds = db.session.scalars(sa.select(IndexBuild)).all()
    runs = db.session.scalars(sa.select(MatchRun)).all()
    assert builds and runs
    assert {b.status for b in builds} == {RunStatus.SUCCEEDED}
    assert {r.status for r in runs} == {RunStatus.SUCCEEDED}
    active = jobs.active_build()
    data_dir = Path(ctx.config["REVIVE_DATA_DIR"]) / "index"
    assert Path(active.path).parent == data_dir and Path(active.path).is_dir()
    # The recovery sweep finds nothing to send, stale tokens included.
    assert queue.resend_stuck(full=True) == {}
    assert matching_tokens.tokenize_patents(None)["tokenized"] == 0
    assert enqueued == []


def test_review_queue_has_candidates_on_most_demands(ctx):
    with_candidates = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Match.demand_id))).where(
            Match.state == MatchState.CANDIDATE
        )
    )
    assert with_candidates >= 10
    demand = db.session.scalar(sa.select(Demand).where(Demand.title == "奶牛乳房炎早发现"))
    states = set(db.session.scalars(sa.select(Match.state).where(Match.demand_id == demand.id)))
    assert states == {MatchState.CANDIDATE}  # posted recently, not reviewed yet


def test_rejections_have_several_reason_codes(ctx):
    rejected = db.session.scalars(sa.select(Match).where(Match.state == MatchState.REJECTED)).all()
    reasons = Counter(m.reason_code for m in rejected)
    assert set(reasons) <= set(REJECT_REASONS)
    assert len(reasons) >= 5
    assert all(m.decided_by_id and m.decided_at for m in rejected)
    assert all(m.comment for m in rejected if m.reason_code == "other")


def test_one_demand_had_every_candidate_rejected(ctx):
    demand = db.session.scalar(sa.select(Demand).where(Demand.title == "直播带货短视频自动剪辑"))
    states = set(db.session.scalars(sa.select(Match.state).where(Match.demand_id == demand.id)))
    assert states == {MatchState.REJECTED}
    # Posted by a company of its industry (an e-commerce firm, not a materials maker).
    assert demand.enterprise.name == org("云播电子商务").name


# ------------------------------------------------------------------------------ deals


def test_deals_in_every_stage_with_real_events_and_audit(ctx):
    deals = db.session.scalars(sa.select(Deal)).all()
    assert {d.stage for d in deals} == set(Stage)
    audited = set(
        db.session.scalars(
            sa.select(AuditEvent.entity_id).where(
                AuditEvent.entity == "deal", AuditEvent.action == "push"
            )
        )
    )
    for deal in deals:
        assert deal.id in audited
        assert deal.match.state == MatchState.ACCEPTED
        events = [e for e in deal.events if e.kind == "stage"]
        assert events[0].to_stage == Stage.RECOMMENDED
        assert events[-1].to_stage == deal.stage
        times = [aware(e.created_at) for e in deal.events]
        assert times == sorted(times), deal.id
        assert aware(deal.pushed_at) <= times[0] + timedelta(seconds=1)
        if deal.stage == Stage.FAILED:
            assert deal.failure_reason in FAILURE_REASONS


def test_responses_answered_declined_late_and_overdue(ctx):
    deals = db.session.scalars(sa.select(Deal)).all()
    now = utcnow()
    overdue = [d for d in deals if deal_queries.is_overdue(d, now)]
    assert len(overdue) >= 2
    assert all(d.stage == Stage.RECOMMENDED and d.responded_at is None for d in overdue)
    answered = [d for d in deals if d.response is not None]
    assert {d.response.value for d in answered} == {"interested", "declined"}
    for d in answered:
        assert aware(d.pushed_at) < aware(d.responded_at) < now
    late = [d for d in answered if aware(d.responded_at) > aware(d.response_due_at)]
    flagged = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity == "deal", AuditEvent.action == "respond")
    ).all()
    # The audit trail says "late" exactly for the answers given after the due date.
    assert {e.entity_id for e in flagged if e.data.get("late")} == {d.id for d in late}
    assert len(late) == 1
    # A pending deal still inside its answer window.
    assert any(
        d.stage == Stage.RECOMMENDED and d.response is None and aware(d.response_due_at) > now
        for d in deals
    )


def test_contracts_are_traceable_and_spread_over_twelve_months(ctx):
    contracts = db.session.scalars(sa.select(Contract)).all()
    assert len(contracts) >= 10
    assert {c.kind for c in contracts} == set(ContractKind)
    assert any(c.record_no for c in contracts) and not all(c.record_no for c in contracts)
    today = clock.local_today()
    months = Counter((c.signed_on.year, c.signed_on.month) for c in contracts)
    assert len(months) >= 8
    for c in contracts:
        deal = c.deal
        assert deal.stage == Stage.SIGNED
        assert c.amount_wan > 0
        assert today - timedelta(days=366) < c.signed_on < today
        assert clock.local_date(aware(deal.pushed_at)) <= c.signed_on
        # Contract → deal → the accepted match of a demand and a patent.
        assert (deal.match.demand_id, deal.match.patent_id) == (deal.demand_id, deal.patent_id)
        assert deal.demand.enterprise_id == deal.enterprise_id
        assert deal.patent.institution_id == deal.university_id
        assert deal.university.name in c.parties and deal.enterprise.name in c.parties
        audit = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "contract", AuditEvent.entity_id == c.id
            )
        )
        assert audit.data["demand_id"] == deal.demand_id
        assert audit.data["patent_id"] == deal.patent_id


def test_nothing_is_dated_in_the_future(ctx):
    now = utcnow()
    for model, column in (
        (AuditEvent, AuditEvent.created_at),
        (Notification, Notification.created_at),
        (DealEvent, DealEvent.created_at),
        (Deal, Deal.stage_changed_at),
        (Evaluation, Evaluation.created_at),
        (EvaluationInvite, EvaluationInvite.created_at),
        (OpenLicenceDeclaration, OpenLicenceDeclaration.created_at),
    ):
        latest = db.session.scalar(sa.select(sa.func.max(column)))
        assert latest is not None and aware(latest) <= now, model.__name__


def test_the_audit_log_tells_the_story_on_its_dates(ctx):
    """Events were dated by the held clock as they were written (the log is append-only):
    each deal stage's audit event carries its deal event's moment, spread over months."""
    stamps = [aware(t) for t in db.session.scalars(sa.select(AuditEvent.created_at))]
    assert min(stamps) < utcnow() - timedelta(days=180)
    assert len({(s.year, s.month) for s in stamps}) >= 6
    deal = db.session.scalar(sa.select(Deal).where(Deal.stage == Stage.SIGNED))
    event_times = {aware(e.created_at) for e in deal.events}
    audited = {
        aware(e.created_at)
        for e in db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "deal", AuditEvent.entity_id == deal.id
            )
        )
    }
    assert event_times <= audited


def test_inventory_was_reviewed_before_the_deals(ctx):
    """Each patent the officer decided on (pushed or rejected) was entered before the
    decision; some were entered later, the review goes on (按月进展 shows it)."""
    decided = db.session.execute(
        sa.select(Patent.entered_at, Match.decided_at)
        .join(Match, Match.patent_id == Patent.id)
        .where(Match.state != MatchState.CANDIDATE)
    ).all()
    assert decided
    for entered_at, decided_at in decided:
        assert aware(entered_at) < aware(decided_at)
    first_push = min(aware(p) for p in db.session.scalars(sa.select(Deal.pushed_at)))
    entered = db.session.scalars(sa.select(Patent.entered_at).where(Patent.entered_at.is_not(None)))
    assert max(aware(e) for e in entered) > first_push
    patent = db.session.scalar(sa.select(Patent).where(Patent.status == EntryStatus.ENTERED))
    moves = [aware(c.created_at) for c in patent.status_changes]
    assert moves == sorted(moves) and moves[-1] == aware(patent.entered_at)


def test_the_monthly_page_has_entries_in_most_months(ctx):
    """按月进展 read 「近 12 个月入库专利 0」 beside 161 entered patents: the demo's review
    went on after the campaign, so most of the last twelve months enter or abandon some."""
    figs = activity.monthly_progress(sa.true(), sa.true(), True)
    assert figs.total.entered >= 12 and figs.total.abandoned >= 3
    assert sum(1 for m in figs.months if m.entered) >= 6


# ------------------------------------------------------------------------------ 市场评价


def test_evaluations_only_by_entitled_enterprises(ctx):
    evaluations = db.session.scalars(sa.select(Evaluation)).all()
    assert len(evaluations) >= 10
    for e in evaluations:
        assert e.patent.status == EntryStatus.ENTERED
        assert 1 <= e.prospect_stars <= 5
        assert e.user.organization_id == e.enterprise_id and e.user.role == Role.ENTERPRISE
        linked = db.session.scalar(
            sa.select(
                sa.exists().where(
                    Deal.enterprise_id == e.enterprise_id, Deal.patent_id == e.patent_id
                )
                | sa.exists().where(
                    EvaluationInvite.enterprise_id == e.enterprise_id,
                    EvaluationInvite.patent_id == e.patent_id,
                )
            )
        )
        assert linked, (e.enterprise_id, e.patent_id)
    assert any(e.improvement_needs for e in evaluations)
    assert len({e.intent for e in evaluations}) >= 3
    assert {e.prospect_stars for e in evaluations} >= {2, 3, 4, 5}


def test_at_least_two_double_five_star_patents(ctx):
    top = db.session.execute(
        sa.select(Patent.value_grade, sa.func.max(Evaluation.prospect_stars))
        .join(Evaluation, Evaluation.patent_id == Patent.id)
        .group_by(Patent.id, Patent.value_grade)
    ).all()
    double_five = [TierFacts(grade, None, None, max_stars=best) for grade, best in top]
    assert sum(f.double_five for f in double_five) >= 2


def test_invites_some_still_to_do(ctx):
    invites = db.session.scalars(sa.select(EvaluationInvite)).all()
    inviters = {i.invited_by.role for i in invites}
    assert inviters == {Role.OFFICER, Role.UNIVERSITY_ADMIN}
    done = {(e.enterprise_id, e.patent_id) for e in db.session.scalars(sa.select(Evaluation))}
    pending = [i for i in invites if (i.enterprise_id, i.patent_id) not in done]
    assert pending and len(pending) < len(invites)
    assert org("智农").id in {i.enterprise_id for i in pending}  # demo-logins: zhinong


# ------------------------------------------------------------------------------ open licences


def test_declarations_pass_the_rules(ctx):
    declarations = db.session.scalars(sa.select(OpenLicenceDeclaration)).all()
    assert len(declarations) >= 4
    assert {d.fee_mode for d in declarations} == set(rules.FeeMode)
    for d in declarations:
        terms = rules.Terms(**{key: getattr(d, key) for key in rules.FIELD_KEYS})
        facts = patent_facts(d.patent)
        facts = rules.PatentFacts(**{**facts.__dict__, "has_active_declaration": False})
        assert rules.check(terms, facts) == [], d.id
    statuses = Counter(d.status for d in declarations)
    assert statuses[DeclarationStatus.WITHDRAWN] == 1
    assert any(d.co_owners_consent for d in declarations)
    assert any(d.evaluation_report_no for d in declarations)
    # Every 开放许可 contract is on a patent with an open licence declared before the push.
    for c in db.session.scalars(sa.select(Contract).where(Contract.kind == "open_license")):
        declared = db.session.scalar(
            sa.select(OpenLicenceDeclaration).where(
                OpenLicenceDeclaration.patent_id == c.deal.patent_id
            )
        )
        assert declared is not None
        assert aware(declared.created_at) < aware(c.deal.pushed_at)
        assert declared.lump_sum_wan == c.amount_wan


# ------------------------------------------------------------------------------ inbox, logins


def test_every_listed_login_has_notifications_some_unread(ctx):
    for login in demo_logins():
        account = user(login.email.split("@")[0])
        if account.role in (Role.REGULATOR, Role.PLATFORM_ADMIN, Role.INVENTOR):
            continue  # no inbox traffic of their own in the story
        rows = db.session.scalars(sa.select(Notification).where(inbox.inbox_clause(account))).all()
        assert rows, login.email
        assert any(n.read_at is None for n in rows), login.email
        assert any(n.read_at is not None for n in rows), login.email
    kinds = set(db.session.scalars(sa.select(Notification.kind)))
    assert {
        "match_pushed",
        "deal_stage",
        "deal_response",
        "response_overdue",
        "evaluation_received",
        "evaluation_invited",
    } <= kinds


DEADLINE = re.compile(r"(\d+) 天内（北京时间 (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) 前）")
AS_OF = re.compile(r"截至 北京时间 (\d{4}-\d{2}-\d{2} \d{2}:\d{2})")
DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
MONTH_DAY = re.compile(r"(\d{1,2}) 月 (\d{1,2}) 日")


def test_every_seeded_notification_speaks_from_its_own_date(ctx):
    """A notification's text is computed from its own moment, not from the day of the seed:
    "请在 7 天内（北京时间 … 前）" names created_at + 7 days, a digest is "截至" its created_at,
    and no other date in a text lies after the day it was written (nor does a "M 月 D 日")."""
    rows = db.session.scalars(sa.select(Notification)).all()
    assert rows
    deadlines = 0
    for n in rows:
        text = f"{n.title}\n{n.body or ''}"
        created = aware(n.created_at)
        written = clock.local_date(created)
        for days, due in DEADLINE.findall(text):
            assert due == clock.format_dt(created + timedelta(days=int(days))), (n.id, text)
            deadlines += 1
        for as_of in AS_OF.findall(text):
            assert as_of == clock.format_dt(created), (n.id, text)
        rest = AS_OF.sub("", DEADLINE.sub("", text))
        for y, m, d in DAY.findall(rest):
            assert datetime(int(y), int(m), int(d)).date() <= written, (n.id, written, text)
        for m, d in MONTH_DAY.findall(rest):
            assert (int(m), int(d)) == (written.month, written.day), (n.id, written, text)
    assert deadlines >= 10  # every pushed match asks the university to answer in time


def stages_seen_by(account: User) -> set[Stage]:
    from revive.deals.permissions import visible_deals_clause

    return set(db.session.scalars(sa.select(Deal.stage).where(visible_deals_clause(account))))


def test_demo_logins_claims_hold(ctx):
    listed = {login.email.split("@")[0]: login for login in demo_logins()}
    assert {"hbsf.admin", "zhinong", "officer", "hengxin", "dhyy.admin"} <= set(listed)
    now = utcnow()
    hbsf, zhinong = user("hbsf.admin"), user("zhinong")
    assert stages_seen_by(hbsf) == set(Stage) == stages_seen_by(zhinong)
    hbsf_deals = db.session.scalars(
        sa.select(Deal).where(Deal.university_id == hbsf.organization_id)
    ).all()
    assert any(deal_queries.is_overdue(d, now) for d in hbsf_deals)
    assert db.session.scalar(
        sa.select(sa.func.count()).where(EvaluationInvite.invited_by_id == hbsf.id)
    )
    college = user("hbsf.c1")
    assert Stage.SIGNED in stages_seen_by(college)
    assert db.session.scalar(
        sa.select(sa.func.count()).where(OpenLicenceDeclaration.declared_by_id == college.id)
    )
    dhyy = user("dhyy.admin")
    mine = db.session.scalars(
        sa.select(OpenLicenceDeclaration).where(OpenLicenceDeclaration.declared_by_id == dhyy.id)
    ).all()
    assert any(d.status == DeclarationStatus.WITHDRAWN for d in mine)
    assert any(len(rules.patentee_names(d.patent.patentees)) > 1 for d in mine)
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(Deal.university_id == dhyy.organization_id, Contract.kind == ContractKind.EQUITY)
    )
    hengxin = user("hengxin")
    assert db.session.scalar(  # its battery-recycling demand ended in an assignment
        sa.select(sa.func.count())
        .select_from(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(
            Deal.enterprise_id == hengxin.organization_id, Contract.kind == ContractKind.ASSIGNMENT
        )
    )
    assert db.session.scalar(  # it rated the patent it bought (市场评价)
        sa.select(sa.func.count()).where(Evaluation.enterprise_id == hengxin.organization_id)
    )
    assert any(  # and has a patent pushed in the last days, still unanswered
        d.stage == Stage.RECOMMENDED and aware(d.pushed_at) > now - timedelta(days=3)
        for d in db.session.scalars(
            sa.select(Deal).where(Deal.enterprise_id == hengxin.organization_id)
        )
    )


@pytest.mark.parametrize(
    ("login", "path", "text"),
    [
        ("officer", "/review/", "奶牛乳房炎早发现"),
        ("officer", "/review/rejections", REJECT_REASONS["wrong_field"]),
        ("officer", "/deals/", "已签约"),
        ("officer", "/dashboard/contracts", "作价入股"),
        ("regulator", "/dashboard/overdue", "逾期"),
        ("hbsf.admin", "/deals/", "洽谈中"),
        ("hbsf.admin", "/open-licences", "提成"),
        ("zhinong", "/evaluations/todo", "评价"),
        ("zhinong", "/inbox/", "对接"),
    ],
)
def test_demo_pages_show_the_story(ctx, login, path, text):
    client = ctx.test_client()
    response = client.post("/login", data={"email": f"{login}@{DOMAIN}", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    page = client.get(path)
    assert page.status_code == 200, path
    assert text in page.get_data(as_text=True), path


def test_every_deal_pushes_a_patent_that_answers_its_demand(ctx):
    """The officer pushes only patents of the inventions that answer the demand; the other
    candidates the engine proposed are rejected or left in the queue."""
    from revive.demo.demands import DEMANDS

    answers = {d["title"]: d["answered_by"] for d in DEMANDS}
    deals = db.session.scalars(sa.select(Deal)).all()
    assert deals
    for deal in deals:
        subjects = answers[deal.demand.title]
        assert any(s in deal.patent.title for s in subjects), (deal.demand.title, deal.patent.title)
    # The officer invites an enterprise to rate patents that answer its own demands.
    posted = {}
    for demand in db.session.scalars(sa.select(Demand)):
        posted.setdefault(demand.enterprise_id, set()).update(answers[demand.title])
    invites = db.session.scalars(
        sa.select(EvaluationInvite)
        .join(User, User.id == EvaluationInvite.invited_by_id)
        .where(User.role == Role.OFFICER)
    ).all()
    assert invites
    for invite in invites:
        subjects = posted[invite.enterprise_id]
        assert any(s in invite.patent.title for s in subjects), invite.patent.title
