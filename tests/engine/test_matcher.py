"""The product's matching of one demand: pool → strength → top k, abstention, sub-needs."""

from __future__ import annotations

from revive.engine import build_index, patent_tokens
from revive.engine.matcher import match_demands
from revive.engine.strength import CharProfile, StrengthModel, shipped_model

DOCS = {
    "magnet": (
        "钕铁硼永磁体防锈涂层",
        "一种钕铁硼永磁材料表面防腐蚀涂层的制备方法，耐盐雾，防止生锈。",
    ),
    "mould": ("橡胶件注塑模具", "一种橡胶件注塑成型模具，代替压机压制，外观好。"),
    "wax": ("可机加工蜡状材料", "一种可机械加工的类蜡材料，不粘胶，具有一定硬度。"),
    "phone": ("手机壳", "一种防摔手机壳。"),
    "sewage": ("污水处理装置", "一种去除养殖废水氨氮的污水处理装置。"),
}
TEXTS = {k: f"{t}。{x}" for k, (t, x) in DOCS.items()}


def _index():
    ids = list(DOCS)
    return build_index([patent_tokens(*DOCS[i]) for i in ids], ids, version=1)


def _match(demands, model=None, **kw):
    index = _index()
    chars = CharProfile.build(TEXTS.values())
    return match_demands(
        index,
        chars,
        model or shipped_model(),
        demands,
        texts_of=lambda ids: {i: TEXTS[i] for i in ids},
        **kw,
    )


def test_each_sub_need_is_matched_and_candidates_are_grouped_by_it():
    (m,) = _match(
        [
            (
                1,
                "咖啡机配件难题",
                "1、钕铁硼永磁材料容易生锈，影响产品使用；2、咖啡机的橡胶件原来用压机压制，想改为注塑开模具；"
                "3、寻找一种可以机加工的材料，不粘胶，类似固体蜡但有一定硬度。",
            )
        ],
        top_k=5,
    )
    assert m.reading.multi and len(m.reading.needs) == 3
    need_of = {p.doc_id: p.need for p in m.proposals}
    assert {"magnet", "mould", "wax"} <= set(need_of)
    assert len({need_of["magnet"], need_of["mould"], need_of["wax"]}) == 3


def test_a_candidate_goes_to_the_sub_need_its_words_cover_most():
    """Seen by a new officer: a dismantling patent (reason 自动化拆解) was grouped under a
    longer sub-need about lithium recovery, which it shared as many words with (锂, 回收),
    and the 自动化拆解 sub-need was left empty. Words weigh by their IDF, and the share of the
    sub-need they cover decides."""
    from revive.engine.matcher import _need_of
    from revive.engine.strength import Assessed

    needs = [
        {"退役", "锂电池", "正极材料", "锂", "回收", "回收率", "高效"},
        {"高盐", "有机", "废水处理", "分盐", "结晶"},
        {"废旧电池", "自动化", "拆解", "减少"},
    ]
    idf = {"锂": 3.0, "回收": 2.0, "拆解": 4.0, "自动化": 2.5}

    def assessed(*words):
        return Assessed("p", 0.3, 0.3, 0.3, 0.5, "medium", matched=frozenset(words))

    weigh = lambda w: idf.get(w, 3.0)  # noqa: E731 — a table
    assert _need_of(needs, assessed("锂", "回收", "拆解", "自动化"), weigh) == 2
    assert _need_of(needs, assessed("锂", "回收", "正极材料"), weigh) == 0
    assert _need_of(needs, assessed("高盐", "回收"), weigh) == 1
    assert _need_of(needs, assessed(), weigh) == 0  # nothing shared: the first
    assert _need_of(needs[:1], assessed("拆解"), weigh) == 0  # one need


def test_the_characters_of_the_whole_text_break_a_one_word_apiece_tie():
    """Seen by a new enterprise user: four 生猪饲料 patents were grouped under
    「适合我国国情的现代化屠宰技术设备」 (they share 我国 with it) while 「肉鸭生物饲料的创制」,
    which they share 饲料 with, said 暂无. Each sub-need shared one word; the character
    cosine of the patent's text with each sub-need (as measured for the first of them) tells."""
    from revive.engine.matcher import _need_of
    from revive.engine.strength import Assessed

    needs = [
        {"优质", "高效", "安全", "肉鸭", "生物", "饲料", "创制"},
        {"肉鸭", "产品质量", "安全", "追溯", "体系", "建设"},
        {"生态", "健康", "无公害", "养殖", "肉鸭", "技术"},
        {"适合", "我国", "国情", "现代化", "屠宰", "技术", "设备"},
    ]
    feed = Assessed(
        "p", 0.4, 0.4, 0.4, 0.4, "strong", matched=frozenset({"体系", "养殖", "我国", "饲料"})
    )
    weigh = lambda w: 3.0  # noqa: E731 — every word alike
    assert _need_of(needs, feed, weigh) != 0  # words alone: a one-word-apiece tie
    assert _need_of(needs, feed, weigh, [0.14, 0.044, 0.027, 0.006]) == 0


def test_reasons_are_shared_spans_of_two_characters_or_more():
    (m,) = _match([(1, "钕铁硼防锈", "钕铁硼永磁材料容易生锈，需要防锈涂层")], top_k=2)
    top = m.proposals[0]
    assert top.doc_id == "magnet"
    texts = [r.text for r in top.reasons]
    assert texts and all(len(t) >= 2 for t in texts)
    assert all(t in TEXTS["magnet"] for t in texts)


