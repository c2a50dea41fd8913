"""No links in what a self-registered account writes into other people's notices and e-mails.

Anyone may register an enterprise, and the platform then quotes the enterprise's own words to
universities and officers, in the inbox and by e-mail from the platform's address: 「请访问
http://… 重新验证账号」 in such a mail is a phishing mail the platform signed (a security review
sent one through an open-licence application). Self-registration already refused links in the
names its confirmation mail quotes; the same rule covers every such field (open-licence
applications, 申请对接, evaluation comments, an enterprise's deal comments, demand titles and an
enterprise's demand texts). Fields that hold an address by nature (an e-mail address) are not
checked.

The text is normalised first (``link_text``): NFKC (full-width ｈｔｔｐ：／／, ｗｗｗ．), invisible
format characters dropped (a zero-width space inside ``c\u200bom``), the ideographic full stops
。 ｡ and the spelled-out dots "(.)", "[.]", "(dot)", " dot " read as ".". Then a link is a
scheme (``http:``, ``://``), ``www.``, a bare IPv4 address, a punycode label (``xn--``), a
markdown link ``[…](….…)``, or a host-like token ``label.tld`` whose last label is in
``TLDS``: a built-in list (no dependency holds one, and the maintained ones fetch it over the
network) of the generic and country TLDs seen in links, shorteners (bit.ly, t.co) and phishing.

Ordinary technical text passes: decimals (3.5), versions (v1.2.3), units (5.0mm), file names
(报告.pdf, 数据.xlsx, Node.js), "Co.Ltd". Country codes that are also common units or file
extensions (cm, mm, kg, py, md, sh, zip, …) are left out of ``TLDS`` on purpose. Known false
positives, accepted: a product name that is a host name ("ASP.NET"), a sentence ending in an
ASCII word followed by a word that is a TLD with no space ("产品.Info"), a four-part version
written without a "v" (1.2.3.4, read as an IP address).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from revive.errors import ValidationFailed

# Generic TLDs (legacy, popular new gTLDs, those abused in phishing and shorteners) …
_GENERIC = """
com net org info biz edu gov mil int name pro mobi asia tel travel jobs cat coop aero museum
xxx post app dev page link site online shop store vip club top xyz icu ltd tech fun space
website web live life world today news email cloud host digital network systems solutions
services support center company group global media studio design agency blog wiki guru
ninja rocks zone click buzz bid work loan trade review party science stream
download racing accountant cricket faith gdn kim ren wang xin ink red blue pink black
gold money cash finance financial fund capital credit bank insurance tax exchange market
markets shopping sale deals gift gifts cheap fyi lol wtf moe cyou sbs cfd bond quest beauty
hair skin makeup monster pub cafe cool city tools town toys video vision wine works pw su ws
cn io ly co me cc tv gl gd to fm im la nu tk ml ga cf gq ai sx vc bz mn yt
"""
# … and country codes, without those that are also units or file extensions (cm, mm, km,
# kg, mg, ms, py, md, sh, rs, pl, ps, so, id, in, is, no, do, am, pm, st; zip, mov, run and fit
# are generic ones). ml (Mali) stays: free-domain phishing kept it; "5ml" has no dot.
_COUNTRY = """
ac ad ae af ag al ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt
bw by ca cd ch ci ck cl cr cu cv cw cx cy cz de dj dk dm dz ec ee eg er es et eu fi fj
fk fo fr gb ge gf gg gh gi gm gn gp gr gs gt gu gw gy hk hn hr ht hu ie il iq ir it je jm
jo jp ke kh ki kn kp kr kw ky kz lb lc li lk lr ls lt lu lv ma mc mh mk mo mp mq mr mt mu
mv mw mx my mz na nc ne nf ng ni nl np nr nz om pa pe pf pg ph pk pn pr pt pw qa ro
ru rw sa sb sc sd se sg si sk sl sm sn sr ss sv sy sz tc td tf tg th tj tl tm tn tr tt
tw tz ua ug uk us uy uz va ve vg vi vn vu wf ye za zm zw
"""
TLDS: frozenset[str] = frozenset((_GENERIC + _COUNTRY).split())

# Spelled-out or look-alike dots, read as "." before looking for links.
_DOTS = re.compile(
    r"\s*[(\[{（【]\s*(?:\.|dot)\s*[)\]}）】]\s*|\s+dot\s+|[\u3002\uff61\ufe52]",
    re.IGNORECASE,
)
# "Co.Ltd" in a company's English name is not a host.
_COMPANY = re.compile(r"\bco\.\s*ltd\b", re.IGNORECASE)

LINK_LIKE = re.compile(
    r"[a-z][a-z0-9+.-]*://|https?:|mailto:|javascript:|www\."
    r"|xn--[a-z0-9-]"
    r"|(?<![a-z0-9.])(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}(?![\d.]*\d)"
    r"|\]\(\s*[^\s)]*[./][^\s)]*\)",
    re.IGNORECASE,
)
# A host-like token: a label of at least two ASCII letters, digits or hyphens, then "." and
# an alphabetic last label of 2–24 letters, which counts when it is in TLDS. A one-character
# label counts only with a path after it (t.co/3xYz): without one it is an enumeration in
# real postings (1.APP介绍, 9.pH>12, a.AR开发平台, c.AI边缘计算: .app, .ph, .ar, .ai).
HOST_LIKE = re.compile(
    r"(?<![a-z0-9-])(?:[a-z0-9-]{2,}\.([a-z]{2,24})(?![a-z0-9_-])|[a-z0-9]\.([a-z]{2,24})/)",
    re.IGNORECASE,
)


def link_text(text: str) -> str:
    """``text`` as the link check reads it (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = _DOTS.sub(".", text)
    return _COMPANY.sub("co ltd", text)


def has_link(text: object) -> bool:
    """The text holds something a reader or a mail program takes for a web address."""
    if not isinstance(text, str) or not text:
        return False
    text = link_text(text)
    if LINK_LIKE.search(text):
        return True
    return any((m.group(1) or m.group(2)).lower() in TLDS for m in HOST_LIKE.finditer(text))


def link_message(label: str) -> str:
    return (
        f"{label}不能包含网址：这段文字会出现在对方的站内消息和邮件中，"
        "为防冒充平台的钓鱼链接，平台不转发网址；请删去网址后再提交"
    )


def link_errors(fields: Iterable[tuple[str, str, object]]) -> dict[str, str]:
    """{key: message} for each (key, label, text) whose text holds a link."""
    return {key: link_message(label) for key, label, text in fields if has_link(text)}


def refuse_links(fields: Iterable[tuple[str, str, object]]) -> None:
    """ValidationFailed (422) naming every (key, label, text) whose text holds a link."""
    errors = link_errors(fields)
    if errors:
        raise ValidationFailed("；".join(errors.values()), details=errors)
