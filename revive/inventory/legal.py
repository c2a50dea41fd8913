"""法律状态 (legal status) as universities type it: free text (有效, 专利权维持, 失效, 未缴年费
终止, 审中 …). What follows from it for the pool:

- a *lapsed* patent (失效, 无效, 终止, 放弃, 届满, 驳回, 撤回 anywhere in the text) has no right
  left to transfer or license: it does not enter the pool (学校审核 refuses 入库), and one that
  is already there is neither listed nor proposed to demands (a tester's batch 入库 put 21
  失效 patents in front of enterprises with 申请对接);
- a pending application (审中) may enter — an application right can be transferred — but
  cannot be declared an open licence (licensing.rules: a granted patent only).
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.inventory.models import Patent

LAPSED_WORDS = ("失效", "无效", "终止", "放弃", "届满", "驳回", "撤回")


def lapsed(legal_status: str | None) -> bool:
    text = (legal_status or "").strip()
    return any(word in text for word in LAPSED_WORDS)


def not_lapsed_clause() -> sa.ColumnElement[bool]:
    """SQL: the patent's 法律状态 names no lapse (blank counts as not lapsed)."""
    text = sa.func.coalesce(Patent.legal_status, "")
    return sa.not_(sa.or_(*(text.contains(word, autoescape=True) for word in LAPSED_WORDS)))
