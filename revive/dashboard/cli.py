"""Commands of the dashboard domain: the cache refresh."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from revive.dashboard.refresh import refresh


@click.command("dashboard-refresh")
@with_appcontext
def dashboard_refresh_command() -> None:
    """Recompute the cached platform-wide dashboard figures now (after a bulk load, or cron)."""
    t0 = time.perf_counter()
    keys = refresh()
    click.echo(f"Refreshed {', '.join(keys)} in {time.perf_counter() - t0:.1f} s")


commands = [dashboard_refresh_command]
