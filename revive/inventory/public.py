"""What an entered patent shows the public: one field set for the enterprise's suggestions, the
pool's search results, the patent's public page and the JSON API.

An entered patent (已入库) is offered to enterprises, so these fields describe what a company
needs to decide whether to ask for an introduction: the technology (title, abstract, field,
problem solved, advantages, prospects), its maturity and legal standing (TRL, patent type,
legal status, dates, IPC, industry), how the university will transfer it (willingness, modes,
an open licence's terms) and who holds it (university, college, region, the inventor team as
names). Never shown: contact phone / e-mail / name, the university's self-rating (value
grade), funding, partner companies, review comments, the status log and revision history —
and the asking price unless the university marked it public (``price_public``). Drafts and
patents in any state other than 已入库 are not public at all (``public_clause``), and neither
is a patent whose rights have left the university (实施状态 已转让 / 作价入股, which a signed
转让 / 作价入股 contract sets): the university can no longer offer it to anyone.

Licensing sits above inventory, so the open licence comes in as a ``PublicLicence`` the
caller built (revive.pool.queries does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from revive.inventory import legal
from revive.inventory.fields import display_value
from revive.inventory.models import EntryStatus, ImplementationStatus, Patent, TransferMode

# The patent's own fields shown publicly, in display order (labels from inventory.fields).
PUBLIC_FIELDS: tuple[str, ...] = (
    "application_no",
    "title",
    "patent_type",
    "legal_status",
    "filing_date",
    "grant_date",
    "ipc_main",
    "ipc_all",
    "industry_code",
    "emerging_industry",
    "tech_field",
    "abstract",
    "problem_solved",
    "advantages",
    "prospects",
    "trl",
    "transfer_willingness",
    "transfer_modes",
    "inventors",
)
# Never public, whatever a template or serializer asks for (a test checks none slips in).
PRIVATE_FIELDS: frozenset[str] = frozenset(
    {
        "contact_name",
        "contact_phone",
        "contact_email",
        "value_grade",
        "is_funded",
        "partner_companies",
        "patentees",
        "implementation_status",
    }
)
PRICE_NEGOTIABLE = "面议"


# 实施状态 meaning the patent right itself left the university (转让, or 作价入股 into a
# company): the university can neither offer it in the pool nor license it any more.
RIGHTS_GONE: frozenset[ImplementationStatus] = frozenset(
    {ImplementationStatus.TRANSFERRED, ImplementationStatus.EQUITY}
)


def gone_status(patent: Patent) -> ImplementationStatus | None:
    """已转让 / 作价入股 when the patent right left the university, else None."""
    status = patent.implementation_status
    return status if status in RIGHTS_GONE else None


def gone_text(status: ImplementationStatus) -> str:
    """How a message says it: 已转让 / 已作价入股."""
    return status.label if status == ImplementationStatus.TRANSFERRED else f"已{status.label}"


def rights_gone(patent: Patent) -> bool:
    """The patent was assigned (已转让) or contributed as equity (作价入股)."""
    return gone_status(patent) is not None


def public_clause() -> sa.ColumnElement[bool]:
    """WHERE clause: the patents anyone may see in the pool (已入库, still the university's,
    not lapsed: inventory.legal)."""
    return sa.and_(
        Patent.status == EntryStatus.ENTERED,
        sa.or_(
            Patent.implementation_status.is_(None),
            Patent.implementation_status.not_in(RIGHTS_GONE),
        ),
        legal.not_lapsed_clause(),
    )


def is_public(patent: Patent) -> bool:
    return (
        patent.status == EntryStatus.ENTERED
        and not rights_gone(patent)
        and not legal.lapsed(patent.legal_status)
    )


def not_public_reason(patent: Patent) -> str | None:
    """Why a patent is not in the pool, in words for an enterprise that was matched with it or
    invited to evaluate it before it left (None while it is public): not 已入库 (the
    university withdrew it for re-review, or it was never entered), its right left the
    university, or it lapsed."""
    if patent.status != EntryStatus.ENTERED:
        return f"该专利当前为「{patent.status.label}」（如学校撤回重审），不在可转化专利资源库中"
    gone = gone_status(patent)
    if gone is not None:
        owner = patent.institution.name
        return f"该专利{gone_text(gone)}，专利权已不属于{owner}，不在可转化专利资源库中"
    if legal.lapsed(patent.legal_status):
        return f"该专利已失效（法律状态：{patent.legal_status}），不在可转化专利资源库中"
    return None


@dataclass(frozen=True)
class PublicLicence:
    """An active open-licence declaration, as the pool shows it (terms are public by law)."""

    id: int
    fee_summary: str
    period: str
    terms: str | None


@dataclass(frozen=True)
class PublicPatent:
    """An entered patent's public fields (see the module docstring)."""

    id: int
    application_no: str
    title: str
    patent_type: Any
    legal_status: str | None
    filing_date: date | None
    grant_date: date | None
    ipc_main: str | None
    ipc_all: str | None
    industry_code: str | None
    emerging_industry: str | None
    tech_field: str | None
    abstract: str | None
    problem_solved: str | None
    advantages: str | None
    prospects: str | None
    trl: int | None
    transfer_willingness: Any
    transfer_modes: tuple[TransferMode, ...]
    inventors: str | None
    institution_id: int
    institution: str
    college: str | None
    region: str | None
    price_wan: Decimal | None  # None: 面议 (not public, or not set)
    licence: PublicLicence | None
    entered_at: datetime | None

    @property
    def modes_text(self) -> str:
        return "、".join(m.label for m in self.transfer_modes)

    @property
    def open_licence_willing(self) -> bool:
        """开放许可 is among the modes the university accepts — with or without a published
        declaration (``licence``), which is what makes terms public and applications possible."""
        return TransferMode.OPEN_LICENSE in self.transfer_modes

    @property
    def price_text(self) -> str:
        if self.price_wan is None:
            return PRICE_NEGOTIABLE
        return f"{display_value('asking_price', self.price_wan)} 万元"


def public_patent(patent: Patent, licence: PublicLicence | None = None) -> PublicPatent:
    """The public view of an entered patent (callers check ``is_public`` first)."""
    values = {key: getattr(patent, key) for key in PUBLIC_FIELDS if key != "transfer_modes"}
    price = patent.asking_price if patent.price_public else None
    return PublicPatent(
        id=patent.id,
        transfer_modes=tuple(patent.modes),
        institution_id=patent.institution_id,
        institution=patent.institution.name,
        college=patent.college.name if patent.college else None,
        region=patent.institution.region,
        price_wan=price,
        licence=licence,
        entered_at=patent.entered_at,
        **values,
    )
