"""Browser harness: Playwright drives Debian's Chromium against the real app, with a real worker.

What runs for each test (a fresh set, about 2 s to start, so no test sees another's rows or
background work, and dashboard figures start from zero):

- **Web**: an app instance of its own (``create_app``, CSRF on, configured from the environment
  like ``make run``) served by werkzeug's threaded ``make_server`` in a daemon thread on a free
  loopback port. The shared ``app`` fixture of tests/conftest.py is not reused: its in-memory
  SQLite sits behind a StaticPool, i.e. one connection shared by every thread, so concurrent
  requests (a page and its polling script) would interleave their transactions; and its tables
  are emptied after each test while a worker may still be writing.
- **Database**: a temp-file SQLite database (WAL + busy timeout, set by revive.app), tables made
  with ``db.create_all()`` as in the rest of the suite. Always SQLite, also when
  TEST_DATABASE_URL is set: that database belongs to the session ``_app`` fixture. The Makefile
  runs the browser tests on the SQLite pass only.
- **Background work**: a real ``celery -A workers.app worker`` process (prefork, one child) on
  kombu's filesystem broker in the same temp data dir, on the same SQLite file: the embedded mode
  of ``make run``. Matching (tokenize → index build → match run) really happens in the worker;
  the tests wait for its results through the UI. Concurrency 1 keeps SQLite writers few (web +
  one task at a time); the services are written for more, the integration tests cover that on
  PostgreSQL + Redis.

Shared by all tests of the process:

- **Browser**: Chromium from the Debian package at /usr/bin/chromium (installed by
  scripts/install-browser.sh, which ``make test`` runs), launched headless by Playwright with
  ``executable_path``; no Playwright-downloaded browser. Missing Chromium or the playwright
  package: a skip with the reason outside CI, a failure in CI.

Each person in a scenario gets their own browser context (own cookies), logs in through the
login form, and every page they open is watched for console errors, uncaught exceptions and CSP
violations; an ERROR logged by the web app or the worker during a test fails it as well.
Screenshots of each step go to /tmp/shots/<test>/ (REVIVE_SHOTS_DIR overrides it), plus one of
every open page when a test fails; they are for people to look at, the tests do not read them.

The live app lives in the pytest process, so what ``create_app`` changes process-wide is given
back: the environment it read its configuration from, and Celery's default/current app.

Seed data (users, organizations, patents) is written directly with tests/factories.py inside
the live app's context; every step a person takes in a scenario goes through the pages.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.factories import PASSWORD
from tests.worker_process import log_tail, start_worker

CHROMIUM = Path(os.environ.get("REVIVE_CHROMIUM", "/usr/bin/chromium"))
SHOTS_DIR = Path(os.environ.get("REVIVE_SHOTS_DIR", "/tmp/shots"))
WORKER_READY_TIMEOUT = 60  # seconds for "<node>@localhost ready." in the worker log
WORKER_STOP_TIMEOUT = 20
DEFAULT_TIMEOUT_MS = 15_000  # Playwright's wait for an element, a navigation, an expect()
# Environment the web app and the worker read their configuration from (revive.config).
_STOPPING: list[subprocess.Popen] = []  # workers asked to stop, reaped at exit
_CONFIG_VARS = ("DATABASE_URL", "REVIVE_DATA_DIR", "SECRET_KEY", "CELERY_BROKER_URL", "REDIS_URL")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _celery_globals_kept() -> Iterator[None]:
    """create_app makes its Celery app the process's default and current one
    (``celery_init_app``), and shared tasks called directly run on the current one: in the
    app context of the app that made it. Give both back, so tests that run after these (on
    the shared ``app`` fixture) do not call tasks against the live server's database."""
    from celery import _state

    saved_default, saved_current = _state.default_app, _state._tls.current_app
    try:
        yield
    finally:
        _state.set_default_app(saved_default)
        _state._set_current_app(saved_current)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Keep each phase's report on the item (``rep_call``), so fixtures can see a failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# ---------------------------------------------------------------------------- web + worker


