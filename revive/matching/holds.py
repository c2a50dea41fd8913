"""Contracts and past deals that bear on proposing a patent (the eligibility both directions
apply: runs.eligible_groups and _load_batch for a demand's list, pairs for the patent page).

    exclusive_holds      patent id → the sole or exclusive licence in force that keeps it
                         from being proposed to anyone (nobody else may be licensed meanwhile)
    enterprise_holds     (patent, enterprise) → the contract in force the enterprise holds:
                         the patent is not proposed to that enterprise's demands
    failed_deals         (patent, enterprise) → a deal of theirs that ended 未成交 (a mark)

Contracts live in revive.deals, above matching: deals answers ``signals.patent_holds`` with
``Hold`` rows (revive.deals.receivers). A 转让 / 作价入股 is not needed here: it takes the
patent out of the pool (its 实施状态, inventory.public.public_clause).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from revive import clock, signals


class HoldKind(enum.Enum):
    EXCLUSIVE = "exclusive"  # a sole / exclusive licence in force: proposed to nobody
    CONTRACT = "contract"  # any contract in force: not proposed to its enterprise again
    FAILED = "failed"  # a deal that ended 未成交: proposed again, marked


@dataclass(frozen=True)
class Hold:
    patent_id: int
    enterprise_id: int
    kind: HoldKind
    text: str  # e.g. "2026-03-01 与某某公司签订独占许可合同，许可期限至 2031-02-28"


def holds(patent_ids: Collection[int] | None = None) -> list[Hold]:
    """Every hold on the patents (None: on all), as of the platform's today."""
    found: list[Hold] = []
    for _, answer in signals.patent_holds.send(None, on=clock.local_today(), patent_ids=patent_ids):
        found.extend(answer or ())
    return found


def exclusive_holds(patent_ids: Collection[int] | None = None) -> dict[int, Hold]:
    """{patent id: the sole or exclusive licence in force} (the first one found)."""
    out: dict[int, Hold] = {}
    for h in holds(patent_ids):
        if h.kind == HoldKind.EXCLUSIVE:
            out.setdefault(h.patent_id, h)
    return out


def enterprise_holds(
    patent_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], Hold]:
    """{(patent id, enterprise id): a contract in force the enterprise holds on the patent}
    (an exclusive licensee holds its own licence too)."""
    out: dict[tuple[int, int], Hold] = {}
    for h in holds(patent_ids):
        if h.kind in (HoldKind.EXCLUSIVE, HoldKind.CONTRACT):
            out.setdefault((h.patent_id, h.enterprise_id), h)
    return out


def held_by(enterprise_ids: Collection[int]) -> dict[int, set[int]]:
    """{enterprise id: ids of patents it holds a contract in force on}."""
    wanted = set(enterprise_ids)
    out: dict[int, set[int]] = {e: set() for e in wanted}
    for (patent_id, enterprise_id), _ in enterprise_holds().items():
        if enterprise_id in wanted:
            out[enterprise_id].add(patent_id)
    return out


def failed_deals(patent_ids: Collection[int]) -> dict[tuple[int, int], Hold]:
    """{(patent id, enterprise id): a deal of theirs that ended 未成交}."""
    out: dict[tuple[int, int], Hold] = {}
    if not patent_ids:
        return out
    for h in holds(patent_ids):
        if h.kind == HoldKind.FAILED:
            out.setdefault((h.patent_id, h.enterprise_id), h)
    return out
