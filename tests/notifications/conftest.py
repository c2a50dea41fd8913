from __future__ import annotations

import pytest

from tests.deals.helpers import World, make_world


@pytest.fixture(autouse=True)
def _no_broker(enqueued):
    """Receivers (matching) and e-mail may enqueue work: never talk to a broker here."""
    return enqueued


@pytest.fixture
def world(app) -> World:
    return make_world()
