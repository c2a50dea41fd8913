"""Why a deal ended without a contract (未成交原因; our proposal, one list)."""

from __future__ import annotations

# The reasons people choose from when they record 未成交 (the deal page's form, the API).
CHOSEN_REASONS: dict[str, str] = {
    "price": "价格未谈拢",
    "tech_mismatch": "技术不匹配",
    "demand_changed": "企业需求变化",
    "no_response": "高校未响应",
    "declined": "高校暂不对接",
    "other_solution": "已选择其他方案",
    "maturity": "技术成熟度不足",
    "other": "其他",
}

# Set by the platform only, never chosen: the enterprise closed the demand, which ends its open
# deals (deals.services.end_for_closed_demand). Refused from a request (change_stage).
DEMAND_CLOSED = "demand_closed"
# … or the patent's right left the university (转让 / 作价入股 on another deal, an edit or an
# import): deals.services.end_for_rights_gone.
RIGHTS_GONE = "rights_gone"
SYSTEM_REASONS: dict[str, str] = {
    DEMAND_CLOSED: "企业已关闭需求",
    RIGHTS_GONE: "专利权已转让或作价入股",
}

# Every code a deal may carry, with its label (pages, API, audit log).
FAILURE_REASONS: dict[str, str] = {**CHOSEN_REASONS, **SYSTEM_REASONS}


def failure_label(code: str | None) -> str:
    return FAILURE_REASONS.get(code or "", code or "")
