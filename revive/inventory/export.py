"""Export the (filtered) inventory as .xlsx or .csv that re-imports cleanly.

The header row is the Chinese label of every field in ``fields.FIELDS`` order (so the import's
``match_header`` maps each column back), values go through ``fields.display_value`` (the text
the importer parses); the file itself is written and streamed by ``common.downloads``
(every cell through ``common.spreadsheets.safe_cell``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from revive.common.spreadsheets import csv_chunks
from revive.inventory.fields import FIELDS, display_value


def header() -> list[str]:
    return [f.label for f in FIELDS]


_KEYS = tuple(f.key for f in FIELDS)


def row_values(row: Any) -> list[str]:
    """One exported row: display text per field. ``row`` has model attributes + college_name."""
    return [
        (getattr(row, "college_name", None) or "")
        if key == "college"
        else display_value(key, getattr(row, key, None))
        for key in _KEYS
    ]


def iter_csv(rows: Iterable[Any]) -> Iterator[bytes]:
    """The patent rows of ``queries.export_rows`` as streamed CSV."""
    return csv_chunks(header(), map(row_values, rows))
