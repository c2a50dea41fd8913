"""Run the load test end to end: fresh PostgreSQL database, demo data plus volume, gunicorn,
two Celery workers on Redis, locust headless, a Markdown report; everything it started is
stopped at the end.

    .venv/bin/python -m loadtest.run                 # 50 users, 3 min, PG revive_load, Redis /13
    .venv/bin/python -m loadtest.run -t 60s --check  # exit 1 unless 0 failures, page p95 < 300 ms

Settings (flags, or the environment): DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/revive_load — the database is DROPPED and
re-created), LOADTEST_REDIS_URL (default redis://127.0.0.1:6379/13 — flushed), --users,
--spawn-rate, --duration, --patents (extra inventory on top of seed-demo), --web-workers,
--web-threads, --celery-workers, --out (report directory, default loadtest/results).

Web server on a 2-core machine: gunicorn with the gthread worker, 4 processes × 2 threads.
The CPU-bound part of a request (Jinja, SQLAlchemy) holds the GIL; a thread coming back from
PostgreSQL must wait for it while another thread of its process renders (the review queue
renders for ~50 ms), so few threads per process and a few more processes than cores keep that
wait short, while the second thread still covers a request's database waits. Measured on this
machine (3 minutes, 50 users): 4 × 2 gave pages p95 249 ms, 2 × 4 gave 430 ms (see
loadtest/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workers import worker_command

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/revive_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
PAGE_P95_LIMIT_MS = 300.0
PROTECTED_DATABASES = {"test", "postgres", "template0", "template1"}
DEMO_DOMAIN = "@demo.revive.example"


class LoadTestError(RuntimeError):
    """The stack could not be set up or did not come up."""


@dataclass
class Settings:
    database_url: str = DEFAULT_DB
    redis_url: str = DEFAULT_REDIS
    users: int = 50
    spawn_rate: float = 10
    duration: str = "3m"
    patents: int = 3000
    web_workers: int = 4
    web_threads: int = 2
    celery_workers: int = 2
    out: Path = ROOT / "loadtest" / "results"
    name: str = ""  # report file stem; default: the UTC date
    keep_workdir: bool = False


@dataclass
class Result:
    summary: dict[str, Any]
    report: Path
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def page_p95(self) -> float:
        return float(self.summary["categories"].get("page", {}).get("p95", 0.0))

    @property
    def failures(self) -> int:
        return int(self.summary["whole_run"]["failures"]) + int(self.checks.get("server_errors", 0))

    @property
    def passed(self) -> bool:
        return (
            self.failures == 0
            and self.page_p95 < PAGE_P95_LIMIT_MS
            and not self.checks.get("failed_runs")
        )


# ---------------------------------------------------------------------------- helpers


def _sqlalchemy_url(url: str) -> str:
    from revive.config import normalize_database_url

    return normalize_database_url(url)


@contextmanager
def _connect(url: str) -> Iterator[Any]:
    """A connection to the database of ``url`` on an engine of its own, disposed after."""
    import sqlalchemy as sa

    engine = sa.create_engine(_sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(_sqlalchemy_url(url)).database or ""


def recreate_database(url: str) -> None:
    """DROP (forcing out sessions) and CREATE the database named in ``url``."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    parsed = make_url(_sqlalchemy_url(url))
    name = parsed.database or ""
    if not parsed.drivername.startswith("postgresql"):
        raise LoadTestError(f"the load test needs PostgreSQL, not {parsed.drivername}")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name in PROTECTED_DATABASES:
        raise LoadTestError(f"refusing to drop database {name!r}: give the load test its own")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd: list[str], env: dict[str, str], log: Path, what: str) -> float:
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise LoadTestError(f"{what} failed (exit {proc.returncode}); see {log}:\n{_tail(log)}")
    return time.monotonic() - started


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class Processes:
    """Long-running children, each in its own process group; stopped in reverse order."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        with log.open("w", encoding="utf-8") as fh:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise LoadTestError(f"{name} exited with {proc.returncode}")

    def stop_all(self, timeout: float = 20.0) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


def _wait(predicate, timeout: float, what: str, procs: Processes) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        procs.check_alive()
        if time.monotonic() > deadline:
            raise LoadTestError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.3)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _celery_client(redis_url: str, data_dir: Path):
    from celery import Celery

    from revive.config import broker_settings

    client = Celery("revive-loadtest-client", set_as_current=False)
    client.config_from_object(broker_settings(data_dir, redis_url))
    return client


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ---------------------------------------------------------------------------- CPU accounting

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_stats() -> dict[int, tuple[int, float, str]]:
    """pid → (ppid, CPU seconds user+system, command line) for every process (Linux)."""
    out: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        out[int(entry.name)] = (int(fields[1]), cpu, cmd)
    return out


def cpu_snapshot(roots: dict[str, list[int]], database: str) -> dict[str, float]:
    """CPU seconds used so far by each named group of process trees, by the PostgreSQL
    backends serving ``database``, and by the whole machine (busy time from /proc/stat)."""
    if not Path("/proc/stat").exists():
        return {}
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    snap: dict[str, float] = {}
    for name, pids in roots.items():
        total, todo = 0.0, list(pids)
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo.extend(children.get(pid, []))
        snap[name] = total
    backend = f" {database} "
    snap["postgres"] = sum(
        cpu for _, cpu, cmd in stats.values() if cmd.startswith("postgres:") and backend in cmd
    )
    jiffies = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = jiffies[3] + (jiffies[4] if len(jiffies) > 4 else 0)
    snap["machine_busy"] = (sum(jiffies[:8]) - idle) / CLK_TCK
    return snap


def cpu_usage(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0.0), 1) for k in after}


# ---------------------------------------------------------------------------- database checks


def accounts(url: str) -> dict[str, list[str]]:
    """Active demo accounts by role (what the locust users log in with)."""
    import sqlalchemy as sa

    with _connect(url) as conn:
        rows = conn.execute(
            sa.text(
                "SELECT email, role FROM users WHERE email LIKE :domain AND is_active ORDER BY id"
            ),
            {"domain": f"%{DEMO_DOMAIN}"},
        ).all()
    out: dict[str, list[str]] = {}
    for email, role in rows:
        out.setdefault(role, []).append(email)
    return out


def counts(url: str) -> dict[str, Any]:
    import sqlalchemy as sa

    with _connect(url) as conn:

        def scalar(sql: str) -> int:
            return int(conn.execute(sa.text(sql)).scalar() or 0)

        def by(column: str, table: str) -> dict[str, int]:
            sql = f"SELECT {column}, count(*) FROM {table} GROUP BY {column}"
            return dict(conn.execute(sa.text(sql)).all())

        return {
            "patents": scalar("SELECT count(*) FROM patents"),
            "demands": scalar("SELECT count(*) FROM demands"),
            "deals": scalar("SELECT count(*) FROM deals"),
            "notifications": scalar("SELECT count(*) FROM notifications"),
            "match_runs": by("status", "match_runs"),
            "matches": by("state", "matches"),
        }


def wait_for_runs(url: str, timeout: float) -> dict[str, Any]:
    """Poll until no match run is queued or running (the workers caught up)."""
    deadline = time.monotonic() + timeout
    while True:
        now = counts(url)
        busy = sum(n for s, n in now["match_runs"].items() if s in ("queued", "running"))
        if not busy or time.monotonic() > deadline:
            return now
        time.sleep(0.5)


SERVER_ERROR = re.compile(r"Traceback \(most recent call last\)|\] ERROR[: ]|CRITICAL")


def server_errors(logs: list[Path]) -> list[str]:
    """Each server error in the logs, one line each; a traceback is named by the frame and the
    exception it ends with (its last lines), so a failed run says what broke."""
    found = []
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not SERVER_ERROR.search(line):
                continue
            entry = line.strip()[:200]
            if "Traceback" in line:
                end = i + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end]):
                    end += 1
                frame = next(
                    (
                        x.strip()
                        for x in reversed(lines[i + 1 : end])
                        if x.strip().startswith("File")
                    ),
                    "",
                )
                raised = lines[end].strip() if end < len(lines) else ""
                entry = f"{entry} … {frame[:200]} → {raised[:300]}"
            found.append(f"{log.name}: {entry}")
    return found


# ---------------------------------------------------------------------------- report


def _row(name: str, s: dict[str, Any]) -> str:
    if not s.get("count"):
        return f"| {name} | 0 | 0 | – | – | – | – |"
    return (
        f"| {name} | {s['count']} | {s.get('failures', 0)} | {s['p50']:.0f} | {s['p95']:.0f} "
        f"| {s['p99']:.0f} | {s['max']:.0f} |"
    )


def write_report(
    path: Path,
    settings: Settings,
    summary: dict[str, Any],
    checks: dict[str, Any],
    timings: dict[str, float],
    verdict: bool,
) -> None:
    cats = summary["categories"]
    whole = summary["whole_run"]
    page = cats.get("page", {})
    lines = [
        f"# Load test — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"**Result: {'PASS' if verdict else 'FAIL'}** — {whole['requests_total']} requests in "
        f"{whole['seconds']:.0f} s, {whole['failures']} failed, {checks['server_errors']} "
        f"server error(s) in the logs, {checks['failed_runs']} match run(s) failed or left "
        f"queued. Steady state (the last {summary['seconds']:.0f} s: from "
        f"{summary.get('warmup_seconds', 0):.0f} s after all {settings.users} users had logged "
        f"in, {summary['ramp_up_seconds']:.0f} s after the start): "
        f"{summary['rps']} req/s; pages p50 {page.get('p50', 0):.0f} ms, p95 "
        f"{page.get('p95', 0):.0f} ms, p99 {page.get('p99', 0):.0f} ms (limit: p95 < "
        f"{PAGE_P95_LIMIT_MS:.0f} ms, no failure).",
        "",
        "## Settings",
        "",
        f"- {settings.users} concurrent users (spawn rate {settings.spawn_rate}/s), duration "
        f"{settings.duration}, think time 1–3 s per user; locust {checks['locust_version']}, "
        "one headless process on the same machine.",
        "- Mix: university staff 20, inventors 3, enterprises 12, officers 9, dashboard "
        "readers 6 (weights; see loadtest/locustfile.py).",
        f"- Web: gunicorn gthread, {settings.web_workers} workers × {settings.web_threads} "
        f"threads, keep-alive 10 s; {settings.celery_workers} Celery worker processes "
        "(prefork, concurrency 1 each) on Redis; PostgreSQL "
        f"{checks['pg_version']}.",
        f"- Data: `revive seed-demo` + {settings.patents} extra patents "
        f"(loadtest/volume.py) → {checks['before']['patents']} patents, "
        f"{checks['before']['demands']} demands before the run.",
        f"- Machine: {os.cpu_count()} CPU ({_cpu_model()}), Python {platform.python_version()}; "
        f"load average before / after the run: {checks['load_before']} · "
        f"{checks['load_after']} (other jobs share this machine).",
        f"- Set-up: migrate {timings['upgrade']:.1f} s, seed-demo {timings['seed']:.1f} s, "
        f"extra volume {timings['volume']:.1f} s (set-up {timings['setup']:.1f} s in all); "
        f"web and workers ready {timings['start']:.1f} s after start.",
        "",
        "## Latency by category, steady state (ms)",
        "",
        "`page` = GET of an HTML page; `post` = form POST including the redirect it follows; "
        "`api` = JSON API; `auth` = login (scrypt password check, once per user).",
        "",
        "| category | requests | failures | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("page", "post", "api", "auth", "all"):
        if key in cats:
            lines.append(_row(key, cats[key]))
    lines += [
        "",
        "## Latency by category, whole run including ramp-up and logins (ms)",
        "",
        "| category | requests | failures | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ("page", "post", "api", "auth", "all"):
        if key in whole["categories"]:
            lines.append(_row(key, whole["categories"][key]))
    lines += [
        "",
        "## Latency by request, steady state (ms)",
        "",
        "| request | requests | failures | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in summary["requests"].items():
        lines.append(_row(name.replace("|", "\\|"), s))
    after, before = checks["after"], checks["before"]
    lines += [
        "",
        "## What the run did (database, before → after)",
        "",
        f"- Demands {before['demands']} → {after['demands']}; deals {before['deals']} → "
        f"{after['deals']}; notifications {before['notifications']} → {after['notifications']}.",
        f"- Match runs by status: {json.dumps(after['match_runs'], ensure_ascii=False)} "
        f"(every demand posted is matched by the workers; none may fail or stay queued).",
        f"- Matches by state: {json.dumps(after['matches'], ensure_ascii=False)}.",
    ]
    cpu = checks.get("cpu_seconds") or {}
    if cpu:
        served = whole["requests_total"] or 1
        ours = sum(cpu.get(k, 0.0) for k in ("web", "workers", "postgres", "locust"))
        busy = cpu.get("machine_busy", 0.0)
        lines += [
            "",
            "## CPU time during the run (seconds, from /proc)",
            "",
            f"- web (gunicorn) {cpu.get('web', 0):.1f} s = "
            f"{1000 * cpu.get('web', 0) / served:.1f} ms per request; Celery workers "
            f"{cpu.get('workers', 0):.1f} s; PostgreSQL backends of this database "
            f"{cpu.get('postgres', 0):.1f} s (approximate: backends that closed are missed); "
            f"locust {cpu.get('locust', 0):.1f} s.",
            f"- Whole machine busy {busy:.1f} s of {os.cpu_count() or 1} × "
            f"{whole['seconds']:.0f} s; this stack {ours:.1f} s "
            f"({100 * ours / busy if busy else 0:.0f}% of the busy time) — the rest went to "
            "other jobs on the machine.",
        ]
    if summary.get("page_p95_by_10s"):
        lines += [
            "",
            "Pages p95 per 10 s of the steady state (ms): "
            + ", ".join(f"{v:.0f}" for v in summary["page_p95_by_10s"])
            + ".",
        ]
    if summary.get("failure_samples"):
        lines += ["", "## Failures", ""]
        lines += [f"- `{k}`: {v}" for k, v in summary["failure_samples"].items()]
    if checks["server_error_lines"]:
        lines += ["", "## Errors in the server / worker logs", ""]
        lines += [f"- {line}" for line in checks["server_error_lines"][:20]]
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------- main


def gunicorn_command(settings: Settings, port: int) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(settings.web_workers),
        "--threads",
        str(settings.web_threads),
        "--worker-class",
        "gthread",
        # Longer than any user's think time (≤ 3 s): with gthread's default of 2 s the
        # server closes idle keep-alive connections just as a user sends on one, and
        # the user sees "connection reset by peer".
        "--keep-alive",
        "10",
        "--log-level",
        "warning",
        "revive.wsgi:app",
    ]


def locust_command(settings: Settings, host: str, csv_prefix: Path) -> list[str]:
    return [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "-u",
        str(settings.users),
        "-r",
        str(settings.spawn_rate),
        "-t",
        settings.duration,
        "--host",
        host,
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]


def start_stack(
    settings: Settings, env: dict[str, str], work: Path, procs: Processes
) -> tuple[str, list[Path]]:
    """Start gunicorn and the Celery workers and wait until all answer; returns the web
    server's base URL and the logs to search for errors afterwards."""
    port = free_port()
    web_log = work / "gunicorn.log"
    procs.start("gunicorn", gunicorn_command(settings, port), env, web_log)
    client = _celery_client(settings.redis_url, Path(env["REVIVE_DATA_DIR"]))
    logs, nodes = [web_log], []
    for i in range(1, settings.celery_workers + 1):
        node = f"revive-load-{i}-{secrets.token_hex(3)}@localhost"
        log = work / f"celery-{i}.log"
        procs.start(f"celery worker {i}", worker_command(node), env, log)
        nodes.append(node)
        logs.append(log)
    base = f"http://127.0.0.1:{port}"
    _wait(lambda: _http_ok(f"{base}/login"), 90, "gunicorn", procs)
    _wait(
        lambda: len(client.control.ping(destination=nodes, timeout=1.0)) == len(nodes),
        90,
        "celery workers",
        procs,
    )
    return base, logs


