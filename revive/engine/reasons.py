"""Reasons a person believes: the words and phrases a demand and a patent share.

The index explains a score by its heaviest shared terms, which include character bigrams and
single words such as 期, 只有, 约, 30%, 吨 — fragments that mean nothing to a reader. Here a
reason is a *span*: the longest run of the demand's kept words that also occurs, character
for character, in the patent (after the same normalisation), so 视觉 + 传感器 becomes
"视觉传感器" when both texts say it. A span stops at punctuation and sheds function words
(and stray single characters, ``_HEAD_CHARS`` / ``_TAIL_CHARS``) at its edges. It is dropped
when it is shorter than two characters, when all its words are function, filler
(resources/filler.txt) or boilerplate words or generic words (in more than ``GENERIC_DF`` of
the documents), or when it is a number (digits or Chinese numerals) or a unit on its own.

Spans are ranked by the IDF of the words they hold (rarer first), and a span inside a longer
kept span is not repeated. Both sides can then highlight the same strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from revive.engine.text import _kept, normalize, segmenter

MAX_REASONS = 5
GENERIC_DF = 0.05  # a word in more than this share of documents says nothing on its own
GENERIC_MIN_DOCS = 50  # … nor fewer documents than this (or half a smaller index) make it so


@lru_cache(maxsize=1)
def filler() -> frozenset[str]:
    """Words a reader would not take as a reason on their own (resources/filler.txt), beyond
    the tokenizer's stopwords."""
    raw = resources.files("revive.engine.resources").joinpath("filler.txt").read_text("utf-8")
    lines = (line.split("#", 1)[0] for line in raw.splitlines())  # a comment is not a word
    return frozenset(normalize(w) for line in lines for w in line.split())


_NUMBER_OR_UNIT = re.compile(
    # a Latin unit on its own (mm, mpa …; not those that are also element symbols or
    # abbreviations, such as mg, pa, ma)
    r"^(?:(?:mm|cm|nm|μm|um|km|kg|ml|kw|kwh|kv|mv|hz|khz|mhz|ghz|mpa|kpa|gpa|rpm|mah|kj|°c|℃)"
    r"|[0-9.,%‰±~\-+×x*/:]+"
    r"(?:mm|cm|nm|μm|um|km|m|kg|mg|g|t|l|ml|kw|kwh|w|kv|mv|v|ma|mah|a|hz|khz|mhz|ghz|mpa|kpa|gpa|"
    r"pa|rpm|h|s|j|kj|"
    r"°c|℃|度|米|毫米|厘米|公里|吨|千克|公斤|克|升|毫升|瓦|千瓦|伏|安|年|月|天|日|小时|分钟|秒|"
    r"元|万元|万|亿|个|件|台|套|只|次|倍|层|条|份|批|级|寸|英寸|平方米|立方米|亩|%)?"
    r"|[吨克升米天年月日时分秒元个件台套只次倍层条份批级寸亩度]+"
    r"|毫秒|微秒|纳秒|毫米|厘米|公里|千米|千克|公斤|毫克|毫升|千瓦|兆瓦|千伏|毫安|赫兹|兆帕|"
    r"平方米|立方米|小时|分钟"
    # a number in Chinese, with its unit: 八成, 三倍, 两年, 五十吨 (not 零件; not 次 or 级,
    # which make terms: 二次风, 一级)
    r"|[一二三四五六七八九十百千万亿两半]+[成倍个件台套只年月天日吨克升米层条份批寸亩度%]?)$"
)


@dataclass(frozen=True, slots=True)
class Reason:
    """A span both texts contain; ``weight``: summed IDF of its words (for ordering)."""

    text: str
    weight: float


