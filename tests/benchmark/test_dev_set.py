"""The production engine on the real corpus and the hand-judged development set."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from revive.benchmark.cli import eval_command

DEV = Path(__file__).resolve().parents[2] / "eval" / "dev"


def _eval(shared_data: Path, retriever: str) -> dict:
    args = [
        "--corpus", str(shared_data / "cn_patents.csv"),
        "--corpus", str(shared_data / "cn_patents_abstract_only.csv"),
        "--queries", str(DEV / "queries.csv"),
        "--qrels", str(DEV / "qrels.csv"),
        "--retriever", retriever,
    ]  # fmt: skip
    result = CliRunner().invoke(eval_command, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_engine_beats_plain_tfidf_on_the_dev_set(shared_data):
    engine = _eval(shared_data, "engine")
    plain = _eval(shared_data, "tfidf")
    assert engine["queries"] == plain["queries"] == 48
    assert engine["docs"] == 7743
    assert engine["ndcg@10"] > plain["ndcg@10"] + 0.05
    assert engine["recall@10"] > plain["recall@10"]


def test_reasons_on_the_real_dev_set_are_never_fragments_or_fillers(shared_data):
    """Issue 13: on the real dev set no single-character or filler term appears among the
    shown reasons (the index's explanation showed 期, 只有, 大, 天, 约, 30%, 吨)."""
    from revive.benchmark import trust
    from revive.benchmark.data import read_corpus, read_queries
    from revive.engine.matcher import match_demands
    from revive.engine.reasons import _NUMBER_OR_UNIT, filler
    from revive.engine.strength import shipped_model
    from revive.engine.text import stopwords

    docs = read_corpus(
        [shared_data / "cn_patents.csv", shared_data / "cn_patents_abstract_only.csv"]
    )
    queries = read_queries(DEV.parent / "real" / "queries.csv")
    pools = trust.build_pools(docs, queries[:60])
    matches = match_demands(
        pools.index,
        pools.chars,
        shipped_model(),
        [(q.id, q.title, q.text) for q in queries[:60]],
        texts_of=lambda ids: {i: pools.texts[i] for i in ids},
        top_k=10,
    )
    drop, demand_drop = stopwords()
    shown = [r.text for m in matches for p in m.proposals for r in p.reasons]
    assert len(shown) > 300
    bad = [
        t
        for t in shown
        if len(t) < 2 or t in filler() or t in drop or t in demand_drop or _NUMBER_OR_UNIT.match(t)
    ]
    assert not bad, bad[:20]
