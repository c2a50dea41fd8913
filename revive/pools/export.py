"""Pool and roadshow downloads (every cell through common.spreadsheets.safe_cell; streamed by
common.downloads.stream_download, or — a large .xlsx of a pool's members — built by a worker:
the export kinds "pool_patents" and "pool_demands", revive.exports), and the roadshow sheet:
one page per presented patent."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import User
from revive.clock import local_today
from revive.exports import registry
from revive.extensions import db
from revive.inventory.fields import display_value
from revive.licensing.display import fee_summary
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
from revive.pools import queries
from revive.pools.models import Roadshow
from revive.pools.services import READ_ROLES, get_pool

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


# ---------------------------------------------------------------------------- export kinds


def _pool_params(_user: User, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"pool_id": get_pool(int(args["pool_id"])).id}  # NotFoundError: no such pool


def _demand_params(user: User, args: Mapping[str, Any]) -> dict[str, Any]:
    return {**_pool_params(user, args), "what": "demands"}


def _patent_names(_user: User, params: dict[str, Any]) -> registry.Names:
    pool = get_pool(int(params["pool_id"]))
    stamp = f"{local_today():%Y%m%d}"
    return registry.Names(f"产业专利池-{pool.name}-{stamp}", f"pool-{pool.id}", "专利")


def _demand_names(_user: User, params: dict[str, Any]) -> registry.Names:
    pool = get_pool(int(params["pool_id"]))
    stamp = f"{local_today():%Y%m%d}"
    return registry.Names(f"产业专利池-{pool.name}-需求-{stamp}", f"pool-{pool.id}-demands", "需求")


PATENTS = registry.register(
    registry.ExportKind(
        name="pool_patents",
        label="产业专利池的专利",
        roles=READ_ROLES,
        endpoint="pools.export_pool",
        params=_pool_params,
        names=_patent_names,
        header=lambda: PATENT_HEADER,
        rows=lambda _user, params: patent_rows(queries.iter_patents(int(params["pool_id"]), None)),
        count=lambda _user, params, _limit: queries.member_count(int(params["pool_id"]), "patents"),
    )
)
DEMANDS = registry.register(
    registry.ExportKind(
        name="pool_demands",
        label="产业专利池的需求",
        roles=READ_ROLES,
        endpoint="pools.export_pool",
        params=_demand_params,
        names=_demand_names,
        header=lambda: DEMAND_HEADER,
        rows=lambda _user, params: demand_rows(queries.iter_demands(int(params["pool_id"]), None)),
        count=lambda _user, params, _limit: queries.member_count(int(params["pool_id"]), "demands"),
    )
)


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
                # the hand-out goes to the enterprises: a price the university did not make
                # public is 面议, as in the public pool (a security review)
                price=f"{p.asking_price:,.2f} 万元"
                if p.asking_price is not None and p.price_public
                else "面议",
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
