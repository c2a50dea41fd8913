"""Contact details written into free text (demands' texts, an enterprise's 对接说明): finding
and hiding them. Pure string work, so the model layer can keep a demand's searchable text
without them (``Demand.public_text``); who may see them is ``revive.demands.privacy``'s."""

from __future__ import annotations

import re

HIDDEN = "〔联系方式已隐藏〕"

_NOT_A_QUANTITY = r"(?![\d.]|\s*[元吨万亿千百%个台套件kKmMgG])"
_CONTACT = re.compile(
    "|".join(
        (
            # mobile: 1[3-9]x xxxx xxxx, with +86 and separators
            r"(?<![\d.])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}" + _NOT_A_QUANTITY,
            # landline: 0 + 2-3 digit area code + 7-8 digits, optional extension
            r"(?<![\d.])0\d{2,3}[-－—\s]?\d{7,8}(?:[-转]\d{1,5})?" + _NOT_A_QUANTITY,
            r"(?<![\d.])[48]00[-\s]?\d{3}[-\s]?\d{4}" + _NOT_A_QUANTITY,
            # e-mail, from the start of its run only: tried at every position of a long run
            # of letters (a pasted text without @) the search was quadratic (32,000: 1.7 s)
            r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
            r"(?:QQ|qq|微信号?|WeChat|wechat|VX|vx)\s*[:：]?\s*[A-Za-z0-9_-]{5,20}",
        )
    )
)


def has_contacts(text: str | None) -> bool:
    return bool(text and _CONTACT.search(text))


def hide_contacts(text: str | None) -> str:
    """``text`` with every contact detail replaced by HIDDEN."""
    return _CONTACT.sub(HIDDEN, text or "")
