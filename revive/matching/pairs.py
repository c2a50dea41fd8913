"""One pair read outside a run: the reasons of a stored match, and the patent page's open
demands (patent → demands, the same eligibility as the other direction).

    reasons_of              the reasons shown for a match
    demands_for_patent      patent → open demands, ranked, with the rules that leave some out
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from revive import engine
from revive.accounts.models import User
from revive.demands.models import Demand, DemandStatus, Visibility
from revive.engine import matcher as engine_matcher
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory import fees, legal
from revive.inventory.models import EntryStatus, Patent, TransferMode, Willingness
from revive.inventory.public import gone_status, gone_text
from revive.matching import holds, indexes, runs, tokens
from revive.matching.models import (
    IndexBuild,
    Match,
    MatchState,
    PatentTokens,
)
from revive.matching.permissions import can_see_patent_demands, is_staff
from revive.matching.reasons import reason_label

logger = logging.getLogger(__name__)


# patent → demands (the reverse direction): how close a demand must read for the page to name
# the rule that leaves it out (the listed ones are those the demands' own lists show)
MIN_SCORE = engine.DEFAULT_MIN_SCORE


def reasons_of(match: Match) -> list[str]:
    """The reasons shown for a match: those stored with the proposal, or — a row proposed
    before reasons existed — the spans the two texts share, worked out now (not stored: a
    page view writes nothing)."""
    if match.reasons:
        return list(match.reasons)
    loaded = indexes.load_active_index()
    if loaded is None:
        return []
    reading = engine.read_demand(match.demand.title, tokens.demand_text(match.demand))
    text = tokens.patent_texts([match.patent_id]).get(match.patent_id, "")
    query = engine_matcher.demand_query_text(reading)
    found = engine_matcher.reasons_for(loaded.index, query, text)
    return [r.text for r in found]


# Per process: tokens of open demands keyed by _demand_key, and ranked lists
# keyed by (index version, patent id, public only, demands stamp, depth). Small and bounded.
_demand_tokens: dict[tuple[Any, ...], list[str]] = {}
_ranked: dict[tuple[Any, ...], list[tuple[int, float]]] = {}
_CACHE_LIMIT = 2000


def _bounded_put(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


@dataclass
class PatentDemands:
    """The patent page's list of open demands that fit (``listed``: (demand, score, reasons),
    best first) and those that would fit by their text but are left out by an eligibility
    rule (``left_out``: (demand, score, the rule in Chinese)). ``patent_rule``: the patent
    itself is not proposed to any demand (then every near demand is left out for it).
    ``accepted``: ids of listed demands an officer already pushed this patent to."""

    listed: list[tuple[Demand, float, list[str]]] = field(default_factory=list)
    left_out: list[tuple[Demand, float, str]] = field(default_factory=list)
    patent_rule: str | None = None
    accepted: set[int] = field(default_factory=set)


def _mode_labels(modes: frozenset[str]) -> str:
    labels = {m.value: m.label for m in TransferMode}
    return "、".join(labels.get(m, m) for m in sorted(modes))


def patent_rule(patent: Patent, index: engine.Index) -> str | None:
    """Why the matcher proposes this patent to no demand (runs.eligible_groups' rules: a sole
    or exclusive licence in force among them), or None."""
    if patent.status != EntryStatus.ENTERED:
        return f"专利尚未入库（当前：{patent.status.label}），入库后才会推荐给企业需求"
    gone = gone_status(patent)
    if gone is not None:
        return f"专利{gone_text(gone)}，专利权已不属于本单位，不再推荐给企业需求"
    if legal.lapsed(patent.legal_status):
        return f"专利的法律状态为「{patent.legal_status}」，专利权已不存在，不推荐给企业需求"
    if patent.transfer_willingness == Willingness.NOT_NOW:
        return "专利的转化意愿为“暂不”，不推荐给企业需求"
    ended = fees.expired_on(patent)
    if ended is not None:
        return f"专利保护期已于 {ended.isoformat()} 届满（按申请日计算），不再推荐给企业需求"
    licensed = holds.exclusive_holds([patent.id]).get(patent.id)
    if licensed is not None:
        return f"专利已于{licensed.text}，许可期间不能再许可其他企业实施，不推荐给企业需求"
    if not len(index.positions([patent.id])):
        return "专利尚未进入匹配索引，下次索引更新后参与匹配"
    return None


def _pair_rules(patent: Patent, rows: Sequence[Any]) -> tuple[dict[int, str], set[int]]:
    """({demand id: the rule that leaves the pair out}, ids of demands it was accepted for):
    modes that do not overlap, a contract in force the demand's enterprise holds on the
    patent, a pair an officer rejected — as the demand direction applies them (eligibility
    masks; decided and held pairs excluded)."""
    rules: dict[int, str] = {}
    p_modes = runs.modes_of(patent.transfer_modes)
    held = holds.enterprise_holds([patent.id])
    for r in rows:
        d_modes = runs.modes_of(r.cooperation_modes)
        contract = held.get((patent.id, r.enterprise_id))
        if contract is not None:
            rules[r.id] = f"需求企业已持有该专利的合同（{contract.text}），不再向其推荐"
        elif not runs.modes_overlap(d_modes, p_modes):
            rules[r.id] = (
                f"合作方式不符：需求期望{_mode_labels(d_modes)}，专利可接受{_mode_labels(p_modes)}"
            )
    accepted: set[int] = set()
    decided = db.session.execute(
        sa.select(Match.demand_id, Match.state, Match.reason_code).where(
            Match.patent_id == patent.id, Match.state != MatchState.CANDIDATE
        )
    )
    for demand_id, state, reason in decided:
        if state == MatchState.REJECTED:
            rules[demand_id] = f"该组合已被技术经理人否决（{reason_label(reason)}），不再推荐"
        else:
            accepted.add(demand_id)
    return rules, accepted


def candidate_rows(patent: Patent, demand_ids: Sequence[int]) -> dict[int, Match]:
    """{demand id: the pair's match row} for the demands whose own list holds this patent
    (the strength the demand's page shows); a demand missing here did not rank it."""
    if not demand_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Match).where(Match.patent_id == patent.id, Match.demand_id.in_(demand_ids))
    )
    return {m.demand_id: m for m in rows}


