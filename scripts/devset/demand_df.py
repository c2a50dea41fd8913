"""Write revive/engine/resources/demand_df.txt: in how many real postings each demand word
occurs (../shared/data/real_demands.csv, 1,598 postings), for words in at least MIN_DF of them.

Words enterprises put in almost every posting (技术, 生产, 设备, 提高 …) say little about a
need; the engine weighs a demand's words by this document frequency as well as by the
patents' IDF (Params.demand_df_power). Only frequent words are kept: the file is vocabulary
statistics, not a copy of the postings.

    .venv/bin/python scripts/devset/demand_df.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from revive.engine.text import BIGRAM_MARK, demand_tokens  # noqa: E402

MIN_DF = 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args(argv)
    with open(args.data / "real_demands.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    df: Counter[str] = Counter()
    for r in rows:
        df.update(
            {
                t
                for t in demand_tokens(r["title"], r["description"])
                if not t.startswith(BIGRAM_MARK)
            }
        )
    out = ROOT / "revive" / "engine" / "resources" / "demand_df.txt"
    lines = [
        "# Demand-word document frequency over real enterprise postings (scripts/devset/demand_df.py).",
        f"# postings {len(rows)}",
    ]
    lines += [
        f"{w}\t{n}" for w, n in sorted(df.items(), key=lambda kv: (-kv[1], kv[0])) if n >= MIN_DF
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 2} words → {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
