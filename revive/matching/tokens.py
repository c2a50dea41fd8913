"""Patent texts and their tokens: what the matcher reads of a patent, and its tokens stored
per patent (PatentTokens), the input of every index build.

    request_tokenize        (receiver of patents_changed) enqueue "matching.tokenize"
    tokenize_patents        (worker) store tokens of the given / stale patents; a text change
                            requests an index build, an eligibility-only change a re-match
    resend_stale_tokens     (the recovery sweep) queue tokenization when a patent's tokens
                            stayed stale: its message was lost
    patent_texts, texts_of  patent texts as the strength model and the reasons read them
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from revive import engine, queue
from revive.db import begin_write, retried, utcnow
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import jobs
from revive.matching.models import (
    PatentTokens,
    RunScope,
)

logger = logging.getLogger(__name__)


TOKENIZE_BATCH = 500
# The recovery sweep looks for stale tokens among patents changed this recently (an index
# range on patents.updated_at); ``revive requeue-jobs`` and full index builds look at all.
TOKENS_LOOKBACK = timedelta(days=1)
TEXT_BATCH = 500  # patent texts read per query
DELTA_MAX_DOCS = 20_000  # more changed patents than this: a full build (REVIVE_DELTA_MAX_DOCS)


def patent_text(p: Any) -> str:
    """What the matcher reads of a patent besides its title (row or model)."""
    parts = (p.tech_field, p.abstract, p.problem_solved, p.advantages, p.prospects)
    return "\n".join(x for x in parts if x)


def text_hash(title: str, text: str) -> str:
    return hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()


def request_tokenize(patent_ids: Sequence[int] | None) -> str | None:
    """Queue tokenization of these patents (None: find the stale ones). Nothing is stored:
    the task is idempotent and a lost message is repaired by ``tokenize_patents(None)``,
    which every full index build runs and the recovery sweep queues (resend_stale_tokens)."""
    ids = sorted({int(i) for i in patent_ids}) if patent_ids is not None else None
    return queue.enqueue("matching.tokenize", ids)


def _stale_clause() -> sa.ColumnElement[bool]:
    # Cheap SQL pre-filter; the text hash (computed in Python) decides.
    return sa.or_(
        PatentTokens.patent_id.is_(None),
        PatentTokens.tokenizer_version != engine.TOKENIZER_VERSION,
        PatentTokens.updated_at < Patent.updated_at,
    )


# The columns a patent's matching text is made of (patent_text), with its id.
TEXT_COLUMNS = (
    Patent.id,
    Patent.title,
    Patent.tech_field,
    Patent.abstract,
    Patent.problem_solved,
    Patent.advantages,
    Patent.prospects,
)


def tokenize_patents(
    patent_ids: Sequence[int] | None = None, *, follow_up: bool = True
) -> dict[str, int]:
    """Store tokens of the given patents (None: every patent whose tokens are missing or stale).

    Returns {"checked", "tokenized"}. With ``follow_up``: new or changed tokens request an
    index build (which re-matches every open demand); an explicit list whose texts did not
    change (a status or willingness edit) requests a re-match, since eligibility is applied at
    query time and needs no rebuild.
    """
    cols = (*TEXT_COLUMNS, PatentTokens.text_hash, PatentTokens.tokenizer_version)
    stmt = sa.select(*cols).outerjoin(PatentTokens, PatentTokens.patent_id == Patent.id)
    stmt = stmt.where(_stale_clause()) if patent_ids is None else stmt
    checked = tokenized = 0
    ids = sorted(set(patent_ids or ()))
    id_chunks: Iterable[Sequence[int] | None] = (
        [None] if patent_ids is None else [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
    )
    for chunk in id_chunks:
        chunk_stmt = stmt if chunk is None else stmt.where(Patent.id.in_(chunk))
        rows = db.session.execute(chunk_stmt.order_by(Patent.id)).all()
        for start in range(0, len(rows), TOKENIZE_BATCH):
            batch = rows[start : start + TOKENIZE_BATCH]
            tokenized += _store_batch(batch)
            checked += len(batch)
    if follow_up and jobs.active_build() is not None:
        if tokenized:
            small = tokenized <= jobs.setting("REVIVE_DELTA_MAX_DOCS", DELTA_MAX_DOCS)
            jobs.request_index_build(kind="delta" if small else "full")
        elif patent_ids:
            jobs.request_match_run(RunScope.ALL_DEMANDS)
    logger.info("Tokenized %d of %d checked patent(s)", tokenized, checked)
    return {"checked": checked, "tokenized": tokenized}


STORE_ATTEMPTS = 3


def _store_batch(rows: Sequence[Any]) -> int:
    """Store a batch's tokens and commit. A pass running beside this one (a tokenize task and
    an index build's catch-up, after an import or an API client's stream of new patents) may
    insert a patent's first tokens between this one's read and its insert. The tokens are
    worked out first, without any lock; then the records are read again and written in one
    short transaction that holds SQLite's write lock from its read (an index build had failed
    on UNIQUE patent_tokens.patent_id after three tries). On PostgreSQL the unique patent id
    refuses the second insert and the batch is stored again, finding those records."""
    worked = _work_out(rows)

    def store() -> int:
        begin_write()
        changed = _store_tokens(rows, worked)
        db.session.commit()
        return changed

    return retried(store, STORE_ATTEMPTS)


def _records(rows: Sequence[Any]) -> dict[int, PatentTokens]:
    return {
        r.patent_id: r
        for r in db.session.scalars(
            sa.select(PatentTokens).where(PatentTokens.patent_id.in_([row.id for row in rows]))
        )
    }


def _current(record: PatentTokens | None, digest: str) -> bool:
    return (
        record is not None
        and record.text_hash == digest
        and record.tokenizer_version == engine.TOKENIZER_VERSION
    )


def _work_out(rows: Sequence[Any]) -> dict[int, tuple[str, str | None]]:
    """{patent id: (text digest, tokens)} of every row, the tokens only where the stored ones
    are missing or stale (the slow part: segmentation), read before any lock is taken."""
    records = _records(rows)
    worked: dict[int, tuple[str, str | None]] = {}
    for row in rows:
        text = patent_text(row)
        digest = text_hash(row.title, text)
        stale = not _current(records.get(row.id), digest)
        worked[row.id] = (
            digest,
            " ".join(engine.patent_tokens(row.title, text)) if stale else None,
        )
    return worked


def _store_tokens(rows: Sequence[Any], worked: dict[int, tuple[str, str | None]]) -> int:
    now, changed = utcnow(), 0
    records = _records(rows)  # read again: a pass running beside this one may have stored some
    for row in rows:
        record = records.get(row.id)
        digest, tokens = worked[row.id]
        if _current(record, digest) and record is not None:
            record.updated_at = now  # checked: no longer looks stale
            continue
        if tokens is None:  # current when read, changed since by another pass: rare
            tokens = " ".join(engine.patent_tokens(row.title, patent_text(row)))
        if record is None:
            record = PatentTokens(patent_id=row.id)
            db.session.add(record)
        record.tokens, record.text_hash = tokens, digest
        record.tokenizer_version, record.updated_at = engine.TOKENIZER_VERSION, now
        changed += 1
    db.session.flush()
    return changed


def chunks(ids: Sequence[Any], size: int = TEXT_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def patent_texts(patent_ids: Iterable[Any]) -> dict[int, str]:
    """{patent id: title + text} as the strength model and the reasons read them (one query;
    callers pass at most TEXT_BATCH ids, or use ``chunks``)."""
    ids = sorted({int(i) for i in patent_ids})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(*TEXT_COLUMNS).where(Patent.id.in_(ids)))
    return {r.id: f"{r.title}。{patent_text(r)}" for r in rows}


def texts_of(patent_ids: Sequence[Any]) -> dict[int, str]:
    """engine ``texts_of``: the texts of any number of patents, a batch per query."""
    out: dict[int, str] = {}
    for chunk in chunks(list(patent_ids)):
        out.update(patent_texts(chunk))
    return out


def demand_text(d: Demand) -> str:
    """The text matching reads: the description, then the targets after the engine's
    separator (they belong to the whole demand, not to its last enumerated part)."""
    return engine.SPECS_SEPARATOR.join(p for p in (d.description, d.target_specs) if p)


def resend_stale_tokens(full: bool = False) -> list[None]:
    """(the recovery sweep) A patent changed more than REVIVE_MESSAGE_LOST_SECONDS ago whose
    tokens are still stale lost its tokenize message (broker down, worker lost): queue one pass
    over every stale patent. Looks at patents changed within TOKENS_LOOKBACK (an index range;
    ``full``: all of them — a manual run; every full index build also tokenizes all). Returns
    ``[None]`` (the task's argument) when sent."""
    now = utcnow()
    stale = (
        sa.select(Patent.id)
        .outerjoin(PatentTokens, PatentTokens.patent_id == Patent.id)
        .where(_stale_clause(), Patent.updated_at < now - queue.message_lost_after())
    )
    if not full:
        stale = stale.where(Patent.updated_at >= now - TOKENS_LOOKBACK)
    found = db.session.scalar(stale.limit(1))
    db.session.rollback()
    if found is None:
        return []
    request_tokenize(None)
    return [None]


queue.register_check("matching.tokenize", resend_stale_tokens)
