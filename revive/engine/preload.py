"""Everything a serving process needs that does not depend on an index version, loaded once.

A Celery worker's main process calls ``warm`` before it forks its pool (workers/signals.py), so
the pool processes share these pages copy-on-write instead of each loading its own copy: the
segmenter's dictionary (numpy arrays, which reference counting never writes to), the compiled
search and segmentation kernels (numba's code and compiler state) and the engine's resources
(stopwords, synonyms, demand word frequencies, the shipped strength model). An index is loaded
by each process after the fork; its arrays are memory-mapped and so shared through the page
cache.
"""

from __future__ import annotations

from revive.engine import kernels
from revive.engine.strength import shipped_model
from revive.engine.text import demand_tokens, patent_tokens, segmenter


def warm() -> None:
    """Run at install and image build too, so the compiled kernels are on disk."""
    segmenter()
    kernels.warm()
    shipped_model()
    # the tokenizers' own resources (stopwords, synonyms, user words, demand frequencies)
    patent_tokens("预热", "一种用于初始化分词器的方法")
    demand_tokens("预热", "需要一种用于初始化分词器的方法")
