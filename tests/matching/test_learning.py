"""Learning match strength from officers' decisions: labels, position weighting, the refit task
(versioned rows, activation rule, too few decisions), the admin trigger and the daily run."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa

from revive import engine
from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.errors import PermissionDenied
from revive.extensions import db
from revive.matching import jobs, learning
from revive.matching import strength as matching_strength
from revive.matching.models import (
    Match,
    MatchRun,
    MatchState,
    ModelStatus,
    RunScope,
    StrengthModelVersion,
)
from revive.matching.reasons import BUSINESS, NOT_RELEVANT, REJECT_REASONS, is_relevance_label
from tests.factories import make_org, make_user
from tests.matching.helpers import cut_text, drain, entered, make_demand, pool

# the shipped model rates GOOD high
GOOD = {"score": 0.3, "chars": 0.5, "coverage": 0.9, "demand_mass": 5.5}
POOR = {"score": 0.02, "chars": 0.1, "coverage": 0.0, "demand_mass": 3.0}


@pytest.fixture
def admin(app):
    return make_user(Role.PLATFORM_ADMIN)


def _decided(
    n: int,
    state: MatchState,
    *,
    reason: str | None = None,
    features: dict | None = GOOD,
    rank: int = 1,
    start: int = 0,
    matched: list[str] | None = None,
) -> list[Match]:
    """``n`` decided matches (one demand, one patent each), decided one minute apart."""
    officer = make_user(Role.OFFICER)
    institution = make_org()
    out = []
    for i in range(n):
        demand = make_demand(title=f"需求{start + i}")
        patent = entered(institution, title=f"专利{start + i}")
        m = Match(
            demand_id=demand.id,
            patent_id=patent.id,
            state=state,
            rank=rank,
            decided_by_id=officer.id,
            decided_at=utcnow() + timedelta(minutes=start + i),
            reason_code=reason,
            matched=matched,
            **(features or {"score": 0.1}),
        )
        db.session.add(m)
        out.append(m)
    db.session.commit()
    return out


# ---------------------------------------------------------------------------- labels


def test_every_reject_reason_is_classified_as_relevance_or_business():
    assert {"wrong_field", "vague"} == NOT_RELEVANT
    assert NOT_RELEVANT | BUSINESS | {"other"} == set(REJECT_REASONS)
    assert not NOT_RELEVANT & BUSINESS
    assert is_relevance_label("wrong_field") and is_relevance_label("vague")
    for code in ("too_early", "too_costly", "alternative_exists", "no_business_path", "other"):
        assert not is_relevance_label(code)


@pytest.mark.parametrize(
    ("state", "reason", "label"),
    [
        (MatchState.ACCEPTED, None, 1),
        (MatchState.REJECTED, "wrong_field", 0),
        (MatchState.REJECTED, "vague", 0),
        (MatchState.REJECTED, "too_costly", None),
        (MatchState.REJECTED, "too_early", None),
        (MatchState.REJECTED, "other", None),
        (MatchState.CANDIDATE, None, None),
    ],
)
def test_relevance_label(state, reason, label):
    assert learning.relevance_label(state, reason) == label


def test_examination_weight_is_the_inverse_propensity_of_the_rank_clipped():
    assert learning.examination_weight(1) == 1.0
    assert learning.examination_weight(None) == 1.0
    assert learning.examination_weight(3) == pytest.approx(2.0)  # 1 / P, P = 1 / log2(4)
    assert learning.examination_weight(20) == pytest.approx(math.log2(21))
    assert learning.examination_weight(500) == learning.MAX_WEIGHT


def test_decisions_are_labelled_weighted_and_in_time_order(app):
    accepted = _decided(2, MatchState.ACCEPTED, rank=1)
    wrong = _decided(1, MatchState.REJECTED, reason="wrong_field", features=POOR, rank=4, start=5)
    _decided(1, MatchState.REJECTED, reason="too_costly", start=10)  # business: left out
    _decided(1, MatchState.ACCEPTED, features=None, start=20)  # proposed before strength
    _decided(1, MatchState.CANDIDATE, start=30)

    data = learning.decisions()
    assert data.match_ids == [accepted[0].id, accepted[1].id, wrong[0].id]
    assert data.labels.tolist() == [1, 1, 0]
    assert data.rows[2].tolist() == [POOR[f] for f in engine.FEATURES]
    assert data.weights.mean() == pytest.approx(1.0)
    assert data.weights[2] == pytest.approx(math.log2(5) * data.weights[0])  # rank 4 vs 1


def test_a_decision_proposed_before_demand_mass_takes_the_judged_mean(app):
    older = {k: v for k, v in POOR.items() if k != "demand_mass"}
    (m,) = _decided(1, MatchState.REJECTED, reason="vague", features=older)
    data = learning.decisions()
    assert data.match_ids == [m.id]
    x, _, _ = engine.judged_rows()
    col = engine.FEATURES.index("demand_mass")
    assert data.rows[0, col] == pytest.approx(x[:, col].mean())
    assert data.rows[0, :col].tolist() == [POOR[f] for f in engine.FEATURES[:col]]


def test_decisions_carry_their_shared_words_and_older_rows_none(app):
    _decided(1, MatchState.ACCEPTED, matched=["秸秆", "还田机"])
    _decided(1, MatchState.REJECTED, reason="wrong_field", features=POOR, start=1)  # older row
    data = learning.decisions()
    assert data.matched == [("秸秆", "还田机"), ()]
    relevant, seen = data.tally()
    assert relevant == {"秸秆": 1, "还田机": 1} and seen == {"秸秆": 1, "还田机": 1}


# ---------------------------------------------------------------------------- the refit


def test_with_too_few_decisions_the_shipped_model_stays(app, enqueued):
    _decided(3, MatchState.ACCEPTED)
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.SKIPPED and row.model is None
    assert row.n_decisions == 3 and "少于 100 条" in row.note
    assert matching_strength.active_strength_row() is None
    assert matching_strength.active_strength_model() is engine.shipped_model()
    assert enqueued == []


def _enough(app, n: int = 40) -> None:
    """n decisions, accepts on strong-looking pairs and relevance rejections on poor ones,
    alternating in time; the minimum lowered to n."""
    app.config["REVIVE_REFIT_MIN_DECISIONS"] = n
    for i in range(n // 2):
        _decided(1, MatchState.ACCEPTED, start=2 * i, rank=1 + i % 5)
        _decided(1, MatchState.REJECTED, reason="wrong_field", features=POOR, start=2 * i + 1)


@pytest.fixture
def min_decisions(app):
    yield
    app.config["REVIVE_REFIT_MIN_DECISIONS"] = 100


@pytest.mark.usefixtures("min_decisions")
def test_a_refit_not_worse_on_the_latest_decisions_is_activated(app, enqueued):
    pool()
    jobs.request_index_build()
    drain(enqueued)
    _enough(app, 40)
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.ACTIVE, row.note
    assert row.n_decisions == 40 and row.n_positive == 20
    assert row.n_judged == len(engine.judged_rows()[1])
    m = row.metrics
    assert m["n_heldout"] == math.ceil(40 * learning.HELDOUT_SHARE) == 8
    assert m["n_train_decisions"] == 32
    assert m["auc_heldout"] >= m["auc_heldout_current"]
    assert m["current_version"] == engine.shipped_model().version
    model = matching_strength.active_strength_model()
    assert model.version == row.version == f"r{row.id}"
    assert model.trained["decisions"] == 40  # refitted on every decision once accepted
    # both stages: the second refitted on the judged pools over the new first stage
    assert model.calibration is not None and model.calibration.features == engine.POSTING
    assert model.calibration != engine.shipped_model().calibration
    again = engine.StrengthModel.from_json(row.model)
    assert again == model
    # the refit counts the accepted pairs beside the judged ones: its row refers to the
    # release and holds the accepted pairs' words, not a copy of the table (refits run daily)
    assert model.associations.accepted is not None
    assert len(model.associations.accepted.demands) == 20
    assert set(row.model["associations"]) == {"shipped", "accepted"}
    assert again.associations == model.associations
    assert (model.bar, model.strong) == (engine.shipped_model().bar, engine.shipped_model().strong)
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.entity == "strength_model", AuditEvent.action == "activate"
        )
    )
    assert event.entity_id == row.id and event.data["previous"] == engine.shipped_model().version
    # stored strengths follow the new model: every open demand is matched again
    assert enqueued[-1][0] == "matching.match_run"
    run_id = enqueued[-1][1][0]
    assert db.session.get(MatchRun, run_id).scope == RunScope.ALL_DEMANDS

    second = matching_strength.refit_strength()
    assert second.status == ModelStatus.ACTIVE
    db.session.refresh(row)
    assert row.status == ModelStatus.RETIRED
    assert second.metrics["current_version"] == row.version  # compared with the serving refit


@pytest.mark.usefixtures("min_decisions")
def test_decisions_teach_the_refitted_word_rates(app, enqueued):
    """Accepts sharing one word and relevance rejects sharing another are counted into the
    activated model's word rates, beside the judged pairs' counts."""
    pool()
    jobs.request_index_build()
    drain(enqueued)
    app.config["REVIVE_REFIT_MIN_DECISIONS"] = 40
    for i in range(20):
        _decided(1, MatchState.ACCEPTED, start=2 * i, rank=1 + i % 5, matched=["甲类词"])
        _decided(
            1,
            MatchState.REJECTED,
            reason="wrong_field",
            features=POOR,
            start=2 * i + 1,
            matched=["乙类词"],
        )
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.ACTIVE, row.note
    model = matching_strength.active_strength_model()
    shipped = engine.shipped_model()
    assert "甲类词" not in shipped.rates.counts and "乙类词" not in shipped.rates.counts
    assert model.rates.counts["甲类词"] == (20, 20) and model.rates.counts["乙类词"] == (0, 20)
    for word, (r, s) in shipped.rates.counts.items():
        assert model.rates.counts[word] == (r, s)  # the judged pairs' counts stay
    assert model.rates.value(["甲类词"]) > 0 > model.rates.value(["乙类词"])
    assert engine.StrengthModel.from_json(row.model).rates == model.rates


def _pair(demand: dict, patent: dict, state: MatchState, start: int, **kw) -> Match:
    """One decided machine proposal between a demand and a patent written for it."""
    m = Match(
        demand_id=make_demand(**demand).id,
        patent_id=entered(make_org(), **patent).id,
        state=state,
        rank=1,
        decided_by_id=make_user(Role.OFFICER).id,
        decided_at=utcnow() + timedelta(minutes=start),
        **kw,
    )
    db.session.add(m)
    db.session.commit()
    return m


@pytest.mark.usefixtures("min_decisions")
def test_accepted_decisions_teach_the_refitted_associations(app, enqueued, client, auth):
    """An accepted pair is a relevant pair: its demand's words and its patent's words are
    counted beside the judged sets' relevant pairs; a rejection adds nothing. The refit's
    row stores the accepted pairs' words beside the reference to the release."""
    pool()
    jobs.request_index_build()
    drain(enqueued)
    app.config["REVIVE_REFIT_MIN_DECISIONS"] = 40
    shipped = engine.shipped_model().associations
    judged = engine.judged_associations()
    assert judged.table() == shipped  # the release keeps what its table was counted from
    # 沙棘 is a word no answered judged posting used; 保鲜 a patent word the judged ones hold
    assert "沙棘" not in shipped.postings and "保鲜" in judged.docs
    assert "围巾" not in shipped.postings
    for i in range(20):
        _pair(
            {"title": f"沙棘果汁的加工{i}", "description": "我公司生产沙棘果汁，需要延长货架期。"},
            {"title": f"一种果汁保鲜方法{i}", "abstract": "本发明公开了一种果汁的保鲜方法。"},
            MatchState.ACCEPTED,
            2 * i,
            **GOOD,
        )
        _pair(
            {"title": f"针织围巾防起球{i}", "description": "针织围巾容易起球，寻求抗起球技术。"},
            {"title": f"一种针织面料的保鲜包装{i}", "abstract": "本发明公开了一种保鲜包装。"},
            MatchState.REJECTED,
            2 * i + 1,
            reason_code="wrong_field",
            **POOR,
        )
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.ACTIVE, row.note
    assert row.metrics["accepted_demands"] == 20
    model = matching_strength.active_strength_model()
    table = model.associations
    assert dict(shipped.associates("沙棘")) == {}
    assert "保鲜" in dict(table.associates("沙棘"))  # 20 demands, 20 distinct patents
    assert table.postings["沙棘"] == 20 and table.pairs["沙棘"]["保鲜"] == (20, 20)
    assert "围巾" not in table.postings  # rejected: counts nothing
    (words, patents) = table.accepted.demands[0]
    assert "沙棘" in words and "围巾" not in words and len(patents) == 1
    # the judged counts stay, the accepted ones add
    for u, n in shipped.postings.items():
        assert table.postings[u] >= n
    # a candidate holding 保鲜 now gains a value for a 沙棘 demand; the shipped table gives none
    weights = {"沙棘": 1.0}
    assert table.value(weights, ["一种保鲜方法"])[0] > 0
    assert shipped.value(weights, ["一种保鲜方法"])[0] == 0
    # the row holds the reference and the accepted pairs' words, not a copy of the table;
    # a process loading it counts the same table again
    stored = row.model["associations"]
    assert stored["shipped"] is True and set(stored) == {"shipped", "accepted"}
    again = engine.StrengthModel.from_json(row.model).associations
    assert again == table and again.accepted == table.accepted
    assert again.associates("沙棘") == table.associates("沙棘")
    # staff see what the accepted pairs taught on the engine page
    auth.login(make_user(Role.OFFICER))
    html = client.get("/matching/").get_data(as_text=True)
    section = html[html.index('id="learned-associations"') :]
    decided = section[section.index('data-learned="decided"') :]
    assert 'data-word="沙棘"' in decided and 'data-associate="保鲜"' in decided
    assert "共 20 条需求，其中 20 条来自审核采纳" in decided
    assert "计入了 20 条需求的审核采纳" in html