def demands_for_patent(actor: User, patent: Patent, top_k: int = 10) -> PatentDemands:
    """The open demands whose own candidate list shows this patent (``listed``: its stored
    match, not rejected — accepted, candidates, weak ones too, which the page marks and folds
    as the demand side does — strongest first), and the demands that read close (reverse
    direction, text similarity ≥ MIN_SCORE, the ``top_k`` closest) but that the eligibility
    rules leave out, with the rule: a patent not 已入库 (or 暂不, under an exclusive licence,
    not yet indexed) is proposed to no demand; a demand whose cooperation modes the patent
    does not accept, whose enterprise holds a contract on it, or that rejected the pair.

    Both directions agree by construction: the patent page had ranked demands by its own
    text similarity and dropped those under 0.05, while demands kept their 20 best, so a
    patent some demands listed among their weak candidates read "暂无相近的开放需求".

    University users see only PUBLIC demands. The reverse ranking is scored in the active
    index's IDF space against the open demands' tokens, cached per index version until a
    demand changes.
    """
    if not can_see_patent_demands(actor, patent):
        raise NotFoundError("专利不存在或您无权查看")
    out = PatentDemands()
    loaded = indexes.load_active_index()
    if loaded is None:
        return out
    build, index = loaded
    public_only = not is_staff(actor)
    stmt = sa.select(
        Demand.id,
        Demand.version,
        Demand.updated_at,
        Demand.cooperation_modes,
        Demand.enterprise_id,
    ).where(Demand.status == DemandStatus.OPEN)
    if public_only:
        stmt = stmt.where(Demand.visibility == Visibility.PUBLIC)
    rows = db.session.execute(stmt.order_by(Demand.id)).all()
    if not rows:
        return out
    out.patent_rule = patent_rule(patent, index)
    rules, out.accepted = ({}, set()) if out.patent_rule else _pair_rules(patent, rows)
    shown: set[int] = set()
    if out.patent_rule is None:
        for m in _shown_matches(patent, public_only):
            if m.demand_id in rules:
                continue  # changed since the run (e.g. its modes): left out below, if close
            shown.add(m.demand_id)
            reasons = list(m.reasons or ()) or _pair_reasons(build, index, patent, m.demand)
            out.listed.append((m.demand, float(m.score or 0.0), reasons))
    if not (out.patent_rule or rules):
        return out
    # Deep enough that top_k left-out demands remain after the listed ones.
    ranked = _ranked_demands(build, index, patent, rows, public_only, top_k + len(shown))
    left = [(i, score) for i, score in ranked if i not in shown and (out.patent_rule or i in rules)]
    by_id = {
        d.id: d
        for d in db.session.scalars(
            sa.select(Demand)
            .where(Demand.id.in_([i for i, _ in left[:top_k]]))
            .options(joinedload(Demand.enterprise))  # the panel shows each one's enterprise
        )
    }
    for demand_id, score in left[:top_k]:
        d = by_id.get(demand_id)
        if d is not None:
            out.left_out.append((d, score, out.patent_rule or rules[demand_id]))
    return out


