"""分层推广: the promotion tier of an entered patent. Pure Python: no Flask, no database.

The national plan names the step (市场评价 → 分层推广) but no tiers or thresholds; this rule is
our proposal (see domain.md: keep such lists configurable). All thresholds live in
``TierRules``; ``rules_from_mapping`` builds a variant from configuration
(``REVIVE_TIER_RULES``, a dict or a JSON object, e.g. ``{"a_min_avg": 4.5}``).

Inputs (``TierFacts``): the university's self-assessment (专利价值分级自评 1–5★, TRL 1–9,
转化意愿), and the enterprise evaluations aggregated per patent (count, average 产业化前景 ★,
best ★, how many enterprises declared a cooperation intent other than 暂无).

The rule — the first line that applies wins:

``D 暂缓``         the university does not want to transfer it now (转化意愿 = 暂不), or at least
                   ``d_min_evals`` enterprises evaluated it and their average is below
                   ``d_max_avg`` (the market said no);
``A 重点推广``     mature enough to show at a roadshow (TRL ≥ ``a_min_trl``) and a strong market
                   signal: 双五星 (self 5★ and at least one enterprise 5★), or at least
                   ``a_min_evals`` evaluations averaging ≥ ``a_min_avg`` with at least one
                   enterprise willing to cooperate (合作意愿 ≠ 暂无);
``B 推荐推广``     enterprises liked it (≥ ``b_min_evals`` evaluations averaging ≥ ``b_min_avg``,
                   or 双五星 below A's TRL), or nobody has evaluated it yet but the university rates
                   it highly and the technology is mature (self ≥ ``b_min_self_unevaluated``★ and
                   TRL ≥ ``b_min_trl_unevaluated``): push it to enterprises to collect evaluations;
``C 开放许可候选`` everything else: transferable, without a strong market signal — cheap channels
                   (open licence, listings) suit it.

The promotion list (``queries._promotable``) offers only patents that can still be promoted: a
patent 已转让 or 作价入股, lapsed, or under a sole or exclusive licence in force is left out
whatever its tier (the page says how many).

Self-ratings alone never reach A: domain.md reports 68.6% self-rated ≥3★ in one city with ~8% of
those implemented, so A needs enterprises' word. ``revive.evaluations.queries.tier_sql`` is the
same rule as a SQL CASE (lists of tens of thousands of patents filter and sort by tier in the
database); a test checks both agree on a grid of inputs.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

NOT_NOW = "not_now"  # inventory.models.Willingness.NOT_NOW (a StrEnum: compares equal)
NO_INTENT = "none"  # evaluations.models.CooperationIntent.NONE


class Tier(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def label(self) -> str:
        return TIER_LABELS[self]

    @property
    def full_label(self) -> str:
        return f"{self.value} {self.label}"


TIER_LABELS = {Tier.A: "重点推广", Tier.B: "推荐推广", Tier.C: "开放许可候选", Tier.D: "暂缓"}
PROMOTED = (Tier.A, Tier.B)  # the tiers that make a promotion list


@dataclass(frozen=True)
class TierRules:
    """Every threshold of the rule, in one place (defaults = our proposal)."""

    d_min_evals: int = 2  # this many evaluations …
    d_max_avg: float = 2.5  # … averaging below this: 暂缓
    a_min_trl: int = 4  # 4 级：实验室环境下部件/原理样机验证
    a_min_evals: int = 2
    a_min_avg: float = 4.0
    a_min_interested: int = 1  # enterprises with 合作意愿 ≠ 暂无
    b_min_evals: int = 1
    b_min_avg: float = 3.5
    b_min_self_unevaluated: int = 4
    b_min_trl_unevaluated: int = 6  # 6 级：相关环境下系统原型演示（中试）


DEFAULT_RULES = TierRules()


def rules_from_mapping(overrides: Mapping[str, Any] | str | None) -> TierRules:
    """DEFAULT_RULES with ``overrides`` applied; unknown keys or bad values raise ValueError."""
    if not overrides:
        return DEFAULT_RULES
    if isinstance(overrides, str):
        overrides = json.loads(overrides)
        if not isinstance(overrides, dict):
            raise ValueError("REVIVE_TIER_RULES must be a JSON object")
    types = {f.name: f.type for f in fields(TierRules)}
    unknown = sorted(set(overrides) - set(types))
    if unknown:
        raise ValueError(f"unknown tier thresholds: {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, raw in overrides.items():
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"tier threshold {key} must be a number")
        values[key] = float(raw) if types[key] == "float" else int(raw)
    return replace(DEFAULT_RULES, **values)


@dataclass(frozen=True)
class TierFacts:
    """What the rule looks at for one patent."""

    self_grade: int | None  # 专利价值分级自评 1–5
    trl: int | None  # 1–9
    willingness: str | None  # inventory Willingness value
    eval_count: int = 0
    eval_avg: float | None = None  # mean 产业化前景 ★ (None when no evaluation)
    max_stars: int | None = None
    interested: int = 0  # evaluations whose intent is not 暂无

    @property
    def double_five(self) -> bool:
        """双五星: the university rated it 5★ and at least one enterprise gave 5★."""
        return self.self_grade == 5 and self.max_stars == 5


@dataclass(frozen=True)
class TierResult:
    tier: Tier
    reasons: tuple[str, ...]


def _avg(facts: TierFacts) -> float:
    return float(facts.eval_avg) if facts.eval_count and facts.eval_avg is not None else 0.0


def compute_tier(facts: TierFacts, rules: TierRules = DEFAULT_RULES) -> TierResult:
    """The tier of one entered patent and the reasons, in Chinese, for the page."""
    grade, trl, n, avg = facts.self_grade or 0, facts.trl or 0, facts.eval_count, _avg(facts)
    if facts.willingness == NOT_NOW:
        return TierResult(Tier.D, ("学校转化意愿为「暂不」",))
    if n >= rules.d_min_evals and avg < rules.d_max_avg:
        return TierResult(
            Tier.D, (f"{n} 家企业评价，产业化前景均分 {avg:.1f}★ 低于 {rules.d_max_avg:g}★",)
        )
    strong_average = (
        n >= rules.a_min_evals
        and avg >= rules.a_min_avg
        and facts.interested >= rules.a_min_interested
    )
    if trl >= rules.a_min_trl and (facts.double_five or strong_average):
        why = (
            "双五星（学校自评 5★，且有企业评 5★）"
            if facts.double_five
            else f"{n} 家企业评价均分 {avg:.1f}★，{facts.interested} 家有合作意愿"
        )
        return TierResult(Tier.A, (why, f"技术成熟度 TRL {trl} ≥ {rules.a_min_trl}"))
    if n >= rules.b_min_evals and avg >= rules.b_min_avg:
        return TierResult(Tier.B, (f"{n} 家企业评价，均分 {avg:.1f}★ ≥ {rules.b_min_avg:g}★",))
    if facts.double_five:
        return TierResult(Tier.B, (f"双五星，但技术成熟度 TRL {trl} 低于 {rules.a_min_trl}",))
    if n == 0 and grade >= rules.b_min_self_unevaluated and trl >= rules.b_min_trl_unevaluated:
        return TierResult(
            Tier.B,
            (f"尚无企业评价；自评 {grade}★、TRL {trl}，推送企业以收集评价",),
        )
    if n == 0:
        return TierResult(Tier.C, ("尚无企业评价，自评与成熟度未达推荐条件",))
    return TierResult(Tier.C, (f"{n} 家企业评价，均分 {avg:.1f}★，市场信号不强",))