@pytest.mark.usefixtures("min_decisions")
def test_a_refit_that_cannot_be_compared_is_held(app, enqueued):
    app.config["REVIVE_REFIT_MIN_DECISIONS"] = 20
    _decided(10, MatchState.REJECTED, reason="vague", features=POOR)
    _decided(10, MatchState.ACCEPTED, start=100)  # the latest 20 %: all accepted
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.HELD and row.model is None
    assert "只有一类" in row.note
    assert matching_strength.active_strength_row() is None


@pytest.mark.usefixtures("min_decisions")
def test_a_refit_worse_than_the_serving_model_is_held(app, enqueued, monkeypatch):
    _enough(app, 40)
    real = learning.auc
    calls = []

    def rigged(labels, scores):  # first call: the candidate, second: the serving model
        calls.append(1)
        return 0.5 if len(calls) == 1 else real(labels, scores)

    monkeypatch.setattr(learning, "auc", rigged)
    row = matching_strength.refit_strength()
    assert row.status == ModelStatus.HELD and "低于当前模型" in row.note


def test_a_serving_model_from_before_demand_mass_is_compared_on_its_own_features():
    x, y, _ = engine.judged_rows()
    pick = list(range(0, len(y), 20))  # every 20th judged pair as a decision, in order
    data = learning.Decisions(x[pick], y[pick], np.ones(len(pick)), list(range(len(pick))))
    three = ("score", "chars", "coverage")
    cols = [engine.FEATURES.index(f) for f in three]
    older = engine.fit(x[:, cols], y, features=three, version="old")
    out = learning.refit(data, older, version="r1", min_decisions=10)
    assert out.metrics["auc_heldout_current"] is not None
    assert out.model is None or out.model.features == engine.FEATURES


