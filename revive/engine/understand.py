"""Reading a demand the way enterprises really write it, before it is matched.

Real postings carry the listing form's own text (``技术研发（关键、核心技术）|产品研发（…）``),
cooperation terms and budgets, a paragraph about the company, and sometimes several unrelated
needs pasted together. ``read_demand`` returns what matching should look at:

* the text with listing boilerplate, cooperation/budget/contact sections and company-profile
  clauses removed (``removed`` keeps what was taken out, for display);
* the sub-needs: parts of an enumerated or semicolon-separated posting that share little
  vocabulary; related parts stay one need;
* ``thin``: too little technical content to match with confidence (a title-only posting, a
  few words), so the product asks for detail instead of presenting a confident list.

A demand's quantified targets (its own field, 量化技术指标) follow its description after
``SPECS_SEPARATOR``: they belong to the whole demand, so they are read with it but never
appended to its last enumerated part (an integrator's 「COD去除率≥90%」 made that part look like
a specification, and the posting lost its two sub-needs).

Pure string work (plus the engine's tokenizer for content words); deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from revive.engine.text import BIGRAM_MARK, demand_tokens, normalize, segmenter

# Cooperation / listing types that real listing forms append to a posting.
LISTING_TYPES = (
    "技术研发",
    "产品研发",
    "工艺改进",
    "工艺研发",
    "技术改造",
    "技术升级",
    "技术咨询",
    "技术服务",
    "技术攻关",
    "技术转让",
    "技术许可",
    "技术入股",
    "专利许可",
    "专利转让",
    "成果转化",
    "成果引进",
    "合作研发",
    "联合研发",
    "联合开发",
    "合作开发",
    "委托开发",
    "联合攻关",
    "人才培养",
    "人才引进",
    "人才团队",
    "共建平台",
    "共建研发中心",
    "平台共建",
    "检验检测",
    "其他",
    "其它",
)
_TYPE = "(?:" + "|".join(LISTING_TYPES) + r")(?:\s*[（(][^）)]{0,40}[）)])?"
# Two or more listing types joined by "|", "｜", "/", "、" or spaces: the form's own text.
_FORM_LIST = re.compile(rf"{_TYPE}(?:\s*[|｜/、，,]\s*{_TYPE})+")

# Labelled sections whose content is about terms, not technology: dropped to the next label or
# the end of the sentence.
_TERMS_LABELS = (
    "合作方式",
    "期望合作方式",
    "意向合作方式",
    "合作模式",
    "合作形式",
    "资金预算",
    "投资预算",
    "经费预算",
    "预算",
    "费用",
    "报价",
    "联系人",
    "联系电话",
    "联系方式",
    "电话",
    "邮箱",
    "资质要求",
    "接受的项目主体",
    "需求时间",
    "截止日期",
    "有效期",
    # the people wanted, not the technology: 人才：生物饲料研究方面的专家1名、…
    "人才",
    "人才需求",
    "人才要求",
    "人员需求",
    # a readiness level asked for, not a need: 成熟度：技术成熟度达到9级
    "成熟度",
    "技术成熟度",
)
# Section labels whose content is the need itself: the label goes, the content stays.
_NEED_LABELS = (
    r"(?:项目|需求|技术需求|主要技术)?"
    r"(?:背景|需求描述|需求内容|技术要求|技术需求|技术难题|具体描述|需求背景|项目背景|"
    r"技术指标|性能指标|主要内容|研究内容|预期目标|现状|问题|要求|需求|条件|应用条件|"
    # the listing form's own field names (1、需求名称：…需求简介：…)
    r"名称|简介|概述)\s*[：:]"
    # a bare 技术： opening a clause (技术：1、…；2、… 人才：…)
    r"|(?:^|(?<=[。；;，,\s]))技术\s*[：:]"
)
_NEED_LABEL = re.compile(_NEED_LABELS)
# A terms section runs to the end of its sentence, or to the next label when the form ran
# the fields together (成熟度：技术成熟度达到9级技术指标：总体准确率大于95%).
# … and through the numbered items it opens (资质要求：1、…经验积累；2、最好有中试装置…: a tester
# saw the second qualification listed as a sub-need).
_TERMS_BODY = (
    r"(?:(?!" + _NEED_LABELS + "|(?:" + "|".join(_TERMS_LABELS) + r")\s*[：:])[^。；;\n])*"
)
_ITEM = r"(?:\d{1,2}\s*[、.．)）]|[（(]\d{1,2}[)）]|[①-⑩])"
_TERMS_SECTION = re.compile(
    r"(?:"
    + "|".join(_TERMS_LABELS)
    + r")\s*[：:]"
    + _TERMS_BODY
    + r"(?:[；;]\s*(?="
    + _ITEM
    + r")"
    + _TERMS_BODY
    + r")*"
    r"[。；;\n]?"
)
# A clause about the company itself (profile, size, history), not about a need.
_PROFILE = re.compile(
    r"(?:公司|企业|我司|本司|该司|我厂|本厂|集团)[^，,。；;]{0,12}"
    r"(?:成立于|始建于|创建于|位于|坐落|地处|注册|占地|拥有|是一家|系一家|专业从事|主要从事|"
    r"致力于|主营|主要经营|经营范围|年产值|年销售|员工|职工|秉承|荣获|被评为|通过了?ISO|"
    r"于\d{4}年(?:\d{1,2}月)?(?:成立|创建|创办|注册|组建))"
    # … or a clause that is about the company whatever its subject: what it is (是一家 …),
    # its titles and where it sells
    r"|^\s*(?:是|系|为)一家|重点(?:培育|扶持)企业|专精特新|小巨人企业|龙头企业|上市公司|"
    r"市场覆盖|销售网络|营销网络|产品(?:远销|销往|出口)"
    # … or the poster introducing itself in the first person (我们是…的一家合作社)
    r"|^\s*(?:我们|我方|我单位|本单位|我社|本社|我场|本场|我厂|本厂)(?:是|系|为)"
    # … or the listing form's introduction heading (一、基础介绍：公司主要经营：…; 企业介绍)
    r"|^\s*(?:[一二三四五六七八九十][、.．]\s*)?(?:基础|企业|公司|单位)(?:介绍|简介|概况)"
)
_NEED_CUE = re.compile(
    r"需求|需要|希望|寻求|寻找|急需|解决|问题|难题|瓶颈|要求|指标|如何|怎样|提高|降低|实现|"
    r"改进|研发|开发|缺乏|不足|无法|难以"
)
# A clause that tells what the company does, its subject left out after a profile clause
# (「企业成立于2004年，从事滑板车……的研发、生产。」): the company's business, even with 研发 in
# it, unless it asks for something.
_BUSINESS = re.compile(r"^\s*(?:专业|主要)?从事")
_ASKING = re.compile(r"需要|希望|寻求|寻找|急需|解决|问题|难题|瓶颈|如何|怎样")
_CLAUSE = re.compile(r"[^，,。；;！!？?\n]+[，,。；;！!？?\n]?")

# Enumeration markers that open a sub-need: （1） (1) 1、 1. 1） ① 一、 一是 第一.
_ENUM = re.compile(
    r"(?:[（(]\s*(?:[0-9]{1,2}|[一二三四五六七八九十])\s*[)）]"
    r"|(?<![0-9.])[0-9]{1,2}\s*(?:[、)）]|[.．](?![0-9]))"
    r"|[①②③④⑤⑥⑦⑧⑨⑩]"
    r"|(?:第)?[一二三四五六七八九十]\s*(?:是|[、.．]))"
)
_SEMICOLON = re.compile(r"[；;]")

# A part opening with one of these carries on the part before it (its consequence, contrast
# or purpose), so it is not a need of its own: "…不能满足装卸需求；因此，迫切需要研发…".
_CONTINUES = re.compile(
    r"^(?:因此|所以|因而|故而|从而|于是|但是|然而|可是|不过|否则|进而|以便|这样|由此)"
)

MIN_NEED_WORDS = 5  # content words a part needs to stand as a sub-need of its own
SPEC_SHARE = 0.3  # parts with this share of digits/units/symbols are specifications
RELATED = 0.5  # parts sharing this share of the smaller part's words are one need
THIN_WORDS = 6  # fewer content words than this in the whole posting: thin
MAX_NEEDS = 6


@dataclass(frozen=True, slots=True)
class Need:
    """One sub-need of a posting: its text and a short label for display."""

    text: str
    label: str


@dataclass(frozen=True, slots=True)
class DemandReading:
    title: str
    text: str  # description without boilerplate
    needs: tuple[Need, ...]  # one, or several unrelated sub-needs
    removed: tuple[str, ...]  # what was taken out (listing text, terms, company profile)
    thin: bool  # too little technical content to match with confidence
    content_words: int

    @property
    def multi(self) -> bool:
        return len(self.needs) > 1


def content_words(title: str, text: str = "") -> list[str]:
    """The demand's kept words (no bigrams): what carries its technical content."""
    return [t for t in demand_tokens(title, text) if not t.startswith(BIGRAM_MARK)]


