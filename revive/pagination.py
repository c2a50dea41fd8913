"""One page of a long list, and the count → clamp → limit/offset query every list runs.

The ``pagination`` macro of ``templates/_macros.html`` reads ``Page``'s attributes; the JSON
API's ``_meta`` (``revive.api.schema.paged``) does too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from revive.extensions import db


@dataclass
class Page:
    items: list[Any] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to link: first, last and ``size`` around the current one; None = gap."""
        shown = sorted(
            {1, self.pages, *range(max(1, self.page - size), min(self.pages, self.page + size) + 1)}
        )
        out: list[int | None] = []
        for n in shown:
            if out and n - (out[-1] or 0) > 1:
                out.append(None)
            out.append(n)
        return out


def page_of(requested: int, total: int, per_page: int) -> Page:
    """The page to show for ``requested`` (clamped to 1 … last) of ``total`` rows, no items."""
    pages = max(1, math.ceil(total / per_page)) if per_page else 1
    return Page([], total, min(max(1, requested), pages), per_page)


def paginate(
    stmt: sa.Select,
    count_stmt: sa.Select,
    requested: int,
    per_page: int,
    *,
    scalars: bool = True,
    unique: bool = False,
) -> Page:
    """Count with ``count_stmt``, clamp ``requested`` to the pages there are, and load that page
    of ``stmt`` (ORM objects with ``scalars``, row tuples otherwise; ``unique`` for joined
    eager loads of collections)."""
    page = page_of(requested, db.session.scalar(count_stmt) or 0, per_page)
    limited = stmt.limit(per_page).offset(page.offset)
    if scalars:
        result = db.session.scalars(limited)
        page.items = list(result.unique() if unique else result)
    else:
        page.items = list(db.session.execute(limited))
    return page


def streamed(stmt: sa.Select, *, batch: int = 1000, scalars: bool = False) -> Iterator[Any]:
    """Every row of ``stmt`` (its first column's values with ``scalars``), fetched ``batch`` at
    a time: an export of 100,000 rows never holds them all. ``yield_per`` opens a server-side
    cursor on PostgreSQL, so the result is closed however the iteration ends (a download
    abandoned half-way would otherwise leave the connection a dangling cursor)."""
    stmt = stmt.execution_options(yield_per=batch)
    result = db.session.scalars(stmt) if scalars else db.session.execute(stmt)
    try:
        yield from result
    finally:
        result.close()
