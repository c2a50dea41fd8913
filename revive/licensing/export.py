"""The public list as spreadsheet rows (cells are neutralised by common.spreadsheets.write_xlsx)."""

from __future__ import annotations

from typing import Any

from revive.clock import format_dt
from revive.licensing.display import fee_summary
from revive.licensing.models import OpenLicenceDeclaration

HEADER = (
    "声明编号",
    "申请号",
    "专利名称",
    "专利类型",
    "专利权人",
    "所属单位",
    "国民经济行业分类",
    "付费方式",
    "许可费说明",
    "一次性费用（万元）",
    "入门费（万元）",
    "净销售额提成（%）",
    "利润提成（%）",
    "许可起始日",
    "许可终止日",
    "专利权评价报告编号",
    "其他许可条件",
    "声明时间",
)


def row(d: OpenLicenceDeclaration) -> list[Any]:
    p = d.patent
    return [
        d.id,
        p.application_no,
        p.title,
        p.patent_type.label,
        p.patentees,
        p.institution.name,
        p.industry_code,
        d.fee_mode.label,
        fee_summary(d),
        d.lump_sum_wan,
        d.entry_fee_wan,
        d.royalty_sales_pct,
        d.royalty_profit_pct,
        d.start_date,
        d.end_date,
        d.evaluation_report_no,
        d.terms,
        format_dt(d.created_at),
    ]
