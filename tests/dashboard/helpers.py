"""Row builders for the dashboard tests: deals, contracts, matches, evaluations inserted
directly (no dependency on the deals/matching services, which other people are changing)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

from revive.db import utcnow
from revive.deals.models import Contract, Deal, DealEvent, Stage, UniversityResponse
from revive.demands.models import Demand, DemandStatus
from revive.evaluations.models import CooperationIntent, Evaluation
from revive.extensions import db
from revive.matching.models import Match, MatchState

DAY = timedelta(days=1)


def make_demand(enterprise, title, status=DemandStatus.OPEN, industry=None) -> Demand:
    demand = Demand(
        enterprise=enterprise,
        title=title,
        description=f"{title}的描述",
        industry=industry,
        status=status,
        closed_at=utcnow() if status == DemandStatus.CLOSED else None,
    )
    db.session.add(demand)
    db.session.flush()
    return demand


def make_match(demand, patent, state=MatchState.CANDIDATE, by=None, at=None) -> Match:
    match = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.5,
        terms=[],
        state=state,
        decided_by_id=by.id if by else None,
        decided_at=at if state != MatchState.CANDIDATE else None,
    )
    db.session.add(match)
    db.session.flush()
    return match


def make_deal(demand, patent, officer, stages, *, now, due_in_days, responded=False) -> Deal:
    """A pushed match: accepted two days ago by ``officer``, then moved through ``stages``."""
    match = make_match(demand, patent, MatchState.ACCEPTED, officer, now - 2 * DAY)
    stage = stages[-1]
    deal = Deal(
        match_id=match.id,
        demand_id=demand.id,
        patent_id=patent.id,
        university_id=patent.institution_id,
        enterprise_id=demand.enterprise_id,
        officer_id=officer.id,
        stage=stage,
        stage_changed_at=now,
        pushed_at=now - 2 * DAY,
        response_due_at=now + due_in_days * DAY,
        responded_at=now - DAY if responded else None,
        response=UniversityResponse.INTERESTED if responded else None,
        failure_reason="price" if stage == Stage.FAILED else None,
    )
    db.session.add(deal)
    db.session.flush()
    previous = None
    for s in [Stage.RECOMMENDED, *stages]:
        if s == previous:
            continue
        db.session.add(
            DealEvent(deal_id=deal.id, actor_id=officer.id, from_stage=previous, to_stage=s)
        )
        previous = s
    return deal


def make_contract(deal, kind, amount, signed_on) -> Contract:
    contract = Contract(
        deal_id=deal.id,
        kind=kind,
        amount_wan=Decimal(amount),
        signed_on=signed_on,
        parties="双方",
    )
    db.session.add(contract)
    return contract


def make_evaluation(patent, enterprise, stars=4) -> None:
    db.session.add(
        Evaluation(
            patent_id=patent.id,
            enterprise_id=enterprise.id,
            prospect_stars=stars,
            intent=CooperationIntent.LICENSE,
        )
    )


class PageScan(HTMLParser):
    """Collects <script> tags (attributes + body), canvases, and on* event attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.canvases: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.ids: set[str] = set()
        self._script: dict[str, str | None] | None = None
        self._body: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        self.handlers += [name for name in attributes if name.startswith("on")]
        if tag == "script":
            self._script, self._body = attributes, []
        elif tag == "canvas":
            self.canvases.append(attributes)

    def handle_data(self, data):
        if self._script is not None:
            self._body.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._body)))
            self._script = None

    def json_blocks(self) -> dict[str, object]:
        return {
            attrs["id"]: json.loads(body)
            for attrs, body in self.scripts
            if attrs.get("type") == "application/json"
        }


class TableScan(HTMLParser):
    """Text of every cell of every <table id=…>: {id: [[cell, …], …]} (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = self.tables.setdefault(dict(attrs).get("id") or "", [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._rows is not None:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._rows = None
