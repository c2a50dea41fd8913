"""How a declaration's fee and period read in Chinese (pages, panel, export, API)."""

from __future__ import annotations

from decimal import Decimal

from revive.licensing.models import FeeMode, OpenLicenceDeclaration


def amount(value: Decimal | None) -> str:
    """'2000', '12.5' — no trailing zeros, no exponent; '' for None."""
    if value is None:
        return ""
    return f"{value.normalize():f}"


def royalty_text(d: OpenLicenceDeclaration) -> str:
    if d.royalty_sales_pct is not None:
        return f"净销售额的 {amount(d.royalty_sales_pct)}%"
    if d.royalty_profit_pct is not None:
        return f"利润的 {amount(d.royalty_profit_pct)}%"
    return ""


def fee_summary(d: OpenLicenceDeclaration) -> str:
    """'一次性付费 50 万元' · '按净销售额的 3% 提成' · '入门费 10 万元 + 按利润的 15% 提成'."""
    if d.fee_mode == FeeMode.LUMP_SUM:
        return f"一次性付费 {amount(d.lump_sum_wan)} 万元"
    royalty = f"按{royalty_text(d)} 提成"
    if d.fee_mode == FeeMode.ENTRY_PLUS_ROYALTY:
        return f"入门费 {amount(d.entry_fee_wan)} 万元 + {royalty}"
    return royalty


def period_text(d: OpenLicenceDeclaration) -> str:
    return f"{d.start_date.isoformat()} 至 {d.end_date.isoformat()}"


# What an open licence permits (专利法第五十条、第五十一条): an ordinary licence to every
# licensee on the same published terms; not exclusive, not sub-licensable.
SCOPE = "普通许可（非独占）：按公告的条件向所有被许可人许可，被许可人不得再许可他人实施"
