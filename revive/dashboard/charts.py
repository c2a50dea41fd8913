"""Chart specs for the dashboard: plain JSON that static/js/charts.js hands to Chart.js.

A spec is ``{"type", "labels", "datasets", "options"}``; colours are CSS custom properties
(``var(--status-entered)``) so the palette lives in app.css and matches the status badges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revive.accounts import regions
from revive.dashboard.activity import (
    WORKLOAD_DAYS,
    ContractFigures,
    EnterpriseFigures,
    MonthlyProgress,
    OverdueFigures,
    WorkloadFigures,
)
from revive.dashboard.funnel import STEPS, Counts, Line, axis_label
from revive.dashboard.queries import CHART_MAX_BARS, Bucket, DashboardSummary
from revive.dashboard.tables import BREAKDOWN_UNITS
from revive.deals.models import Stage
from revive.inventory.fees import IdleCost

HORIZONTAL_AFTER = 10  # more colleges/universities than this: horizontal bars


@dataclass(frozen=True)
class ChartCard:
    id: str  # id of the JSON block; the canvas points at it with data-chart
    title: str
    table_id: str  # the table below that carries the same figures (accessible fallback)
    spec: dict[str, Any]
    note: str = ""
    wide: bool = False  # spans both columns of the chart grid
    height: int | None = None  # px; None = the stylesheet's default chart height
    # Set when every value is zero: the card keeps its frame and shows this message instead
    # of a chart (an empty chart that silently vanished read as a broken page).
    empty: str = ""


NO_LEGEND = {"legend": {"display": False}}


def _bar(labels: list[str], datasets: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return {"type": "bar", "labels": labels, "datasets": datasets, "options": options}


def _series(label: str, data: list[Any], colors: list[str] | str) -> dict[str, Any]:
    return {"label": label, "data": data, "backgroundColor": colors}


def _single(buckets: list[Bucket], label: str, colors: list[str] | str) -> dict[str, Any]:
    return _series(label, [b.count for b in buckets], colors)


def _horizontal(n: int) -> dict[str, Any]:
    """Long lists read better as horizontal bars (names stay level), one row per unit."""
    return {"indexAxis": "y"} if n > HORIZONTAL_AFTER else {}


def _height(n: int) -> int | None:
    return 80 + 30 * n if n > HORIZONTAL_AFTER else None


def _distribution(chart_id: str, title: str, buckets: list[Bucket], color: str) -> ChartCard:
    """Bars of one distribution; the last bucket (not filled in) in the muted colour."""
    colors = [color] * (len(buckets) - 1) + ["var(--chart-muted)"]
    return ChartCard(
        id=f"chart-{chart_id}",
        title=title,
        table_id=f"table-{chart_id}",
        spec=_bar(
            [b.label for b in buckets], [_single(buckets, "专利数", colors)], plugins=NO_LEGEND
        ),
    )


def build_charts(summary: DashboardSummary) -> list[ChartCard]:
    """The dashboard's charts, most important first. Empty scopes get no charts at all."""
    if summary.is_empty:
        return []
    cards: list[ChartCard] = []

    if summary.breakdown_kind and summary.breakdown:
        rows = summary.breakdown[:CHART_MAX_BARS]
        unit = BREAKDOWN_UNITS[summary.breakdown_kind]
        note = (
            f"按盘点数排序，显示前 {CHART_MAX_BARS} 个{unit}"
            if len(summary.breakdown) > CHART_MAX_BARS
            else ""
        )
        cards.append(
            ChartCard(
                id="chart-breakdown",
                title=f"各{unit}盘点与入库",
                table_id="table-breakdown",
                spec=_bar(
                    [r.name for r in rows],
                    [
                        _series("盘点数", [r.total for r in rows], "var(--chart-1)"),
                        _series("入库数", [r.entered for r in rows], "var(--chart-2)"),
                    ],
                    **_horizontal(len(rows)),
                ),
                note=note,
                wide=True,
                height=_height(len(rows)),
            )
        )

    funnel = summary.by_status
    cards.append(
        ChartCard(
            id="chart-funnel",
            title="入库流程",
            table_id="table-status",
            spec=_bar(
                [b.label for b in funnel],
                [_single(funnel, "专利数", [f"var(--status-{b.key})" for b in funnel])],
                indexAxis="y",
                plugins=NO_LEGEND,
            ),
            note="草稿 → 待学院审核 → 待学校审核 → 已入库；另列退回、不入库、建议放弃",
        )
    )
    cards.append(_distribution("grade", "专利价值分级自评", summary.by_grade, "var(--chart-1)"))
    cards.append(_distribution("trl", "技术成熟度（TRL）", summary.by_trl, "var(--chart-3)"))
    w = summary.by_willingness
    cards.append(
        ChartCard(
            id="chart-willingness",
            title="转化意愿",
            table_id="table-willingness",
            spec={
                "type": "doughnut",
                "labels": [b.label for b in w],
                "datasets": [_single(w, "专利数", [f"var(--willingness-{b.key})" for b in w])],
                "options": {"plugins": {"legend": {"position": "right"}}},
            },
        )
    )
    return cards


