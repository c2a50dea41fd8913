"""Rejection reason codes for machine matches (our proposal; keep the list in one place), and
which of them are relevance labels for learning match strength.

An officer's rejection says *why* a proposal was not pushed. Only some reasons say the patent
does not answer the demand — the thing match strength estimates from the two texts:

* ``wrong_field`` 领域不符: the patent is about something else — not relevant;
* ``vague`` 描述不清: the texts do not show that the patent answers the need. The strength
  promise (这件专利能解决这个需求) failed for this pair, and the features (specific words
  covered, characters shared) are what a vague match lacks — not relevant.

The others are about the deal, not the fit, and teach the model nothing about relevance (a
model trained on them would learn that matching words predict "too costly"):

* ``too_early`` 技术太早期 and ``unclear_advantage`` 优势不明确: maturity and value of a
  patent that does address the need;
* ``no_business_path`` 商业路径不明, ``too_costly`` 成本过高, ``alternative_exists`` 已有替代方案:
  business reasons;
* ``other`` 其他: unknown — not used.

Accepted matches are the positive labels (relevant = 1). See strength.refit_strength.
"""

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

# Reasons that are relevance labels: a rejection for one of them is "not relevant" (0).
NOT_RELEVANT: frozenset[str] = frozenset({"wrong_field", "vague"})
# Business reasons: the pair may well be relevant; not training data for match strength.
BUSINESS: frozenset[str] = frozenset(REJECT_REASONS) - NOT_RELEVANT - {"other"}


def reason_label(code: str | None) -> str:
    return REJECT_REASONS.get(code or "", code or "")


def is_relevance_label(code: str | None) -> bool:
    """Whether a rejection for this reason says the patent does not fit the demand."""
    return code in NOT_RELEVANT