class _ErrorLog(logging.Handler):
    """Collects ERROR records of the web app (e.g. revive.errors' "Unhandled error on …")."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class LiveServer:
    app: Any
    url: str
    data_dir: Path
    worker_log: Path
    errors: _ErrorLog = field(default_factory=_ErrorLog)

    def worker_log_tail(self, lines: int = 60) -> str:
        return log_tail(self.worker_log, lines)


def _start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    node = f"revive-browser-{os.getpid()}@localhost"
    return start_worker(
        env,
        log_path,
        node=node,
        concurrency=1,
        # the filesystem transport has no broadcast ping: wait for the worker's own log line
        ready=lambda: bool(re.search(r"@localhost ready\.", log_path.read_text(errors="replace"))),
        timeout=WORKER_READY_TIMEOUT,
        extra_args=("--without-heartbeat",),
    )


def _stop_worker(proc: subprocess.Popen) -> None:
    """Ask for a warm shutdown and move on: it takes seconds (the filesystem transport's
    polling), and the worker's data dir is its own, so it may finish while the next test runs.
    Workers still running when pytest exits are killed then."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _STOPPING.append(proc)


@atexit.register
def _reap_workers() -> None:
    deadline = time.monotonic() + WORKER_STOP_TIMEOUT
    for proc in _STOPPING:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own process group: the child goes too
            proc.wait()


# Other folders may import these fixtures into their conftest (tests/review does); to pytest each
# import is a fixture definition of its own, so a session fixture would start once per folder,
# and a second Playwright refuses to start while the first runs (its sync API owns the event
# loop). The browser is therefore shared per process, counting its users.
_SHARED: dict[str, tuple[Any, contextlib.ExitStack]] = {}
_USERS: dict[str, int] = {}


@contextlib.contextmanager
def _shared(name: str, start: Any) -> Iterator[Any]:
    """``start()`` (a context manager) entered once per process; left by its last user."""
    if name not in _SHARED:
        stack = contextlib.ExitStack()
        _SHARED[name] = (stack.enter_context(start()), stack)
    _USERS[name] = _USERS.get(name, 0) + 1
    try:
        yield _SHARED[name][0]
    finally:
        _USERS[name] -= 1
        if not _USERS[name]:
            _SHARED.pop(name)[1].close()


def _dispose_engine(app: Any) -> None:
    from revive.extensions import db

    with app.app_context():
        db.engine.dispose()  # close pooled connections to the SQLite file


