"""The two passes ``make test`` runs side by side in CI (tests/conftest.py) leave no test out."""

from __future__ import annotations

import pytest

from tests.conftest import scope_keeps


class _Item:
    def __init__(self, nodeid: str, *markers: str) -> None:
        self.nodeid = nodeid
        self._markers = set(markers)

    def get_closest_marker(self, name: str):
        return name if name in self._markers else None


@pytest.mark.parametrize(
    ("nodeid", "markers", "on_postgresql", "on_sqlite"),
    [
        # no database: once, in the PostgreSQL pass
        ("tests/engine/test_kernels.py::test_top_k", (), True, False),
        ("tests/benchmark/test_cli.py::test_bench_smoke", (), True, False),
        # SQL that can behave differently: both
        ("tests/benchmark/test_scale_seed.py::test_loads", (), True, True),
        ("tests/matching/test_services.py::test_run", (), True, True),
        ("tests/engine/test_x.py::test_y", ("dialect",), True, True),
        ("tests/integration/test_matching.py::test_worker", ("integration",), True, True),
        # servers on their own SQLite file use no test database: the PostgreSQL pass
        ("tests/test_run_script.py::test_ctrl_c", (), True, False),
        ("tests/api/test_schemathesis_cli.py::test_cli", (), True, False),
        # pages, permissions: the SQLite pass
        ("tests/review/test_views.py::test_queue", (), False, True),
    ],
)
def test_each_test_runs_where_it_means_something(nodeid, markers, on_postgresql, on_sqlite):
    item = _Item(nodeid, *markers)
    assert scope_keeps(item, "dialect") is on_postgresql
    assert scope_keeps(item, "sqlite") is on_sqlite
    assert scope_keeps(item, None) is True


def test_every_collected_test_is_run_by_one_of_the_two_passes(request):
    items = request.session.items
    assert items
    left_out = [
        i.nodeid for i in items if not (scope_keeps(i, "dialect") or scope_keeps(i, "sqlite"))
    ]
    assert left_out == []
