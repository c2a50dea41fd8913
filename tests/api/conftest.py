"""Compatibility shim: hypothesis-jsonschema 0.23.1 (the latest, used by schemathesis 3.x)
drives ``hypothesis.internal.conjecture.utils.many`` with the old ``while elements.more():``
protocol, which Hypothesis ≥ 6.15x replaced by ``with many(...) as e: for _ in e:``. Without
this every object schema fails to generate ("'many' object has no attribute 'more'").
The shim drives the new iterator from the old calls; it is removed when the pins agree."""

from __future__ import annotations

import types

import pytest


class _OldStyleMany:
    def __init__(self, data, min_size, max_size, average_size, **kw) -> None:
        from hypothesis.internal.conjecture import utils as cu

        self._many = cu.many(data, min_size, max_size, average_size, **kw).__enter__()
        self._iter = iter(self._many)
        self.reject = self._many.reject

    def more(self) -> bool:
        """Called until it answers False (then never again): closes the ``with`` at the end."""
        try:
            next(self._iter)
        except StopIteration:
            self._many.__exit__(None, None, None)
            return False
        return True


@pytest.fixture(scope="session", autouse=True)
def _many_compat():
    """Imported lazily: Hypothesis warns about storage access during conftest import."""
    from hypothesis.internal.conjecture import utils as cu
    from hypothesis_jsonschema import _from_schema

    if not hasattr(cu.many, "more"):
        _from_schema.cu = types.SimpleNamespace(many=_OldStyleMany)
