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

import ctypes
from collections.abc import Callable
from functools import lru_cache

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


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        # the C library the process already runs on (no lookup through ldconfig)
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to hand back this way
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Hand the memory the C allocator keeps after a batch back to the operating system
    (glibc's ``malloc_trim(0)``, the remedy Dask's documentation gives for the same symptom).

    Answering a batch of demands allocates and frees many arrays of a few kilobytes: glibc keeps
    the freed heap for reuse, so a pool process that has answered 1,000 demands holds 12–16 MB
    more private memory than before, though nothing is alive in it (tracemalloc). A worker calls
    this after each task (workers/signals.py). Returns whether the allocator offered it."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
