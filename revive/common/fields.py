"""The record-field framework shared by every spreadsheet/form record (patents, demands,
institutions): ``Field`` (key, Chinese label, header variants, parser, help), the parsers, header
matching (``HeaderIndex``), ``parse_fields`` and the import template's field guide.

A domain's own table of fields (``inventory.fields``, ``demands.fields``, ``onboarding.fields``)
is built from these; nothing here knows a domain or touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from revive.clock import local_today
from revive.common.industry import with_section
from revive.common.spreadsheets import unquote
from revive.db import LabeledEnum

MIN_DATE = date(1985, 4, 1)  # the Chinese patent system started on 1 April 1985
MAX_TEXT = 10_000


class FieldError(ValueError):
    """A value that cannot be accepted; the message is shown to users as is."""


# ---------------------------------------------------------------------------- parsers


# Control characters other than tab/newline/CR (tab and CR become spaces below): invisible,
# refused by spreadsheet XML, so a value holding one could never be exported as stored.
# Control characters, and the bidirectional embeddings, overrides and isolates (U+202A–E,
# U+2066–9): a tester's U+202E reversed how a title read in lists and exports, a way to make
# one title look like another ("Trojan Source"). Plain text never needs them; the marks
# U+200E/F, which only hint a direction, stay.
# The C1 controls (U+0080–9F) likewise, but NEL (U+0085), which like the line and paragraph
# separators (U+2028/9) is a line break: those become "\n", so a text has one kind of break
# (a tester's U+2028 in a demand title reached an e-mail's Subject and failed its sending).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
LINE_BREAKS = re.compile(r"\r\n|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Text pasted from Word: its list bullets are private-use characters of the Symbol and
# Wingdings fonts (a box in any other font) and its optional hyphens (U+00AD) invisible.
WORD_BULLETS = re.compile(r"[\uf06c\uf06e\uf075\uf076\uf0a7\uf0a8\uf0b7\uf0d8\uf0fc]")


def strip_invisible(text: str) -> str:
    """``text`` without whitespace or invisible format characters (zero-width space, joiners,
    BOM, word joiner: Unicode category Cf) at either end: a value made only of them is
    empty, so it cannot stand in for a required title or reason. Inside the text they stay
    (a joiner holds an emoji sequence together)."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]) == "Cf"):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]) == "Cf"):
        end -= 1
    return text[start:end]


def clean_text(raw: Any) -> str:
    """Normalise free text: drop control characters, strip (invisible format characters too:
    ``strip_invisible``), collapse runs of spaces/tabs.

    Chinese punctuation (，；（）) is kept as written: folding it would alter titles and abstracts
    and make every later edit record spurious changes. A leading apostrophe that our own exports
    add to neutralise formulas ('=…, '+86…; ``common.spreadsheets.safe_cell``) is removed, so
    exported files re-import unchanged.
    """
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = CONTROL_CHARACTERS.sub("", LINE_BREAKS.sub("\n", str(raw))).replace("\u3000", " ")
    text = WORD_BULLETS.sub("•", text.replace("\u00ad", ""))
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = strip_invisible(re.sub(r" ?\n ?", "\n", text))
    return unquote(text)


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace, line breaks included, one space."""
    return " ".join(text.split())


def folded(raw: Any) -> str:
    """clean_text plus NFKC (full-width → half-width): for codes, numbers, enums, dates."""
    return unicodedata.normalize("NFKC", clean_text(raw)).strip()


def _parse_text(raw: Any, f: Field) -> str | None:
    text = clean_text(raw)
    if not text:
        return None
    if f.max_len and len(text) > f.max_len:
        raise FieldError(f"{f.label}过长：{len(text)} 字，最多 {f.max_len} 字")
    return text


def parse_line(raw: Any, f: Field) -> str | None:
    """A one-line text (a title, a name): ``clean_text`` with its line breaks made spaces, so
    it reads the same in a list, a spreadsheet cell and an e-mail's subject."""
    return _parse_text(one_line(clean_text(raw)), f)


