"""No links in what a self-registered account writes into other people's notices and e-mails.

Anyone may register an enterprise, and the platform then quotes the enterprise's own words to
universities and officers, in the inbox and by e-mail from the platform's address: 「请访问
http://… 重新验证账号」 in such a mail is a phishing mail the platform signed (a security review
sent one through an open-licence application). Self-registration already refused links in the
names its confirmation mail quotes; the same rule covers every such field (open-licence
applications, 申请对接, evaluation comments, an enterprise's deal comments). Fields that hold
an address by nature (an e-mail address) are not checked.

Text is folded (NFKC) first, so full-width ｈｔｔｐ：／／ and ｗｗｗ． count too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from revive.errors import ValidationFailed

LINK_LIKE = re.compile(
    r"https?:|://|www\.|\.(?:com|cn|net|org|top|xyz|cc|vip|shop|site|online|club|info|icu)\b",
    re.IGNORECASE,
)


def has_link(text: object) -> bool:
    """The text holds something a reader or a mail program takes for a web address."""
    if not isinstance(text, str) or not text:
        return False
    return LINK_LIKE.search(unicodedata.normalize("NFKC", text)) is not None


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
