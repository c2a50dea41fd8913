"""Account test fixtures: a client with CSRF protection switched on."""

from __future__ import annotations

import pytest


@pytest.fixture
def csrf_client(app):
    """A test client of the session app with WTF_CSRF_ENABLED=True for this test only."""
    previous = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield app.test_client()
    finally:
        app.config["WTF_CSRF_ENABLED"] = previous