# ---------------------------------------------------------------------------- funnel and activity

STEP_COLORS = [f"var(--chart-{i})" for i in range(1, 7)]
CONTRACT_MONTHS_SHOWN = 36  # the chart shows the latest months; the table lists every month
AMOUNT = "var(--chart-2)"  # money signed: a good figure, never red
CONTRACT_AXIS_MIN = 5  # the contract-count axis reaches at least this many


def conversion_chart(counts: Counts) -> ChartCard:
    """The six funnel steps as horizontal bars in the pipeline's order, each labelled with the
    denominator of its rate (推送 and 评价 both narrow 入库: not one bar of the other)."""
    return ChartCard(
        id="chart-conversion",
        title="转化漏斗",
        table_id="table-funnel",
        spec=_bar(
            [axis_label(s) for s in STEPS],
            [_series("专利数", [counts.get(s.key) for s in STEPS], STEP_COLORS)],
            indexAxis="y",
            plugins=NO_LEGEND,
        ),
        note="盘点 → 入库 → 推送 → 评价 → 对接 → 签约（按专利计数；括号内为该环节转化率的分母："
        "推送、评价都以入库数为分母，受邀评价不必经过推送；各环节口径与转化率见下表）",
    )


def breakdown_chart(by: str, lines: list[Line]) -> ChartCard | None:
    """入库率 / 推送率 / 评价率 (%) of the largest units; denominators are in the table."""
    if not lines:
        return None
    rows = lines[:CHART_MAX_BARS]
    unit = BREAKDOWN_UNITS[by]

    def pct(n: int, d: int) -> float | None:
        return round(100 * n / d, 1) if d else None

    series = (
        ("入库率（/ 盘点数）", "entered", "inventoried", "var(--chart-1)"),
        ("推送率（/ 入库数）", "pushed", "entered", "var(--chart-3)"),
        ("评价率（/ 入库数）", "evaluated", "entered", "var(--chart-2)"),
    )
    datasets = [
        _series(label, [pct(r.counts.get(n), r.counts.get(d)) for r in rows], color)
        for label, n, d, color in series
    ]
    value_axis = "x" if len(rows) > HORIZONTAL_AFTER else "y"
    return ChartCard(
        id="chart-breakdown-rates",
        title=f"各{unit}入库率、推送率、评价率（%）",
        table_id=f"table-by-{by}",
        spec=_bar(
            [r.name for r in rows],
            datasets,
            scales={value_axis: {"max": 100}},
            **_horizontal(len(rows)),
        ),
        note=(
            f"按盘点数排序，显示前 {CHART_MAX_BARS} 个{unit}；"
            if len(lines) > CHART_MAX_BARS
            else ""
        )
        + (region_note() + "；" if by == "region" else "")
        + "分子分母见下表",
        wide=True,
        height=_height(len(rows)),
    )


