"""A corpus of hostile and broken spreadsheets for every import kind, made from code.

Each ``Case`` is a file (upload name + bytes) and what the import must answer:

- ``refused_at="upload"``: ``create_*_import`` raises ValidationFailed with ``message`` (the
  file is never stored as a job);
- ``refused_at="validate"``: the job ends FAILED with ``message`` in ``job.error``;
- ``refused_at=None``: the file is read; the rows in ``errors`` — (line, column, message part) —
  are reported and exactly the records whose keys are in ``committed`` end up in the database.

``config`` lowers app limits for a case (row limit, upload size) instead of writing huge files.

Write the corpus to a folder to try the files in the UI::

    python -m tests.imports.hostile.corpus /tmp/hostile
"""

from __future__ import annotations

import codecs
import csv
import io
import random
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

from revive.accounts import uscc
from revive.inventory.appno import make_application_no

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
COLLEGE = "材料学院"  # the college the patent tests register
FUTURE = (date.today() + timedelta(days=90)).isoformat()


@dataclass(frozen=True)
class Case:
    name: str  # short id, also the file name in the written corpus
    upload_name: str  # the name the browser sends
    data: bytes
    message: str | None = None  # file-level answer (Chinese), for refused cases
    refused_at: str | None = "validate"  # "upload" | "validate" | None (rows are read)
    errors: tuple[tuple[int, str | None, str], ...] = ()  # (line, column, message part)
    committed: tuple[str, ...] = ()  # record keys in the database afterwards
    config: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what the case is about, for people trying the files


@dataclass(frozen=True)
class Profile:
    """What differs between import kinds: the header, a valid row, key and text columns."""

    kind: str
    header: tuple[str, ...]
    valid: Callable[[int], list[Any]]
    key: Callable[[int], str]  # the record key of valid(i) as stored
    key_col: int  # index of the key column (申请号 / 需求名称)
    text_col: int  # a free-text column with a length limit
    text_label: str
    text_max: int
    long_col: int  # a long free-text column (摘要 / 需求描述)
    long_label: str
    long_max: int
    required_missing: tuple[int, str]  # (column index to drop, the message part)
    clash: tuple[str, str]  # two headers meaning one field (header[?], alias)


# ---------------------------------------------------------------------------- profiles


def appno(serial: int) -> str:
    return make_application_no(2019, 1, serial)


def credit_code(n: int) -> str:
    first17 = f"91320214{n:09d}"
    return first17 + uscc.check_character(first17)


PATENT_HEADER = ("申请号", "专利名称", "所属学院", "技术成熟度", "申请日", "摘要")
PATENTS = Profile(
    kind="patents",
    header=PATENT_HEADER,
    valid=lambda i: [appno(i), f"一种复合材料的制备方法{i}", COLLEGE, "5", "2019-03-01", "摘要"],
    key=appno,
    key_col=0,
    text_col=1,
    text_label="专利名称",
    text_max=500,
    long_col=5,
    long_label="摘要",
    long_max=10_000,
    required_missing=(0, "找不到“申请号”列"),
    clash=("申请号", "专利号"),
)

DEMAND_HEADER = ("企业名称", "统一社会信用代码", "需求名称", "需求描述", "需求类型", "截止日期")
ENTERPRISE = "无锡智农装备科技有限公司"
DEMANDS = Profile(
    kind="demands",
    header=DEMAND_HEADER,
    valid=lambda i: [
        ENTERPRISE,
        credit_code(1),
        f"盐碱地水稻稳产增产技术{i}",
        "盐碱地亩产低，想找耐盐碱品种",
        "技术难题攻关",
        FUTURE,
    ],
    key=lambda i: f"盐碱地水稻稳产增产技术{i}",
    key_col=2,
    text_col=2,
    text_label="需求名称",
    text_max=300,
    long_col=3,
    long_label="需求描述",
    long_max=10_000,
    required_missing=(1, "找不到“统一社会信用代码”列"),
    clash=("企业名称", "企业"),
)


def institution_code(n: int) -> str:
    first17 = f"12150000{n:09d}"
    return first17 + uscc.check_character(first17)


INSTITUTION_HEADER = ("单位名称", "统一社会信用代码", "所在地区", "单位类型")
INSTITUTIONS = Profile(
    kind="institutions",
    header=INSTITUTION_HEADER,
    valid=lambda i: [f"北疆第{i}大学", institution_code(i), "内蒙古自治区呼和浩特市", "高校"],
    key=institution_code,
    key_col=1,
    text_col=2,
    text_label="所在地区",
    text_max=100,
    long_col=0,
    long_label="单位名称",
    long_max=200,
    required_missing=(1, "找不到“统一社会信用代码”列"),
    clash=("单位名称", "学校名称"),
)

