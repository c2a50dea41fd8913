"""The matching engine: pure Python (stdlib, jieba, scikit-learn, numpy, scipy — no Flask, no
SQLAlchemy, no other revive module). Strings in, ranked candidates out, with a persisted,
versioned index in the middle so the expensive part happens once.

Contract used by the rest of the platform (revive.matching, revive.benchmark):

    TOKENIZER_VERSION: str                      stored next to each patent's tokens; changes
                                                when the dictionary/stopwords/normalisation do
    patent_tokens(title, text) -> list[str]      tokens stored per patent (tokenized once)
    demand_tokens(title, text) -> list[str]      tokens of a demand (demand boilerplate removed)
    build_index(token_lists, ids, *, version) -> Index
    Index.save(folder) / Index.load(folder)      artifact: vocabulary/IDF, sparse matrix, ids,
                                                version, params; load once per worker process
    Index.query(query_token_lists, *, top_k=20, min_score=…, allowed=None, exclude=None,
                query_ids=None, shards=None) -> list[list[Candidate]]
                                                exact top-k; ``allowed``: per query a bool mask
                                                (Index.mask) or doc ids or None; ``exclude``: doc
                                                ids never returned; ``shards``: a fan-out part;
                                                Candidate.terms = top shared terms (explanation)
    Index.add_documents(token_lists, ids, name=…) -> Index   a delta shard (incremental)
    Index.search_row(…) -> list[SearchHit]      one query row, explained (doc id, score,
                                                position, terms, coverage, matched words)
    build_from_counts / ingest.tokenize_and_count parallel bulk ingest (1M documents)
    warm()                                      load what a serving process needs besides an
                                                index (dictionary, kernels, resources), once:
                                                in a worker's main process before its pool forks
    score_block(…) -> list[list[ScoredDoc]]     score rows of a small block (patent → demands)

The product's matching of demands (matcher.py, strength.py, understand.py):

    match_demands(index, chars, model, [(id, title, text)], texts_of=…, top_k=…, allowed=…,
                  exclude=…, bar=…, strong=…) -> [DemandMatch]
                                                read → pool → strength → top k, abstention,
                                                sub-need and reasons per proposal
    gather / propose                            the same in two steps; pool_part + merge_pools
                                                gather over a fan-out's parts, read_vocabulary
                                                gives propose an index's IDF without postings
                                                (a Vocabulary; propose takes any Lexicon: an
                                                Index or a Vocabulary)
    CharProfile.build/save/load                 character IDF saved beside an index
    StrengthModel, shipped_model(), judged_rows(), fit(rows, labels, weights=…)
    shipped_reliability() -> Reliability         what a strength meant on judged pairs
    judged_pools(), calibrate(model, pools)    the second stage (posting-level recalibration)
    demand_words(title, text), judged_associations().table(Accepted)
                                                the associations counted again with officers'
                                                accepted pairs (a refit)
    WordRates                                   how often a shared word led to a relevant
                                                patent in judged pairs (read by the second stage)
"""

from revive.engine.index import (
    DEFAULT_MIN_SCORE,
    Index,
    Params,
    build_from_counts,
    build_index,
    count_terms,
    rank_against,
    read_meta,
    score_block,
)
from revive.engine.matcher import (
    DemandMatch,
    Lexicon,
    Pooled,
    Proposal,
    Vocabulary,
    demand_words,
    gather,
    match_demands,
    merge_pools,
    pool_part,
    propose,
    read_vocabulary,
)
from revive.engine.preload import release_free_memory, warm
from revive.engine.reliability import Reliability, shipped_reliability
from revive.engine.strength import (
    FEATURES,
    POOL,
    POSTING,
    Accepted,
    CharProfile,
    StrengthModel,
    Tally,
    WordRates,
    calibrate,
    fit,
    judged_associations,
    judged_pools,
    judged_rows,
    shipped_model,
)
from revive.engine.text import (
    BIGRAM_MARK,
    TOKENIZER_VERSION,
    demand_tokens,
    normalize,
    patent_tokens,
    text_words,
)
from revive.engine.types import Candidate, Document, ScoredDoc, SearchHit
from revive.engine.understand import SPECS_SEPARATOR, DemandReading, read_demand

__all__ = [
    "Accepted",
    "BIGRAM_MARK",
    "DEFAULT_MIN_SCORE",
    "FEATURES",
    "POOL",
    "POSTING",
    "TOKENIZER_VERSION",
    "Candidate",
    "CharProfile",
    "DemandMatch",
    "DemandReading",
    "Document",
    "Index",
    "Lexicon",
    "Params",
    "Pooled",
    "Proposal",
    "ScoredDoc",
    "SearchHit",
    "StrengthModel",
    "Tally",
    "Vocabulary",
    "WordRates",
    "calibrate",
    "demand_words",
    "fit",
    "gather",
    "judged_associations",
    "judged_pools",
    "judged_rows",
    "match_demands",
    "merge_pools",
    "pool_part",
    "propose",
    "read_demand",
    "SPECS_SEPARATOR",
    "read_vocabulary",
    "release_free_memory",
    "shipped_model",
    "shipped_reliability",
    "text_words",
    "Reliability",
    "build_from_counts",
    "build_index",
    "count_terms",
    "read_meta",
    "demand_tokens",
    "normalize",
    "patent_tokens",
    "rank_against",
    "score_block",
    "warm",
]
