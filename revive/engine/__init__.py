"""The matching engine: pure Python (stdlib, jieba, scikit-learn, numpy, scipy — no Flask, no
SQLAlchemy, no other revive module). Strings in, ranked candidates out, with a persisted,
versioned index in the middle so the expensive part happens once.

Contract used by the rest of the platform (revive.matching, revive.evaluation):

    TOKENIZER_VERSION: str                      stored next to each patent's tokens; changes
                                                when the dictionary/stopwords/normalisation do
    patent_tokens(title, text) -> list[str]      tokens stored per patent (tokenized once)
    demand_tokens(title, text) -> list[str]      tokens of a demand (demand boilerplate removed)
    build_index(token_lists, ids, *, version) -> Index
    Index.save(folder) / Index.load(folder)      artifact: vocabulary/IDF, sparse matrix, ids,
                                                version, params; load once per worker process
    Index.query(query_token_lists, *, top_k=20, min_score=…, allowed=None, query_ids=None)
        -> list[list[Candidate]]                 ``allowed``: per query, a collection of doc ids
                                                that may be returned (None = all); Candidate.terms
                                                = top shared terms with weights (explanation)
    score_block / merge_topk                    shard-agnostic pieces (score rows of a block,
                                                merge per-shard top-k lists)
"""

from revive.engine.index import (
    DEFAULT_MIN_SCORE,
    Index,
    Params,
    build_index,
    merge_topk,
    rank_against,
    score_block,
)
from revive.engine.text import TOKENIZER_VERSION, demand_tokens, normalize, patent_tokens
from revive.engine.types import Candidate, Document

__all__ = [
    "DEFAULT_MIN_SCORE",
    "TOKENIZER_VERSION",
    "Candidate",
    "Document",
    "Index",
    "Params",
    "build_index",
    "demand_tokens",
    "merge_topk",
    "normalize",
    "patent_tokens",
    "rank_against",
    "score_block",
]
