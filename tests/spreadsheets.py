"""Reading downloaded spreadsheets in tests."""

from __future__ import annotations

import io
import re
import zipfile

_FORMULA = re.compile(r'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f[ >/]')


def formula_cells(xlsx: bytes) -> list[str]:
    """The cells of every sheet of a .xlsx that hold a formula (a <f> element): a formula
    injection would show here; text written as text (an inline string) does not."""
    found = []
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                found += _FORMULA.findall(z.read(name).decode("utf-8"))
    return found