def _shown_matches(patent: Patent, public_only: bool) -> list[Match]:
    """The patent's stored matches on open demands (public ones only for a university user)
    that their lists show (not rejected), strongest first (accepted first, as the demand
    side orders them)."""
    state_order = sa.case({MatchState.ACCEPTED: 0}, value=Match.state, else_=1)
    where = [
        Match.patent_id == patent.id,
        Match.state != MatchState.REJECTED,
        Demand.status == DemandStatus.OPEN,
    ]
    if public_only:
        where.append(Demand.visibility == Visibility.PUBLIC)
    return list(
        db.session.scalars(
            sa.select(Match)
            .join(Demand, Demand.id == Match.demand_id)
            .where(*where)
            .options(joinedload(Match.demand).joinedload(Demand.enterprise))
            .order_by(
                state_order,
                Match.strength.is_(None),
                Match.strength.desc(),
                Match.score.desc(),
                Match.id,
            )
        )
    )


def _ranked_demands(
    build: IndexBuild,
    index: engine.Index,
    patent: Patent,
    rows: Sequence[Any],
    public_only: bool,
    depth: int,
) -> list[tuple[int, float]]:
    stamp = hashlib.sha1(repr([_demand_key(r) for r in rows]).encode()).hexdigest()
    record = db.session.get(PatentTokens, patent.id)
    key = (
        indexes.index_key(build),
        patent.id,
        public_only,
        stamp,
        record.text_hash if record else None,
        depth,
    )
    ranked = _ranked.get(key)
    if ranked is None:
        p_tokens = (
            record.tokens.split()
            if record is not None
            else engine.patent_tokens(patent.title, tokens.patent_text(patent))
        )
        candidates = engine.rank_against(
            p_tokens,
            _open_demand_tokens(rows),
            [r.id for r in rows],
            index,
            depth,
            min_score=MIN_SCORE,
            query_id=patent.id,
        )
        ranked = [(int(c.right_id), float(c.score)) for c in candidates]
        _bounded_put(_ranked, key, ranked)
    return ranked


_pair_reason_cache: dict[tuple[Any, ...], list[str]] = {}


def _pair_reasons(
    build: IndexBuild, index: engine.Index, patent: Patent, demand: Demand
) -> list[str]:
    """The reasons of a (demand, patent) pair (spans both texts share), cached per index
    version and the two texts' versions."""
    key = (indexes.index_key(build), patent.id, patent.updated_at, _demand_key(demand))
    found = _pair_reason_cache.get(key)
    if found is None:
        reading = engine.read_demand(demand.title, tokens.demand_text(demand))
        text = f"{patent.title}。{tokens.patent_text(patent)}"
        found = [
            r.text
            for r in engine_matcher.reasons_for(
                index, engine_matcher.demand_query_text(reading), text
            )
        ]
        _bounded_put(_pair_reason_cache, key, found)
    return found


def _demand_key(d: Any) -> tuple[Any, ...]:
    """A demand's text version for the caches: (id, version, updated_at) — the time too, as a
    test database emptied between tests reuses ids and versions."""
    return (d.id, d.version, d.updated_at)


def _open_demand_tokens(rows: Sequence[Any]) -> list[list[str]]:
    """Tokens of the demands ``rows`` (id, version, updated_at) as matching reads them
    (boilerplate, terms and company profile removed: engine.read_demand); texts are read and
    tokenized only for those not in the per-process cache."""
    by_id = {r.id: _demand_tokens.get(_demand_key(r)) for r in rows}
    missing = [demand_id for demand_id, toks in by_id.items() if toks is None]
    if missing:
        texts = sa.select(
            Demand.id,
            Demand.version,
            Demand.updated_at,
            Demand.title,
            Demand.description,
            Demand.target_specs,
        ).where(Demand.id.in_(missing))
        for d in db.session.execute(texts):
            reading = engine.read_demand(d.title, tokens.demand_text(d))
            by_id[d.id] = engine.demand_tokens(reading.title, reading.text)
            _bounded_put(_demand_tokens, _demand_key(d), by_id[d.id])
    return [by_id[r.id] or [] for r in rows]  # [] for a demand deleted in between