def contracts_month_chart(figs: ContractFigures) -> ChartCard | None:
    if not figs.months:
        return None
    months = figs.months[-CONTRACT_MONTHS_SHOWN:]
    return ChartCard(
        id="chart-contracts-month",
        title="各月合同数与金额",
        table_id="table-contracts-month",
        spec=_bar(
            [m.month for m in months],
            [
                {
                    "label": "合同数",
                    "data": [m.count for m in months],
                    "backgroundColor": "var(--chart-1)",
                    "yAxisID": "y",
                    "order": 2,
                },
                {
                    "type": "line",
                    "label": "金额（万元）",
                    "data": [float(m.amount) for m in months],
                    "borderColor": "var(--chart-3)",
                    "backgroundColor": "var(--chart-3)",
                    "yAxisID": "y1",
                    "order": 1,
                },
            ],
            scales={
                # Whole contracts, and room above a single one: a 0–1 axis made one contract
                # a month look like a full chart (ua-contracts-d).
                "y": {
                    "title": {"display": True, "text": "合同数"},
                    "suggestedMax": max(CONTRACT_AXIS_MIN, *(m.count for m in months)),
                    "ticks": {"precision": 0},
                },
                "y1": {
                    "position": "right",
                    "beginAtZero": True,
                    "grid": {"drawOnChartArea": False},
                    "title": {"display": True, "text": "万元"},
                },
            },
        ),
        note=f"显示最近 {CONTRACT_MONTHS_SHOWN} 个月，完整数据见下表"
        if len(figs.months) > CONTRACT_MONTHS_SHOWN
        else "",
        wide=True,
    )


PARTIAL_MONTH = "（截至今日）"


def monthly_charts(figs: MonthlyProgress) -> list[ChartCard]:
    """The month-by-month table as three charts (their scales differ): patents entered and
    marked 建议放弃; demands (platform only), pushes, answers and contracts; contract amounts.
    Each card is always there: a series that is zero every month says so in its frame."""
    labels = [m.month for m in figs.months]
    if labels:  # the current month has not ended: its bars are not a fall (a director read one)
        labels[-1] = f"{labels[-1]}{PARTIAL_MONTH}"
    t = figs.total
    cards = [
        ChartCard(
            id="chart-monthly-inventory",
            title="各月入库与建议放弃（专利数）",
            table_id="table-monthly",
            spec=_bar(
                labels,
                [
                    _series("入库专利", [m.entered for m in figs.months], "var(--chart-2)"),
                    _series(
                        "建议放弃", [m.abandoned for m in figs.months], "var(--status-abandon)"
                    ),
                ],
            ),
            note="按学校审核的日期归月",
            empty=""
            if t.entered or t.abandoned
            else "近 12 个月没有学校审核通过入库或标记建议放弃的专利",
        )
    ]
    lines = [
        ("推送的对接", [m.pushed for m in figs.months], "var(--chart-1)"),
        ("高校答复", [m.answered for m in figs.months], "var(--chart-3)"),
        ("签订合同", [m.contracts for m in figs.months], "var(--chart-2)"),
    ]
    if figs.with_demands:
        lines.insert(0, ("企业发布需求", [m.demands or 0 for m in figs.months], "var(--chart-4)"))
    title = "各月需求、对接与合同（件数）" if figs.with_demands else "各月对接与合同（件数）"
    cards.append(
        ChartCard(
            id="chart-monthly-deals",
            title=title,
            table_id="table-monthly",
            spec={
                "type": "line",
                "labels": labels,
                "datasets": [
                    {
                        "label": label,
                        "data": values,
                        "borderColor": color,
                        "backgroundColor": color,
                    }
                    for label, values, color in lines
                ],
                "options": {},
            },
            note="" if figs.with_demands else "企业需求不属于某一高校，此处不计",
            empty=""
            if any(any(values) for _, values, _ in lines)
            else "近 12 个月没有"
            + ("发布的需求、" if figs.with_demands else "")
            + "推送的对接、高校答复或签订的合同",
        )
    )
    cards.append(
        ChartCard(
            id="chart-monthly-amount",
            title="各月合同金额（万元）",
            table_id="table-monthly",
            spec=_bar(
                labels,
                [_series("合同金额（万元）", [float(m.amount) for m in figs.months], AMOUNT)],
                plugins=NO_LEGEND,
            ),
            note=f"按签订日期归月；近 12 个月合计 {t.amount:,.2f} 万元，{t.contracts} 份合同",
            empty="" if t.amount else "近 12 个月没有登记金额的合同",
        )
    )
    return cards


def contract_kind_chart(figs: ContractFigures) -> ChartCard | None:
    if not figs.count:
        return None
    return ChartCard(
        id="chart-contracts-kind",
        title="合同类型（合同数）",
        table_id="table-contracts-kind",
        spec={
            "type": "doughnut",
            "labels": [k.label for k in figs.kinds],
            "datasets": [{"label": "合同数", "data": [k.count for k in figs.kinds]}],
            "options": {"plugins": {"legend": {"position": "right"}}},
        },
    )