def test_a_demand_with_nothing_above_the_bar_abstains():
    strict = StrengthModel(("score",), (0.0,), (1.0,), (1.0,), -10.0, bar=0.5)
    (m,) = _match([(1, "稀土永磁回收", "回收废旧稀土永磁材料中的稀土元素")], model=strict)
    assert m.abstain
    (m2,) = _match([(1, "钕铁硼防锈", "钕铁硼永磁材料生锈")], bar=0.0)
    assert not m2.abstain


def test_allowed_and_excluded_patents_are_respected():
    (m,) = _match(
        [(1, "钕铁硼防锈", "钕铁硼永磁材料生锈")],
        allowed=[{"magnet", "phone"}],
        exclude=[{"magnet"}],
    )
    assert {p.doc_id for p in m.proposals} <= {"phone"}


# ---------------------------------------------------------------------------- fan-out parts

MORE = {
    "magnet2": ("烧结钕铁硼磁体", "烧结钕铁硼磁体表面镀镍防腐，提高耐盐雾性能。"),
    "mould2": ("注塑模具温控", "注塑模具的温度控制系统，橡胶件成型周期缩短。"),
    "wax2": ("蜡基复合材料", "一种蜡基复合材料，可机加工，硬度高，不粘。"),
    "glass": ("玻璃钢管道", "一种玻璃钢管道的制备方法。"),
}
DEMANDS = [
    (
        1,
        "咖啡机配件难题",
        "1、钕铁硼永磁材料容易生锈，影响产品使用；2、咖啡机的橡胶件原来用压机压制，想改为注塑开模具；"
        "3、寻找一种可以机加工的材料，不粘胶，类似固体蜡但有一定硬度。",
    ),
    (2, "钕铁硼防锈", "钕铁硼永磁材料容易生锈，需要防锈涂层"),
    (3, "养殖废水", "去除养殖废水中的氨氮"),
]


def test_parts_merged_give_the_pools_of_one_search(tmp_path):
    """A fan-out: the shards searched in two parts (as two workers would), each part's
    answer through JSON, merged: the same pools, in the same order, as one search."""
    import json

    from revive.engine import Index
    from revive.engine.matcher import gather, merge_pools, pool_part, propose, read_vocabulary

    docs = {**DOCS, **MORE}
    ids = list(docs)
    whole = build_index([patent_tokens(*docs[i]) for i in ids], ids, version=1, shard_docs=2)
    whole.save(tmp_path)
    names = [s.name for s in whole.shards]
    assert len(names) >= 4
    first, offset = {}, 0
    for s in whole.shards:
        first[s.name], offset = offset, offset + s.n_docs
    allowed = [None, set(ids) - {"glass"}, None]
    exclude = [{"mould"}, None, None]
    expected = gather(whole, DEMANDS, pool=3, allowed=allowed, exclude=exclude)

    answers = []
    for part_names in (names[0::2], names[1::2]):
        part = Index.load(tmp_path, shards=set(part_names))

        def global_position(pos, part=part):
            for shard in part.shards:
                if pos < shard.offset + shard.n_docs:
                    return first[shard.name] + pos - shard.offset
            raise IndexError(pos)

        answers.append(
            json.loads(
                json.dumps(
                    pool_part(
                        part,
                        DEMANDS,
                        global_position=global_position,
                        pool=3,
                        allowed=allowed,
                        exclude=exclude,
                    )
                )
            )
        )
    merged = [
        merge_pools(d, [a[row] for a in answers], pool=3) for row, (d, _, _) in enumerate(DEMANDS)
    ]
    assert merged == expected
    assert len(expected[0].candidates) > 3  # the multi-need posting's extras are in

    texts = {k: f"{t}。{x}" for k, (t, x) in docs.items()}
    chars = CharProfile.build(texts.values())
    kwargs = {"chars": chars, "model": shipped_model(), "texts_of": lambda i: texts, "top_k": 5}
    vocabulary = read_vocabulary(tmp_path, n_docs=len(whole))
    assert propose(merged, lexicon=vocabulary, **kwargs) == propose(
        expected, lexicon=whole, **kwargs
    )


def test_under_a_sub_need_its_own_reasons_come_first():
    """A candidate's reasons are spans of the whole posting; under 子需求 2 a reader takes the
    first chips for what matched it. A span of the title (橡胶件注塑) outweighed some of the
    sub-need's own words and was shown before them (a user's finding): it now follows them, and stays."""
    from revive.engine.text import normalize

    (m,) = _match(
        [
            (
                1,
                "橡胶件注塑配件难题",
                "1、钕铁硼永磁材料容易生锈，影响产品使用；2、原来用压机压制，想改为注塑开模具；"
                "3、寻找一种可以机加工的材料，不粘胶，类似固体蜡但有一定硬度。",
            )
        ],
        top_k=5,
    )
    (mould,) = [p for p in m.proposals if p.doc_id == "mould"]
    own = normalize(m.reading.needs[mould.need].text)
    said = [r.text in own for r in mould.reasons]
    assert "橡胶件注塑" in [r.text for r in mould.reasons]  # from the title: kept
    assert True in said and False in said
    assert said == sorted(said, reverse=True)  # its own first
    # by weight the title's word came before one of the sub-need's: the order is its doing
    weight = {r.text: r.weight for r in mould.reasons}
    assert any(weight["橡胶件注塑"] > r.weight for r in mould.reasons if r.text in own)
