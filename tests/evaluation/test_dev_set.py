"""The production engine on the real corpus and the hand-judged development set."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from revive.evaluation.cli import eval_command

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