def _strip(text: str, removed: list[str]) -> str:
    def drop(match: re.Match[str]) -> str:
        piece = match.group(0).strip(" ，,。；;")
        if piece:
            removed.append(piece)
        return " "

    text = _FORM_LIST.sub(drop, text)
    text = _TERMS_SECTION.sub(drop, text)
    text = _NEED_LABEL.sub(" ", text)
    kept: list[str] = []
    for clause in _CLAUSE.findall(text):
        if (_PROFILE.search(clause) and not _NEED_CUE.search(clause)) or (
            _BUSINESS.match(clause) and not _ASKING.search(clause)
        ):
            removed.append(clause.strip(" ，,。；;"))
        else:
            kept.append(clause)
    return re.sub(r"\s+", " ", "".join(kept)).strip(" ，,。；;")


def _parts(text: str) -> tuple[list[str], bool]:
    """Enumerated parts (or semicolon-separated ones when there is no enumeration); the text
    before the first marker is a part of its own (often the main need, or its context).
    Also: whether the parts were enumerated."""
    marks = list(_ENUM.finditer(text))
    if len(marks) >= 2:
        pieces = [text[: marks[0].start()]]
        pieces += [text[a.end() : b.start()] for a, b in zip(marks, marks[1:], strict=False)]
        pieces.append(text[marks[-1].end() :])
    else:
        pieces = _SEMICOLON.split(text)
    edges = " ，,。；;：:、．."  # "2.、" leaves a 、 after its marker, "2.." a .
    return [p.strip(edges) for p in pieces if p.strip(edges)], len(marks) >= 2