PROFILES = {p.kind: p for p in (PATENTS, DEMANDS, INSTITUTIONS)}


# ---------------------------------------------------------------------------- file builders


def csv_bytes(rows: Sequence[Sequence[Any]], encoding: str = "utf-8", **fmt: Any) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator=fmt.pop("lineterminator", "\r\n"), **fmt).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(
    rows: Sequence[Sequence[Any]],
    *,
    sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]] = (),
    merge: str | None = None,
) -> bytes:
    """An .xlsx written by openpyxl: ``rows`` on the first sheet, then ``sheets``."""
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(list(r))
    if merge:
        ws.merge_cells(merge)
    for title, more in sheets:
        extra = wb.create_sheet(title)
        for r in more:
            extra.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        name = chr(65 + rem) + name
    return name


def cell_xml(ref: str, value: Any) -> str:
    """A <c> element. ``value``: str (inline string), int/float, or a raw "<c…>" string whose
    ``{ref}`` is filled in (formulas, error values)."""
    if isinstance(value, str) and value.startswith("<c "):
        return value.format(ref=ref)
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>'


def sheet_xml(rows: Sequence[Sequence[Any]], *, prolog: str = "", padding: int = 0) -> bytes:
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        prolog,
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
    ]
    for n, r in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{_col(i)}{n}", v) for i, v in enumerate(r) if v is not None)
        out.append(f'<row r="{n}">{cells}</row>')
    out.append("</sheetData></worksheet>")
    if padding:  # whitespace inside the document: legal XML, compresses ~1000:1
        out.insert(3, " " * padding)
    return "".join(out).encode("utf-8")


_CT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{wb_type}"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
WB_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>{extra}</workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)


def raw_xlsx(
    sheet: bytes,
    *,
    wb_type: str = WB_TYPE,
    parts: dict[str, bytes] | None = None,
    ct_extra: str = "",
    wb_extra: str = "",
    rels_extra: str = "",
) -> bytes:
    """A minimal hand-made .xlsx package around one sheet's XML (what Excel's own files hold,
    without styles), so a case can carry cached formula values, error cells, DTDs, …"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CT.format(wb_type=wb_type, extra=ct_extra))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _WB.format(extra=wb_extra))
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS.format(extra=rels_extra))
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (parts or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sst_xml(items: Sequence[str], *, prolog: str = "", raw: bool = False) -> bytes:
    """A shared-strings table. ``items``: texts, or (``raw``) ready-made ``<si>`` elements."""
    body = "".join(items) if raw else "".join(f"<si><t>{escape(t)}</t></si>" for t in items)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'{prolog}<sst xmlns="{MAIN_NS}" uniqueCount="{len(items)}">{body}</sst>'
    ).encode()


def shared_strings_xlsx(
    rows: Sequence[Sequence[Any]],
    *,
    extra: Sequence[str] = (),
    part: str = "xl/sharedStrings.xml",
    table: Callable[[list[str]], bytes] = sst_xml,
) -> bytes:
    """An .xlsx whose text cells live in a shared-strings table, as Excel writes them (openpyxl
    writes inline strings). ``extra`` texts follow the ones the sheet uses, unreferenced;
    ``table`` turns the texts into the part's bytes; ``part`` names it."""
    index: dict[str, int] = {}

    def cell(value: Any) -> Any:
        if isinstance(value, str) and not value.startswith("<c "):
            n = index.setdefault(value, len(index))
            return f'<c r="{{ref}}" t="s"><v>{n}</v></c>'
        return value

    sheet = sheet_xml([[cell(v) for v in r] for r in rows])
    return raw_xlsx(
        sheet,
        parts={part: table([*index, *extra])},
        ct_extra=f'<Override PartName="/{part}" ContentType="{SST_TYPE}"/>',
        rels_extra=(
            f'<Relationship Id="rId9" Type="{SST_REL}" Target="{part.removeprefix("xl/")}"/>'
        ),
    )


def cell_at_xfd(sheet: bytes) -> bytes:
    """``sheet`` with one more cell in every row, at Excel's last column (XFD)."""
    return re.sub(
        rb'(<row r="(\d+)">.*?)(</row>)',
        lambda m: m.group(1) + b'<c r="XFD' + m.group(2) + b'"><v>1</v></c>' + m.group(3),
        sheet,
    )


