"""Export the deals board (供需对接) as .xlsx / .csv: one row per deal the viewer may see, with
the board's filters (高校, 企业, 技术经理人, 阶段, 只看答复逾期), every stage and no cap per column.

The values are those of the deal's page, through the same helpers (deals.queries.is_overdue,
services.pushed_on, services.contract_kind_text, reasons.failure_label); moments in local time
(Beijing, revive.clock). The file is written and streamed by ``common.downloads`` (every cell
through ``common.spreadsheets.safe_cell``), or — a large .xlsx — built by a worker as the same
user (the export kind "deals" below, revive.exports).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from revive import clock
from revive.accounts.models import Organization, User
from revive.clock import format_dt, local_date, local_today
from revive.db import utcnow
from revive.deals import queries, services
from revive.deals.models import Deal, Stage
from revive.deals.permissions import EXPORT_ROLES
from revive.deals.reasons import failure_label
from revive.exports import registry
from revive.extensions import db

NO_RESPONSE = "未答复"

HEADER = (
    "对接编号",
    "需求",
    "企业",
    "专利",
    "申请号",
    "高校",
    "学院",
    "阶段",
    "推送日期",
    "答复期限",
    "高校答复",
    "答复日期",
    "是否逾期",
    "未成交原因",
    "合同类型",
    "合同金额（万元）",
    "签约日期",
    "技术经理人",
)


def header() -> list[str]:
    """The columns; 答复期限, the one moment among days, names its zone (「（北京时间）」, as the
    dashboard exports do)."""
    return [f"答复期限（{clock.zone_label()}）" if h == "答复期限" else h for h in HEADER]


def row_values(deal: Deal, now: datetime) -> list[Any]:
    """One deal as the file shows it; ``now``: the moment 是否逾期 is judged at (one for the
    whole file)."""
    contract = deal.contract
    return [
        deal.id,
        deal.demand.title,
        deal.enterprise.name,
        deal.patent.title,
        deal.patent.application_no,
        deal.university.name,
        deal.patent.college.name if deal.patent.college else "",
        deal.stage.label,
        services.pushed_on(deal),
        format_dt(deal.response_due_at),
        deal.response.label if deal.response else NO_RESPONSE,
        local_date(deal.responded_at) if deal.responded_at else None,
        "是" if queries.is_overdue(deal, now) else "否",
        failure_label(deal.failure_reason) if deal.stage == Stage.FAILED else "",
        services.contract_kind_text(contract) if contract else "",
        contract.amount_wan if contract else None,
        contract.signed_on if contract else None,
        deal.officer.name if deal.officer else "",
    ]


# ---------------------------------------------------------------------------- the export kind


def _params(_user: User, args: Mapping[str, Any]) -> dict[str, Any]:
    """The board's filters as its links carry them (the page plays no part in an export)."""
    params = queries.filter_args(queries.parse_filters(args))
    params.pop("page", None)
    return params


def _name(model: Any, key: int | None, attribute: str = "name") -> str:
    found = db.session.get(model, key) if key else None
    return getattr(found, attribute) if found else f"#{key}"


def _describe(params: dict[str, Any]) -> list[str]:
    """The board's filters in words (我的导出)."""
    f = queries.parse_filters(params)
    words = []
    if f.university_id:
        words.append(f"高校：{_name(Organization, f.university_id)}")
    if f.enterprise_id:
        words.append(f"企业：{_name(Organization, f.enterprise_id)}")
    if f.officer_id:
        words.append(f"技术经理人：{_name(User, f.officer_id)}")
    if f.stage:
        words.append(f"阶段：{f.stage.label}")
    if f.overdue:
        words.append("只看答复逾期")
    if f.awaiting:
        words.append("只看待高校答复")
    return words


def _names(_user: User, _params: dict[str, Any]) -> registry.Names:
    return registry.Names(f"供需对接-{local_today():%Y%m%d}", "deals", "供需对接")


def _rows(user: User, params: dict[str, Any]) -> Iterator[list[Any]]:
    now = utcnow()
    deals = queries.export_deals(user, queries.parse_filters(params))
    return (row_values(deal, now) for deal in deals)


def _count(user: User, params: dict[str, Any], limit: int | None) -> int:
    return queries.export_count(user, queries.parse_filters(params), limit)


KIND = registry.register(
    registry.ExportKind(
        name="deals",
        label="供需对接",
        roles=EXPORT_ROLES,
        endpoint="deals.export_deals",
        params=_params,
        names=_names,
        header=header,
        rows=_rows,
        count=_count,
        describe=_describe,
    )
)