def _parse_industry(raw: Any, f: Field) -> str | None:
    """A GB/T 4754 value as text, with its section letter in front when it names a section
    without one (common.industry.with_section: 制造业 → C 制造业), so dashboards and filters
    group it; kept as written when the letter would make it too long."""
    text = _parse_text(raw, f)
    coded = with_section(text)
    if coded and f.max_len and len(coded) > f.max_len:
        return text
    return coded


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def _read_date(raw: Any, f: Field, example: str) -> date | None:
    """A date cell, or text in one of _DATE_PATTERNS (``example`` shows the expected form in
    the message); None when empty. Shared with the demand deadline."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = folded(raw)
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        m = pattern.match(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise FieldError(f"{f.label}不是有效日期：{text}") from None
    if (
        re.fullmatch(r"\d{5}(?:\.0+)?", text)
        and EXCEL_SERIALS[0] <= int(float(text)) <= EXCEL_SERIALS[1]
    ):
        # A date cell formatted as General (or saved into a CSV) holds Excel's serial number.
        # In a date column five digits in this window mean nothing else: read as the date (a
        # university office had 50 of 151 rows refused with the date named in the message).
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    raise FieldError(f"{f.label}格式不正确：{text}（应为 {example}）")


EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
EXCEL_SERIALS = (31_138, 60_000)  # 1985-04-01 (the first Chinese patents) to 2064


def _parse_date(raw: Any, f: Field) -> date | None:
    value = _read_date(raw, f, "2020-05-01")
    if value is not None and not (MIN_DATE <= value <= local_today()):
        raise FieldError(f"{f.label}超出范围：{value.isoformat()}（应在 1985-04-01 至今天之间）")
    return value


def _parse_int(raw: Any, f: Field) -> int | None:
    text = folded(raw)
    if not text:
        return None
    stars = text.count("★")
    if stars and not re.sub(r"[★☆\s]", "", text):
        value = stars
    else:
        m = re.fullmatch(r"(?:TRL)?\s*(\d+)\s*(?:级|星|★)?", text, flags=re.IGNORECASE)
        if not m:
            raise FieldError(f"{f.label}应为 {f.min_value}–{f.max_value} 的整数：{text}")
        value = int(m.group(1))
    if not (f.min_value <= value <= f.max_value):
        raise FieldError(f"{f.label}应在 {f.min_value}–{f.max_value} 之间：{text}")
    return value


# Unambiguous: after the digits only a dot can continue the mantissa. The old form
# (\d+\.?\d* — two ways to split a run of digits) backtracked quadratically: a 40,000-digit
# amount held a request for 9 s.
EXPONENT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)[eE][+-]?\d+")
MAX_AMOUNT_CHARS = 40  # far above any amount in 万元 (< 1e12, two decimals, separators)


def _shown(text: str, limit: int = 20) -> str:
    """A value quoted in a message, cut short (a message does not repeat a whole input)."""
    return text if len(text) <= limit else text[:limit] + "…"


def _parse_decimal(raw: Any, f: Field) -> Decimal | None:
    """An amount in 万元. Typed text must be plain digits (1e9 is refused: nobody means an
    amount in exponent notation, and it hides the size); ``f.max_value`` (万元), when set,
    is the amount from which the value is refused as a slip of the unit."""
    text = folded(raw).replace(",", "").removesuffix("万元").removesuffix("万").strip()
    if not text:
        return None
    shown = _shown(folded(raw))
    if len(text) > MAX_AMOUNT_CHARS:
        raise FieldError(f"{f.label}超出范围：{shown}")
    if isinstance(raw, str) and EXPONENT.fullmatch(text):
        raise FieldError(f"{f.label}请直接填写数字，不要用科学计数法：{shown}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FieldError(f"{f.label}应为数字（单位：万元）：{shown}") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise FieldError(f"{f.label}超出范围：{shown}")
    if f.max_value and value >= f.max_value:
        raise FieldError(
            f"{f.label}须小于 {f.max_value:,} 万元（{_yi(f.max_value)} 亿元），"
            f"请核对单位是否为万元：{shown}"
        )
    return value.quantize(Decimal("0.01"))


def _yi(wan: int) -> str:
    """万元 in 亿元: 1000000 → 100."""
    return f"{wan / 10_000:,g}"


_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×"}


def _parse_bool(raw: Any, f: Field) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = folded(raw).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError(f"{f.label}应填“是”或“否”：{folded(raw)}")


def _enum_lookup(enum_cls: type[LabeledEnum], synonyms: Mapping[str, str]) -> dict[str, str]:
    table = {m.value.lower(): m.value for m in enum_cls}
    table.update({m.label: m.value for m in enum_cls})
    table.update(synonyms)
    return table


def _parse_enum(raw: Any, f: Field) -> LabeledEnum | None:
    assert f.enum is not None
    text = folded(raw)
    if not text:
        return None
    key = text if text in f.lookup else text.lower()
    if key not in f.lookup:
        allowed = "、".join(m.label for m in f.enum)
        raise FieldError(f"{f.label}取值无效：{text}（可选：{allowed}）")
    return f.enum(f.lookup[key])


# Lists of names and codes in one cell. Whitespace does not separate (a name may hold a space,
# an IPC code always does); "/" does not either (IPC codes hold one).
_LIST_SPLIT = re.compile(r"[;；,，、\n]+")
NAME_SEPARATOR = "；"


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SPLIT.split(text) if p.strip()]


def _joined(f: Field, parts: list[str], separator: str) -> str | None:
    text = separator.join(parts)
    if f.max_len and len(text) > f.max_len:
        raise FieldError(f"{f.label}过长：{len(text)} 字，最多 {f.max_len} 字")
    return text or None


def _parse_names(raw: Any, f: Field) -> str | None:
    """An ordered list of names (发明人, 专利权人, 合作企业): the order is kept — the first
    inventor and the first patentee are named first on purpose — and only the separators are
    made canonical (；), so "张伟、王芳" and "张伟; 王芳" are the same value."""
    return _joined(f, _split_list(clean_text(raw)), NAME_SEPARATOR)


def _parse_email(raw: Any, f: Field) -> str | None:
    text = folded(raw)
    if not text:
        return None
    if len(text) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise FieldError(f"{f.label}格式不正确：{text}")
    return text.lower()


def _parse_phone(raw: Any, f: Field) -> str | None:
    text = folded(raw)
    if not text:
        return None
    if not re.fullmatch(r"[0-9+()\- ]{5,30}(?:转\d{1,6})?", text):
        raise FieldError(f"{f.label}格式不正确：{text}")
    return text


# ---------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    parse: Callable[[Any, Field], Any]
    aliases: tuple[str, ...] = ()
    required: bool = False
    max_len: int | None = None
    enum: type[LabeledEnum] | None = None
    synonyms: Mapping[str, str] = field(default_factory=dict)
    min_value: int = 0
    max_value: int = 0
    help: str = ""
    importable: bool = True  # False: exported for information, ignored on import
    lookup: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.enum is not None and not self.lookup:
            object.__setattr__(self, "lookup", _enum_lookup(self.enum, self.synonyms))

    def parse_value(self, raw: Any) -> Any:
        return self.parse(raw, self)


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[\s*＊:：_\-]", "", text)
    return text.replace("（", "(").replace("）", ")")


class HeaderIndex:
    """Maps spreadsheet headers (Chinese template name, English key or a variant) to Fields.

    Shared by every record spec (patents here, demands in revive.demands.fields).
    """

    def __init__(self, fields: Iterable[Field]) -> None:
        self._index: dict[str, Field] = {}
        for f in fields:
            for name in (f.label, f.key, *f.aliases):
                self._index.setdefault(_header_key(name), f)

    def match(self, header: Any) -> Field | None:
        if header is None:
            return None
        key = _header_key(str(header))
        if key in self._index:
            return self._index[key]
        # "申请号（必填）", "专利名称*" and similar decorations
        return self._index.get(re.sub(r"\((?:必填|选填|可选|万元)\)$", "", key))


@dataclass
class RecordResult:
    values: dict[str, Any]
    errors: list[tuple[str, str]]  # (field key, Chinese message)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_fields(fields: Iterable[Field], raw: Mapping[str, Any], *, partial: bool) -> RecordResult:
    """Parse raw values keyed by field key; ``partial``: only keys present are checked."""
    values: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for f in fields:
        if partial and f.key not in raw:
            continue
        try:
            value = f.parse_value(raw.get(f.key))
        except FieldError as exc:
            errors.append((f.key, str(exc)))
            continue
        if value is None and f.required:
            errors.append((f.key, f"缺少必填项：{f.label}"))
            continue
        values[f.key] = value
    return RecordResult(values, errors)


# CLEAR_MARKER (or 【清空】) in an import update row clears the stored value; a blank cell
# leaves it alone. Only the import reads it: anywhere else it is refused as a value, so a
# stored value can never be mistaken for the marker when an export is imported again.
CLEAR_MARKER = "[清空]"
CLEAR_MARKERS = frozenset({CLEAR_MARKER, "【清空】"})


def is_clear_marker(raw: Any) -> bool:
    return isinstance(raw, str) and folded(raw) in CLEAR_MARKERS


def template_guide(
    fields: Iterable[Field],
    *,
    required: Collection[str] = (),
    allowed: Mapping[str, str] | None = None,
    required_text: Mapping[str, str] | None = None,
) -> list[list[str]]:
    """The import template's field guide, one row per field: 字段, 英文键, 必填, 说明, 可选值,
    也可识别的表头. ``required``: keys required beyond ``Field.required``; ``allowed``: the
    可选值 text of fields whose parser says nothing by itself (shared with demand templates);
    ``required_text``: the 必填 text of fields required only sometimes (e.g. "新登记必填")."""
    rows = []
    for f in fields:
        if allowed and f.key in allowed:
            values = allowed[f.key]
        elif f.enum is not None:
            values = "、".join(m.label for m in f.enum)
        elif f.max_value:
            values = f"{f.min_value}–{f.max_value}"
        elif f.parse is _parse_bool:
            values = "是、否"
        elif f.parse is _parse_date:
            values = "日期，如 2020-05-01"
        else:
            values = ""
        rows.append(
            [
                f.label,
                f.key,
                (required_text or {}).get(f.key)
                or ("是" if f.required or f.key in required else ""),
                f.help,
                values,
                "、".join(a for a in f.aliases if not a.isascii()),
            ]
        )
    return rows