def test_a_failed_refit_is_recorded(app, enqueued, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("no sklearn")

    monkeypatch.setattr(learning, "refit", boom)
    with pytest.raises(RuntimeError):
        matching_strength.refit_strength()
    row = db.session.scalar(sa.select(StrengthModelVersion))
    assert row.status == ModelStatus.FAILED and "no sklearn" in row.error


# ---------------------------------------------------------------------------- requests


def test_only_a_platform_admin_may_request_a_refit(app, enqueued):
    with pytest.raises(PermissionDenied):
        matching_strength.request_strength_refit(make_user(Role.OFFICER))
    assert enqueued == [] and db.session.scalar(sa.select(StrengthModelVersion)) is None


def test_a_request_is_committed_audited_enqueued_and_coalesced(app, enqueued, admin):
    row = matching_strength.request_strength_refit(admin)
    assert row.status == ModelStatus.QUEUED and row.requested_by_id == admin.id
    assert enqueued == [("matching.refit_strength", (row.id,))]
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_id == row.id))
    assert (event.entity, event.action, event.actor_id) == (
        "strength_model",
        "refit_request",
        admin.id,
    )
    assert matching_strength.request_strength_refit(admin).id == row.id  # still queued: reused
    assert len(enqueued) == 1
    drain(enqueued)
    db.session.refresh(row)
    assert row.status == ModelStatus.SKIPPED  # no decisions yet


