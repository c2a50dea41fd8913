"""The strength model: the one matching serves (the active refit, else the shipped one), its
thresholds, and its refits from the officers' decisions.

    request_strength_refit  (platform admin) StrengthModelVersion QUEUED → "matching.refit_strength"
    refit_strength          (worker; daily by beat) refit strength from decisions (learning.py),
                            activate when not worse on the latest decisions, re-match
"""

from __future__ import annotations

import logging
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import defer

from revive import engine, queue
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.db import utcnow
from revive.errors import PermissionDenied
from revive.extensions import db
from revive.matching import jobs, learning
from revive.matching.models import (
    ModelStatus,
    RunScope,
    StrengthModelVersion,
)

logger = logging.getLogger(__name__)


REFIT_TASK = "matching.refit_strength"
REFIT_MIN_DECISIONS = 100  # REVIVE_REFIT_MIN_DECISIONS


# The active strength model per process, keyed by (row id, activation time); the shipped
# judged-set model when no refit is active.
_strength: tuple[tuple[int, Any], engine.StrengthModel] | None = None


def active_strength_row() -> StrengthModelVersion | None:
    """The active refit's row; its model (JSON) is read only when asked for (pages ask for the
    active model's thresholds on every request, and a process loads the model once)."""
    return db.session.scalar(
        sa.select(StrengthModelVersion)
        .where(StrengthModelVersion.status == ModelStatus.ACTIVE)
        .options(defer(StrengthModelVersion.model))
    )


def active_strength_model() -> engine.StrengthModel:
    """The strength model matching uses: the active refit, else the shipped judged-set model
    (loaded once per process and version, like the index)."""
    global _strength
    row = active_strength_row()
    if row is None:
        return engine.shipped_model()
    key = (row.id, row.activated_at)
    if _strength is None or _strength[0] != key:
        if not row.model:
            return engine.shipped_model()
        _strength = (key, engine.StrengthModel.from_json(row.model))
        logger.info("Loaded strength model %s", _strength[1].version)
    return _strength[1]


def thresholds(model: engine.StrengthModel | None = None) -> tuple[float, float]:
    """(bar, strong): REVIVE_MATCH_BAR / REVIVE_MATCH_STRONG, else the model's own. Below
    the bar a candidate is 弱 and a demand whose best candidate is below it abstains
    (暂无合适专利); from ``strong`` it is 强."""
    model = model or active_strength_model()
    bar = current_app.config.get("REVIVE_MATCH_BAR")
    strong = current_app.config.get("REVIVE_MATCH_STRONG")
    return (
        model.bar if bar is None else float(bar),
        model.strong if strong is None else float(strong),
    )


# ---------------------------------------------------------------------------- as shown


