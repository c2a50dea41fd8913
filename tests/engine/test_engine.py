"""Properties of the matching engine on tiny Chinese texts."""

from __future__ import annotations

import numpy as np
import pytest

from revive.engine import (
    DEFAULT_MIN_SCORE,
    TOKENIZER_VERSION,
    Index,
    build_index,
    demand_tokens,
    merge_topk,
    normalize,
    patent_tokens,
    rank_against,
    score_block,
)

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


def test_three_shards_merge_to_the_unsharded_result():
    rng = np.random.default_rng(3)
    words = ["电池", "材料", "污水", "图像", "专利", "混凝土", "种植", "天线", "芯片", "涂料"]
    token_lists = [list(rng.choice(words, size=6)) for _ in range(60)]  # many ties
    idx = build_index(token_lists, [f"p{i}" for i in range(60)], version=1)
    qm = idx.vectorize([["电池", "材料"], ["污水", "图像", "天线"]], query=True)
    whole = score_block(qm, idx.matrix_t, idx.ids, 7)
    shards = [
        score_block(qm, *idx.block(a, b), 7, offset=a) for a, b in ((0, 20), (20, 45), (45, 60))
    ]
    assert merge_topk(shards, 7) == whole
    assert idx.query([["电池", "材料"]], top_k=7, shard_size=13) == idx.query(
        [["电池", "材料"]], top_k=7
    )


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
    assert abs(rows - index.matrix_t.T).max() < 1e-6
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
