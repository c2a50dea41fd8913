"""Chart spec of the rejection statistics (plain JSON for static/js/charts.js)."""

from __future__ import annotations

from typing import Any

from revive.matching.reasons import REJECT_REASONS
from revive.review.queries import RejectionRow

MAX_BARS = 20
HORIZONTAL_AFTER = 10
# One colour per reason, in REJECT_REASONS order (the palette has six; two more here).
REASON_COLORS = [
    "var(--chart-1)",
    "var(--chart-2)",
    "var(--chart-3)",
    "var(--chart-4)",
    "var(--chart-5)",
    "var(--chart-6)",
    "#8d6e63",
    "#8795a8",
]


def reasons_by_university(rows: list[RejectionRow]) -> dict[str, Any] | None:
    """Stacked bars: one bar per university (most rejections first), one segment per reason.
    None when there is nothing to draw."""
    rows = rows[:MAX_BARS]
    if not rows:
        return None
    datasets = [
        {
            "label": label,
            "data": [r.reasons[code] for r in rows],
            "backgroundColor": REASON_COLORS[i % len(REASON_COLORS)],
            # wide enough for the reason's name drawn on its segment
            "maxBarThickness": 140,
        }
        for i, (code, label) in enumerate(REJECT_REASONS.items())
        if any(r.reasons[code] for r in rows)
    ]
    # Eight reasons are too many to tell apart by colour (o-rej-d): each segment carries its
    # reason and count (static/js/charts.js segmentLabels); the tooltip and table still do.
    options: dict[str, Any] = {
        "scales": {"x": {"stacked": True}, "y": {"stacked": True}},
        "plugins": {"segmentLabels": {"display": True}},
    }
    if len(rows) > HORIZONTAL_AFTER:
        options["indexAxis"] = "y"
    return {
        "type": "bar",
        "labels": [r.name for r in rows],
        "datasets": datasets,
        "options": options,
    }


def chart_height(rows: list[RejectionRow]) -> int | None:
    n = min(len(rows), MAX_BARS)
    return 80 + 30 * n if n > HORIZONTAL_AFTER else None