def _shown(value: Decimal) -> str:
    """A percentage without trailing zeros: 8, 7.6, 8.25."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def threshold_text(t: float) -> str:
    """A threshold (the bar, the strong cut) as pages show it: to its tenth, 8.5%, and 8%
    rather than 8.0%."""
    return _shown(Decimal(f"{t * 100:.1f}")) + "%"


# Whole percent first; a tenth only where the whole percent would land on the other side of
# a threshold as shown (rounded, else toward its own side: 0.0799 under 8% is 7.9%), a
# hundredth as a last resort.
_PRECISIONS = (
    (Decimal("1"), ROUND_HALF_UP),
    *(
        (Decimal(places), r)
        for places in ("0.1", "0.01")
        for r in (ROUND_HALF_UP, ROUND_FLOOR, ROUND_CEILING)
    ),
)


def strength_text(p: float, bar: float, strong: float) -> str:
    """A strength (probability) as shown beside its tier's band, never contradicting it: the
    whole percent when that lies on the same side of each threshold (as ``threshold_text``
    shows it) as ``p`` does, else a finer figure — 0.0758 under a bar of 8% reads 7.6%, not
    "8% … (低于 8% 为“弱”)"."""
    x = Decimal(repr(float(p))) * 100
    cuts = [(Decimal(f"{t * 100:.1f}"), p >= t) for t in (bar, strong)]
    for places, rounding in _PRECISIONS:
        shown = x.quantize(places, rounding=rounding)
        if all((shown >= cut) == above for cut, above in cuts):
            return _shown(shown) + "%"
    return _shown(x.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) + "%"


# How far a strength may sit from what was measured for it before pages say the measured
# share instead (engine/reliability.py): the model is calibrated where most candidates lie.
SEEN_GAP = 0.05


def _measured(p: float | None, short: bool) -> float | None:
    """The share measured for strengths near ``p`` (short postings apart, as ``short`` says)
    when it is more than SEEN_GAP from ``p``; None while ``p`` reads true, or when nothing was
    measured."""
    measured = engine.shipped_reliability()
    if p is None or measured is None:
        return None
    seen = measured.observed(p, short)
    return None if abs(seen - p) <= SEEN_GAP else float(seen)


def seen_share(p: float | None, short: bool = False) -> str | None:
    """What was measured for a strength ``p``, e.g. "约 70%", when it is not ``p`` itself:
    of the judged pairs the model rated near ``p``, that share was relevant."""
    seen = _measured(p, short)
    return None if seen is None else f"约 {round(seen * 100):d}%"


def shown_share(p: float | None, short: bool = False) -> float | None:
    """The share the pages state for a strength ``p`` (「经人工判定，约 X% 确实切合」): the
    measured one where ``seen_share`` gives it, else ``p`` — so API clients read the figure
    the enterprise's page shows (an integrator saw 0.67 beside the page's 约 61%)."""
    if p is None:
        return None
    seen = _measured(p, short)
    return round(float(p) if seen is None else seen, 4)


def share_basis(p: float | None, short: bool = False) -> int | None:
    """How many judged pairs of strength near ``p`` the share the pages state rests on (the
    denominator beside 「约 X%」, engine/reliability.py ``Reliability.basis``); None when
    nothing was measured."""
    measured = engine.shipped_reliability()
    if p is None or measured is None:
        return None
    return measured.basis(float(p), short)


REFIT_ACTIVE = (ModelStatus.QUEUED, ModelStatus.RUNNING)


def model_label(version: str | None) -> str | None:
    """The strength model in words for officers: 随附模型 (fitted on the judged sets, shipped
    with the release) or 第 N 版（审核决定训练）; the raw id stays for a tooltip. A tester read
    「强度模型 judged-20261206-973b3e8f」 as an internal leftover."""
    if not version:
        return None
    if version.startswith("r") and version[1:].isdigit():
        return f"第 {version[1:]} 版（由审核决定训练）"
    return "随附模型（在人工判定集上训练）"


def request_strength_refit(actor: User) -> StrengthModelVersion:
    """(platform admin) Queue a refit of the strength model from the decisions: a row
    (committed, audited), then the task. A refit already queued or running is reused."""
    if actor.role != Role.PLATFORM_ADMIN:
        raise PermissionDenied("只有平台管理员可以重新训练匹配强度模型")
    pending = _pending_refit()
    if pending is not None:
        return pending
    row = StrengthModelVersion(status=ModelStatus.QUEUED, requested_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "strength_model", row.id, "refit_request", actor, serving=active_strength_model().version
    )
    db.session.commit()
    # The row is committed; with the broker down it stays unsent and the sweep sends it.
    queue.send(REFIT_TASK, row.id)
    return row


def _pending_refit() -> StrengthModelVersion | None:
    """A queued or running refit: it will run (the recovery sweep re-sends a lost one, and
    gives up one that keeps killing its worker)."""
    return db.session.scalar(
        sa.select(StrengthModelVersion)
        .where(StrengthModelVersion.status.in_(REFIT_ACTIVE))
        .order_by(StrengthModelVersion.id)
        .limit(1)
    )


def refit_strength(model_id: int | None = None) -> StrengthModelVersion | None:
    """(worker, matching.refit_strength) Run a requested refit, or — from the daily beat
    schedule, no id — start one unless one is already under way (run here, under a claim
    of its row like any delivery)."""
    if model_id is not None:
        return execute_strength_refit(model_id)
    pending = _pending_refit()
    if pending is not None:
        return pending
    row = StrengthModelVersion(status=ModelStatus.QUEUED)
    db.session.add(row)
    db.session.commit()
    with queue.claimed(REFIT_TASK, row.id) as mine:
        return execute_strength_refit(row.id) if mine else row


def execute_strength_refit(model_id: int) -> StrengthModelVersion | None:
    """(worker) Fit the strength model on the judged pairs plus the officers' decisions
    (learning.py: labels, position weighting, time-replay check); activate it when it does at
    least as well as the serving model on the latest decisions, then re-match every open
    demand with it. Too few decisions: nothing is fitted, the serving model stays."""
    row = db.session.get(StrengthModelVersion, model_id)
    if row is None or row.status not in REFIT_ACTIVE:
        return row  # finished already: a redelivered task does nothing
    try:
        row.status, row.started_at, row.error = ModelStatus.RUNNING, utcnow(), None
        db.session.commit()
        outcome = learning.refit(
            learning.decisions(),
            active_strength_model(),
            version=row.version,
            min_decisions=jobs.setting("REVIVE_REFIT_MIN_DECISIONS", REFIT_MIN_DECISIONS),
        )
        row.n_decisions, row.n_positive = outcome.n_decisions, outcome.n_positive
        row.n_judged, row.metrics, row.note = outcome.n_judged, outcome.metrics, outcome.note
        row.finished_at = utcnow()
        if outcome.model is None:
            too_few = outcome.n_decisions < jobs.setting(
                "REVIVE_REFIT_MIN_DECISIONS", REFIT_MIN_DECISIONS
            )
            row.status = ModelStatus.SKIPPED if too_few else ModelStatus.HELD
            db.session.commit()
            logger.info("Strength refit %s: %s", row.id, row.note)
            return row
        row.model = outcome.model.to_json()
        previous = active_strength_row()
        if previous is not None:
            previous.status = ModelStatus.RETIRED
            db.session.flush()  # one active row at a time (partial unique index)
        row.status, row.activated_at = ModelStatus.ACTIVE, utcnow()
        audit.record(
            "strength_model",
            row.id,
            "activate",
            None,
            previous=previous.version if previous is not None else engine.shipped_model().version,
            auc_heldout=outcome.metrics.get("auc_heldout"),
            auc_heldout_current=outcome.metrics.get("auc_heldout_current"),
            n_decisions=row.n_decisions,
        )
        db.session.commit()
    except Exception as exc:
        logger.exception("Strength refit %s failed", model_id)
        queue.mark_failed(StrengthModelVersion, model_id, ModelStatus.FAILED, f"训练失败（{exc}）")
        raise
    logger.info("Strength model %s active: %s", row.version, row.note)
    if jobs.active_build() is not None:
        jobs.request_match_run(RunScope.ALL_DEMANDS)  # stored strengths follow the new model
    return row


def _give_up_refit(model_id: int) -> None:
    queue.mark_failed(StrengthModelVersion, model_id, ModelStatus.FAILED, queue.GAVE_UP)


queue.register(
    queue.Kind(
        REFIT_TASK,
        StrengthModelVersion,
        active=lambda: StrengthModelVersion.status.in_(REFIT_ACTIVE),
        give_up=_give_up_refit,
    )
)
