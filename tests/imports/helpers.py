"""Build spreadsheets in tmp_path for import tests (no binary fixtures in the repository)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from revive.inventory.appno import make_application_no

HEADER = ["申请号", "专利名称", "所属学院", "技术成熟度", "申请日"]


def appno(serial: int, year: int = 2019, kind: int = 1) -> str:
    return make_application_no(year, kind, serial)


def row(
    serial: int,
    title: str | None = None,
    college: str = "材料学院",
    trl: str = "5",
    filing: str = "2019-03-01",
) -> list[str]:
    return [appno(serial), title or f"一种复合材料的制备方法{serial}", college, trl, filing]


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def write_csv(
    path: Path,
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> Path:
    path.write_bytes(csv_bytes(rows, header, encoding, delimiter))
    return path


def write_xlsx_file(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] | None = HEADER
) -> Path:
    wb = Workbook()
    ws = wb.active
    if header is not None:
        ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path
