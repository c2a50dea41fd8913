"""Commands of the dashboard domain: the scale loader and the web benchmark."""

from __future__ import annotations

from revive.dashboard.scale_seed import scale_seed_command

commands = [scale_seed_command]
