"""Commands of the dashboard domain: the scale loader, the web benchmark, the cache refresh."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from revive.dashboard.bench_web import bench_web_command
from revive.dashboard.scale_seed import scale_seed_command


@click.command("dashboard-refresh")
@with_appcontext
def dashboard_refresh_command() -> None:
    """Recompute the cached platform-wide dashboard figures now (after a bulk load, or cron)."""
    from revive.dashboard import cache

    t0 = time.perf_counter()
    keys = cache.refresh()
    click.echo(f"Refreshed {', '.join(keys)} in {time.perf_counter() - t0:.1f} s")


commands = [scale_seed_command, bench_web_command, dashboard_refresh_command]
