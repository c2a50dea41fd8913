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


def test_the_readmes_commands_without_docker_are_the_entrypoints():
    """An operator without Docker found the web and beat commands only in the container's
    entry point: the README now gives them, and they must stay the entry point's."""
    text = (ROOT / "README.md").read_text("utf-8")
    entry = (ROOT / "docker" / "entrypoint.sh").read_text("utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.startswith(("gunicorn ", "celery ")):
            program, words = line.split()[0], line.split("#")[0].split()
            assert program in entry
            for w in words:
                if w.startswith(("python:", "revive.", "workers.")) or w in ("worker", "beat"):
                    assert w in entry, (w, line)
    assert "gunicorn -c python:revive.gunicorn_conf" in text
    assert "celery -A workers.app beat" in text


def test_the_readmes_deployment_without_docker_keeps_the_processes_up():
    """An operator's hand deployment from the README: gunicorn logged no requests (the entry
    point's --access-logfile - was missing), two workers on one host shared a node name, a
    dead worker stayed dead, and each cold worker compiled the kernels for a minute or more
    before it was ready. Both halves give each of these."""
    text = (ROOT / "README.md").read_text("utf-8")
    makefile = (ROOT / "Makefile").read_text("utf-8")
    warm = 'python -c "from revive.engine.preload import warm; warm()"'
    assert warm in makefile  # the README's step is the Makefile's (and the Dockerfile's)
    for half in text.split("\n## English\n"):
        gunicorn = [line for line in half.splitlines() if "gunicorn -c python:" in line]
        assert gunicorn and all("--access-logfile -" in line for line in gunicorn), gunicorn
        assert warm in half
        assert "-n worker1@%h" in half and "-n worker%i@%%h" in half  # %%: systemd's escape
        assert "Restart=always" in half and "revive-beat.service" in half
        assert "pg_dump -h" in half and "pg_restore -h" in half
