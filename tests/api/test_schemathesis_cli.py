"""The `schemathesis` command line, as shipped, against a live `revive run` server.

The server gets its own SQLite file with both sides' objects of every kind (tests/api/helpers
seed), an officer logs in through the login form, and `schemathesis run` reads the document
from /api/v1/openapi.json and calls every operation with that session (cookie and CSRF token
given to the document's security schemes by tests/api/schemathesis.toml). The four checks of
test_openapi_schemathesis must pass; the HAR report shows the calls reached rows and no answer
was a 5xx. test_openapi_schemathesis covers the API in depth; this proves the tool runs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from revive.config import PROJECT_ROOT

BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PASSWORD = "Passw0rd!"  # tests.factories
# Run in a subprocess against the server's database: tables, then the API test world.
SEED = """
from revive import create_app
from revive.accounts.models import Role
from revive.extensions import db
from tests.api.helpers import seed

app = create_app()
with app.app_context():
    db.create_all()
    world, _ = seed()
    print(world.users[Role.OFFICER].email)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(base URL, the officer's email, server log) of a `revive run` on a free port."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND"}
    }
    env.update(REVIVE_DATA_DIR=str(tmp_path / "data"), SECRET_KEY="schemathesis-cli-test")
    seeded = subprocess.run(
        [sys.executable, "-c", SEED],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    email = seeded.stdout.strip().splitlines()[-1]
    port = _free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [str(BIN / "revive"), "run", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"revive run did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base, email, log_path
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _login(base: str, email: str) -> tuple[str, str]:
    """Sign in through the form, as a browser does: the session cookie and the CSRF token."""
    browser = requests.Session()
    form = browser.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    assert token, "no CSRF field on the login form"
    response = browser.post(
        f"{base}/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    page = browser.get(f"{base}/notifications", timeout=10).text
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert meta, "no CSRF token on a page"
    return browser.cookies["session"], meta.group(1)


def test_schemathesis_cli_runs_against_a_live_server(live_server, tmp_path):
    base, email, server_log = live_server
    session, csrf = _login(base, email)
    junit, har = tmp_path / "junit.xml", tmp_path / "calls.har.json"
    env = {**os.environ, "REVIVE_SESSION": session, "REVIVE_CSRF": csrf}
    command = [
        str(BIN / "schemathesis"),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/v1/openapi.json",
        f"--checks={CHECKS}",
        # The coverage phase (~3,500 boundary and invalid inputs, ~20 s) is left to a full
        # run (README); examples, fuzzing (valid and invalid data) and stateful stay.
        "--phases=examples,fuzzing,stateful",
        "--max-examples=10",
        "--seed=1",
        "--workers=2",
        "--report=junit,har",
        f"--report-junit-path={junit}",
        f"--report-har-path={har}",
    ]
    started = time.monotonic()
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    elapsed = time.monotonic() - started
    output = run.stdout + run.stderr
    print(output[-1500:], f"\n`schemathesis run`: {elapsed:.1f} s")
    assert run.returncode == 0, (
        output[-6000:] + "\n--- server ---\n" + server_log.read_text()[-2000:]
    )

    document = requests.get(f"{base}/api/v1/openapi.json", timeout=10).json()
    operations = {f"{m.upper()} {path}" for path, item in document["paths"].items() for m in item}
    suite = ET.parse(junit).getroot()
    tested = {case.get("name") for case in suite.iter("testcase")}
    # Loaded over HTTP, schemathesis 4 leaves out the operation serving the document.
    assert operations - tested == {"GET /api/v1/openapi.json"}
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    statuses = [
        entry["response"]["status"] for entry in json.loads(har.read_text())["log"]["entries"]
    ]
    assert statuses and max(statuses) < 500
    assert sum(1 for s in statuses if 200 <= s < 300) >= len(operations), "hardly reached a row"
