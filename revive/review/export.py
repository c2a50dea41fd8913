"""Rejection statistics as .xlsx: one sheet per university, one per patent (every patent with
a rejection, not only the top ones shown on the page)."""

from __future__ import annotations

from typing import IO

from openpyxl import Workbook

from revive.common.spreadsheets import add_sheet
from revive.matching.reasons import REJECT_REASONS
from revive.review.queries import RejectionRow

REASON_HEADERS = list(REJECT_REASONS.values())


def _rate(r: RejectionRow) -> float | None:
    """A number (the sheet can sort it); its denominator, 已审核数, is the column before."""
    return round(r.rejected / r.decided, 4) if r.decided else None


def _counts(r: RejectionRow) -> list:
    return [r.reasons[c] for c in REJECT_REASONS]


def write_rejections(
    stream: IO[bytes], universities: list[RejectionRow], patents: list[RejectionRow]
) -> None:
    """Two sheets (按高校, 按专利); the rate's header names its denominator (已审核数)."""
    # Two sheets, so write_xlsx's one-sheet wrapper does not fit; add_sheet is what it calls
    # (bold header, formula neutralisation by safe_cell, write-only mode).
    wb = Workbook(write_only=True)
    add_sheet(
        wb,
        "按高校",
        ["高校", "否决数", "已审核数", "否决率（否决数 / 已审核数）", *REASON_HEADERS],
        ([r.name, r.rejected, r.decided, _rate(r), *_counts(r)] for r in universities),
    )
    add_sheet(
        wb,
        "按专利",
        [
            "申请号",
            "专利名称",
            "高校",
            "学院",
            "价值自评",
            "否决数",
            "已审核数",
            "否决率（否决数 / 已审核数）",
            *REASON_HEADERS,
        ],
        (
            [
                r.application_no,
                r.name,
                r.university,
                r.college,
                r.value_grade,
                r.rejected,
                r.decided,
                _rate(r),
                *_counts(r),
            ]
            for r in patents
        ),
    )
    wb.save(stream)
