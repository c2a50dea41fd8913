"""Fixtures shared by the engine's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from revive.benchmark.data import Doc, read_corpus
from revive.engine import text


@pytest.fixture(scope="session")
def real_records(shared_data: Path) -> list[Doc]:
    """The 7,743 real records of ../shared/data."""
    return read_corpus(
        [shared_data / "cn_patents.csv", shared_data / "cn_patents_abstract_only.csv"]
    )


@pytest.fixture(scope="session")
def reference_cuts(real_records: list[Doc]) -> dict[str, list[str]]:
    """Python jieba's cut of every normalised title and abstract of the real records: the
    reference the compiled segmenter and the tokens are held to, cut once (Python jieba takes
    about ten seconds over them)."""
    ref = text.reference_tokenizer()
    cuts: dict[str, list[str]] = {}
    for d in real_records:
        for raw in (d.title, d.text):
            t = text.normalize(raw)
            if t not in cuts:
                cuts[t] = ref.lcut(t)
    return cuts