def run_locust(
    settings: Settings, env: dict[str, str], base: str, csv_prefix: Path, work: Path
) -> dict[str, Any]:
    """Run locust headless against ``base``; returns the summary the locustfile wrote."""
    accounts_file = work / "accounts.json"
    accounts_file.write_text(json.dumps(accounts(settings.database_url)), encoding="utf-8")
    summary_file = work / "summary.json"
    locust_log = work / "locust.log"
    with locust_log.open("w", encoding="utf-8") as fh:
        subprocess.run(
            locust_command(settings, base, csv_prefix),
            cwd=ROOT,
            env={
                **env,
                "LOADTEST_USERS": str(settings.users),
                "LOADTEST_SUMMARY": str(summary_file),
                "LOADTEST_ACCOUNTS": str(accounts_file),
            },
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,  # exit 1 on any failure; the summary says which
        )
    if not summary_file.exists():
        raise LoadTestError(f"locust wrote no summary; log:\n{_tail(locust_log)}")
    return json.loads(summary_file.read_text(encoding="utf-8"))


def run(settings: Settings) -> Result:
    out = Path(settings.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = settings.name or f"{datetime.now(UTC):%Y-%m-%d}"
    work = Path(tempfile.mkdtemp(prefix="revive-load-"))
    data_dir = work / "data"
    data_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REVIVE_DATA_DIR": str(data_dir),
        "CELERY_BROKER_URL": settings.redis_url,
        "SECRET_KEY": secrets.token_hex(32),
        "PYTHONUNBUFFERED": "1",
        # Six simulated staff share each of the two demo enterprise accounts and post for
        # minutes on end: far above one company's hourly caps, which are not what is measured.
        "REVIVE_DEMANDS_PER_HOUR": "100000",
        "REVIVE_INTENTS_PER_HOUR": "100000",
        # This checkout's code first, even when the venv's editable install points elsewhere.
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    }
    env.pop("REDIS_URL", None)
    timings: dict[str, float] = {}
    procs = Processes()
    try:
        recreate_database(settings.database_url)
        import redis

        redis.Redis.from_url(settings.redis_url).flushdb()  # no messages from an earlier run
        # `revive db upgrade`, `revive seed-demo` and the extra volume, in one process (the
        # same functions the commands call; one app start instead of three).
        steps = work / "timings.json"
        timings["setup"] = _run(
            [
                sys.executable,
                "-m",
                "loadtest.volume",
                "--setup",
                "--patents",
                str(settings.patents),
                "--timings",
                str(steps),
            ],
            env,
            work / "setup.log",
            "migrate, seed-demo and extra volume",
        )
        timings.update(json.loads(steps.read_text(encoding="utf-8")))

        started = time.monotonic()
        base, logs = start_stack(settings, env, work, procs)
        timings["start"] = time.monotonic() - started

        before = counts(settings.database_url)
        load_before = _load_average()
        roots = {
            "web": [p.pid for n, p in procs.procs if n == "gunicorn"],
            "workers": [p.pid for n, p in procs.procs if n.startswith("celery")],
        }
        db_name = database_name(settings.database_url)
        cpu_before = cpu_snapshot(roots, db_name)
        locust_cpu_before = _children_cpu()
        summary = run_locust(settings, env, base, out / f"{stem}-locust", work)
        load_after = _load_average()
        cpu = cpu_usage(cpu_before, cpu_snapshot(roots, db_name)) if cpu_before else {}
        if cpu:
            cpu["locust"] = round(_children_cpu() - locust_cpu_before, 1)
        procs.check_alive()
        after = wait_for_runs(settings.database_url, timeout=30)
        errors = server_errors(logs)
        failed_runs = after["match_runs"].get("failed", 0)
        stuck = sum(n for s, n in after["match_runs"].items() if s in ("queued", "running"))
        checks = {
            "before": before,
            "after": after,
            "failed_runs": failed_runs + stuck,
            "server_errors": len(errors),
            "server_error_lines": errors,
            "cpu_seconds": cpu,
            "load_before": load_before,
            "load_after": load_after,
            "locust_version": importlib.metadata.version("locust"),
            "pg_version": _pg_version(settings.database_url),
        }
        result = Result(summary=summary, report=out / f"{stem}.md", checks=checks)
        write_report(result.report, settings, summary, checks, timings, result.passed)
        (out / f"{stem}.json").write_text(
            json.dumps(
                {"summary": summary, "checks": checks, "timings": timings},
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        return result
    finally:
        procs.stop_all()
        if settings.keep_workdir:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def _pg_version(url: str) -> str:
    import sqlalchemy as sa

    with _connect(url) as conn:
        return str(conn.execute(sa.text("SHOW server_version")).scalar()).split()[0]


def parse_args(argv: list[str] | None = None) -> tuple[Settings, bool]:
    d = Settings()  # the defaults
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or d.database_url)
    p.add_argument("--redis-url", default=os.environ.get("LOADTEST_REDIS_URL") or d.redis_url)
    p.add_argument("-u", "--users", type=int, default=d.users)
    p.add_argument("-r", "--spawn-rate", type=float, default=d.spawn_rate)
    p.add_argument("-t", "--duration", default=d.duration)
    p.add_argument("--patents", type=int, default=d.patents, help="extra patents beyond seed-demo")
    p.add_argument("--web-workers", type=int, default=d.web_workers)
    p.add_argument("--web-threads", type=int, default=d.web_threads)
    p.add_argument("--celery-workers", type=int, default=d.celery_workers)
    p.add_argument("--out", type=Path, default=d.out)
    p.add_argument("--name", default=d.name, help="report file stem (default: the UTC date)")
    p.add_argument("--keep-workdir", action="store_true", help="keep logs (for debugging)")
    p.add_argument("--check", action="store_true", help="exit 1 unless the run passes")
    a = p.parse_args(argv)
    settings = Settings(**{f.name: getattr(a, f.name) for f in dataclasses.fields(Settings)})
    return settings, a.check


def main(argv: list[str] | None = None) -> int:
    settings, check = parse_args(argv)
    result = run(settings)
    print(result.report.read_text(encoding="utf-8"))
    return 1 if check and not result.passed else 0


if __name__ == "__main__":
    sys.exit(main())