def test_the_daily_run_leaves_a_requested_refit_and_the_sweep_resends_a_lost_one(
    app, enqueued, admin
):
    from revive import queue

    live = matching_strength.request_strength_refit(admin)
    assert matching_strength.refit_strength() is live  # the queued one will run: nothing new
    assert db.session.scalar(sa.select(sa.func.count(StrengthModelVersion.id))) == 1

    lost = utcnow() - timedelta(hours=1)  # its message never reached a worker
    db.session.execute(
        sa.update(StrengthModelVersion)
        .where(StrengthModelVersion.id == live.id)
        .values(task_sent_at=lost)
    )
    db.session.commit()
    assert matching_strength.refit_strength() is live  # still nothing new…
    assert queue.resend_stuck() == {"matching.refit_strength": [live.id]}  # …it is re-sent
    assert enqueued == [("matching.refit_strength", (live.id,))] * 2
    drain(enqueued)
    db.session.refresh(live)
    assert live.status == ModelStatus.SKIPPED
    matching_strength.execute_strength_refit(live.id)  # the lost task turning up late: nothing
    db.session.refresh(live)
    assert live.status == ModelStatus.SKIPPED


def test_the_daily_run_makes_and_runs_its_own_refit(app, enqueued):
    fresh = matching_strength.refit_strength()
    assert fresh.status == ModelStatus.SKIPPED  # too few decisions
    assert fresh.requested_by_id is None and fresh.task_attempts == 1  # the schedule's, claimed
    assert fresh.task_claimed_by is None  # released