def _label(text: str, width: int = 24, original: str = "") -> str:
    """A sub-need's label: its first part that can stand alone, as the poster wrote it
    (``original``: case, full-width punctuation; found by ``_as_written``), cut to ``width``
    at a word boundary: never inside a number, a Latin word (存栏5000只 must not read
    存栏500…) or a Chinese word (…废水处理, not …废水处…)."""
    parts = [p for p in text.strip().split("；") if p]  # the parts _group joined
    # named after its first part that can stand alone (存栏5000只 is context, not the need)
    text = next((p for p in parts if not _minor(p, set(content_words("", p)))), parts[0])
    head = text[: width + 8]
    written = _as_written(head, original) if original else None
    if written:
        text = written + text[len(head) :]
    if len(text) <= width:
        return text
    # cut at the last word boundary that leaves at least half the width: jieba's segments,
    # so neither a Chinese word (处理|工艺) nor a number or a Latin word is split
    seen = text[: width + 16]  # some text past the cut, so the segments near it are right
    ends = segmenter().spans(seen)[:, 2].tolist()
    cut = max((e for e in ends if width // 2 < e <= width - 1), default=width - 1)
    while (
        cut > width // 2
        and text[cut - 1].isascii()
        and text[cut].isascii()
        and (text[cut - 1].isalnum() and text[cut].isalnum())
    ):
        cut -= 1  # no boundary found: back to the start of the number or word it would split
    return text[:cut] + "…"


def _as_written(norm: str, original: str) -> str | None:
    """The span of ``original`` whose ``normalize`` is ``norm`` (full-width and case folded,
    spaces collapsed): what the poster typed, for display."""
    if not norm:
        return None
    pattern = []
    for c in norm:
        if c == " ":
            pattern.append(r"\s+")
            continue
        forms = {c, c.upper()}
        if "!" <= c <= "~":
            forms.add(chr(ord(c) + 0xFEE0))  # its full-width form
            forms.add(chr(ord(c.upper()) + 0xFEE0))
        pattern.append("[" + "".join(re.escape(f) for f in sorted(forms)) + "]")
    found = re.search("".join(pattern), original)
    return found.group(0) if found else None


_NON_CJK = re.compile(r"[^\u3400-\u9fff]")


def _minor(part: str, words: set[str]) -> bool:
    """Too little to stand alone: few content words, or a specification (mostly figures)."""
    compact = part.replace(" ", "")
    figures = len(_NON_CJK.findall(compact)) / max(len(compact), 1)
    return len(words) < MIN_NEED_WORDS or figures >= SPEC_SHARE


def _group(parts: list[str]) -> list[str]:
    """Merge minor parts and parts that carry on the one before (``_CONTINUES``) into their
    neighbour, and related parts into one need."""
    words = [set(content_words("", p)) for p in parts]
    merged: list[tuple[str, set[str]]] = []
    for part, w in zip(parts, words, strict=True):
        if merged and (_minor(part, w) or _CONTINUES.match(part)):
            text, prev = merged[-1]
            merged[-1] = (f"{text}；{part}", prev | w)
        else:
            merged.append((part, w))
    if len(merged) > 1 and _minor(*merged[0]):
        (t0, w0), (t1, w1) = merged[0], merged[1]
        merged[:2] = [(f"{t0}；{t1}", w0 | w1)]
    groups: list[tuple[str, set[str]]] = []
    for text, w in merged:
        for i, (gtext, gw) in enumerate(groups):
            smaller = min(len(w), len(gw)) or 1
            if len(w & gw) / smaller >= RELATED:
                groups[i] = (f"{gtext}；{text}", gw | w)
                break
        else:
            groups.append((text, w))
    return [text for text, _ in groups]


SPECS_SEPARATOR = "\x1e"  # between a demand's description and its targets (whitespace)


def read_demand(title: str | None, text: str | None) -> DemandReading:
    """What matching should read of a posting (see the module docstring)."""
    title_raw = title
    title = normalize(title)
    text, _, specs_raw = (text or "").partition(SPECS_SEPARATOR)
    raw = normalize(text)
    removed: list[str] = []
    clean_title = _strip(title, removed) or title
    clean = _strip(raw, removed)
    if clean == clean_title:
        clean = ""
    needs: list[Need] = []
    if clean:
        parts, enumerated = _parts(clean)
        groups = _group(parts)
        if not enumerated and sum(1 for g in groups if _NEED_CUE.search(g)) < 2:
            # Semicolons without an enumeration mostly separate aspects of one need (its
            # setting, a specification, a constraint: 检测外表面、端面；总体准确率大于95%；因工件
            # 表面残留水渍…): several needs only when at least two parts each ask for something.
            groups = groups[:1]
        if 1 < len(groups) <= MAX_NEEDS:
            needs = [Need(g, _label(g, original=text or "")) for g in groups]
    if not needs:
        label = _label(clean_title or clean, original=(title_raw if clean_title else text) or "")
        needs = [Need(clean or clean_title, label)]
    specs = normalize(specs_raw)
    if specs:  # read with the whole demand (and its one need), never its last part
        clean = f"{clean}；{specs}" if clean else specs
        if len(needs) == 1:
            needs = [Need(clean or clean_title, needs[0].label)]
    words = content_words(clean_title, clean)  # segmented once, targets included
    thin = len(set(words)) < THIN_WORDS
    return DemandReading(
        title=clean_title,
        text=clean,
        needs=tuple(needs),
        removed=tuple(removed),
        thin=thin,
        content_words=len(set(words)),
    )
