"""Evaluation test setup: enterprises, a pushed match (Deal), invitations, evaluations."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from revive.accounts.models import Organization, OrgKind
from revive.db import utcnow
from revive.deals.models import Deal
from revive.demands.models import Demand, DemandStatus
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from revive.matching.models import Match, MatchState
from tests.factories import make_org, make_patent

_seq = itertools.count(1)


def make_enterprise(name: str | None = None) -> Organization:
    return make_org(name or f"评价测试企业{next(_seq)}", kind=OrgKind.ENTERPRISE)


def entered(institution: Organization | None = None, **kw: Any) -> Patent:
    kw.setdefault("transfer_willingness", Willingness.WILLING)
    return make_patent(institution, status=EntryStatus.ENTERED, **kw)


def make_deal(patent: Patent, enterprise: Organization) -> Deal:
    """The enterprise received ``patent`` as a pushed match (an accepted match and its deal)."""
    now = utcnow()
    demand = Demand(
        enterprise=enterprise,
        title=f"测试需求{next(_seq)}",
        description="需要一种新材料",
        status=DemandStatus.OPEN,
    )
    match = Match(
        demand=demand,
        patent=patent,
        score=0.5,
        terms=[],
        state=MatchState.ACCEPTED,
        decided_at=now,
    )
    deal = Deal(
        match=match,
        demand=demand,
        patent=patent,
        university_id=patent.institution_id,
        enterprise_id=enterprise.id,
        response_due_at=now + timedelta(days=7),
    )
    db.session.add_all([demand, match, deal])
    db.session.commit()
    return deal


def make_invite(patent: Patent, enterprise: Organization) -> EvaluationInvite:
    invite = EvaluationInvite(patent_id=patent.id, enterprise_id=enterprise.id)
    db.session.add(invite)
    db.session.commit()
    return invite


def make_evaluation(
    patent: Patent,
    enterprise: Organization,
    stars: int = 4,
    intent: CooperationIntent = CooperationIntent.LICENSE,
    needs: str | None = None,
) -> Evaluation:
    evaluation = Evaluation(
        patent_id=patent.id,
        enterprise_id=enterprise.id,
        prospect_stars=stars,
        intent=intent,
        improvement_needs=needs,
    )
    db.session.add(evaluation)
    db.session.commit()
    return evaluation
