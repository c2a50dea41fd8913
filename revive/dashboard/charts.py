"""Chart specs for the dashboard: plain JSON that static/js/charts.js hands to Chart.js.

A spec is ``{"type", "labels", "datasets", "options"}``; colours are CSS custom properties
(``var(--status-entered)``) so the palette lives in app.css and matches the status badges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revive.dashboard.queries import CHART_MAX_BARS, Bucket, DashboardSummary

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


def _bar(labels: list[str], datasets: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    return {"type": "bar", "labels": labels, "datasets": datasets, "options": options}


def _single(buckets: list[Bucket], label: str, colors: list[str] | str) -> dict[str, Any]:
    return {"label": label, "data": [b.count for b in buckets], "backgroundColor": colors}


def build_charts(summary: DashboardSummary) -> list[ChartCard]:
    """The dashboard's charts, most important first. Empty scopes get no charts at all."""
    if summary.is_empty:
        return []
    cards: list[ChartCard] = []

    if summary.breakdown_kind and summary.breakdown:
        rows = summary.breakdown[:CHART_MAX_BARS]
        # Long lists read better as horizontal bars (names stay level), one row per unit.
        horizontal = len(rows) > HORIZONTAL_AFTER
        unit = "学院" if summary.breakdown_kind == "college" else "高校"
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
                        {
                            "label": "盘点数",
                            "data": [r.total for r in rows],
                            "backgroundColor": "var(--chart-1)",
                        },
                        {
                            "label": "入库数",
                            "data": [r.entered for r in rows],
                            "backgroundColor": "var(--chart-2)",
                        },
                    ],
                    **({"indexAxis": "y"} if horizontal else {}),
                ),
                note=note,
                wide=True,
                height=80 + 30 * len(rows) if horizontal else None,
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
                plugins={"legend": {"display": False}},
            ),
            note="草稿 → 待学院审核 → 待学校审核 → 已入库；另列退回、不入库、建议放弃",
        )
    )

    cards.append(
        ChartCard(
            id="chart-grade",
            title="专利价值分级自评",
            table_id="table-grade",
            spec=_bar(
                [b.label for b in summary.by_grade],
                [
                    _single(
                        summary.by_grade, "专利数", ["var(--chart-1)"] * 5 + ["var(--chart-muted)"]
                    )
                ],
                plugins={"legend": {"display": False}},
            ),
        )
    )
    cards.append(
        ChartCard(
            id="chart-trl",
            title="技术成熟度（TRL）",
            table_id="table-trl",
            spec=_bar(
                [b.label for b in summary.by_trl],
                [
                    _single(
                        summary.by_trl, "专利数", ["var(--chart-3)"] * 9 + ["var(--chart-muted)"]
                    )
                ],
                plugins={"legend": {"display": False}},
            ),
        )
    )
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