XXE_PROLOG = '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def lying_zip(data: bytes, claimed: int) -> bytes:
    """``data`` (a zip) with every central-directory entry claiming ``claimed`` bytes unpacked."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos != -1:
        struct.pack_into("<I", out, pos + 24, claimed)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


# ---------------------------------------------------------------------------- the cases


def cases_for(p: Profile) -> list[Case]:  # noqa: PLR0915 (one flat list reads best)
    head = list(p.header)
    v = p.valid
    ok3 = [v(1), v(2), v(3)]
    keys3 = (p.key(1), p.key(2), p.key(3))
    text_h, long_h, key_h = p.text_label, p.long_label, head[p.key_col]
    good_xlsx = xlsx_bytes([head, *ok3])
    rng = random.Random(6)
    out: list[Case] = []

    def add(name: str, upload: str, data: bytes, message: str | None = None, **kw: Any) -> None:
        out.append(Case(name, upload, data, message, **kw))

    def rows_case(name: str, upload: str, data: bytes, **kw: Any) -> None:
        out.append(Case(name, upload, data, None, refused_at=None, **kw))

    def with_cell(i: int, col: int, value: Any) -> list[Any]:
        r = v(i)
        r[col] = value
        return r

    # -- not a spreadsheet at all
    add("empty", "empty.csv", b"", "文件为空", refused_at="upload")
    add("random-bytes", "random.xlsx", rng.randbytes(8192), "内容却不是 Excel 工作簿")
    add("png-renamed", "photo.xlsx", b"\x89PNG\r\n\x1a\n" + rng.randbytes(500), "PNG 图片")
    add("pdf-renamed", "scan.csv", b"%PDF-1.7\n" + rng.randbytes(500), "PDF 文档")
    add(
        "xls-renamed", "old.xlsx", OLE_MAGIC + rng.randbytes(4096), "无法读取旧版 Excel（.xls）"
    )  # OLE2 bytes, no workbook
    add(
        "html-as-xls",
        "网页导出.xls",
        (
            '<html xmlns:x="urn:schemas-microsoft-com:office:excel"><head><meta charset="utf-8">'
            f"</head><body><table><tr><td>{'</td><td>'.join(head)}</td></tr>"
            f"<tr><td>{'</td><td>'.join(map(str, v(1)))}</td></tr></table></body></html>"
        ).encode(),
        "网页（HTML）",
    )
    add(
        "xml-spreadsheet-2003",
        "xml2003.xls",
        b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
        "XML 表格",
    )
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    add("zip-not-xlsx", "archive.xlsx", zbuf.getvalue(), "压缩包中没有 Excel 工作簿")
    add("truncated-xlsx", "cut.xlsx", good_xlsx[: len(good_xlsx) // 2], "文件已损坏")
    # Central directory intact, a member's deflate stream overwritten: fails while reading rows.
    sheet = sheet_xml([head, *[v(i) for i in range(1, 200)]])
    corrupt = bytearray(raw_xlsx(sheet))
    start = corrupt.find(b"xl/worksheets/sheet1.xml") + len(b"xl/worksheets/sheet1.xml")
    corrupt[start + 200 : start + 400] = rng.randbytes(200)
    add("corrupt-sheet-data", "corrupt.xlsx", bytes(corrupt), "文件已损坏")
    add(
        "malformed-sheet-xml",
        "malformed.xlsx",
        raw_xlsx(sheet_xml([head, v(1)]).replace(b"</sheetData>", b"<row r='3'><c></sheetData>")),
        "无法读取 .xlsx 文件（文件可能已损坏）",
    )
    # Well-formed up to row 55: the rows before it are read (and checked) before it fails.
    long_sheet = sheet_xml([head, *[v(i) for i in range(1, 60)]])
    add(
        "malformed-xml-mid-sheet",
        "malformed2.xlsx",
        raw_xlsx(
            long_sheet.replace(b"<sheetData>", b'<dimension ref="A1:F60"/><sheetData>').replace(
                b'<row r="55">', b"<row r='55'><c><bad></row>"
            )
        ),
        "工作表内容已损坏（第 55 行附近）",
    )

    # -- hostile packages
    add(
        "zip-bomb-ratio",
        "bomb.xlsx",
        raw_xlsx(sheet_xml([head, v(1)], padding=20 * 1024 * 1024)),
        "压缩比异常",
    )
    add(
        "zip-bomb-claimed-size",
        "bomb2.xlsx",
        lying_zip(good_xlsx, 0xFFFF_FFF0),
        "工作簿解压后过大",
    )
    vba = rng.randbytes(2048)
    add(
        "xlsm-macros",
        "宏.xlsm",
        raw_xlsx(
            sheet_xml([head, *ok3]),
            wb_type=XLSM_TYPE,
            parts={"xl/vbaProject.bin": OLE_MAGIC + vba},
            ct_extra='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>',
        ),
        "包含宏",
    )
    add(
        "xlsx-with-vbaproject",
        "看似正常.xlsx",
        raw_xlsx(sheet_xml([head, *ok3]), parts={"xl/vbaProject.bin": OLE_MAGIC + vba}),
        "包含宏",
    )
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)).replace(
        "&lol0;", "lol"
    )
    add(
        "billion-laughs",
        "laughs.xlsx",
        raw_xlsx(
            sheet_xml(
                [head, with_cell(1, p.text_col, "&lol9;")], prolog=f"<!DOCTYPE w [{entities}]>"
            ).replace(b"&amp;lol9;", b"&lol9;")
        ),
        "实体声明",
    )
    add(
        "xxe-external-entity",
        "xxe.xlsx",
        raw_xlsx(
            sheet_xml(
                [head, with_cell(1, p.text_col, "&xxe;")],
                prolog='<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            ).replace(b"&amp;xxe;", b"&xxe;")
        ),
        "实体声明",
    )
    # -- XXE variants the first 4 KB of the known part names did not show
    xxe_row = with_cell(1, p.text_col, "&xxe;")
    comment = "<!--" + "这是一段很长的注释" * 2000 + "-->"  # 54 KB before the DTD
    add(
        "xxe-after-long-comment",
        "comment.xlsx",
        raw_xlsx(
            sheet_xml([head, xxe_row], prolog=comment + XXE_PROLOG).replace(b"&amp;xxe;", b"&xxe;")
        ),
        "实体声明",
    )
    utf16 = sheet_xml([head, xxe_row], prolog=XXE_PROLOG).replace(b"&amp;xxe;", b"&xxe;")
    utf16 = utf16.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    add("xxe-utf16-sheet", "utf16.xlsx", raw_xlsx(utf16), "实体声明")
    add(
        "xxe-shared-strings-dat",
        "dat.xlsx",
        shared_strings_xlsx(
            [head, *ok3],
            part="xl/sharedStrings.dat",
            table=lambda texts: sst_xml([*texts, "&xxe;"], prolog=XXE_PROLOG).replace(
                b"&amp;xxe;", b"&xxe;"
            ),
        ),
        "实体声明",
        note="the shared strings sit in a part named .dat, which the content types point at",
    )

    # -- shared-strings bombs (the incident: 25 MB .xlsx, 195 MB of shared strings, 2 GB of
    # memory for 90-130 s), built at 1/100 scale against limits lowered to 1 MB
    padding = [f"填充文本{i:07d}" * 4 for i in range(20_000)]  # ~1.9 MB of XML, ~60 KB zipped
    bomb = shared_strings_xlsx([head, *ok3], extra=padding)
    add(
        "shared-strings-bomb",
        "strings.xlsx",
        bomb,
        "共享字符串表 xl/sharedStrings.xml”解压后超过 1 MB（每个部件的上限为 1 MB）",
        config={"REVIVE_XLSX_MAX_PART_MB": 1},
    )
    add(
        "shared-strings-bomb-lying-sizes",
        "strings2.xlsx",
        lying_zip(bomb, 1000),
        "文件已损坏",
        config={"REVIVE_XLSX_MAX_PART_MB": 1},
        note="every part claims 1,000 bytes: inflating stops there and the CRC fails",
    )
    tiny = [f"<si><t>{i}</t></si>" for i in range(30_000)]  # 0.5 MB of XML, 2 MB as objects
    add(
        "shared-strings-memory",
        "tiny-strings.xlsx",
        shared_strings_xlsx(
            [head, *ok3],
            table=lambda texts: sst_xml(
                [f"<si><t>{escape(t)}</t></si>" for t in texts] + tiny, raw=True
            ),
        ),
        "共享字符串表读入内存将超过 1 MB（上限 1 MB）",
        config={"REVIVE_XLSX_MAX_STRINGS_MB": 1},
    )
    add(
        "cells-over-limit",
        "cells.xlsx",
        raw_xlsx(sheet_xml([head, *[v(i) for i in range(1, 30)]])),
        "文件的单元格过多：超过 100 个",
        config={"REVIVE_IMPORT_MAX_CELLS": 100},
    )
    rows_case(
        "dimension-claims-16-billion-cells",
        "dimension.xlsx",
        raw_xlsx(
            sheet_xml([head, *ok3]).replace(
                b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>'
            )
        ),
        committed=keys3,
        config={"REVIVE_IMPORT_MAX_CELLS": 1_000},
        note="the dimension is the file's word: only the cells really there are read",
    )
    add(
        "cell-at-column-xfd",
        "xfd.xlsx",
        raw_xlsx(cell_at_xfd(sheet_xml([head, *ok3]))),
        "文件的单元格过多：超过 50,000 个",
        config={"REVIVE_IMPORT_MAX_CELLS": 50_000},
        note="one cell at column XFD makes every row 16,384 cells wide",
    )

    dde = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<ddeLink ddeService="cmd" ddeTopic="/C calc"><ddeItems>'
        '<ddeItem name="A0" advise="1"/></ddeItems></ddeLink></externalLink>'
    )
    add(
        "dde-link",
        "dde.xlsx",
        raw_xlsx(
            sheet_xml(
                [
                    head,
                    with_cell(
                        1,
                        p.text_col,
                        '<c r="{ref}" t="e"><f>cmd|\' /C calc\'!A0</f><v>#REF!</v></c>',
                    ),
                ]
            ),
            parts={"xl/externalLinks/externalLink1.xml": dde.encode()},
        ),
        "DDE",
    )
    ext = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships" r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames>'
        "</externalBook></externalLink>"
    )
    cached = f"来自外部工作簿的名称{1}"
    rows_case(
        "external-link-cached-value",
        "外链.xlsx",
        raw_xlsx(
            sheet_xml(
                [
                    head,
                    with_cell(
                        1,
                        p.text_col,
                        f'<c r="{{ref}}" t="str"><f>[1]Sheet1!A1</f><v>{cached}</v></c>',
                    ),
                    v(2),
                ]
            ),
            parts={"xl/externalLinks/externalLink1.xml": ext.encode()},
        ),
        committed=(
            p.key(1) if p.key_col != p.text_col else cached,
            p.key(2),
        ),
        note="external links are never followed: the cached value is imported",
    )

    rows_case(
        "zip-slip-entry-names",
        "slip.xlsx",
        raw_xlsx(
            sheet_xml([head, *ok3]),
            parts={"../../../../tmp/evil.sh": b"#!/bin/sh\n", "/etc/cron.d/evil": b"x"},
        ),
        committed=keys3,
        note="the package is read in place, never extracted: entry names go nowhere",
    )

    # -- formulas: cached values only, never evaluated; error results reported per row
    rows_case(
        "formula-cells-cached",
        "公式.xlsx",
        raw_xlsx(
            sheet_xml(
                [
                    head,
                    with_cell(
                        1,
                        p.text_col,
                        '<c r="{ref}" t="str"><f>HYPERLINK("http://evil.example","点我")</f>'
                        "<v>点我领奖</v></c>",
                    ),
                    with_cell(
                        2,
                        p.text_col,
                        '<c r="{ref}" t="e"><f>cmd|\' /C calc\'!A0</f><v>#REF!</v></c>',
                    ),
                    with_cell(3, p.text_col, '<c r="{ref}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'),
                    v(4),
                ]
            )
        ),
        errors=(
            (3, text_h, "公式的计算结果是错误值 #REF!"),
            (4, text_h, "公式的计算结果是错误值 #DIV/0!"),
        ),
        committed=(p.key(1) if p.key_col != p.text_col else "点我领奖", p.key(4)),
    )
    rows_case(
        "formula-without-cached-value",
        "脚本生成.xlsx",
        xlsx_bytes([head, with_cell(1, p.text_col, "=SUM(1,2)"), v(2)]),
        errors=((2, text_h, "没有公式的计算结果"),),
        committed=(p.key(2),),
        note="openpyxl writes formulas without a cached value; nothing is ever evaluated",
    )
    injections = [
        "=cmd|' /C calc'!A0",
        "+cmd|' /C notepad'!A0",
        "-2+3+cmd|' /C calc'!A0",
        '@SUM(1+1)*cmd|" /C calc"!A0',
        "\t=1+1",
        '\r=HYPERLINK("http://x")',
    ]
    rows_case(
        "formula-injection-strings",
        "injection.csv",
        csv_bytes([head, *[with_cell(i, p.long_col, s) for i, s in enumerate(injections, 1)]]),
        committed=tuple(p.key(i) for i in range(1, len(injections) + 1)),
        note="stored as inert text; every export and error download neutralises them",
    )

    # -- text encodings and CSV shapes
    good_rows = [head, *ok3]
    rows_case("utf16-csv-bom", "unicode.csv", csv_bytes(good_rows, "utf-16"), committed=keys3)
    rows_case(
        "utf16-tab-text",
        "unicode.txt",
        csv_bytes(good_rows, "utf-16", delimiter="\t"),
        committed=keys3,
    )
    add(
        "utf16-without-bom",
        "nobom.csv",
        csv_bytes(good_rows, "utf-16-le"),
        "UTF-16",
    )
    rows_case("gbk-csv", "gbk.csv", csv_bytes(good_rows, "gbk"), committed=keys3)
    mixed = csv_bytes([head, v(1)]) + csv_bytes([v(2)], "gbk") + csv_bytes([v(3)])
    add("mixed-utf8-gbk", "mixed.csv", mixed, "混有不同的编码（第 3 行")
    mixed2 = csv_bytes([head, v(1)], "gbk") + csv_bytes([v(2)])
    add("mixed-gbk-utf8", "mixed2.csv", mixed2, "混有不同的编码（第 3 行")
    add("bom-only", "bom.csv", codecs.BOM_UTF8, "文件中没有任何内容")
    add("whitespace-only", "blank.csv", b" \r\n\t\r\n,,,\r\n", "文件中没有任何内容")
    add("header-only-csv", "header.csv", csv_bytes([head]), "除表头外没有任何内容")
    add("header-only-xlsx", "header.xlsx", xlsx_bytes([head]), "除表头外没有任何内容")
    rows_case(
        "cr-only-line-endings",
        "mac.csv",
        csv_bytes(good_rows, lineterminator="\r"),
        committed=keys3,
    )
    rows_case(
        "semicolon-delimiter",
        "semi.csv",
        csv_bytes(good_rows, delimiter=";"),
        committed=keys3,
    )
    add(
        "fullwidth-comma-delimiter",
        "中文逗号.csv",
        "\r\n".join("，".join(map(str, r)) for r in good_rows).encode(),
        "中文逗号",
    )
    nul = csv_bytes([head, with_cell(1, p.text_col, v(1)[p.text_col] + "\x00"), v(2)])
    rows_case(
        "nul-bytes-in-cells",
        "nul.csv",
        nul.replace(b",", b"\x00,", 6),
        committed=(p.key(1), p.key(2)),
        note="a few stray NULs are dropped",
    )
    add("nul-padded", "nul2.csv", csv_bytes(good_rows) + b"\x00" * 4096, "文件不是文本表格")
    add(
        "unclosed-quote",
        "quote.csv",
        csv_bytes([head, v(1)]) + b'"' + csv_bytes([v(2)]) * 20000,
        "单元格过长",
    )
    big = "长" * (1024 * 1024)
    add(
        "one-mb-cell-csv",
        "big.csv",
        csv_bytes([head, v(1), with_cell(2, p.long_col, big)]),
        "第 3 行",
    )
    rows_case(
        "one-mb-cell-xlsx",
        "big.xlsx",
        raw_xlsx(sheet_xml([head, v(1), with_cell(2, p.long_col, big), v(3)])),
        errors=((3, long_h, f"{long_h}过长：1048576 字，最多 {p.long_max} 字"),),
        committed=(p.key(1), p.key(3)),
    )
    rows_case(
        "100k-char-row",
        "wide-row.csv",
        csv_bytes([head, v(1), with_cell(2, p.long_col, "段" * 100_000)]),
        errors=((3, long_h, f"{long_h}过长：100000 字，最多 {p.long_max} 字"),),
        committed=(p.key(1),),
    )
    extra = [f"备用列{i}" for i in range(1, 201 - len(head))]
    rows_case(
        "200-columns",
        "wide.xlsx",
        xlsx_bytes([head + extra, *[r + ["x"] * len(extra) for r in ok3]]),
        committed=keys3,
        note="unknown columns are listed as ignored",
    )

    # -- headers
    add(
        "duplicate-headers",
        "dup.csv",
        csv_bytes([[*head, head[p.text_col]], [*v(1), "x"]]),
        f"表头有重复的列名：{head[p.text_col]}",
    )
    add(
        "duplicate-headers-spacing",
        "dup2.csv",
        csv_bytes([[*head, f" {head[p.text_col]}　"], [*v(1), "x"]]),
        f"表头有重复的列名：{head[p.text_col]}",
    )
    a, b = p.clash
    add(
        "two-headers-one-field",
        "clash.csv",
        csv_bytes([[*head, b], [*v(1), "x"]]),
        f"{a}、{b}（均对应",
    )
    drop, msg = p.required_missing
    add(
        "missing-required-header",
        "missing.csv",
        csv_bytes(
            [
                [h for i, h in enumerate(head) if i != drop],
                [c for i, c in enumerate(v(1)) if i != drop],
            ]
        ),
        msg,
    )
    rows_case(
        "title-row-above-header",
        "title-row.csv",
        csv_bytes([["2024年度清单（内部）"], head, v(1)]),
        committed=(p.key(1),),
        note="a title row above the header is common: it is skipped and named on the preview",
    )
    rows_case(
        "official-title-block-above-header",
        "title-block.xlsx",
        xlsx_bytes(
            [
                ["2024年度清单（内部）"],
                ["填表日期：2024-12-01"],
                ["单位（盖章）：", None, None, "填表人：王某"],
                ["联系人"],
                head,
                v(1),
            ]
        ),
        committed=(p.key(1),),
        note="an official form's title block (several cells, four rows): the header is found"
        " by its column names and the block is skipped",
    )
    add(
        "title-rows-then-no-header",
        "title-rows.xlsx",
        xlsx_bytes([["2024年度清单（内部）"], *([f"备注{i}"] for i in range(1, 11)), head, v(1)]),
        "第 1 行被读作表头：2024年度清单（内部）",
        note="the header below the first ten rows is not looked for: no title taken, the first"
        " row is the header",
    )
    rows_case(
        "instructions-sheet-first",
        "sheets.xlsx",
        xlsx_bytes([["填写说明"], ["请在第二个工作表填写"]], sheets=[("数据", [head, *ok3])]),
        committed=(p.key(1), p.key(2), p.key(3)),
        note="a 填写说明 sheet before the data: the sheet with the header is read",
    )
    rows_case(
        "empty-first-sheet",
        "sheets2.xlsx",
        xlsx_bytes([], sheets=[("数据", [head, *ok3])]),
        committed=(p.key(1), p.key(2), p.key(3)),
        note="an empty first sheet: the sheet with the header is read",
    )
    add(
        "no-sheet-with-a-header",
        "sheets3.xlsx",
        xlsx_bytes([["填写说明"]], sheets=[("备注", [["请联系王老师"]])]),
        "读取的是工作表“Sheet”（本文件另有工作表“备注”）",
    )

    # -- cells
    merged_rows = [head, v(1), with_cell(2, p.key_col if p.kind == "patents" else 1, None)]
    merged_col = "A" if p.kind == "patents" else "B"
    merged_label = key_h if p.kind == "patents" else head[1]
    rows_case(
        "merged-cells",
        "merged.xlsx",
        xlsx_bytes(merged_rows, merge=f"{merged_col}2:{merged_col}3"),
        errors=((3, merged_label, "该单元格在合并单元格中"),),
        committed=(p.key(1),),
    )
    rows_case(
        "numbers-in-text-columns",
        "numbers.xlsx",
        raw_xlsx(sheet_xml([head, with_cell(1, p.long_col, 12345), v(2)])),
        committed=(p.key(1), p.key(2)),
    )
    rows_case(
        "whitespace-only-rows",
        "gaps.csv",
        csv_bytes([head, v(1), ["", " ", "\t"], [], v(2)]),
        committed=(p.key(1), p.key(2)),
    )
    # -- over the limits (lowered through the app config)
    for ext, make in (("csv", csv_bytes), ("xlsx", xlsx_bytes)):
        add(
            f"rows-over-limit-{ext}",
            f"many.{ext}",
            make([head, *[v(i) for i in range(1, 7)]]),
            "单个文件最多 5 行",
            config={"REVIVE_MAX_IMPORT_ROWS": 5},
        )
    add(
        "file-over-size-limit",
        "huge.csv",
        csv_bytes([head, v(1)]) + b" " * (1024 * 1024 + 10),
        "上传文件过大：单个文件不能超过 1 MB",
        refused_at="upload",
        config={"REVIVE_MAX_UPLOAD_MB": 1},
    )
    # -- names
    for n, name in enumerate(
        (
            "../../../etc/cron.d/x.csv",
            "..\\..\\windows\\evil.csv",
            "a\x00b\n.csv",
            "名" * 300 + ".csv",
        )
    ):
        rows_case(
            f"hostile-filename-{n + 1}",
            name,
            csv_bytes(good_rows),
            committed=keys3,
            note=f"upload it under the name {name[:40]!r}: stored as a safe display name",
        )

    out.extend(kind_cases(p))
    return out


def kind_cases(p: Profile) -> list[Case]:
    """Checks of one kind's own columns. Each row of the table: ``good`` valid rows, then row
    ``good + 1`` with column ``col`` set to ``value``, reported as ``message`` on its line; the
    valid rows are committed."""
    if p.kind == "patents":
        bad = appno(3)[:-1] + str((int(appno(3)[-1]) + 1) % 10)
        long_appno, sci = "2017106018623" * 5000, "2.01910000002E+11"
        table = [
            (
                "appno-extremely-long",
                "long-appno.csv",
                1,
                0,
                long_appno,
                "申请号过长：65000 个字符",
            ),
            ("appno-check-digit", "check.csv", 2, 0, bad, f"申请号校验位错误：{bad}"),
            ("appno-duplicate", "dup-appno.csv", 2, 0, appno(1), "与第 2 行申请号重复"),
            ("appno-scientific-notation", "sci.csv", 1, 0, sci, f"申请号格式不正确：{sci}"),
            # a number outside Excel's date window (1985–2064 serials are read as their date)
            ("date-as-number", "serial.xlsx", 1, 4, 12345, "申请日格式不正确：12345"),
        ]
    elif p.kind == "institutions":
        code = institution_code(2)
        wrong = code[:-1] + next(c for c in uscc.ALPHABET if c != code[-1])
        table = [
            (
                "credit-code-extremely-long",
                "long-code.csv",
                1,
                1,
                code * 4000,
                "应为 18 位，当前为 72000 位",
            ),
            ("credit-code-check-character", "check.csv", 1, 1, wrong, "校验位错误"),
            # row 3 with row 1's code is row 1 again
            (
                "institution-duplicate",
                "dup-code.csv",
                2,
                1,
                p.key(1),
                "与第 2 行重复（同一统一社会信用代码）",
            ),
            ("institution-type-unknown", "type.csv", 1, 3, "医院", "单位类型取值无效：医院"),
            ("region-too-long", "region.xlsx", 1, 2, "地" * 101, "所在地区过长：101 字"),
        ]
    else:
        code = credit_code(1)
        wrong = code[:-1] + next(c for c in uscc.ALPHABET if c != code[-1])
        table = [
            (
                "credit-code-extremely-long",
                "long-code.csv",
                1,
                1,
                code * 4000,
                "应为 18 位，当前为 72000 位",
            ),
            ("credit-code-check-character", "check.csv", 1, 1, wrong, "校验位错误"),
            # row 3 with row 1's title is row 1 again
            (
                "demand-duplicate",
                "dup-demand.csv",
                2,
                2,
                p.key(1),
                "与第 2 行重复（同一企业的同名需求）",
            ),
            ("date-as-number", "serial.xlsx", 1, 5, 99999, "截止日期格式不正确：99999"),
            ("deadline-in-the-past", "past.csv", 1, 5, "2001-01-01", "截止日期不能早于今天"),
        ]
    head = list(p.header)
    out = []
    for name, upload, good, col, value, message in table:
        bad_row = p.valid(good + 1)
        bad_row[col] = value
        rows = [head, *[p.valid(i) for i in range(1, good + 1)], bad_row]
        data = raw_xlsx(sheet_xml(rows)) if upload.endswith(".xlsx") else csv_bytes(rows)
        errors = ((good + 2, head[col], message),)
        committed = tuple(p.key(i) for i in range(1, good + 1))
        out.append(Case(name, upload, data, refused_at=None, errors=errors, committed=committed))
    return out


def corpus() -> dict[str, list[Case]]:
    """Every case of every kind, by kind."""
    return {kind: cases_for(p) for kind, p in PROFILES.items()}


def expected_text(case: Case) -> str:
    """What the import should answer, in words (for the corpus' expected.tsv)."""
    limits = "；".join(f"{k}={v}" for k, v in case.config.items())
    if case.refused_at == "upload":
        text = f"上传时拒绝：{case.message}"
    elif case.refused_at:
        text = f"校验失败：{case.message}"
    else:
        errors = "；".join(
            f"第 {line} 行 {column}：{message}" for line, column, message in case.errors
        )
        text = f"导入 {len(case.committed)} 行" + (f"；报告 {errors}" if errors else "")
    return text + (f"（需设置 {limits}）" if limits else "")


def write_corpus(folder: Path, cases: dict[str, list[Case]] | None = None) -> list[Path]:
    """Write each case as ``<kind>/<NN>-<name><suffix of the upload name>``, and per kind an
    ``expected.tsv`` (file, expected answer, note); return the case files' paths."""
    written = []
    for kind, kind_cases in (cases or corpus()).items():
        target = folder / kind
        target.mkdir(parents=True, exist_ok=True)
        lines = ["file\texpected\tnote"]
        for n, case in enumerate(kind_cases, start=1):
            suffix = Path(case.upload_name.replace("\\", "/").replace("\x00", "")).suffix[:8]
            path = target / f"{n:02d}-{case.name}{suffix}"
            path.write_bytes(case.data)
            written.append(path)
            lines.append(f"{path.name}\t{expected_text(case)}\t{case.note}")
        (target / "expected.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.imports.hostile.corpus <folder>", file=sys.stderr)
        return 2
    paths = write_corpus(Path(argv[0]))
    print(f"wrote {len(paths)} files to {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