NEUTRAL = "var(--chart-1)"  # counts that are neither good nor bad
BAD = "var(--chart-5)"  # red: only for what should go down (overdue, unmet, abandoned)


def count_bars(
    chart_id: str,
    title: str,
    table_id: str,
    items: list[tuple[str, int]],
    label: str,
    color: str = NEUTRAL,
) -> ChartCard | None:
    """A single-series bar chart of (name, count), largest first, at most CHART_MAX_BARS.
    Neutral blue unless the count is bad news (``color=BAD``): red read as an alarm on
    contracts and pools (o-regions-d)."""
    if not items:
        return None
    rows = items[:CHART_MAX_BARS]
    return ChartCard(
        id=chart_id,
        title=title,
        table_id=table_id,
        spec=_bar(
            [name for name, _ in rows],
            [_series(label, [n for _, n in rows], color)],
            plugins=NO_LEGEND,
            **_horizontal(len(rows)),
        ),
        note=f"显示前 {CHART_MAX_BARS} 项，完整数据见下表" if len(items) > CHART_MAX_BARS else "",
        height=_height(len(rows)),
        wide=len(rows) > HORIZONTAL_AFTER,
    )


def answers_chart(figs: OverdueFigures) -> ChartCard | None:
    """Per university (or college) with deals: answered on time, answered late, still overdue,
    ended unanswered, stacked; the most deals first. Counts and rates are in the table."""
    rows = sorted((u for u in figs.units if u.pushed), key=lambda u: (-u.pushed, u.name))
    if not rows:
        return None
    shown = rows[:CHART_MAX_BARS]
    series = (
        ("按期答复", lambda u: u.on_time, "var(--chart-2)"),
        ("逾期后答复", lambda u: u.late, "var(--chart-3)"),
        ("逾期未答复", lambda u: u.overdue, "var(--chart-5)"),
        ("未答复即未成交", lambda u: u.ended_unanswered, "var(--chart-muted)"),
    )
    return ChartCard(
        id="chart-answers-units",
        title=f"各{figs.unit}答复是否按期（对接数）",
        table_id="table-overdue-units",
        spec=_bar(
            [u.name for u in shown],
            [_series(label, [value(u) for u in shown], color) for label, value, color in series],
            scales={"x": {"stacked": True}, "y": {"stacked": True}},
            **_horizontal(len(shown)),
        ),
        note=(
            f"按推送的对接数排序，显示前 {CHART_MAX_BARS} 个{figs.unit}；"
            if len(rows) > CHART_MAX_BARS
            else ""
        )
        + "按期答复率与答复用时见下表",
        wide=True,
        height=_height(len(shown)),
    )


def workload_chart(figs: WorkloadFigures) -> ChartCard | None:
    rows = figs.officers[:CHART_MAX_BARS]
    if not rows:
        return None
    return ChartCard(
        id="chart-workload",
        title="技术经理人工作量",
        table_id="table-workload",
        spec=_bar(
            [o.name for o in rows],
            [
                _series(
                    f"近 {WORKLOAD_DAYS} 天决定", [o.decisions_30d for o in rows], "var(--chart-1)"
                ),
                _series("进行中的对接", [o.open_deals for o in rows], "var(--chart-2)"),
                _series("高校逾期未答复", [o.overdue for o in rows], "var(--chart-5)"),
            ],
            **_horizontal(len(rows)),
        ),
        note=f"按进行中的对接排序，显示前 {CHART_MAX_BARS} 人"
        if len(figs.officers) > CHART_MAX_BARS
        else "",
        wide=True,
        height=_height(len(rows)),
    )


def stage_chart(figs: EnterpriseFigures) -> ChartCard | None:
    if not figs.pushed:
        return None
    return ChartCard(
        id="chart-stages",
        title="推送专利的对接阶段",
        table_id="table-my-demands",
        spec=_bar(
            [s.label for s in Stage],
            [_series("专利数", [figs.by_stage[s] for s in Stage], STEP_COLORS[: len(Stage)])],
            plugins=NO_LEGEND,
        ),
        wide=True,
    )


