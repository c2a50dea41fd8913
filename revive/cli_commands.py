"""Commands of the ``revive`` CLI, contributed by each domain's ``cli`` module."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    from revive.dashboard import cli as dashboard_cli
    from revive.deals import cli as deals_cli
    from revive.demands import cli as demands_cli
    from revive.demo import cli as demo_cli
    from revive.evaluation import cli as evaluation_cli
    from revive.inventory import cli as inventory_cli
    from revive.onboarding import cli as onboarding_cli
    from revive.pools import cli as pools_cli

    modules = (
        onboarding_cli,
        demo_cli,
        inventory_cli,
        demands_cli,
        deals_cli,
        evaluation_cli,
        dashboard_cli,
        pools_cli,
    )
    for module in modules:
        for command in module.commands:
            cli.add_command(command)
