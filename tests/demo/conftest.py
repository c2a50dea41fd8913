"""One seeded database for the whole tests/demo package: seeding runs the matching engine and
the matchmaking story, so it is done once (twice, to check the second run adds nothing)."""

from __future__ import annotations

import pytest

from revive.demo.seed import seed_demo
from revive.extensions import db
from tests.conftest import _empty_tables


@pytest.fixture(scope="package")
def seeded(_app):
    """(first run, second run) summaries; the tables are emptied after the package."""
    with _app.app_context():
        try:
            first = seed_demo()
            second = seed_demo()
            yield first, second
        finally:
            _empty_tables()
            db.session.remove()


@pytest.fixture
def ctx(_app, seeded):
    """The seeded app, inside an app context."""
    with _app.app_context():
        yield _app
        db.session.remove()
