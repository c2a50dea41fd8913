"""Rejection reason codes for machine matches (our proposal; keep the list in one place)."""

from __future__ import annotations

REJECT_REASONS: dict[str, str] = {
    "too_early": "技术太早期",
    "unclear_advantage": "优势不明确",
    "no_business_path": "商业路径不明",
    "vague": "描述不清",
    "wrong_field": "领域不符",
    "too_costly": "成本过高",
    "alternative_exists": "已有替代方案",
    "other": "其他",
}


def reason_label(code: str | None) -> str:
    return REJECT_REASONS.get(code or "", code or "")
