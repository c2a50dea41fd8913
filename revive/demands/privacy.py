"""Contact details written into a demand's free text, and who may read them.

The demand form keeps contact details in their own fields, which universities never see (the
page says "请通过平台技术经理人联系", the form promises "不含联系方式"). Enterprises paste
listing-form text that carries them anyway (联系人：张经理 电话：138…). Where the viewer may not
see the contact fields, the description, the quantified targets and the enterprise's 对接说明
show those details as HIDDEN, and keyword search looks only at what the viewer may read (a
tester recovered a phone number and an e-mail address one character at a time through a
university's search); the poster is told when saving, and a title may carry none at all
(``revive.demands.fields``). What counts: ``revive.demands.contacts``.
"""

from __future__ import annotations

from revive.accounts.models import User
from revive.demands import permissions
from revive.demands.contacts import HIDDEN, has_contacts, hide_contacts
from revive.demands.models import Demand

__all__ = [
    "HIDDEN",
    "has_contacts",
    "hide_contacts",
    "shown_description",
    "shown_intent",
    "shown_specs",
]


def _readable(user: User, demand: Demand, text: str | None) -> str | None:
    """``text`` of ``demand`` as ``user`` may read it: as written for those who may see the
    demand's contact fields (the owner, officers), with contact details hidden for the rest."""
    if not text or permissions.can_see_contact(user, demand):
        return text
    return hide_contacts(text)


def shown_description(user: User, demand: Demand) -> str:
    """The demand's description as ``user`` may read it (the demand page, the deal page, the
    API and the exports read it so)."""
    return _readable(user, demand, demand.description) or ""


def shown_specs(user: User, demand: Demand) -> str | None:
    """The demand's quantified targets (量化技术指标) as ``user`` may read them."""
    return _readable(user, demand, demand.target_specs)


def shown_intent(user: User, demand: Demand, message: str | None) -> str | None:
    """An enterprise's 对接说明 on a match of ``demand`` as ``user`` may read it: the
    university answering the deal reads it without the contact details the enterprise wrote
    (the platform's officers put the two sides in touch)."""
    return _readable(user, demand, message)
