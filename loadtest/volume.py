"""Extra inventory volume for the load test: N more patents on top of ``revive seed-demo``.

    python -m loadtest.volume --patents 3000      (DATABASE_URL, REVIVE_DATA_DIR as for revive)

The demo has ~300 patents; a list that small hides slow queries. This adds N patents spread over
the demo universities and colleges with the status mix of a real inventory (most entered, the
rest in review, returned, not entered…), titles and abstracts taken from the shared corpus of
real Chinese patent abstracts (../shared/data/cn_patents.csv, REVIVE_SHARED_DATA overrides)
or, without it, recombined from the demo patents. Rows go in with one bulk INSERT per chunk
(the workflow's per-patent audit trail is not the point here); then the worker's matching part
runs in-process exactly as seed-demo does it (tokens → index build → re-match every open
demand), so the Celery workers started afterwards find an index covering every patent.
Deterministic for a given --seed. Running it twice adds another N (new application numbers).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from revive.db import utcnow

SHARED_DATA = Path(
    os.environ.get("REVIVE_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
# Share of each status in the added rows (entered dominates a pool open to enterprises).
STATUS_WEIGHTS = {
    "entered": 60,
    "pending_college": 8,
    "pending_school": 7,
    "returned": 5,
    "draft": 8,
    "not_entered": 8,
    "abandon": 4,
}
MAX_ABSTRACT = 2000
CHUNK = 1000


def corpus_texts(limit: int) -> list[tuple[str, str]]:
    """(title, abstract) pairs from the shared corpus; empty when it is not there."""
    path = SHARED_DATA / "cn_patents.csv"
    if not path.exists():
        return []
    out: list[tuple[str, str]] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            title, abstract = (row.get("title") or "").strip(), (row.get("abstract") or "").strip()
            if title and abstract:
                out.append((title[:480], abstract[:MAX_ABSTRACT]))
            if len(out) >= limit:
                break
    return out


def demo_texts() -> list[tuple[str, str]]:
    from revive.extensions import db
    from revive.inventory.models import Patent

    return [
        (t, a or t)
        for t, a in db.session.execute(sa.select(Patent.title, Patent.abstract).limit(2000))
    ]


def _status_fields(rng: random.Random, status: str, now) -> dict:
    from revive.inventory.models import EntryStatus, TransferMode, Willingness

    st = EntryStatus(status)
    changed = now - timedelta(days=rng.randint(1, 500), hours=rng.randint(0, 23))
    graded = status != "draft" or rng.random() < 0.5
    fields: dict = {"status": st, "status_changed_at": changed, "updated_at": changed}
    if graded:
        low = status in ("not_entered", "abandon")
        fields["trl"] = rng.randint(1, 4) if low else rng.randint(3, 8)
        fields["value_grade"] = rng.choice((1, 2, 3)) if low else rng.choice((2, 3, 4, 4, 5))
        fields["transfer_willingness"] = rng.choice(list(Willingness))
        modes = rng.sample([m.value for m in TransferMode], rng.randint(1, 3))
        fields["transfer_modes"] = ",".join(m.value for m in TransferMode if m.value in modes)
        fields["asking_price"] = rng.choice((None, 10, 30, 50, 80, 120, 200))
    if status != "draft":
        fields["submitted_at"] = changed - timedelta(days=rng.randint(1, 20))
    if status == "entered":
        fields["entered_at"] = changed
    return fields


def add_patents(n: int, seed: int = 7) -> dict[str, int]:
    """Insert ``n`` patents over the demo institutions; returns counts. Needs an app context
    and the demo data (run ``revive seed-demo`` first)."""
    from revive.accounts.models import College, Organization, OrgKind
    from revive.extensions import db
    from revive.inventory.appno import make_application_no
    from revive.inventory.models import EntryStatus, Patent, PatentType

    rng = random.Random(seed)
    unis = list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind == OrgKind.UNIVERSITY)
            .order_by(Organization.id)
        )
    )
    if not unis:
        raise SystemExit("no university found: run `revive seed-demo` first")
    colleges: dict[int, list[int]] = {}
    for cid, org_id in db.session.execute(sa.select(College.id, College.institution_id)):
        colleges.setdefault(org_id, []).append(cid)
    texts = corpus_texts(max(n, 1)) or demo_texts()
    taken = set(db.session.scalars(sa.select(Patent.application_no)))
    now = utcnow()
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    rows: list[dict] = []
    for i in range(n):
        uni = unis[i % len(unis)]
        title, abstract = texts[i % len(texts)]
        if i >= len(texts):  # reused text: keep titles distinct
            title = f"{title}（{i // len(texts) + 1}）"
        year = rng.randint(2012, 2023)
        utility = rng.random() < 0.25
        while True:
            appno = make_application_no(
                year, 2 if utility else 1, rng.randrange(1_500_000, 9_999_999)
            )
            if appno not in taken:
                taken.add(appno)
                break
        filed = date(year, rng.randint(1, 12), rng.randint(1, 28))
        status = rng.choices(statuses, weights=weights)[0]
        row = {
            "institution_id": uni.id,
            "college_id": rng.choice(colleges[uni.id]) if colleges.get(uni.id) else None,
            "application_no": appno,
            "title": title,
            "patent_type": PatentType.UTILITY if utility else PatentType.INVENTION,
            "patentees": uni.name,
            "inventors": "；".join(rng.sample("王李张刘陈杨赵黄周吴", 2)) + "等",
            "filing_date": filed,
            "grant_date": filed + timedelta(days=rng.randint(200, 1100)),
            "legal_status": "有效",
            "abstract": abstract,
            "is_funded": rng.random() < 0.8,
            "created_at": now - timedelta(days=rng.randint(500, 900)),
            "version": 1,
            "trl": None,
            "value_grade": None,
            "transfer_willingness": None,
            "transfer_modes": None,
            "asking_price": None,
            "submitted_at": None,
            "entered_at": None,
        }
        row.update(_status_fields(rng, status, now))
        rows.append(row)
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(Patent), rows[start : start + CHUNK])
    db.session.commit()
    entered = sum(1 for r in rows if r["status"] == EntryStatus.ENTERED)
    return {"added": n, "entered": entered}


def rebuild_matching() -> list[str]:
    """Tokens, index build and re-match of the open demands, in-process (as seed-demo)."""
    from revive.demo import worker
    from revive.matching import tokens

    with worker.inline_queue() as queued:
        tokens.tokenize_patents(None)
        worker.pending_matching(queued)
        return worker.drain(queued)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patents", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--setup",
        action="store_true",
        help="first `revive db upgrade` and `revive seed-demo` (same functions, one process)",
    )
    parser.add_argument("--timings", help="write the seconds of each step here (JSON)")
    args = parser.parse_args(argv)
    from revive import create_app

    timings: dict[str, float] = {}
    started = time.monotonic()
    app = create_app()
    timings["app"] = time.monotonic() - started
    with app.app_context():
        if args.setup:
            from flask_migrate import upgrade

            from revive.demo.seed import seed_demo

            step = time.monotonic()
            upgrade()
            timings["upgrade"] = time.monotonic() - step
            step = time.monotonic()
            seed_demo()
            timings["seed"] = time.monotonic() - step
        step = time.monotonic()
        counts = add_patents(args.patents, args.seed)
        done = rebuild_matching()
        timings["volume"] = time.monotonic() - step
    if args.timings:
        Path(args.timings).write_text(json.dumps(timings), encoding="utf-8")
    print(
        f"added {counts['added']} patents ({counts['entered']} entered); "
        f"matching tasks run in-process: {len(done)}; {time.monotonic() - started:.1f}s"
    )


if __name__ == "__main__":
    main()
