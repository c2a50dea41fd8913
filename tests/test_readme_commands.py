"""The README's docker compose commands name services the compose file has (an operator's
backup command named a service `db` that does not exist: the shell's redirect still made an
empty .dump, which a cron job would have kept as the backup)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_every_compose_command_in_the_readme_names_a_service():
    services = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))["services"])
    text = (ROOT / "README.md").read_text("utf-8").replace("\\\n", " ")
    named = []
    for line in text.splitlines():
        # commands only: at the start of a line or of an inline code span, not in prose
        pattern = r"(?:^\s*|`)docker compose (exec|run|stop|logs|restart)((?: [^|&;>#`]*)?)"
        for m in re.finditer(pattern, line):
            words = [w for w in m.group(2).split() if not w.startswith("-")]
            # options that take a value: -v HOST:CONTAINER, --entrypoint CMD, -e X=Y, -u USER
            args = m.group(2).split()
            skip = set()
            for i, w in enumerate(args):
                if w in ("-v", "--volume", "--entrypoint", "-e", "--env", "-u", "--user", "-w"):
                    skip.add(args[i + 1] if i + 1 < len(args) else "")
            words = [w for w in words if w not in skip]
            if m.group(1) == "stop":
                named += words
            elif words:
                named.append(words[0])
    assert named, "no docker compose commands found"
    unknown = sorted({n for n in named if n not in services})
    assert unknown == [], f"README names services the compose file lacks: {unknown}"
