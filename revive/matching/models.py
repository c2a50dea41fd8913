"""Tokens per patent, versioned index builds, match runs (progress rows) and matches."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column, utcnow
from revive.demands.models import Demand
from revive.engine.text import normalize
from revive.extensions import db
from revive.inventory.models import Patent
from revive.queue import Delivery


class RunStatus(LabeledEnum):
    QUEUED = ("queued", "排队中")
    RUNNING = ("running", "运行中")
    SUCCEEDED = ("succeeded", "已完成")
    FAILED = ("failed", "失败")


class RunScope(LabeledEnum):
    DEMAND = ("demand", "单个需求")
    ALL_DEMANDS = ("all_demands", "全部开放需求")


class MatchState(LabeledEnum):
    CANDIDATE = ("candidate", "待审核")
    ACCEPTED = ("accepted", "已采纳")
    REJECTED = ("rejected", "已否决")


class MatchSource(LabeledEnum):
    """Where a candidate came from: the engine's run, an enterprise asking for an introduction
    from the pool (申请对接), or an officer adding a patent by hand. Runs refresh and drop only
    their own (machine) candidates; the others stay until an officer decides them."""

    MACHINE = ("machine", "机器推荐")
    INTENT = ("intent", "企业申请对接")
    OFFICER = ("officer", "技术经理人添加")


class MatchTier(LabeledEnum):
    """Match strength tier (revive.engine.strength.StrengthModel.tier): 强 from the strong
    threshold, 弱 below the bar (REVIVE_MATCH_STRONG / REVIVE_MATCH_BAR)."""

    STRONG = ("strong", "强")
    MEDIUM = ("medium", "中")
    WEAK = ("weak", "弱")


class ModelStatus(LabeledEnum):
    """A strength-model refit (strength_models): queued → running → active (serving), held
    (fitted but not better than the serving model on later decisions), skipped (too few
    decisions) or failed; an active model becomes retired when a newer one is activated."""

    QUEUED = ("queued", "排队中")
    RUNNING = ("running", "训练中")
    ACTIVE = ("active", "使用中")
    RETIRED = ("retired", "已停用")
    HELD = ("held", "未启用")
    SKIPPED = ("skipped", "未训练")
    FAILED = ("failed", "失败")


class PatentTokens(db.Model):
    """A patent tokenized once (on import or edit, in a worker); the index reads these."""

    __tablename__ = "patent_tokens"

    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[str] = mapped_column(sa.Text)  # space-joined engine tokens
    text_hash: Mapped[str] = mapped_column(sa.String(40))  # sha1 of the text that was tokenized
    tokenizer_version: Mapped[str] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class IndexBuild(TimestampMixin, Delivery, db.Model):
    """One build of the matching index; the newest succeeded one is the active index."""

    __tablename__ = "index_builds"
    __table_args__ = (
        sa.CheckConstraint(
            "status <> 'succeeded' OR (path IS NOT NULL AND finished_at IS NOT NULL)",
            name="succeeded_has_artifact",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # doubles as the index version
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "index_build_status"), default=RunStatus.QUEUED, index=True
    )
    # "full": every patent's tokens, statistics recomputed; "delta": the active index plus the
    # patents whose tokens changed since it was built, as one more shard (incremental).
    kind: Mapped[str] = mapped_column(sa.String(10), default="full", server_default="full")
    base_id: Mapped[int | None] = mapped_column(sa.Integer)  # delta: the build it extends
    # Tokens stored up to this time are in the index; the active index is the succeeded build
    # that covers the latest time (a full rebuild that started earlier catches up first).
    covered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    shard_count: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")
    doc_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    vocab_size: Mapped[int] = mapped_column(sa.Integer, default=0)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed: Mapped[int] = mapped_column(sa.Integer, default=0)
    path: Mapped[str | None] = mapped_column(sa.String(500))  # artifact folder
    error: Mapped[str | None] = mapped_column(sa.Text)
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MatchRun(TimestampMixin, Delivery, db.Model):
    """A request to (re)match one demand or all open demands; the UI and API read this row."""

    __tablename__ = "match_runs"
    __table_args__ = (
        sa.CheckConstraint(
            "scope <> 'demand' OR demand_id IS NOT NULL", name="demand_scope_has_demand"
        ),
        sa.Index("ix_match_runs_demand_status", "demand_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[RunScope] = mapped_column(enum_column(RunScope, "match_run_scope"))
    demand_id: Mapped[int | None] = mapped_column(sa.ForeignKey("demands.id", ondelete="CASCADE"))
    status: Mapped[RunStatus] = mapped_column(
        enum_column(RunStatus, "match_run_status"), default=RunStatus.QUEUED, index=True
    )
    index_version: Mapped[int | None] = mapped_column(sa.Integer)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed: Mapped[int] = mapped_column(sa.Integer, default=0)
    match_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    demand: Mapped[Demand | None] = relationship()
    requested_by: Mapped[User | None] = relationship()


class Match(TimestampMixin, db.Model):
    """One (demand, patent) pair the engine proposed. Re-matching refreshes the assessment of
    undecided pairs and drops those that left the top-k; decided pairs (accepted/rejected) are
    kept across index versions with the assessment they were decided on (the features are
    the training rows of matching.refit_strength), and a rejected pair is never proposed
    again."""

    __tablename__ = "matches"
    __table_args__ = (
        sa.UniqueConstraint("demand_id", "patent_id", name="demand_patent"),
        sa.CheckConstraint(
            "state = 'candidate' OR (decided_at IS NOT NULL)", name="decision_has_time"
        ),
        sa.Index("ix_matches_demand_state_score", "demand_id", "state", "score"),
        sa.Index("ix_matches_patent_state", "patent_id", "state"),
        sa.Index("ix_matches_decided_by_at", "decided_by_id", "decided_at"),  # officer workload
        sa.CheckConstraint(
            "(intent_at IS NULL) = (intent_message IS NULL)", name="intent_has_message"
        ),
        # Officers' "new intents since I last looked" (revive.alerts.queries).
        sa.Index("ix_matches_intent_at", "intent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id", ondelete="CASCADE"))
    patent_id: Mapped[int] = mapped_column(sa.ForeignKey("patents.id", ondelete="CASCADE"))
    # Features at proposal time (revive.engine.strength.FEATURES): the index's cosine, the
    # characters' cosine, the share of the demand's specific words the patent covers, the
    # demand's specific weight.
    score: Mapped[float] = mapped_column(sa.Float)
    chars: Mapped[float | None] = mapped_column(sa.Float)
    coverage: Mapped[float | None] = mapped_column(sa.Float)
    # ln(1 + the demand's specific-word weight) (strength.demand_mass), the same for every
    # candidate of a demand; NULL on rows proposed before the feature existed.
    demand_mass: Mapped[float | None] = mapped_column(sa.Float)
    # The demand's specific words the patent holds (Candidate.matched, the words of coverage)
    # at proposal time: a decision teaches the strength model's word rates which of them lead
    # to a fit (engine.WordRates). NULL on rows proposed before they were stored.
    matched: Mapped[list[str] | None] = mapped_column(sa.JSON)
    # Rank by strength in the latest run (1 = shown first); None: left top-k.
    rank: Mapped[int | None] = mapped_column(sa.Integer)
    # Strength: P(relevant) by the model ``model_version``; its tier under the bar / strong
    # settings of that run. NULL on rows proposed before strength existed.
    strength: Mapped[float | None] = mapped_column(sa.Float)
    tier: Mapped[MatchTier | None] = mapped_column(enum_column(MatchTier, "match_tier"))
    model_version: Mapped[str | None] = mapped_column(sa.String(40))
    # The sub-need it answers: index into DemandReading.needs (0 for a single-need posting).
    need: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # The reasons shown to people: spans both texts share, best first (["钕铁硼永磁", …]).
    reasons: Mapped[list[str]] = mapped_column(
        sa.JSON, default=list, server_default=sa.text("'[]'")
    )
    # [[term, weight], ...]: the index's top contributing terms. Not shown to people (they are
    # fragments); kept for API clients of /api/v1 (``terms`` of a match).
    terms: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    trl_below_expectation: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    index_version: Mapped[int | None] = mapped_column(sa.Integer)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_runs.id", ondelete="SET NULL"))
    state: Mapped[MatchState] = mapped_column(
        enum_column(MatchState, "match_state"), default=MatchState.CANDIDATE
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason_code: Mapped[str | None] = mapped_column(sa.String(40))
    comment: Mapped[str | None] = mapped_column(sa.Text)  # the decision's comment (internal)
    source: Mapped[MatchSource] = mapped_column(
        enum_column(MatchSource, "match_source"),
        default=MatchSource.MACHINE,
        server_default=MatchSource.MACHINE.value,
    )
    # The officer's note for the enterprise (推荐说明), written when adding a patent by hand;
    # pushing the match sends it (or the push form's comment) with the deal (Deal.note).
    note: Mapped[str | None] = mapped_column(sa.Text)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # An enterprise's request for an introduction (申请对接), on a pair of any source: the
    # pair is created by it (source "intent") or the intent is attached to the existing one.
    intent_message: Mapped[str | None] = mapped_column(sa.Text)
    intent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    intent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    demand: Mapped[Demand] = relationship()
    patent: Mapped[Patent] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])
    intent_by: Mapped[User | None] = relationship(foreign_keys=[intent_by_id])

    @property
    def has_intent(self) -> bool:
        return self.intent_at is not None

    @property
    def origin_label(self) -> str:
        """What brought the pair to review, as officers and the enterprise read it."""
        if self.has_intent:
            return MatchSource.INTENT.label
        return self.source.label if self.source else MatchSource.MACHINE.label


class DemandReading(TimestampMixin, db.Model):
    """How matching read a demand in its latest run, and whether it abstains.

    A table of matching's own rather than columns on ``demands``: it is derived by the matching
    worker and written in the same transaction as the demand's matches, and the demands
    package sits below matching (it must not carry — or know of — matching's results). One row
    per demand that was matched; ``demand_version`` says which edit of the demand it read.
    """

    __tablename__ = "demand_readings"

    demand_id: Mapped[int] = mapped_column(
        sa.ForeignKey("demands.id", ondelete="CASCADE"), primary_key=True
    )
    # [{"label": "…", "text": "…"}, …]: one need, or the posting's unrelated sub-needs.
    needs: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON, default=list)
    # What was taken out before matching (listing form text, terms, company profile).
    removed: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_thin: Mapped[bool] = mapped_column(sa.Boolean, default=False)  # 需求描述过短
    content_words: Mapped[int] = mapped_column(sa.Integer, default=0)
    # No candidate reached the bar: 暂无合适专利 (candidates shown only on request).
    is_abstaining: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    best_strength: Mapped[float | None] = mapped_column(sa.Float)
    proposal_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    demand_version: Mapped[int | None] = mapped_column(sa.Integer)
    index_version: Mapped[int | None] = mapped_column(sa.Integer)
    model_version: Mapped[str | None] = mapped_column(sa.String(40))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("match_runs.id", ondelete="SET NULL"))

    @property
    def is_multi(self) -> bool:
        return len(self.needs or ()) > 1

    def need_label(self, need: int | None) -> str:
        needs = self.needs or []
        return needs[need]["label"] if need is not None and 0 <= need < len(needs) else ""

    def elsewhere(self, need: int | None, reasons: Iterable[str] | None) -> set[str]:
        """Of a candidate's ``reasons``, those its sub-need ``need`` does not say (they come
        from the title or another sub-need): shown apart under a sub-need's heading. Empty
        for a single-need posting. Reasons are spans of the normalised text, as matching
        read it."""
        needs = self.needs or []
        if len(needs) < 2 or need is None or not 0 <= need < len(needs) or not reasons:
            return set()
        own = normalize(needs[need].get("text", ""))
        return {r for r in reasons if r not in own}


class StrengthModelVersion(TimestampMixin, Delivery, db.Model):
    """One refit of the strength model from officers' decisions plus the judged pairs
    (matching.refit_strength), versioned like the index. The one ``active`` row is the model
    matching uses; none active: the shipped judged-set model."""

    __tablename__ = "strength_models"
    __table_args__ = (
        sa.CheckConstraint("status <> 'active' OR model IS NOT NULL", name="active_has_model"),
        sa.Index(
            "uq_strength_models_one_active",
            "status",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # the version: StrengthModel "r<id>"
    status: Mapped[ModelStatus] = mapped_column(
        enum_column(ModelStatus, "strength_model_status"), default=ModelStatus.QUEUED
    )
    source: Mapped[str] = mapped_column(sa.String(40), default="decisions+judged")
    n_decisions: Mapped[int] = mapped_column(sa.Integer, default=0)  # labelled decisions used
    n_positive: Mapped[int] = mapped_column(sa.Integer, default=0)  # of them accepted
    n_judged: Mapped[int] = mapped_column(sa.Integer, default=0)  # judged pairs (shipped)
    # Held-out figures (time replay) and the weighting used; see strength.refit_strength.
    metrics: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    model: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)  # StrengthModel.to_json()
    note: Mapped[str | None] = mapped_column(sa.Text)  # why held / skipped, in Chinese
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    requested_by: Mapped[User | None] = relationship()

    @property
    def version(self) -> str:
        return f"r{self.id}"
