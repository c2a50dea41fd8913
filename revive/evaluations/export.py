"""Spreadsheets of 市场评价 / 分层推广 and the calibration chart spec.

Every cell goes through ``common.spreadsheets.safe_cell`` (via ``add_sheet``), so a title such as
"=HYPERLINK(…)" is shown as text, never run. Exports are written to a temporary file in
write-only mode and streamed, so tens of thousands of rows use constant memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from openpyxl import Workbook

from revive.common.spreadsheets import add_sheet, workbook_chunks
from revive.evaluations.queries import Calibration, CalibrationPatent, GroupCount, PromotionRow
from revive.evaluations.tiers import Tier
from revive.inventory.models import PatentType, TransferMode, Willingness


def _label(enum_cls: type, value: Any) -> str:
    if value is None:
        return ""
    try:
        return enum_cls(value).label
    except ValueError:
        return str(value)


def _modes(raw: str | None) -> str:
    return "、".join(_label(TransferMode, v) for v in (raw or "").split(",") if v)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


PROMOTION_HEADER = (
    "分组",
    "分层",
    "分层依据",
    "申请号",
    "专利名称",
    "专利类型",
    "高校",
    "学院",
    "发明人",
    "国民经济行业分类",
    "技术领域",
    "价值自评（星）",
    "企业评价均分（星）",
    "评价企业数",
    "有合作意愿企业数",
    "双五星",
    "技术成熟度（TRL）",
    "转化意愿",
    "可接受的转化方式",
    "意向价格（万元）",
    "所解决的问题",
    "技术优势",
    "联系人",
    "联系电话",
    "联系邮箱",
)


def promotion_values(r: PromotionRow) -> list[Any]:
    row = r.row
    return [
        row["group"],
        r.tier.full_label,
        "；".join(r.result.reasons),
        row["application_no"],
        row["title"],
        _label(PatentType, row["patent_type"]),
        row["institution"],
        row["college"] or "",
        row["inventors"] or "",
        row["industry_code"] or "",
        row["tech_field"] or "",
        row["value_grade"],
        _round(r.avg),
        r.n,
        int(row["interested"] or 0),
        "是" if r.double_five else "",
        row["trl"],
        _label(Willingness, row["transfer_willingness"]),
        _modes(row["transfer_modes"]),
        row["asking_price"],
        row.get("problem_solved") or "",
        row.get("advantages") or "",
        row.get("contact_name") or "",
        row.get("contact_phone") or "",
        row.get("contact_email") or "",
    ]


def iter_promotion_xlsx(rows: Iterable[PromotionRow]) -> Iterator[bytes]:
    wb = Workbook(write_only=True)
    add_sheet(wb, "推广清单", PROMOTION_HEADER, (promotion_values(r) for r in rows))
    yield from workbook_chunks(wb)


GRADE_HEADER = (
    "学校自评",
    "入库专利数",
    "已获企业评价专利数",
    "评价覆盖率",
    "企业评价条数",
    "企业平均评分（星）",
)
UNIVERSITY_HEADER = (
    "高校",
    "已获评价专利数",
    "自评≥3★",
    "其中企业均分≥3★",
    "比例",
    "平均自评",
    "企业平均",
)
PATENT_HEADER = (
    "申请号",
    "专利名称",
    "高校",
    "学院",
    "学校自评（星）",
    "企业评价均分（星）",
    "评价企业数",
    "差值（企业 − 自评）",
)


def calibration_patent_values(p: CalibrationPatent) -> list[Any]:
    return [
        p.application_no,
        p.title,
        p.institution,
        p.college or "",
        p.self_grade,
        _round(p.enterprise_avg),
        p.evaluations,
        _round(p.gap),
    ]


def iter_calibration_xlsx(
    summary: Calibration, patents: Iterable[CalibrationPatent]
) -> Iterator[bytes]:
    wb = Workbook(write_only=True)
    grade_rows: list[list[Any]] = [
        [
            f"{g.grade}★",
            g.entered,
            g.evaluated,
            g.coverage,
            g.evaluations,
            _round(g.mean_enterprise),
        ]
        for g in summary.grades
    ]
    grade_rows.append([])
    grade_rows.append(["范围", summary.scope_label])
    grade_rows.append(
        ["自评 ≥3★ 且企业均分 ≥3★ 的比例（分母：已获评价且自评 ≥3★ 的专利）", summary.rate]
    )
    add_sheet(wb, "按自评等级", GRADE_HEADER, grade_rows)
    if summary.universities:
        add_sheet(
            wb,
            "按高校",
            UNIVERSITY_HEADER,
            (
                [
                    u.name,
                    u.evaluated,
                    u.high_self,
                    u.confirmed,
                    u.rate,
                    _round(u.mean_self),
                    _round(u.mean_enterprise),
                ]
                for u in summary.universities
            ),
        )
    add_sheet(wb, "专利明细", PATENT_HEADER, (calibration_patent_values(p) for p in patents))
    yield from workbook_chunks(wb)


def calibration_chart(summary: Calibration) -> dict[str, Any]:
    """Grouped bars for static/js/charts.js: for each self-rating 1–5★, the self-rating itself
    beside the mean enterprise rating of those patents (gaps show optimism)."""
    labels = [f"自评 {g.grade}★（{g.evaluated} 件）" for g in summary.grades]
    return {
        "type": "bar",
        "labels": labels,
        "datasets": [
            {
                "label": "学校自评",
                "data": [g.grade if g.evaluated else None for g in summary.grades],
                "backgroundColor": "var(--chart-1)",
            },
            {
                "label": "企业平均评分",
                "data": [_round(g.mean_enterprise) for g in summary.grades],
                "backgroundColor": "var(--chart-2)",
            },
        ],
        "options": {
            "scales": {"y": {"min": 0, "max": 5, "title": {"display": True, "text": "星级"}}}
        },
    }


PROMOTION_CHART_GROUPS = 20  # the chart's bars; the table below lists up to 50 groups
# The tier badges' colours (evaluations/_tier.html): A green, B blue, C grey, D amber.
TIER_COLORS = {
    "A": "var(--success)",
    "B": "var(--chart-1)",
    "C": "var(--chart-muted)",
    "D": "var(--status-returned)",
}


def promotion_chart(summary: list[GroupCount]) -> dict[str, Any] | None:
    """Stacked horizontal bars for static/js/charts.js: per group (most A+B first, as the table
    below), its promotable patents by tier A/B/C/D. None when there is no group. The group
    names wrap to the room the chart leaves them (``wrapLabels``), the tooltip keeping the whole
    name: on a 375 px phone long industry names were cut off at the canvas's left edge."""
    groups = summary[:PROMOTION_CHART_GROUPS]
    if not groups:
        return None
    return {
        "type": "bar",
        "labels": [g.group for g in groups],
        "wrapLabels": True,
        "datasets": [
            {
                "label": f"{t.value} {t.label}",
                "data": [g.counts.get(t, 0) for g in groups],
                "backgroundColor": TIER_COLORS[t.value],
            }
            for t in Tier
        ],
        "options": {
            "indexAxis": "y",
            "scales": {"x": {"stacked": True}, "y": {"stacked": True}},
            "plugins": {"segmentLabels": {"display": True}},
        },
    }


def promotion_chart_height(summary: list[GroupCount]) -> int:
    return 90 + 28 * min(len(summary), PROMOTION_CHART_GROUPS)
