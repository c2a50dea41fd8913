"""Contact details written into a demand's free text.

The demand form keeps contact details in their own fields, which universities never see (the
page says "请通过平台技术经理人联系", the form promises "不含联系方式"). Enterprises paste
listing-form text that carries them anyway (联系人：张经理 电话：138…). Where the viewer may not
see the contact fields, the description shows those details as HIDDEN; the poster is told when
saving. What counts: mainland mobile and landline numbers, 400/800 numbers, e-mail addresses,
and QQ / WeChat ids named as such.
"""

from __future__ import annotations

import re

from revive.accounts.models import User
from revive.demands import permissions
from revive.demands.models import Demand

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


def shown_description(user: User, demand: Demand) -> str:
    """The demand's description as ``user`` may read it: as written for those who may see
    its contact fields (the owner, officers), with contact details hidden for the rest (the
    demand page, the deal page and the API read it so)."""
    if permissions.can_see_contact(user, demand):
        return demand.description or ""
    return hide_contacts(demand.description)