def test_the_refit_runs_daily_on_the_beat_schedule(app):
    from workers import tasks

    schedule = app.config["CELERY"]["beat_schedule"]
    (entry,) = [e for e in schedule.values() if e["task"] == "matching.refit_strength"]
    assert entry["schedule"] == 86400.0
    assert tasks.refit_strength.name == "matching.refit_strength"


# ---------------------------------------------------------------------------- the page


def test_engine_page_shows_the_model_and_the_button_to_platform_admins(client, auth, admin):
    auth.login(admin)
    html = client.get("/matching/").get_data(as_text=True)
    assert 'id="strength"' in html and engine.shipped_model().version in html
    assert 'action="/matching/strength-models"' in html and "重新训练" in html
    auth.logout()
    assert "REVIVE_MATCH_STRONG" in html  # the deployment settings, for who can change them
    auth.logout()
    auth.login(make_user(Role.OFFICER))
    html = client.get("/matching/").get_data(as_text=True)
    assert 'id="strength"' in html and 'action="/matching/strength-models"' not in html
    # in words, the id in a tooltip; no setting names (a designer read them as internals)
    model = html[html.index('id="active-strength"') :]
    assert "随附模型" in model and f'title="模型编号 {engine.shipped_model().version}"' in model
    assert "REVIVE_MATCH_STRONG" not in html


