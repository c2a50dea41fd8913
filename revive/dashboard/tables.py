"""Dashboard tables: one structure rendered as HTML (``dashboard/_table.html``) and written as
.xlsx/.csv (``dashboard.export``), so a download always carries the numbers on the page.

A cell is a plain value (str, int, Decimal, date, datetime), a ``Rate`` (shown as
"47.4%（3688 / 7782）" in both places: the denominator travels with the figure) or a ``Link``
(a link on the page, its text in the file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app, url_for

from revive.clock import format_dt, zone_label
from revive.common.spreadsheets import Percent
from revive.dashboard import activity, funnel, regional
from revive.dashboard.funnel import STEPS, Counts, Line
from revive.dashboard.queries import MIX_DIMENSIONS, DashboardSummary, UnitMix
from revive.db import LabeledEnum
from revive.deals.models import ContractKind, Stage
from revive.inventory.fees import IdleCost
from revive.pagination import Page
from revive.templating import format_rate

ALL_TOTAL = "合计"


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    is_rate = True  # templates test this (ints also have .numerator/.denominator)

    def __str__(self) -> str:
        return format_rate(self.numerator, self.denominator)


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text | num | rate | money | date | datetime
    bar: bool = False  # rate columns: draw a thin progress bar
    nowrap: bool = False  # short names that should not break (unit names in wide tables)
    local_time: bool = False  # derived from moments in the platform's zone (e.g. months)

    @property
    def heading(self) -> str:
        """The label on the page and in the file. Moments (and what is counted by local time)
        name their zone, 「推送时间（北京时间）」 as the audit log's export does: a CSV carries no
        page around it to say so (an export's times read as zoneless)."""
        if self.kind == "datetime" or self.local_time:
            return f"{self.label}（{zone_label()}）"
        return self.label


@dataclass
class Table:
    key: str  # export key (dashboard.export's <table>)
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    footer: list[Any] | None = None
    note: str = ""
    page: Page | None = None  # set when the page shows one page of a long list
    export_args: dict[str, Any] = field(default_factory=dict)
    dom_id: str = ""
    compact: bool = False
    empty: str = "暂无数据"
    # One card per row on a phone, each figure under its column's name: for a short table
    # with prose in it (the funnel's 口径 was squeezed to a few characters a line at 375 px).
    # Other tables scroll sideways in their box there, their first column kept in view.
    cards: bool = False

    def __post_init__(self) -> None:
        self.dom_id = self.dom_id or f"table-{self.key}"

    def export_rows(self, fmt: str = "csv") -> Iterator[list[Any]]:
        """Rows then the footer as file values. In a .xlsx a rate column is two cells: the
        share as a number shown as a percentage (it sorts and charts) and its counts
        「3688 / 7782」; in a CSV it stays one text 「47.4%（3688 / 7782）」."""
        for row in [*self.rows, *([self.footer] if self.footer else [])]:
            if fmt != "xlsx":
                yield [export_value(v) for v in row]
                continue
            cells: list[Any] = []
            for column, value in zip(self.columns, row, strict=False):
                if column.kind == "rate":
                    cells += _rate_cells(value)
                else:
                    cells.append(export_value(value))
            yield cells

    def header(self, fmt: str = "csv") -> list[str]:
        if fmt != "xlsx":
            return [c.heading for c in self.columns]
        labels: list[str] = []
        for c in self.columns:
            labels += [c.heading, f"{c.heading}：计数"] if c.kind == "rate" else [c.heading]
        return labels


def _rate_cells(value: Any) -> list[Any]:
    """A rate column's two .xlsx cells (share, counts); no share when the denominator is 0."""
    if isinstance(value, Rate):
        share = Percent(value.numerator / value.denominator) if value.denominator else ""
        return [share, f"{value.numerator} / {value.denominator}"]
    return [export_value(value), ""]


def export_value(value: Any) -> Any:
    """The spreadsheet value of a cell: rates and links as their text, times in China time."""
    if value is None:
        return ""
    if isinstance(value, Rate | Link):
        return str(value)
    if isinstance(value, LabeledEnum):
        return value.label
    if isinstance(value, datetime):
        return format_dt(value)
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    return str(value)


# ---------------------------------------------------------------------------- links


def deal_href(deal_id: int) -> str:
    """The deal page. ``deals.detail`` is being built by the deals team; until it exists the
    link points at its planned URL so it starts working without a change here."""
    if "deals.detail" in current_app.view_functions:
        return url_for("deals.detail", deal_id=deal_id)
    return f"/deals/{deal_id}"


def demand_href(demand_id: int) -> str:
    return url_for("demands.detail", demand_id=demand_id)


def patent_href(patent_id: int) -> str:
    return url_for("inventory.detail", patent_id=patent_id)


# ---------------------------------------------------------------------------- funnel tables


def funnel_table(counts: Counts, export_args: dict[str, Any] | None = None) -> Table:
    """The six steps: count, rate against the base step, rate against 盘点, definition."""
    rows = []
    for step in STEPS:
        n = counts.get(step.key)
        base = counts.base_of(step)
        rows.append(
            [
                step.label,
                n,
                Rate(n, base) if base is not None else "—",
                funnel.rate_name(step) or "起点",
                Rate(n, counts.inventoried),
                step.definition,
            ]
        )
    return Table(
        "funnel",
        "转化漏斗（盘点 → 入库 → 推送 → 评价 → 对接 → 签约）",
        [
            Column("环节"),
            Column("专利数", "num"),
            Column("环节转化率", "rate"),
            Column("计算方式（分子 / 分母）"),
            Column("占盘点数（/ 盘点数）", "rate", bar=True),
            Column("口径"),
        ],
        rows,
        note="按专利计数：一件专利多次推送、多份合同只计 1 次。",
        export_args=export_args or {},
        cards=True,
    )


BREAKDOWN_UNITS = {
    "university": "高校",
    "college": "学院",
    "industry": "行业门类",
    "region": "地区",
    "pool": "产业专利池",
}


def breakdown_table(
    by: str,
    lines: list[Line],
    export_args: dict[str, Any] | None = None,
    link: Callable[[Line], str | None] | None = None,
) -> Table:
    """One row per university / college / industry section: six counts and five step rates."""
    rated = [s for s in STEPS if s.base]
    columns = [Column(BREAKDOWN_UNITS[by], nowrap=True)]
    columns += [Column(s.count_label, "num") for s in STEPS]
    columns += [Column(funnel.rate_name(s), "rate") for s in rated]

    def cells(name: Any, c: Counts) -> list[Any]:
        return [
            name,
            *(c.get(s.key) for s in STEPS),
            *(Rate(c.get(s.key), c.get(s.base)) for s in rated),  # type: ignore[arg-type]
        ]

    rows = [cells(Link(x.name, link(x)) if link else x.name, x.counts) for x in lines]
    return Table(
        f"by-{by}",
        f"各{BREAKDOWN_UNITS[by]}转化漏斗",
        columns,
        rows,
        footer=cells(ALL_TOTAL, funnel.total_of(lines)) if lines else None,
        note="行业按国民经济行业分类（GB/T 4754-2017）门类统计，取行业代码首字母。"
        if by == "industry"
        else "",
        export_args=export_args or {},
    )


# ---------------------------------------------------------------------------- annual fees


def idle_cost_table(cost: IdleCost) -> Table:
    """Per college: idle patents, their yearly fees, and the 建议放弃 part (what it saves)."""

    def cells(line: Any) -> list[Any]:
        return [
            line.name,
            line.idle,
            line.idle_cost,
            line.abandon,
            line.abandon_cost,
            Rate(line.abandon, line.idle),
        ]

    return Table(
        "idle-fees",
        "闲置专利年维持费（按学院）",
        [
            Column("学院", nowrap=True),
            Column("闲置专利数", "num"),
            Column("年维持费（元）", "money"),
            Column("其中建议放弃", "num"),
            Column("放弃后可节省（元/年）", "money"),
            Column("建议放弃占比（/ 闲置专利数）", "rate"),
        ],
        [cells(c) for c in cost.colleges],
        footer=cells(cost.total) if cost.colleges else None,
        note="闲置专利：已授权、法律状态有效（或未填）、实施状态为未实施（或未填）的专利；"
        "年维持费为每件专利未来 12 个月应缴的一笔年费（按国家知识产权局年费标准"
        + (f"，{cost.reduction_note}" if cost.reduction_note else "")
        + "）。建议放弃：入库状态为「建议放弃」的闲置专利，放弃后不再缴纳年费。",
    )


# ---------------------------------------------------------------------------- month by month


def monthly_table(figs: activity.MonthlyProgress, export_args: dict[str, Any]) -> Table:
    """One row per month of the last twelve (the monthly report to the IP office), a 合计 row;
    the demands column only where demands are counted (the platform, not a university)."""
    demands = figs.with_demands

    def cells(m: activity.MonthProgress) -> list[Any]:
        return [
            m.month,
            m.entered,
            m.abandoned,
            *([m.demands] if demands else []),
            m.pushed,
            m.answered,
            m.contracts,
            m.amount,
        ]

    return Table(
        "monthly",
        "按月进展（近 12 个月）",
        [
            Column("月份", nowrap=True, local_time=True),
            Column("入库专利", "num"),
            Column("建议放弃", "num"),
            *([Column("企业发布需求", "num")] if demands else []),
            Column("推送的对接", "num"),
            Column("高校答复", "num"),
            Column("签订合同", "num"),
            Column("合同金额（万元）", "money"),
        ],
        [cells(m) for m in figs.months],
        footer=cells(figs.total),
        note=f"按{zone_label()}的自然月统计，{figs.first_day:%Y-%m-%d} 至 {figs.today:%Y-%m-%d}"
        "（本月截至今日）。入库、建议放弃取自审核记录（学校审核通过入库、标记建议放弃的日期），"
        "同一专利撤回重审后再次入库的，在两个月份各计一次；合同按签订日期归月。"
        + ("" if demands else "企业需求不属于某一高校，选定高校的范围不统计发布需求。"),
        export_args=export_args,
    )


# ---------------------------------------------------------------------------- contracts


def contracts_month_table(figs: activity.ContractFigures, export_args: dict[str, Any]) -> Table:
    return Table(
        "contracts-month",
        "各月合同数与金额",
        [Column("签订月份"), Column("合同数", "num"), Column("金额（万元）", "money")],
        [[m.month, m.count, m.amount] for m in figs.months],
        footer=[ALL_TOTAL, figs.count, figs.amount] if figs.months else None,
        note="按合同签订日期所在月份统计，没有合同的月份记 0。",
        export_args=export_args,
        empty="暂无已登记的合同",
    )


def open_licence_note(figs: activity.ContractFigures, applications_signed: int, both: int) -> str:
    """What the 开放许可 row counts beside the open-licence applications signed (licensing,
    a separate record), and how many are recorded in both places, so the two add up."""
    in_deals = figs.count_of(ContractKind.OPEN_LICENSE)
    note = (
        f"「开放许可」行是对接中登记的开放许可合同（{in_deals} 份）；"
        f"通过开放许可实施申请签订的 {applications_signed} 件是另一种记录，不在此表"
    )
    if both:
        total = in_deals + applications_signed - both
        note += f"，其中 {both} 件两处都有登记（同一企业、同一专利），开放许可共签订 {total} 件"
    return note + "。"


def contracts_kind_table(
    figs: activity.ContractFigures,
    export_args: dict[str, Any],
    applications_signed: int = 0,
    both: int = 0,
) -> Table:
    """Deal contracts per kind. Its 开放许可 row counts the open-licence contracts registered
    on deals, not the open-licence applications signed (licensing): the note says so."""
    return Table(
        "contracts-kind",
        "合同类型",
        [
            Column("合同类型"),
            Column("合同数", "num"),
            Column("占合同数（/ 合同总数）", "rate"),
            Column("金额（万元）", "money"),
        ],
        [[k.label, k.count, Rate(k.count, figs.count), k.amount] for k in figs.kinds],
        footer=[ALL_TOTAL, figs.count, Rate(figs.count, figs.count), figs.amount],
        note=open_licence_note(figs, applications_signed, both),
        export_args=export_args,
        compact=True,
    )


def contracts_list_table(
    items: list[activity.ContractRow],
    page: Page | None,
    export_args: dict[str, Any],
    link_patents: bool,
) -> Table:
    rows = [
        [
            Link(f"#{c.deal_id}", deal_href(c.deal_id)),
            Link(c.patent_title, patent_href(c.patent_id) if link_patents else None),
            c.application_no,
            c.university,
            c.enterprise,
            c.kind.label,
            c.license_scope.label if c.license_scope else "",
            c.license_until,
            c.amount_wan,
            c.signed_on,
            c.record_no or "",
            c.parties,
            c.officer or "",
        ]
        for c in items
    ]
    return Table(
        "contracts",
        "合同清单",
        [
            Column("对接"),
            Column("专利"),
            Column("申请号"),
            Column("高校"),
            Column("企业"),
            Column("合同类型"),
            Column("许可方式"),
            Column("许可期限至", "date"),
            Column("金额（万元）", "money"),
            Column("签订日期", "date"),
            Column("备案号"),
            Column("当事方"),
            Column("技术经理人"),
        ],
        rows,
        note="每份已登记的合同一行，按签订日期从近到远排列；许可方式、许可期限只对许可合同填写。",
        page=page,
        export_args=export_args,
        empty="还没有登记的合同",
    )


# ---------------------------------------------------------------------------- overdue


def overdue_table(
    items: list[activity.OverdueDeal],
    page: Page | None,
    export_args: dict[str, Any],
    link_patents: bool,
) -> Table:
    rows = [
        [
            Link(f"#{d.id}", deal_href(d.id)),
            Link(d.patent_title, patent_href(d.patent_id) if link_patents else None),
            d.university,
            d.college or "",
            d.enterprise,
            d.demand_title,
            d.officer or "",
            d.stage.label,
            d.pushed_at,
            d.due_at,
            d.days_overdue,
        ]
        for d in items
    ]
    return Table(
        "overdue",
        "逾期未答复的对接",
        [
            Column("对接"),
            Column("专利"),
            Column("高校"),
            Column("学院"),
            Column("企业"),
            Column("需求"),
            Column("技术经理人"),
            Column("阶段"),
            Column("推送时间", "datetime"),
            Column("答复期限", "datetime"),
            Column("已逾期（天）", "num"),
        ],
        rows,
        note="逾期：对接仍在进行（已推荐 / 已接洽 / 洽谈中），高校尚未答复，且已过答复期限。"
        "按期限先后排列。",
        page=page,
        export_args=export_args,
        empty="没有逾期未答复的对接",
    )


def overdue_units_table(figs: activity.OverdueFigures, export_args: dict[str, Any]) -> Table:
    """Per university (or college), zeros included: awaiting and overdue answers, answers on
    time (rate of the answered) and late, the median time to answer, and deals that ended
    unanswered. Only overdue units were listed, so "all clear" could not be seen."""

    def cells(u: activity.UnitResponses) -> list[Any]:
        return [
            u.name,
            u.pushed,
            u.awaiting,
            u.overdue,
            u.answered,
            Rate(u.on_time, u.answered),
            u.late,
            u.median_days if u.median_days is not None else "—",
            u.ended_unanswered,
        ]

    return Table(
        "overdue-units",
        f"各{figs.unit}答复情况",
        [
            Column(figs.unit, nowrap=True),
            Column("推送的对接", "num"),
            Column("待答复", "num"),
            Column("逾期未答复", "num"),
            Column("已答复", "num"),
            Column("按期答复率（按期答复数 / 已答复数）", "rate"),
            Column("逾期后答复", "num"),
            Column("答复用时中位数（天）", "num"),
            Column("未答复即未成交", "num"),
        ],
        [cells(u) for u in figs.units],
        footer=cells(figs.total) if figs.units else None,
        note="待答复：对接仍在进行、高校尚未答复；逾期未答复是其中已过答复期限的。按期答复：答复时间"
        "不晚于答复期限（含技术经理人延长后的期限）；逾期后答复：过了期限才答复。答复用时：从推送"
        "到高校答复的天数，合计行为全部答复的中位数。未答复即未成交：答复期限过后对接标记为未成交，"
        "高校始终未答复（期限内因企业关闭需求等结束的不计）。"
        f"没有对接的{figs.unit}也列出（各项为 0）。",
        export_args=export_args,
        empty=f"还没有{figs.unit}",
    )


# ---------------------------------------------------------------------------- unmet need


def unmet_table(items: list[activity.UnmetDemand], page: Page | None) -> Table:
    rows = [
        [
            Link(d.title, demand_href(d.id)),
            d.enterprise,
            d.industry or "",
            d.created_at,
            d.deadline,
            d.reason,
        ]
        for d in items
    ]
    return Table(
        "unmet",
        "未满足的企业需求",
        [
            Column("需求"),
            Column("企业"),
            Column("行业"),
            Column("发布时间", "datetime"),
            Column("截止日期", "date"),
            Column("情况"),
        ],
        rows,
        note="征集中的需求，没有已采纳的匹配，也没有待审核的候选（较弱候选不计）："
        "尚无匹配结果、匹配结果均被否决，或只有较弱候选。"
        "按发布时间先后排列（等得最久的在前）。",
        page=page,
        empty="所有征集中的需求都有可用的匹配",
    )


def unmet_industry_table(figs: activity.UnmetFigures) -> Table:
    return Table(
        "unmet-industry",
        "未满足需求的行业分布",
        [
            Column("行业门类"),
            Column("未满足需求数", "num"),
            Column("占未满足数（/ 未满足数）", "rate"),
        ],
        [[label, n, Rate(n, figs.unmet)] for _key, label, n in figs.by_industry],
        footer=[ALL_TOTAL, figs.unmet, Rate(figs.unmet, figs.unmet)] if figs.by_industry else None,
        compact=True,
        empty="没有未满足的需求",
    )


# ---------------------------------------------------------------------------- workload


def workload_table(figs: activity.WorkloadFigures) -> Table:
    rows = [
        [
            o.name if o.role.value == "officer" else f"{o.name}（{o.role.label}）",
            o.accepted_30d,
            o.rejected_30d,
            o.decisions_30d,
            o.open_deals,
            o.overdue,
            o.contracts,
            o.amount,
        ]
        for o in figs.officers
    ]
    total = [
        ALL_TOTAL,
        *(sum(r[i] for r in rows) for i in range(1, 7)),
        sum((r[7] for r in rows), Decimal("0.00")),
    ]
    return Table(
        "workload",
        "技术经理人工作量",
        [
            Column("技术经理人"),
            Column(f"近 {activity.WORKLOAD_DAYS} 天采纳", "num"),
            Column(f"近 {activity.WORKLOAD_DAYS} 天否决", "num"),
            Column(f"近 {activity.WORKLOAD_DAYS} 天决定合计", "num"),
            Column("进行中的对接", "num"),
            Column("其中高校逾期未答复", "num"),
            Column("已签合同", "num"),
            Column("合同金额（万元）", "money"),
        ],
        rows,
        footer=total if rows else None,
        note="进行中的对接：本人推送、阶段为已推荐 / 已接洽 / 洽谈中。"
        "已签合同与金额为本人推送的对接累计。",
        empty="还没有技术经理人账号",
    )


# ---------------------------------------------------------------------------- enterprise


def my_demands_table(figs: activity.EnterpriseFigures) -> Table:
    rows = [
        [
            Link(d.title, demand_href(d.id)),
            d.status.label,
            d.created_at,
            d.suggested,
            d.pushed,
            *(d.stages[s] for s in Stage),
        ]
        for d in figs.demands
    ]
    return Table(
        "my-demands",
        "我的需求与推送",
        [
            Column("需求"),
            Column("状态"),
            Column("发布时间", "datetime"),
            Column("机器推荐", "num"),
            Column("推送专利数", "num"),
            *(Column(s.label, "num") for s in Stage),
        ],
        rows,
        footer=[
            ALL_TOTAL,
            "",
            "",
            figs.suggested,
            figs.pushed,
            *(figs.by_stage[s] for s in Stage),
        ]
        if rows
        else None,
        note="机器推荐：匹配引擎给出、需求页面列出的强 / 中匹配专利，尚未经技术经理人审核；"
        "推送专利：技术经理人审核采纳、推送给贵单位的匹配专利，按当前对接阶段统计。",
        empty="您还没有发布技术需求",
    )


def my_deals_table(items: list[activity.EnterpriseDeal], page: Page | None) -> Table:
    rows = [
        [
            Link(f"#{d.id}", deal_href(d.id)),
            Link(d.demand_title, demand_href(d.demand_id)),
            d.patent_title,
            d.university,
            d.stage.label,
            d.pushed_at,
            d.response.label if d.response else "待答复",
            d.contract_kind.label if d.contract_kind else "",
            d.amount,
        ]
        for d in items
    ]
    return Table(
        "my-deals",
        "推送给我的专利（对接）",
        [
            Column("对接"),
            Column("需求"),
            Column("专利"),
            Column("高校"),
            Column("阶段"),
            Column("推送时间", "datetime"),
            Column("高校答复"),
            Column("合同类型"),
            Column("合同金额（万元）", "money"),
        ],
        rows,
        page=page,
        empty="还没有推送给您的专利",
    )


# ---------------------------------------------------------------------------- inventory overview


def inventory_tables(s: DashboardSummary, export_args: dict[str, Any] | None = None) -> list[Table]:
    """The overview's tables (progress per college/university, four distributions). Their DOM
    ids are the ones the overview's charts point at; ``export_args`` reproduce the scope (a
    regional view narrowed to one university)."""
    export_args = export_args or {}
    out: list[Table] = []
    if s.breakdown_kind:
        unit = BREAKDOWN_UNITS[s.breakdown_kind]
        out.append(
            Table(
                "inventory-breakdown",
                f"各{unit}盘点进度",
                [
                    Column(unit),
                    Column("盘点数", "num"),
                    Column("入库数", "num"),
                    Column("待审核", "num"),
                    Column("入库率（入库数 / 盘点数）", "rate", bar=True),
                ],
                [
                    [r.name, r.total, r.entered, r.pending, Rate(r.entered, r.total)]
                    for r in s.breakdown
                ],
                footer=[
                    ALL_TOTAL,
                    s.total,
                    s.entered,
                    s.pending_college + s.pending_school,
                    Rate(s.entered, s.total),
                ],
                dom_id="table-breakdown",
                export_args=export_args,
            )
        )
    for key, title, first, buckets in (
        ("status", "入库流程状态", "状态", s.by_status),
        ("grade", "专利价值分级自评", "自评等级", s.by_grade),
        ("trl", "技术成熟度（TRL）", "成熟度", s.by_trl),
        ("willingness", "转化意愿", "意愿", s.by_willingness),
    ):
        out.append(
            Table(
                f"inventory-{key}",
                title,
                [Column(first), Column("专利数", "num"), Column("占比（/ 盘点数）", "rate")],
                [[b.label, b.count, Rate(b.count, s.total)] for b in buckets],
                dom_id=f"table-{key}",
                compact=True,
                export_args=export_args,
            )
        )
    return out


MIX_NOTES = {
    "status": "各状态之和等于盘点数。不入库、建议放弃是学校审核的结论；"
    "退回是审核退回、待修改后重新提交的专利。",
    "grade": "高校对每件专利的价值分级自评（1–5★）；"
    "「自评 4–5★」占已自评的专利（未自评的不计入分母）。",
    "trl": "技术成熟度分三段：TRL 1–3 原理与概念验证，TRL 4–6 实验室到中试验证，"
    "TRL 7–9 实际环境验证到批量应用。",
    "willingness": "高校填写的转化意愿。",
}


def mix_tables(
    kind: str, mixes: list[UnitMix], export_args: dict[str, Any] | None = None
) -> list[Table]:
    """Per university (``kind`` "university") or college: the overview's four distributions,
    one table each (``queries.unit_mix``), with a 合计 row. Keys ``mix-status`` …"""
    unit = BREAKDOWN_UNITS[kind]
    out = []
    for d in MIX_DIMENSIONS:
        rated = d.key == "grade"

        def cells(name: str, total: int, counts: list[int], rated: bool = rated) -> list[Any]:
            row: list[Any] = [name, total, *counts]
            if rated:  # 4★ and 5★ of the graded (every bucket but the last, 未自评)
                row.append(Rate(counts[3] + counts[4], sum(counts[:-1])))
            return row

        rows = [cells(m.name, m.total, m.of(d.key)) for m in mixes]
        sums = [sum(m.of(d.key)[i] for m in mixes) for i in range(len(d.buckets))]
        columns = [Column(unit, nowrap=True), Column("盘点数", "num")]
        columns += [Column(label, "num") for _key, label in d.buckets]
        if rated:
            columns.append(Column("自评 4–5★（4–5★ 数 / 已自评数）", "rate"))
        out.append(
            Table(
                f"mix-{d.key}",
                f"各{unit}{d.title}",
                columns,
                rows,
                footer=cells(ALL_TOTAL, sum(m.total for m in mixes), sums) if mixes else None,
                note=MIX_NOTES[d.key],
                export_args=export_args or {},
            )
        )
    return out


# ---------------------------------------------------------------------------- regional picture

REGIONAL_UNITS = {"region": "地区", "pool": "产业专利池"}


def contracts_by_table(by: str, items: list[Any], export_args: dict[str, Any]) -> Table:
    """Contracts and amounts per region (the university's); the regions add up to the total."""
    total = sum(i.count for i in items)
    amount = sum((i.amount for i in items), Decimal("0.00"))
    unit = REGIONAL_UNITS[by]
    return Table(
        f"contracts-{by}",
        f"各{unit}合同数与金额",
        [
            Column(unit, nowrap=True),
            Column("合同数", "num"),
            Column("占合同数（/ 合同总数）", "rate"),
            Column("金额（万元）", "money"),
        ],
        [[i.name, i.count, Rate(i.count, total), i.amount] for i in items],
        footer=[ALL_TOTAL, total, Rate(total, total), amount],
        note="按高校所在地区统计（高校 = 专利权人）",
        export_args=export_args,
    )


def contracts_pool_table(figs: regional.PoolContracts, export_args: dict[str, Any]) -> Table:
    """Contracts per pool (``regional.PoolContracts``): each pool's share is of the distinct
    contracts of the filters, and the 合计 row counts each contract once, however many pools
    its patent is in (the pool rows used to be summed into the denominator)."""
    total = figs.total
    lines = [*figs.pools, *([figs.outside] if figs.outside else [])]
    return Table(
        "contracts-pool",
        "各产业专利池合同数与金额",
        [
            Column("产业专利池", nowrap=True),
            Column("合同数（一份合同可计入多个池）", "num"),
            Column("占合同数（/ 合同总数，不重复计）", "rate"),
            Column("金额（万元）", "money"),
        ],
        [[i.name, i.count, Rate(i.count, total.count), i.amount] for i in lines],
        footer=[ALL_TOTAL, total.count, Rate(total.count, total.count), total.amount],
        note="按已纳入产业专利池的专利统计：一件专利可属于多个池，其合同计入每个池，"
        "各行之和可能大于合计。合计与分母为不重复计的合同数"
        + (f"；「{figs.outside.name}」为专利不在任何池中的合同" if figs.outside else ""),
        export_args=export_args,
    )


def unmet_by_table(by: str, items: list[Any], export_args: dict[str, Any]) -> Table:
    unit = REGIONAL_UNITS[by]
    return Table(
        f"unmet-{by}",
        f"各{unit}未满足的需求",
        [
            Column(unit, nowrap=True),
            Column("征集中的需求", "num"),
            Column("未满足", "num"),
            Column("未满足率（未满足数 / 征集中需求数）", "rate"),
        ],
        [[i.name, i.open_demands, i.unmet, Rate(i.unmet, i.open_demands)] for i in items],
        note="按发布需求的企业所在地区统计" if by == "region" else "按已纳入产业专利池的需求统计",
        export_args=export_args,
    )
