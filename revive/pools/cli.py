"""``revive pools-eval``: precision@50 of the pool ranking on the real corpus (eval/pools)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from revive.benchmark.cli import DEFAULT_CORPORA, DEFAULT_DATA
from revive.pools.evaluation import EVAL_DIR, evaluate, read_judged, read_pools, table

DEFAULT_BAR = 0.10  # REVIVE_POOL_PROPOSE_BAR's default


@click.command("pools-eval")
@click.option(
    "--pools", "pools_path", type=click.Path(exists=True), default=str(EVAL_DIR / "pools.json")
)
@click.option(
    "--judged", "judged_path", type=click.Path(exists=True), default=str(EVAL_DIR / "judged.csv")
)
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True))
@click.option("--bar", type=float, default=DEFAULT_BAR, show_default=True)
def pools_eval_command(pools_path, judged_path, corpora, bar) -> None:
    """Rank the real corpus for each pool of pools.json (the product's ranking), report how
    many of the top 50 judged.csv says are in the industry and how many are unjudged; the
    last line is JSON."""
    paths = [Path(c) for c in corpora] or [DEFAULT_DATA / name for name in DEFAULT_CORPORA]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"corpus not found: {', '.join(missing)} (pass --corpus)")
    results = evaluate(read_pools(pools_path), read_judged(judged_path), paths, bar=bar)
    click.echo(table(results))
    unjudged = sum(r.unjudged for r in results)
    if unjudged:
        click.echo(
            f"{unjudged} of the current top-50 documents have no judgement: judge them "
            "(eval/pools/judged.csv) before quoting precision."
        )
    click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False))


commands = [pools_eval_command]
