"""Contact details written into free text (demands' texts, an enterprise's 对接说明): finding
and hiding them. Pure string work, so the model layer can keep a demand's searchable text
without them (``Demand.public_text``); who may see them is ``revive.demands.privacy``'s."""

from __future__ import annotations

import hashlib
import re

HIDDEN = "〔联系方式已隐藏〕"

# What follows a number that makes it a quantity, not a contact (on the same line: a target
# on the next line, 千亩…, must not make the phone number before it a quantity).
_NOT_A_QUANTITY = r"(?![\d.]|[ \t]*[元吨万亿千百%个台套件条次只行kKmMgG])"
_SEP = r"[-\s.]"  # between digit groups: 139-1234-5678, 139 1234 5678, 139.1234.5678
_CONTACT = re.compile(
    "|".join(
        (
            # mobile: 1[3-9]x xxxx xxxx, with +86 and separators; or every digit spaced
            r"(?<![\d.])(?:\+?86[-\s]?)?1[3-9]\d(?:" + _SEP + r"?\d{4}){2}" + _NOT_A_QUANTITY,
            r"(?<![\d.])1 [3-9](?: \d){9}" + _NOT_A_QUANTITY,
            # landline: 0 + 2-3 digit area code + 7-8 digits (010-8888 7777 too), extension
            r"(?<![\d.])0\d{2,3}[-—\s]?(?:\d{7,8}|\d{3,4}[-\s]\d{4})(?:[-转]\d{1,5})?"
            + _NOT_A_QUANTITY,
            r"(?<![\d.])[48]00[-\s]?\d{3}[-\s]?\d{4}" + _NOT_A_QUANTITY,
            # e-mail, from the start of its run only: tried at every position of a long run
            # of letters (a pasted text without @) the search was quadratic (32,000: 1.7 s)
            r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
            # QQ / WeChat ids named as such, the ways posters write the names
            r"(?:(?<![A-Za-z])(?:QQ|qq|Qq|WeChat|wechat|weixin|Weixin|VX|vx|Vx|WX|wx|Wx)"
            r"(?![A-Za-z])|扣扣|企鹅|微\s*信|[Vv威薇]信)"
            # the id whole, from a letter or digit, and not a model number's (VX-20000型,
            # Wx-8000A型 were hidden, and refused in titles: a security re-test)
            r"\s*号?\s*[:：]?\s*[A-Za-z0-9_][A-Za-z0-9_-]{4,19}(?![A-Za-z0-9_-]|[型系款])",
        )
    )
)
# Full-width forms (１３９, ＠, ＱＱ, －) read as their ASCII letters, one character for one, so
# the spans found in the folded text are the spans of the text as written.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

# The rules' version, stored with each demand's public_text (Demand.public_text_rules): the
# recovery sweep rewrites the texts stored under an older version (revive.demands.upkeep), and
# leaves newer ones alone (a release still running beside a newer one must not undo its work).
# Raise it whenever the rules change: RULES_HASH (checked by the tests) says when they did.
RULES_VERSION = 2
RULES_HASH = "fc3b5329fb91d132"


def rules_hash() -> str:
    """A fingerprint of the rules as they are (patterns, folding, the mark)."""
    text = "\n".join((_CONTACT.pattern, repr(sorted(_FOLD.items())), HIDDEN))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _spans(text: str) -> list[tuple[int, int]]:
    folded = text.translate(_FOLD)
    return [m.span() for m in _CONTACT.finditer(folded)]


def has_contacts(text: str | None) -> bool:
    return bool(text and _spans(text))


def hide_contacts(text: str | None) -> str:
    """``text`` with every contact detail replaced by HIDDEN."""
    text = text or ""
    out, at = [], 0
    for start, end in _spans(text):
        out += [text[at:start], HIDDEN]
        at = end
    out.append(text[at:])
    return "".join(out)
