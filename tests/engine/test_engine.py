"""Properties of the matching engine on tiny Chinese texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from revive.engine import (
    DEFAULT_MIN_SCORE,
    TOKENIZER_VERSION,
    Index,
    build_index,
    demand_tokens,
    normalize,
    patent_tokens,
    rank_against,
    score_block,
)
from revive.engine.index import _Explainer, pick_terms
from revive.engine.text import BIGRAM_MARK

PATENTS = [
    (1, "专利许可", "一种高校专利许可的管理方法。"),
    (
        2,
        "锂离子电池正极材料",
        "本发明公开了一种锂离子电池正极材料，所述材料包括三元镍钴锰和包覆层，提高循环寿命。",
    ),
    (
        3,
        "污水处理装置",
        "本发明涉及一种污水处理装置，其特征在于，包括厌氧池和好氧池，用于去除氨氮。",
    ),
    (4, "农作物种植方法", "本实用新型提供一种水稻种植方法，降低病虫害。"),
    (5, "图像识别方法", "基于深度学习的人脸图像识别方法，用于门禁终端的活体检测。"),
    (6, "混凝土外加剂", "一种抗裂混凝土外加剂及其制备方法，减少裂缝。"),
]


@pytest.fixture(scope="module")
def index() -> Index:
    return build_index(
        [patent_tokens(t, x) for _, t, x in PATENTS], [i for i, _, _ in PATENTS], version=7
    )


def test_word_order_does_not_matter(index):
    [[top, *_]] = index.query([demand_tokens("许可专利", "")])
    assert top.right_id == 1
    assert top.score > 0.5


def test_unrelated_text_scores_below_threshold(index):
    [found] = index.query([demand_tokens("宠物狗粮配方", "猫粮营养")], min_score=0.0)
    assert all(c.score < DEFAULT_MIN_SCORE for c in found)


def test_boilerplate_only_overlap_scores_nothing(index):
    boiler = demand_tokens(
        "我公司现需求",
        "寻求一种技术，希望合作解决问题。本发明涉及一种装置，其特征在于，所述装置包括实施例",
    )
    assert boiler == []
    [found] = index.query([boiler], min_score=0.0)
    assert found == []


def test_normalisation_of_width_case_and_space():
    assert normalize("ＡＢＣ　５Ｇ  Ｗｉ－Ｆｉ\n天线") == "abc 5g wi-fi 天线"
    assert patent_tokens("５Ｇ天线", "ＬＥＤ") == patent_tokens("5g 天线", "led")


def test_explanation_terms_are_shared_terms_sorted_by_weight(index):
    q = demand_tokens("三元正极材料循环寿命", "锂电池包覆改性")
    [[top, *_]] = index.query([q])
    assert top.right_id == 2
    names = [t for t, _ in top.terms]
    weights = [w for _, w in top.terms]
    assert names and weights == sorted(weights, reverse=True)
    doc_text = PATENTS[1][1] + PATENTS[1][2]
    for name in names:
        assert name in doc_text and name in "三元正极材料循环寿命锂电池包覆改性"


def test_allowed_filter_is_respected(index):
    q = demand_tokens("污水氨氮处理", "")
    [unfiltered, filtered, empty] = index.query(
        [q, q, q], allowed=[None, {4, 5, 6}, set()], min_score=0.0
    )
    assert unfiltered[0].right_id == 3
    assert all(c.right_id in {4, 5, 6} for c in filtered)
    assert empty == []


def test_save_load_round_trip_gives_identical_scores(index, tmp_path):
    index.save(tmp_path / "idx")
    loaded = Index.load(tmp_path / "idx")
    queries = [demand_tokens("许可专利", ""), demand_tokens("锂电池", "正极材料"), ["不存在的词"]]
    assert loaded.query(queries, min_score=0.0) == index.query(queries, min_score=0.0)
    assert loaded.version == 7
    assert loaded.tokenizer_version == TOKENIZER_VERSION
    assert list(loaded.ids) == [1, 2, 3, 4, 5, 6]


def _random_corpus(n: int, seed: int = 3) -> list[list[str]]:
    """Zipf-like documents over a small vocabulary: long posting lists and many ties."""
    rng = np.random.default_rng(seed)
    words = [f"词{i}" for i in range(60)]
    p = 1.0 / np.arange(1, len(words) + 1)
    return [list(rng.choice(words, size=rng.integers(3, 15), p=p / p.sum())) for _ in range(n)]


def _brute_force(idx: Index, queries, top_k: int, min_score: float):
    """Every document scored (the old single-matrix product): the reference for search."""
    qm = idx.vectorize(queries, query=True)
    return [
        [(doc_id, round(score, 5)) for doc_id, score, _ in rows]
        for rows in score_block(qm, idx.matrix_t, idx.ids, top_k, min_score=min_score)
    ]


def _ranked(results):
    return [[(c.right_id, round(c.score, 5)) for c in cands] for cands in results]


@pytest.mark.parametrize("min_score", [0.0, 0.05, 0.2])
def test_search_equals_scoring_every_document(min_score):
    docs = _random_corpus(400)
    idx = build_index(docs, list(range(400)), version=1, shard_docs=150)
    queries = [docs[i][:6] for i in range(0, 400, 23)] + [["词0", "词1"], ["词59"]]
    got = _ranked(idx.query(queries, top_k=10, min_score=min_score))
    want = _brute_force(idx, queries, 10, min_score)
    assert [[d for d, _ in row] for row in got] == [[d for d, _ in row] for row in want]
    for g, w in zip(got, want, strict=True):  # float64 vs float32 sums: equal to 1e-5
        assert [s for _, s in g] == pytest.approx([s for _, s in w], abs=2e-5)


def test_shards_merge_to_the_unsharded_result():
    docs = _random_corpus(60)
    ids = [f"p{i}" for i in range(60)]
    whole = build_index(docs, ids, version=1)
    sharded = build_index(docs, ids, version=1, shard_docs=13)
    assert [s.n_docs for s in sharded.shards] == [13, 13, 13, 13, 8]
    queries = [["词0", "词1"], ["词2", "词5", "词9"], ["词40"]]
    assert sharded.query(queries, top_k=7) == whole.query(queries, top_k=7)
    # Fan-out: each shard scored on its own (as a worker would), lists merged by score.
    parts = [sharded.query(queries, top_k=7, shards=[n]) for n in range(5)]
    merged = [
        sorted(
            (c for part in parts for c in part[q]), key=lambda c: (-c.score, ids.index(c.right_id))
        )[:7]
        for q in range(len(queries))
    ]
    assert merged == whole.query(queries, top_k=7)


def test_allowed_mask_and_exclude(index):
    q = demand_tokens("污水氨氮处理", "")
    mask = index.mask([3, 4])
    assert mask.sum() == 2
    [masked, excluded] = index.query(
        [q, q], allowed=[mask, None], exclude=[None, {3}], min_score=0.0
    )
    assert [c.right_id for c in masked] == [3]
    assert 3 not in [c.right_id for c in excluded]


def test_added_documents_are_matchable_and_supersede_old_entries(index, tmp_path):
    index.save(tmp_path / "base")
    base = Index.load(tmp_path / "base")
    grown = base.add_documents(
        [
            patent_tokens("量子点显示", "一种量子点发光二极管显示面板及其制备方法。"),
            patent_tokens("污水处理装置", "本发明涉及一种畜禽养殖污水的氨氮去除装置。"),
        ],
        [7, 3],  # 7 is new; 3 changed its text
        name="d001",
    )
    assert len(grown) == 7 and len(base) == 6  # the base index is unchanged
    [[top]] = grown.query([demand_tokens("量子点", "发光二极管显示")], top_k=1)
    assert top.right_id == 7 and "量子" in dict(top.terms)
    found = grown.query([demand_tokens("污水氨氮", "")], min_score=0.0)[0]
    assert [c.right_id for c in found].count(3) == 1  # the old entry of 3 is superseded
    assert "量子" in grown.vocabulary and "量子" not in base.vocabulary
    # Saved next to the base: the base shard is linked, not rewritten; same results loaded.
    grown.save(tmp_path / "grown")
    base_file = tmp_path / "base" / "shards" / "s000" / "indices.npy"
    grown_file = tmp_path / "grown" / "shards" / "s000" / "indices.npy"
    assert base_file.stat().st_ino == grown_file.stat().st_ino
    reloaded = Index.load(tmp_path / "grown")
    queries = [demand_tokens("量子点", ""), demand_tokens("污水氨氮", "")]
    assert reloaded.query(queries, min_score=0.0) == grown.query(queries, min_score=0.0)
    # A fan-out part holding only the base shard still knows that 3 was superseded.
    part = Index.load(tmp_path / "grown", shards={"s000"})
    assert 3 not in [
        c.right_id for c in part.query([demand_tokens("污水氨氮", "")], min_score=0.0)[0]
    ]


def test_load_a_subset_of_shards(tmp_path):
    docs = _random_corpus(50)
    idx = build_index(docs, list(range(50)), version=2, shard_docs=20)
    idx.save(tmp_path / "a")
    part = Index.load(tmp_path / "a", shards={"s001"})
    assert [s.name for s in part.shards] == ["s001"] and part.ids == list(range(20, 40))
    assert part.query([["词0"]], top_k=5) == idx.query([["词0"]], top_k=5, shards=[1])


def test_an_older_artifact_format_is_refused(index, tmp_path):
    index.save(tmp_path / "old")
    meta = tmp_path / "old" / "meta.json"
    meta.write_text(meta.read_text("utf-8").replace('"format": 5', '"format": 2'), "utf-8")
    with pytest.raises(ValueError, match="format"):
        Index.load(tmp_path / "old")


def _mapped(array) -> bool:
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_a_loaded_index_maps_its_arrays_instead_of_copying_them(index, tmp_path):
    index.save(tmp_path / "v1")
    loaded = Index.load(tmp_path / "v1")
    for shard in loaded.shards:
        assert _mapped(shard.indices) and _mapped(shard.data) and _mapped(shard.indptr)
        assert not shard.data.flags.writeable
    probe = [demand_tokens("养猪场沼液氨氮高", "求污水处理技术")]
    assert loaded.query(probe, top_k=3) == index.query(probe, top_k=3)


def test_a_loaded_index_maps_its_vocabulary_and_finds_every_term(index, tmp_path):
    """The vocabulary is mapped too (shared by every process on a host, not a private list
    and dict per process): the same columns, weights and vectors as the built index."""
    from revive.engine.matcher import read_vocabulary
    from revive.engine.terms import TermList

    loaded = Index.load(index.save(tmp_path / "v1"))
    assert isinstance(loaded.vocabulary, TermList) and _mapped(loaded.vocabulary._blob)
    assert list(loaded.vocabulary) == list(index.vocabulary)
    assert all(loaded.term_index[t] == i for i, t in enumerate(index.vocabulary))
    assert "不在词表里的词" not in loaded.term_index and loaded.term_index.get("无此词") is None
    assert np.array_equal(loaded.column_weight, index.column_weight)
    assert np.array_equal(loaded.specificity, index.specificity)
    probe = [demand_tokens("养猪场沼液氨氮高", "求污水处理技术"), ["未知词", "~未知"]]
    assert (loaded.vectorize(probe, query=True) != index.vectorize(probe, query=True)).nnz == 0
    words = read_vocabulary(tmp_path / "v1")
    assert all(words.term_index.get(t) == i for i, t in enumerate(index.vocabulary))


def test_a_term_longer_than_the_sorted_table_holds_is_found(tmp_path):
    from revive.engine.terms import WIDTH

    long_word = "x" * (WIDTH + 5)
    built = build_index([["电池", long_word], ["电池"]], ["a", "b"], version="v")
    loaded = Index.load(built.save(tmp_path / "v"))
    assert loaded.term_index[long_word] == built.term_index[long_word]
    assert loaded.query([[long_word]], top_k=2) == built.query([[long_word]], top_k=2)


def _as_format_4(folder, index) -> None:
    """Rewrite a saved artifact as format 4 wrote it: the vocabulary in vocab.json."""
    from revive.engine.terms import FILES

    for name in FILES:
        (folder / name).unlink()
    (folder / "vocab.json").write_text(json.dumps(list(index.vocabulary), ensure_ascii=False))
    meta = folder / "meta.json"
    meta.write_text(meta.read_text("utf-8").replace('"format": 5', '"format": 4'), "utf-8")


def test_a_format_4_artifact_still_loads(index, tmp_path):
    """Artifacts whose vocabulary is a JSON list (before the mapped vocabulary) are read."""
    folder = index.save(tmp_path / "v4")
    _as_format_4(folder, index)
    probe = [demand_tokens("养猪场沼液氨氮高", "求污水处理技术")]
    assert Index.load(folder).query(probe, top_k=3) == index.query(probe, top_k=3)


def test_a_format_3_artifact_still_loads(index, tmp_path):
    """Artifacts written before the memory-mapped format (one .npz per shard) are read."""
    folder = index.save(tmp_path / "v3")
    _as_format_4(folder, index)
    np.savez(folder / "arrays.npz", idf=index.idf)
    (folder / "idf.npy").unlink()
    for shard in index.shards:
        target = folder / "shards" / shard.name
        np.savez(
            target / "postings.npz",
            indptr=shard.indptr,
            indices=shard.indices,
            data=shard.data,
            n_docs=np.asarray(shard.n_docs, np.int64),
        )
        for name in ("indptr", "indices", "data"):
            (target / f"{name}.npy").unlink()
    meta = folder / "meta.json"
    meta.write_text(meta.read_text("utf-8").replace('"format": 4', '"format": 3'), "utf-8")
    probe = [demand_tokens("养猪场沼液氨氮高", "求污水处理技术")]
    assert Index.load(folder).query(probe, top_k=3) == index.query(probe, top_k=3)


def test_rank_against_scores_a_patent_against_demands(index):
    patent = patent_tokens(*PATENTS[2][1:])
    ranked = rank_against(
        patent,
        [
            demand_tokens("养猪场沼液氨氮高", "求污水处理技术"),
            demand_tokens("门禁刷脸", "活体检测"),
        ],
        ["d1", "d2"],
        index,
        query_id=3,
    )
    assert [c.right_id for c in ranked] == ["d1"]
    assert ranked[0].left_id == 3 and ranked[0].terms


def test_version_recorded(index):
    assert index.version == 7
    assert index.tokenizer_version == TOKENIZER_VERSION
    assert index.params.sublinear_tf is True


def test_index_rows_equal_vectorized_token_lists(index):
    token_lists = [patent_tokens(t, x) for _, t, x in PATENTS]
    rows = index.vectorize(token_lists)
    assert abs(rows - index.matrix_t.T).max() < 1e-3  # weights are stored as float16
    assert np.allclose(np.asarray(rows.multiply(rows).sum(axis=1)).ravel(), 1.0, atol=1e-5)


def test_repeating_a_word_saturates_instead_of_dominating():
    # Document tf is saturated (BM25-style): a listing that repeats "石墨烯" ten times in a
    # long text must not outrank a short one about exactly what the demand asks for.
    filler = "。".join(["本方法适用于多种材料的加工与检测"] * 6)
    stuffed = patent_tokens("一种材料", "石墨烯" * 10 + filler)
    focused = patent_tokens("石墨烯导热膜", "石墨烯导热膜用于手机散热，导热系数高。")
    idx = build_index(
        [stuffed, focused, patent_tokens("污水", "污水处理")], ["s", "f", "w"], version=1
    )
    top = idx.query([demand_tokens("手机散热用石墨烯导热膜", "")], top_k=2)[0]
    assert [c.right_id for c in top] == ["f", "s"]


def test_threads_over_shards_give_the_same_results():
    docs = _random_corpus(300, seed=5)
    idx = build_index(docs, list(range(300)), version=1, shard_docs=40)
    queries = [docs[i][:5] for i in range(0, 300, 17)] + [["词0", "词1"]]
    allowed = [idx.mask(range(0, 300, 3)) if i % 2 else None for i in range(len(queries))]
    exclude = [{0, 1, 2, 50} if i % 3 == 0 else None for i in range(len(queries))]
    one = idx.query(queries, top_k=12, allowed=allowed, exclude=exclude, min_score=0.0)
    idx.threads = 3
    assert idx.query(queries, top_k=12, allowed=allowed, exclude=exclude, min_score=0.0) == one
    assert any(len(r) == 12 for r in one)


def test_the_array_explainer_picks_what_pick_terms_picks():
    """search_row explains a pool with _Explainer; it must equal pick_terms (ties by name,
    words first, bigrams not inside a picked word fill in)."""
    rng = np.random.default_rng(3)
    vocab = ["电池", "正极", "材料", "~电池", "~池正", "~正极", "寿命", "~寿命", "包覆", "循环"]
    for _ in range(300):
        names = list(rng.choice(vocab, size=rng.integers(1, len(vocab)), replace=False))
        contrib = rng.choice([0.0, 0.1, 0.2, 0.3], size=len(names))  # ties on purpose
        pairs = [(names[i], float(contrib[i])) for i in np.flatnonzero(contrib)]
        for n in (1, 3, 5):
            assert _Explainer(names, n).many(contrib[:, None]) == [pick_terms(pairs, n)]


def test_explaining_many_results_at_once_gives_each_result_its_own_reasons():
    """search_row explains its results with one sort over all of them; every result's
    reasons are pick_terms of that result alone: top words by weight then name, bigrams
    (not inside a picked word) filling in, ties and zeros included."""
    rng = np.random.default_rng(11)
    words = ["锂电池", "正极", "材料", "涂层", "电池", "回收", "稀土", "永磁", "电机", "控制"]
    grams = [BIGRAM_MARK + g for g in ("锂电", "电池", "正极", "回收", "永磁", "磁体", "涂覆")]
    names = words + grams
    for n in (1, 3, 5, 8):
        explain = _Explainer(names, n)
        contrib = rng.choice([0.0, 0.0, 0.1, 0.25, 0.25, 0.5, 1.0], size=(len(names), 40))
        contrib[:, 0] = 0.0  # a result sharing nothing
        contrib[: len(words), 1] = 0.0  # only bigrams
        alone = [
            pick_terms([(names[i], float(c[i])) for i in np.flatnonzero(c)], n) for c in contrib.T
        ]
        assert explain.many(contrib) == alone
    assert _Explainer(names, 5).many(np.zeros((len(names), 0))) == []