def idle_cost_chart(cost: IdleCost) -> ChartCard | None:
    """Yearly annual fees of the idle patents per college, the part 建议放弃 saves stacked."""
    if not cost.colleges:
        return None
    lines = cost.colleges[:CHART_MAX_BARS]
    n = len(lines)
    return ChartCard(
        id="chart-idle-fees",
        title="闲置专利年维持费（按学院，元/年）",
        table_id="table-idle-fees",
        spec=_bar(
            [c.name for c in lines],
            [
                _series(
                    "建议放弃（放弃后可节省）",
                    [float(c.abandon_cost) for c in lines],
                    "var(--status-abandon)",
                ),
                _series(
                    "其他闲置专利",
                    [float(c.idle_cost - c.abandon_cost) for c in lines],
                    "var(--chart-1)",
                ),
            ],
            scales={"x": {"stacked": True}, "y": {"stacked": True}},
            **_horizontal(n),
        ),
        note="闲置：已授权、有效、未实施；每件专利未来 12 个月应缴的一笔年费"
        + (f"，{cost.reduction_note}。" if cost.reduction_note else "。"),
        height=_height(n),
    )


# ---------------------------------------------------------------------------- regions and pools


def region_note() -> str:
    """How regions are grouped: the home province by 盟市, elsewhere by province."""
    return f"地区口径：{regions.region_list().province}内按盟市统计，区外按省（直辖市、自治区）归并"


def _in_province(key: str) -> bool:
    r = regions.region_list()
    return key in r.values or key == r.province


def region_bars(
    chart_id: str,
    title: str,
    table_id: str,
    rows: list[tuple[str, str, float]],
    label: str,
    bad: bool = False,
) -> ChartCard | None:
    """(key, name, value) per region unit as bars, the province's 盟市 and the other provinces
    as two series (two colours, a legend), so a city beside a province reads as a grouping
    and not as a mix-up (o-regions-d); the note says how. None when every value is zero."""
    if not any(v for _, _, v in rows):
        return None
    shown = rows[:CHART_MAX_BARS]
    province = regions.region_list().province
    home, away = (BAD, "var(--chart-3)") if bad else (NEUTRAL, "var(--chart-4)")
    inside = [_in_province(k) for k, _, _ in shown]
    home_values = [v if i else None for (_, _, v), i in zip(shown, inside, strict=True)]
    away_values = [None if i else v for (_, _, v), i in zip(shown, inside, strict=True)]
    datasets = [
        _series(f"{name}：{label}", values, color)
        for name, values, color in (
            (f"{province}内（按盟市）", home_values, home),
            ("区外（按省）", away_values, away),
        )
        if any(v is not None for v in values)
    ]
    return ChartCard(
        id=chart_id,
        title=title,
        table_id=table_id,
        spec=_bar(
            [name for _, name, _ in shown],
            datasets,
            scales={"x": {"stacked": True}, "y": {"stacked": True}},
            **_horizontal(len(shown)),
        ),
        note=region_note()
        + (f"；显示前 {CHART_MAX_BARS} 个地区" if len(rows) > CHART_MAX_BARS else ""),
        height=_height(len(shown)),
        wide=len(shown) > HORIZONTAL_AFTER,
    )


def pool_amount_chart(pools: list[tuple[str, float]], outside: float | None) -> ChartCard | None:
    """Contract amounts per industry pool (a contract on a patent of two pools counts in
    both), those on patents in no pool apart in grey. None when there is no amount."""
    rows = [(name, v) for name, v in pools] + ([("未纳入产业专利池", outside)] if outside else [])
    if not any(v for _, v in rows):
        return None
    colors = [AMOUNT] * len(pools) + (["var(--chart-muted)"] if outside else [])
    return ChartCard(
        id="chart-contracts-pool-amount",
        title="各产业专利池合同金额（万元）",
        table_id="table-contracts-pool",
        spec=_bar(
            [name for name, _ in rows],
            [_series("合同金额（万元）", [v for _, v in rows], colors)],
            plugins=NO_LEGEND,
            **_horizontal(len(rows)),
        ),
        note="一件专利可属于多个池，其合同计入每个池；灰色为不在任何池中的专利的合同",
        height=_height(len(rows)),
    )