@contextlib.contextmanager
def _serve(data_dir: Path) -> Iterator[LiveServer]:
    from werkzeug.serving import make_server

    from revive import create_app
    from revive.extensions import db

    env_values = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'revive.db'}",
        "REVIVE_DATA_DIR": str(data_dir),
        "SECRET_KEY": "browser-test-secret",
        "CELERY_BROKER_URL": None,  # kombu's filesystem broker under REVIVE_DATA_DIR/broker
        "REDIS_URL": None,
    }
    with _environ(**env_values), _celery_globals_kept():
        app = create_app()  # configured from the environment, exactly like the worker
    assert app.config["CELERY"]["broker_url"] == "filesystem://"
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(_dispose_engine, app)
        with app.app_context():
            db.create_all()

        worker_env = {k: v for k, v in os.environ.items() if k not in _CONFIG_VARS}
        worker_env.update({k: v for k, v in env_values.items() if v is not None})
        worker_log = data_dir / "celery-worker.log"
        cleanup.callback(_stop_worker, _start_worker(worker_env, worker_log))

        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        cleanup.callback(thread.join, 10)
        cleanup.callback(server.shutdown)
        live = LiveServer(
            app=app,
            url=f"http://127.0.0.1:{server.server_port}",
            data_dir=data_dir,
            worker_log=worker_log,
        )
        live.errors.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        revive_logger = logging.getLogger("revive")
        revive_logger.addHandler(live.errors)
        cleanup.callback(revive_logger.removeHandler, live.errors)
        yield live


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app on http://127.0.0.1:<port> + a Celery worker, sharing a temp SQLite file: a
    fresh one for every test (about 2 s), so no test sees another's rows or background work."""
    with _serve(tmp_path) as live:
        yield live


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server for one test: fails the test when the web app logged an error or a
    task failed in the worker during it."""
    live_server.errors.records.clear()
    log_start = live_server.worker_log.stat().st_size
    yield live_server
    problems = list(live_server.errors.records)
    with live_server.worker_log.open(encoding="utf-8", errors="replace") as log:
        log.seek(log_start)
        problems += [line for line in log.read().splitlines() if re.search(r": ERROR/", line)]
    if problems:
        pytest.fail(
            "the web app or the worker logged errors:\n"
            + "\n".join(problems)
            + f"\n--- worker log tail ---\n{live_server.worker_log_tail()}"
        )


@pytest.fixture
def seed(live_server: LiveServer) -> Iterator[None]:
    """An app context of the live app, for writing seed rows with tests/factories.py."""
    from revive.extensions import db

    with live_server.app.app_context():
        yield
        db.session.remove()


# ---------------------------------------------------------------------------- browser


@contextlib.contextmanager
def _launch() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)  # a loaded CI machine is slower than 5 s
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(
            f"Chromium not found at {CHROMIUM} (run scripts/install-browser.sh: "
            "Debian packages chromium and chromium-driver)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e '.[test]')")
    with _shared("browser", _launch) as shared:
        yield shared


# Chromium reports a CSP block as a console error ("Refused to … because it violates the
# following Content Security Policy directive …"); the listener below reports it again with
# the directive, so a violation is caught even if the console wording changes.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


class Person:
    """One person at their own browser (own cookies): log in, open pages, take screenshots."""

    def __init__(self, context: Any, base_url: str, label: str, shots: Path) -> None:
        self.context = context
        self.base_url = base_url
        self.label = label
        self._shots = shots
        self.problems: list[str] = []  # console errors, page errors, CSP violations
        self.page = self._watch(context.new_page())

    def _watch(self, page: Any) -> Any:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"{self.label}: page error: {exc}"))
        page.on("dialog", lambda dialog: dialog.accept())  # data-confirm prompts: say yes
        return page

    def _on_console(self, msg: Any) -> None:
        text = msg.text
        where = msg.location.get("url", "") if msg.location else ""
        if where.endswith("/favicon.ico"):
            return  # the browser's own request; the app serves no favicon (not a page error)
        if msg.type == "error" or "Content Security Policy" in text:
            self.problems.append(f"{self.label}: console {msg.type}: {text} ({where})")

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.base_url + path)
        return response

    def login(self, email: str, password: str = PASSWORD) -> None:
        """Through the login form, as a person would."""
        self.goto("/login")
        self.page.get_by_label("邮箱").fill(email)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_load_state()
        if "/login" in self.page.url:
            raise AssertionError(f"{self.label} could not log in as {email}: {self.page.url}")

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)

    def shot(self, name: str) -> Path:
        self._shots.mkdir(parents=True, exist_ok=True)
        index = len(list(self._shots.glob("*.png"))) + 1
        target = self._shots / f"{index:02d}-{self.label}-{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target


@pytest.fixture
def people(browser: Any, live: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``people("officer")`` → a Person with a fresh browser context. At the end of the test,
    any console error, uncaught page error or CSP violation on any page fails the test."""
    shots = SHOTS_DIR / re.sub(r"[^\w.-]+", "_", request.node.name)
    if shots.exists():
        for old in shots.glob("*.png"):
            old.unlink()
    opened: list[Person] = []

    def open_person(label: str) -> Person:
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(_CSP_LISTENER)
        person = Person(context, live.url, label, shots)
        opened.append(person)
        return person

    yield open_person
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for person in opened:  # what each person saw when the test failed
            with contextlib.suppress(Exception):
                person.shot("failed")
    problems = [p for person in opened for p in person.problems]
    for person in opened:
        person.context.close()
    if problems:
        pytest.fail("browser console reported problems:\n" + "\n".join(problems))