def _words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each segment of the normalised text."""
    out, pos = [], 0
    for seg in segmenter().cut(text):
        out.append((pos, pos + len(seg), seg))
        pos += len(seg)
    return out


def _meaningful(word: str, idf_of: Callable[[str], float | None], generic_idf: float) -> bool:
    w = word.strip()
    if len(w) < 2 or w in filler() or _NUMBER_OR_UNIT.match(w) or not _kept(w, demand=True):
        return False
    idf = idf_of(w)
    return idf is not None and idf >= generic_idf


# Single characters a span takes in only by accident of segmentation: at its head 用激光; at
# its tail 计算出, 回收再, 视角均, 印刷电路板用, 强度高 (read 激光, 计算, 回收, 视角, 印刷电路板,
# 强度). 高 / 低 / 大 / 小 at the head stay: 高分子量聚乙烯, 大扭矩电机.
_HEAD_CHARS = frozenset("用将于为与和或对在从由把被向及并而则即等")
_TAIL_CHARS = frozenset("出再均用后时中上下内外前等及并而则即高低大小")


class SpanFinder:
    """A demand read once (segmented, each word's role worked out) for finding its reasons
    against many patents: per patent only substring tests remain."""

    def __init__(
        self,
        demand_text: str,
        idf_of: Callable[[str], float | None],
        *,
        generic_idf: float = 0.0,
    ) -> None:
        self.text = normalize(demand_text)
        self.words = _words(self.text)
        # a span may start at a kept word (not blank, punctuation, a digit run or a stopword)
        self.starts = [_kept(w, demand=True) for _, _, w in self.words]
        # … and sheds at its edges what is not kept, and stray single characters
        self.head_junk = [
            not kept or w.strip() in _HEAD_CHARS
            for kept, (_, _, w) in zip(self.starts, self.words, strict=True)
        ]
        self.tail_junk = [
            not kept or w.strip() in _TAIL_CHARS
            for kept, (_, _, w) in zip(self.starts, self.words, strict=True)
        ]
        # a single character jieba cut off a dictionary word it belongs to, and the span would
        # end (or start) on it: 轴承/滚/道 against a patent's 轴承滚子 read 「轴承滚」 (滚道 is
        # a word, so 滚 goes with it; 量子/点/显示 keeps 点: 点显 is no word)
        has_word = segmenter().has_word
        ws = [w for _, _, w in self.words]
        self.glued_tail = [
            len(w) == 1 and k + 1 < len(ws) and has_word(w + ws[k + 1][:1])
            for k, w in enumerate(ws)
        ]
        self.glued_head = [
            len(w) == 1 and k > 0 and has_word(ws[k - 1][-1:] + w) for k, w in enumerate(ws)
        ]
        self.stops = [  # punctuation ends a span: a reason is a phrase, not "12mm,冲击功"
            bool(w.strip()) and not any(ch.isalnum() for ch in w) for _, _, w in self.words
        ]
        self.weight = [  # IDF of a word that may be a reason, else None
            (idf_of(w.strip()) or 0.0) if _meaningful(w, idf_of, generic_idf) else None
            for _, _, w in self.words
        ]
        self._idf_of, self._generic_idf = idf_of, generic_idf
        self._parts: dict[str, float] | None = None

    def parts(self) -> dict[str, float]:
        """The meaningful words inside the demand's longer words, with their IDF: 饲料 in
        生物饲料 (worked out on first use). A part is a word of its own (the segmenter's
        dictionary has it), not any two characters the index knows as a bigram (水处 in
        废水处理)."""
        if self._parts is None:
            self._parts = {}
            for kept, (_, _, word) in zip(self.starts, self.words, strict=True):
                w = word.strip()
                if not kept or len(w) < 3:
                    continue
                for size in range(len(w) - 1, 1, -1):
                    for at in range(len(w) - size + 1):
                        part = w[at : at + size]
                        if not segmenter().has_word(part):
                            continue
                        if _meaningful(part, self._idf_of, self._generic_idf):
                            self._parts[part] = self._idf_of(part) or 0.0
        return self._parts

    def find(
        self, patent_text: str, limit: int = MAX_REASONS, *, normalized: bool = False
    ) -> list[Reason]:
        """The longest runs of the demand's kept words that the patent also contains."""
        patent = (patent_text or "") if normalized else normalize(patent_text)
        if not self.text or not patent:
            return []
        demand, words = self.text, self.words
        found: dict[str, float] = {}
        i, n = 0, len(words)
        while i < n:
            if not self.starts[i] or words[i][2] not in patent:
                i += 1
                continue
            start = words[i][0]
            best_j, j = None, i
            while j < n and not self.stops[j] and demand[start : words[j][1]].strip() in patent:
                if words[j][2].strip():
                    best_j = j
                j += 1
            if best_j is None:
                i += 1
                continue
            first = i  # trim function words at the edges
            while best_j > first and (self.tail_junk[best_j] or self.glued_tail[best_j]):
                best_j -= 1
            while first < best_j and (self.head_junk[first] or self.glued_head[first]):
                first += 1
            span = demand[words[first][0] : words[best_j][1]].strip()
            useful = [w for w in self.weight[first : best_j + 1] if w is not None]
            if len(span) >= 2 and useful and not _NUMBER_OR_UNIT.match(span):
                found[span] = max(found.get(span, 0.0), sum(useful))
            i = best_j + 1
        if not found:
            # No whole word shared: the words inside the demand's longer ones that the patent
            # has (a 生物饲料 demand and a 饲料 patent showed 「无明显共同关键词」 beside 中).
            found = {part: w for part, w in self.parts().items() if part in patent}
        # a span inside a longer kept span is not a reason of its own (寿命 in 使用寿命)
        spans = [s for s in found if not any(s != o and s in o for o in found)]
        ranked = sorted(spans, key=lambda s: (-found[s], -len(s), s))
        return [Reason(s, round(found[s], 3)) for s in ranked[:limit]]


def shared_spans(
    demand_text: str,
    patent_text: str,
    idf_of: Callable[[str], float | None],
    *,
    generic_idf: float = 0.0,
    limit: int = MAX_REASONS,
) -> list[Reason]:
    """The longest runs of the demand's kept words that the patent also contains.

    ``idf_of(word)``: the word's IDF in the corpus (None if unknown); ``generic_idf``: the IDF
    below which a word is too common to count as a reason on its own (see ``generic_cutoff``).
    For many patents against one demand, build a ``SpanFinder`` once.
    """
    return SpanFinder(demand_text, idf_of, generic_idf=generic_idf).find(patent_text, limit)


def generic_cutoff(n_docs: int, share: float = GENERIC_DF) -> float:
    """The smooth IDF of a word in ``share`` of ``n_docs`` documents (the index's formula),
    and at least GENERIC_MIN_DOCS of them: in a small pool (a new deployment, the demo's
    163 entered patents) a field's own words — 饲料 in 10, 检测 in 30 — were "generic", and
    an SME read 「无明显共同关键词」 beside 生物饲料 / 生猪饲料."""
    import math

    df = max(1.0, share * n_docs, min(float(GENERIC_MIN_DOCS), n_docs / 2))
    return math.log((1 + n_docs) / (1 + df)) + 1
