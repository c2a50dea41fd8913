"""The compiled segmenter cuts exactly as Python jieba does, and names each segment by one
trie node (bulk ingest relies on a node meaning one string)."""

from __future__ import annotations

import random

import pytest

from revive.engine import text
from revive.engine.segment import Segmenter


@pytest.mark.parametrize(
    "sample",
    [
        "",
        "一种锂离子电池正极材料及其制备方法，循环寿命提高20%以上。",
        "所述温度为5-10℃，pH值为6.5-7.5，含Fe3O4纳米颗粒0.5wt%。",
        "基于PD-L1抑制剂的肿瘤免疫治疗，IC50为1.2μM。v1.2.3版，1.5mm，C++与C#，a&b_c",
        "采用ZigBee/LoRa双模通信模块和STM32F103单片机，功耗低于10mW。",
        "石墨烯导热膜用于手机散热",  # a user-dictionary word
        "行\r\n列\r\r\n  \t空白\u3000全角\u00a0不换行",  # jieba's re_skip: "\r\n" is one segment
        "带分隔符\ue000的标题\ue001正文",  # private-use characters: one segment each
        "孤立代理\ud800字符",  # a lone surrogate: Python jieba cuts it like any other character
        "鲁宾逊漂流记讲述了鲁滨孙在荒岛上生活的故事",  # names the HMM has to find
        "齉龘靐龖",  # rare characters, none in the dictionary
        "㐀㐁𠀀𠀁",  # CJK extension A and B: outside jieba's Han range
        "ABC大写与abc小写混排X光机",
        "..%%--##",  # only symbols of the Han class
    ],
)
def test_cut_equals_python_jieba(sample):
    assert text.segmenter().cut(sample) == text.reference_tokenizer().lcut(sample)


@pytest.mark.shared_data
def test_cut_equals_python_jieba_on_every_real_record(real_records, reference_cuts):
    """Every title and abstract of the 7,743 real records, normalised as the engine cuts
    them (the samples above cover raw text)."""
    seg = text.segmenter()
    texts = [text.normalize(raw) for d in real_records for raw in (d.title, d.text)]
    differing = [t[:40] for t in texts if seg.cut(t) != reference_cuts[t]]
    assert len(real_records) > 7000
    assert differing == []


def test_the_user_dictionary_is_in_the_trie():
    seg = text.segmenter()
    user_words = [w for w, _, _ in text.user_words()]
    assert user_words and all(seg.has_word(w) for w in user_words)
    assert not seg.has_word("锂离子电池正极材料及其制备方法")


def _tiny() -> Segmenter:
    """A dictionary of three words (and their prefixes), its table at its smallest."""
    freq = {"锂": 50, "锂电": 0, "锂电池": 30, "电池": 40, "电": 20, "池": 10}
    return Segmenter(freq, sum(freq.values()))


def test_a_node_names_one_string_across_calls_and_as_the_table_grows():
    seg = _tiny()
    rng = random.Random(5)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 20000)]
    latin = "abcdefghijklmnopqrstuvwxyz0123456789"

    def clause() -> str:  # unknown Han characters (HMM words) and a Latin run
        return "".join(rng.choices(han, k=rng.randint(2, 5))) + "".join(
            rng.choices(latin, k=rng.randint(3, 6))
        )

    texts = ["，".join(clause() for _ in range(400)) for _ in range(60)]
    slots = seg._table.shape[0]
    names: dict[int, str] = {}
    for t in texts:
        rows = seg.spans(t, intern=True).copy()
        assert (rows[:, 0] >= 0).all()  # every segment has its node
        for node, a, b in rows.tolist():
            assert names.setdefault(node, t[a:b]) == t[a:b]
        assert [t[a:b] for _, a, b in rows.tolist()] == seg.cut(t)
    assert seg._table.shape[0] > slots  # the table grew and kept every node's meaning
    assert len(set(names.values())) == len(names)  # and no string got two nodes
    again = seg.spans(texts[0], intern=True)
    assert all(names[n] == texts[0][a:b] for n, a, b in again.tolist())


def test_cutting_without_interning_leaves_the_trie_alone():
    """Serving processes cut demands without writing to the dictionary they share."""
    seg = _tiny()
    nodes, table = seg.nodes, seg._table.copy()
    rows = seg.spans("锂电池和钠电池，。abc")
    assert seg.nodes == nodes and (seg._table == table).all()
    nodes_of = {"锂电池和钠电池，。abc"[a:b]: n for n, a, b in rows.tolist()}
    assert nodes_of["锂电池"] >= 0 and nodes_of["电池"] >= 0  # words come with their nodes
    assert nodes_of["abc"] == -1  # other segments have none until interned


def test_a_saved_segmenter_loads_and_cuts_the_same(tmp_path, monkeypatch):
    """Processes load the built dictionary from disk instead of building it from jieba."""
    built = text.segmenter()
    path = tmp_path / "cache" / "seg.npz"
    built.save(path)
    loaded = Segmenter.load(path)
    sample = "基于PD-L1抑制剂的肿瘤免疫治疗，石墨烯导热膜用于手机散热，鲁宾逊漂流记"
    assert loaded.cut(sample) == built.cut(sample) == text.reference_tokenizer().lcut(sample)
    assert loaded.nodes == built.nodes
    # text.segmenter() takes the cache from REVIVE_CACHE_DIR, and rebuilds over a bad file
    monkeypatch.setenv("REVIVE_CACHE_DIR", str(tmp_path / "env"))
    target = text.segmenter_cache()
    assert target.parent == tmp_path / "env"
    target.parent.mkdir()
    target.write_bytes(b"not an npz file")
    text.segmenter.cache_clear()
    try:
        assert text.segmenter().cut(sample) == built.cut(sample)
        assert Segmenter.load(target).nodes == built.nodes  # written again, whole
    finally:
        text.segmenter.cache_clear()


def test_a_dictionary_with_forced_splits_is_refused(monkeypatch):
    """jieba splits a word added with frequency 0 into characters; this segmenter does not
    carry that over, so it refuses such a dictionary instead of cutting differently."""
    import jieba.finalseg

    from revive.engine.segment import from_jieba

    monkeypatch.setattr(jieba.finalseg, "Force_Split_Words", {"石墨烯"})
    with pytest.raises(ValueError, match="frequency 0"):
        from_jieba(text.reference_tokenizer())