def test_engine_page_shows_what_the_word_rates_learned(client, auth):
    """Staff can check what the model learned: the shared words most and least often relevant,
    each with its rate and denominator (pairs), thresholds to their tenth."""
    from revive.matching.queries import LEARNED_MIN_PAIRS, learned_words

    model = engine.shipped_model()
    learned = learned_words(model)
    assert learned is not None and learned.fruitful and learned.barren
    assert {w.word for w in learned.fruitful}.isdisjoint(w.word for w in learned.barren)
    assert all(w.seen >= LEARNED_MIN_PAIRS for w in learned.fruitful + learned.barren)
    values = [model.rates.value([w.word]) for w in learned.fruitful]
    assert values == sorted(values, reverse=True)
    assert min(values) > max(model.rates.value([w.word]) for w in learned.barren)
    auth.login(make_user(Role.OFFICER))
    html = client.get("/matching/").get_data(as_text=True)
    section = html[html.index('id="learned-words"') :]
    top, low = learned.fruitful[0], learned.barren[0]
    assert f'data-word="{top.word}"' in section and f"（{top.relevant} / {top.seen} 对）" in section
    assert f'data-word="{low.word}"' in section and f"（{low.relevant} / {low.seen} 对）" in section
    assert f"低于 {cut_text(model.bar)} 为弱" in html


def test_engine_page_shows_what_the_associations_learned(client, auth):
    """Staff can check the associations: the demand words most demands stand behind, each
    with its best associates and the demands behind each."""
    from revive.matching.queries import learned_associations

    table = engine.shipped_model().associations
    learned = learned_associations(engine.shipped_model())
    assert learned is not None and learned.common and learned.decided == []
    assert learned.accepted_demands == 0
    # listed by the demands behind each word's best associate, never the word itself
    behind = [w.associates[0][1] for w in learned.common]
    assert behind == sorted(behind, reverse=True)
    for w in learned.common:
        assert w.word not in [v for v, _ in w.associates] and len(w.word) >= 2
        assert [c for _, c in w.associates] == sorted((c for _, c in w.associates), reverse=True)
        assert all(table.pairs[w.word][v][0] == c for v, c in w.associates)
        assert set(w.associates) <= {
            (v, table.pairs[w.word][v][0]) for v, _ in table.associates(w.word)
        }
    top = learned.common[0]
    best = top.associates[0][0]
    auth.login(make_user(Role.OFFICER))
    html = client.get("/matching/").get_data(as_text=True)
    section = html[html.index('id="learned-associations"') :]
    assert f'data-word="{top.word}"' in section and f'data-associate="{best}"' in section
    assert f"共 {top.postings} 条需求" in section and 'data-learned="decided"' not in section


def test_a_model_without_word_rates_shows_no_learned_words():
    from dataclasses import replace

    from revive.matching.queries import learned_words

    assert learned_words(replace(engine.shipped_model(), rates=None)) is None


def test_refit_button_queues_a_refit(client, auth, admin, enqueued):
    auth.login(admin)
    response = client.post("/matching/strength-models")
    assert response.status_code == 302 and response.headers["Location"].endswith("#strength")
    row = db.session.scalar(sa.select(StrengthModelVersion))
    assert enqueued == [("matching.refit_strength", (row.id,))]
    html = client.get("/matching/").get_data(as_text=True)
    assert f"已提交匹配强度模型的重新训练 #{row.id}" in html
    assert f'data-refit-id="{row.id}"' in html


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ENTERPRISE, Role.UNIVERSITY_ADMIN])
def test_refit_button_is_refused_to_others(client, auth, enqueued, role):
    auth.login(make_user(role))
    assert client.post("/matching/strength-models").status_code in (403, 404)
    assert enqueued == [] and db.session.scalar(sa.select(StrengthModelVersion)) is None


