"""Pool and roadshow downloads (every cell through common.spreadsheets.safe_cell; streamed by
common.downloads.stream_download), and the roadshow sheet: one page per presented patent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from revive.extensions import db
from revive.inventory.fields import display_value
from revive.licensing.display import fee_summary
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
from revive.pools import queries
from revive.pools.models import Roadshow

PATENT_HEADER = (
    "状态",
    "排序",
    "得分",
    "来源",
    "申请号",
    "专利名称",
    "高校",
    "学院",
    "国民经济行业分类",
    "推广分层",
    "技术成熟度（TRL）",
    "转化方式",
    "依据（与产业说明共有的词句）",
)
DEMAND_HEADER = ("状态", "排序", "得分", "需求名称", "企业", "地区", "行业", "需求状态", "依据")


def patent_rows(rows: Iterable[Any]) -> Iterator[list[Any]]:
    for member, patent, institution, college, tier in rows:
        yield [
            member.state.label,
            member.rank,
            round(member.score, 4),
            member.source.label,
            patent.application_no,
            patent.title,
            institution,
            college or "",
            patent.industry_code or "",
            tier or "",
            patent.trl,
            display_value("transfer_modes", patent.transfer_modes),
            "；".join(member.reasons or []),
        ]


def demand_rows(rows: Iterable[Any]) -> Iterator[list[Any]]:
    for member, demand, enterprise, region in rows:
        yield [
            member.state.label,
            member.rank,
            round(member.score, 4),
            demand.title,
            enterprise,
            region or demand.region or "",
            demand.industry or "",
            demand.status.label,
            "；".join(member.reasons or []),
        ]


# ---------------------------------------------------------------------------- roadshow sheet


@dataclass(frozen=True)
class Sheet:
    """What one roadshow page says about a patent."""

    position: int
    patent: Any
    institution: str
    college: str
    team: str  # inventors (names only)
    problem: str
    trl: int | None
    modes: str
    price: str
    licence: str  # the active open licence's public fee, or ""
    contact_name: str  # the university's TTO contact, never an inventor's own phone
    contact_phone: str
    contact_email: str


def _licences(patent_ids: list[int]) -> dict[int, OpenLicenceDeclaration]:
    if not patent_ids:
        return {}
    return {
        d.patent_id: d
        for d in db.session.scalars(
            sa.select(OpenLicenceDeclaration).where(
                OpenLicenceDeclaration.patent_id.in_(patent_ids),
                OpenLicenceDeclaration.status == DeclarationStatus.ACTIVE,
            )
        )
    }


def sheets(roadshow: Roadshow) -> list[Sheet]:
    patents = [item.patent for item in roadshow.items]
    contacts = queries.tto_contacts({p.institution_id for p in patents})
    licences = _licences([p.id for p in patents])
    out = []
    for i, p in enumerate(patents, start=1):
        contact = contacts.get(p.institution_id)
        licence = licences.get(p.id)
        out.append(
            Sheet(
                position=i,
                patent=p,
                institution=p.institution.name,
                college=p.college.name if p.college else "",
                team=p.inventors or "",
                problem=p.problem_solved or p.abstract or "",
                trl=p.trl,
                modes=display_value("transfer_modes", p.transfer_modes) or "面议",
                price=f"{p.asking_price:,.2f} 万元" if p.asking_price is not None else "面议",
                licence=(
                    f"已声明开放许可：{fee_summary(licence)}（{licence.start_date} 至 "
                    f"{licence.end_date}）"
                    if licence
                    else ""
                ),
                contact_name=f"{p.institution.name} 技术转移办公室 · {contact.name}"
                if contact
                else f"{p.institution.name} 技术转移办公室",
                contact_phone=(contact.phone or "") if contact else "",
                contact_email=contact.email if contact else "",
            )
        )
    return out


ROADSHOW_HEADER = (
    "序号",
    "专利名称",
    "申请号",
    "高校",
    "学院",
    "发明人团队",
    "解决的问题",
    "技术成熟度（TRL）",
    "转化方式",
    "意向价格",
    "开放许可",
    "联系人（高校技术转移办公室）",
    "联系电话",
    "联系邮箱",
)


def roadshow_rows(items: Iterable[Sheet]) -> Iterator[list[Any]]:
    for s in items:
        yield [
            s.position,
            s.patent.title,
            s.patent.application_no,
            s.institution,
            s.college,
            s.team,
            s.problem,
            s.trl,
            s.modes,
            s.price,
            s.licence or "未声明",
            s.contact_name,
            s.contact_phone,
            s.contact_email,
        ]
