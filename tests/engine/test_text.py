"""Tokens (kept words and bigrams) against those made from Python jieba's words, and the
normalisation and bulk counting that feed them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest

from revive.benchmark.data import read_corpus
from revive.engine import text


def _reference_tokens(
    title: str, body: str, cuts: Mapping[str, list[str]] | None = None
) -> Counter:
    """The token spec computed from Python jieba's words: kept words, plus character bigrams
    inside each run of consecutive kept CJK words (a removed word, punctuation or a non-CJK
    word ends a run). ``cuts``: Python jieba's cuts of normalised texts, already made."""
    out: Counter = Counter()
    for part in (text.normalize(title), text.normalize(body)):
        run = ""
        words = cuts[part] if cuts is not None else text.reference_tokenizer().lcut(part)
        for w in [*words, "。"]:
            kept = text._kept(w, False)
            if kept:
                out[w.strip()] += 1
            if kept and text._CJK.match(w.strip()):
                run += w.strip()
                continue
            out.update(text.BIGRAM_MARK + run[i : i + 2] for i in range(len(run) - 1))
            run = ""
    return out


def _both(
    title: str, body: str = "", cuts: Mapping[str, list[str]] | None = None
) -> tuple[Counter, Counter]:
    return Counter(text.patent_tokens(title, body)), _reference_tokens(title, body, cuts)


@pytest.mark.parametrize(
    "sample",
    [
        "一种锂离子电池正极材料及其制备方法，循环寿命提高20%以上。",
        "所述温度为5-10℃，pH值为6.5-7.5，含Fe3O4纳米颗粒0.5wt%。",
        "基于PD-L1抑制剂的肿瘤免疫治疗，IC50为1.2μM。",
        "采用ZigBee/LoRa双模通信模块和STM32F103单片机，功耗低于10mW。",
        "石墨烯导热膜用于手机散热",  # a user-dictionary word
    ],
)
def test_tokens_equal_those_from_python_jieba(sample):
    rust, python = _both(sample)
    assert rust == python


def test_user_dictionary_is_loaded():
    assert "石墨烯导热膜" in text.segmenter().cut(
        text.normalize("石墨烯导热膜用于手机散热")
    ) or any("石墨烯" in w for w in text.segmenter().cut("石墨烯导热膜"))
    user_words = [w for w, _, _ in text.user_words()]
    assert user_words and all(text.segmenter().has_word(w) for w in user_words[:50])


@pytest.mark.shared_data
def test_segmenter_equals_python_jieba_on_the_whole_corpus(real_records, reference_cuts):
    """Every one of the 7,743 real records gets the tokens Python jieba would give."""
    differing = []
    for d in real_records:
        ours, reference = _both(d.title, d.text, reference_cuts)
        if ours != reference:
            differing.append(d.id)
    assert len(real_records) > 7000
    assert differing == []


@pytest.mark.parametrize(
    "raw",
    [
        "ＡＢＣ１２３，锂电池　正极",
        "①②㎡℃ﬁ",
        "Å and Å",
        "ＰＤ－Ｌ１抑制剂（IC５０）",
        "全角空格　和\t制表符",
    ],
)
def test_normalize_equals_nfkc_lower_collapsed(raw):
    import re
    import unicodedata

    expected = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw).lower()).strip()
    assert text.normalize(raw) == expected


@pytest.mark.shared_data
def test_term_counter_gives_the_tokens_of_patent_tokens(shared_data: Path):
    """The bulk-ingest fast path counts exactly the tokens patent_tokens yields, per document,
    also when one counter carries on over several chunks (as an ingest process does)."""
    docs = read_corpus([shared_data / "cn_patents.csv"])[:1500]
    counter = text.TermCounter()
    for chunk in (docs[:700], docs[700:]):
        counts = counter.count([(d.title, d.text) for d in chunk])
        assert counts.shape == (len(chunk), len(counter.terms))
        names = list(counter.terms)
        for row, d in enumerate(chunk):
            got = counts.getrow(row)
            have = Counter({names[c]: int(v) for c, v in zip(got.indices, got.data, strict=True)})
            assert have == Counter(text.patent_tokens(d.title, d.text)), d.title


# Texts whose parts' edges and contents exercise every step of the normalisation: whitespace
# at the ends, empty parts, full-width forms, compatibility characters, a combining mark
# that would compose with the end of the part before it.
EDGE_PAIRS = [
    ("  锂离子电池  ", "\t一种正极材料，提高循环寿命。  "),
    ("", "本发明公开了一种 ＰＤ－Ｌ１ 抑制剂（IC５０）"),
    (None, None),
    ("污水处理装置e", "\u0301去除氨氮①②㎡℃ﬁ"),
    ("全角空格　标题　", "　　Å and Å　"),
    ("人脸识别门禁", ""),
    ("ΟΔΟΣ", "ΣΑΣ Σ"),
]


def test_normalize_joined_equals_each_part_normalized(shared_data: Path):
    docs = read_corpus([shared_data / "cn_patents.csv"])[:2000]
    pairs = [(d.title, d.text) for d in docs] + EDGE_PAIRS
    raw = text._DOC_SEP.join(f"{t or ''}{text._PART_SEP}{a or ''}" for t, a in pairs)
    expected = text._DOC_SEP.join(
        f"{text.normalize(t)}{text._PART_SEP}{text.normalize(a)}" for t, a in pairs
    )
    assert text.normalize_joined(raw) == expected


def _counted(counter: text.TermCounter, pairs) -> list[Counter]:
    counts = counter.count(pairs)
    names = list(counter.terms)
    assert counts.has_sorted_indices and counts.shape == (len(pairs), len(names))
    rows = []
    for row in range(len(pairs)):
        got = counts.getrow(row)
        assert len(set(got.indices)) == len(got.indices) and (got.data > 0).all()
        rows.append(Counter({names[c]: int(v) for c, v in zip(got.indices, got.data, strict=True)}))
    return rows


def test_term_counter_across_batches_and_with_texts_it_cannot_join(monkeypatch):
    """Documents are normalised and segmented a batch at a time, joined by private-use
    separators; a batch holding a separator character itself is counted part by part
    instead (and one with a lone surrogate is left to the segmenter, which refuses it). Either way: the tokens of patent_tokens, per document."""
    monkeypatch.setattr(text, "_BATCH", 3)
    odd = [
        ("带分隔符\ue000的标题", "正文\ue001也有"),
        ("孤立代理\ud800字符", "锂离子电池"),
    ]
    pairs = EDGE_PAIRS + odd[:1] + EDGE_PAIRS[::-1]  # (the segmenter refuses lone surrogates)
    counter = text.TermCounter()
    assert counter._joined(odd[:1]) is None and counter._joined(odd[1:]) is None
    assert counter._joined(EDGE_PAIRS[:3]) is not None
    rows = _counted(counter, pairs)
    assert rows == [Counter(text.patent_tokens(t, a)) for t, a in pairs]
    assert rows[0]["~离子"] == 1 and not rows[2]  # bigrams counted; an empty pair has none
    assert _counted(counter, []) == []