def test_refit_form_needs_a_csrf_token(app, client, auth, admin, enqueued, monkeypatch):
    auth.login(admin)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/matching/strength-models").status_code == 400
    assert enqueued == []


@pytest.mark.usefixtures("_data_dir")  # load_config() writes its files in the test data dir
def test_thresholds_and_refit_minimum_are_settings(monkeypatch):
    from revive.config import load_config

    for key in ("REVIVE_MATCH_BAR", "REVIVE_MATCH_STRONG", "REVIVE_REFIT_MIN_DECISIONS"):
        monkeypatch.delenv(key, raising=False)
    cfg = load_config()
    assert cfg["REVIVE_MATCH_BAR"] is None and cfg["REVIVE_MATCH_STRONG"] is None  # the model's
    assert cfg["REVIVE_REFIT_MIN_DECISIONS"] == 100
    monkeypatch.setenv("REVIVE_MATCH_BAR", "0.15")
    monkeypatch.setenv("REVIVE_MATCH_STRONG", "0.5")
    monkeypatch.setenv("REVIVE_REFIT_MIN_DECISIONS", "250")
    cfg = load_config()
    assert (cfg["REVIVE_MATCH_BAR"], cfg["REVIVE_MATCH_STRONG"]) == (0.15, 0.5)
    assert cfg["REVIVE_REFIT_MIN_DECISIONS"] == 250
    monkeypatch.setenv("REVIVE_MATCH_BAR", "15")  # a percentage by mistake: refused at start
    with pytest.raises(ValueError, match="between 0 and 1"):
        load_config()


def test_thresholds_default_to_the_serving_model(app):
    shipped = engine.shipped_model()
    assert matching_strength.thresholds() == (shipped.bar, shipped.strong)
    app.config["REVIVE_MATCH_BAR"] = 0.2
    try:
        assert matching_strength.thresholds() == (0.2, shipped.strong)
    finally:
        app.config["REVIVE_MATCH_BAR"] = None


# ---------------------------------------------------------------------------- as shown


@pytest.mark.parametrize(
    ("p", "bar", "strong", "shown"),
    [
        (0.0758, 0.08, 0.3, "7.6%"),  # explore2 F7: was "8%" beside "低于 8% 为“弱”"
        (0.0799, 0.08, 0.3, "7.9%"),  # a tenth would round up onto the bar too: toward its side
        (0.07999, 0.08, 0.3, "7.9%"),
        (0.08, 0.08, 0.3, "8%"),
        (0.2999, 0.08, 0.3, "29.9%"),
        (0.3, 0.08, 0.3, "30%"),
        (0.12, 0.08, 0.3, "12%"),  # away from the thresholds: the whole percent
        (0.0449, 0.08, 0.3, "4%"),
        (0.0849, 0.085, 0.3, "8%"),  # 8% < 8.5%: no need for more
        (0.0851, 0.085, 0.3, "9%"),
        (0.0846, 0.0849, 0.3, "8%"),  # against the bar as shown (8.5%)
        (0.0852, 0.0849, 0.3, "9%"),
    ],
)
def test_a_strength_as_shown_never_contradicts_its_tier(p, bar, strong, shown):
    assert matching_strength.strength_text(p, bar, strong) == shown
    tier = "weak" if p < bar else "strong" if p >= strong else "medium"
    value = float(shown.rstrip("%"))
    bar_shown = float(matching_strength.threshold_text(bar).rstrip("%"))
    strong_shown = float(matching_strength.threshold_text(strong).rstrip("%"))
    assert (value < bar_shown) == (tier == "weak")
    assert (value >= strong_shown) == (tier == "strong")


@pytest.mark.parametrize(("t", "shown"), [(0.08, "8%"), (0.085, "8.5%"), (0.3, "30%")])
def test_a_threshold_is_shown_to_its_tenth(t, shown):
    assert matching_strength.threshold_text(t) == shown == cut_text(t)
