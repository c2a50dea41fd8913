"""Why a deal ended without a contract (未成交原因; our proposal, one list)."""

from __future__ import annotations

FAILURE_REASONS: dict[str, str] = {
    "price": "价格未谈拢",
    "tech_mismatch": "技术不匹配",
    "demand_changed": "企业需求变化",
    "no_response": "高校未响应",
    "other_solution": "已选择其他方案",
    "maturity": "技术成熟度不足",
    "other": "其他",
}


def failure_label(code: str | None) -> str:
    return FAILURE_REASONS.get(code or "", code or "")
