"""Where an organization is: 盟市 of the demo province from a fixed list, free text elsewhere.

The list is a data file (``resources/regions.json``, or REVIVE_REGIONS_FILE): the province and
its prefecture-level divisions (盟 / 市) with the short names people type. ``normalize`` turns
what a form or an import row says into the stored value:

- a division of the province, however written ("呼市", "包头", "内蒙古呼和浩特市赛罕区") →
  "<province><division>" ("内蒙古自治区呼和浩特市"; a district below it is dropped: the regional
  picture is by 盟市);
- the province alone → the province ("内蒙古自治区");
- the province with a division that is not in the list → ValueError (a typo in a 盟市 name
  would otherwise start a region of its own);
- anything else → the text, whitespace folded (another province: "江苏省无锡市").

``unit`` says which unit of the regional picture a stored region counts in: its 盟市 for the
province, the province for others ("江苏省"), "未填写地区" for none. Pure Python (no Flask
needed except to read the configured file).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from revive.common.fields import Field, FieldError, _parse_text

DEFAULT_FILE = Path(__file__).parent / "resources" / "regions.json"
MAX_LEN = 100  # Organization.region
NONE_KEY, NONE_LABEL = "", "未填写地区"
# The province at the start of a free-text region ("江苏省无锡市" → "江苏省").
_PROVINCE = re.compile(
    r"^(北京市|天津市|上海市|重庆市|香港特别行政区|澳门特别行政区|[^省]{2,3}省|[^区]{2,8}自治区)"
)


@dataclass(frozen=True)
class Division:
    name: str  # 呼和浩特市
    code: str  # GB/T 2260
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class RegionList:
    province: str
    province_aliases: tuple[str, ...]
    divisions: tuple[Division, ...]

    def value_of(self, division: Division) -> str:
        return f"{self.province}{division.name}"

    @property
    def values(self) -> list[str]:
        """The stored values of the province's divisions, in list order (form choices)."""
        return [self.value_of(d) for d in self.divisions]


def _config_path() -> Path:
    try:
        from flask import current_app

        configured = current_app.config.get("REVIVE_REGIONS_FILE")
    except RuntimeError:  # outside an app context
        configured = None
    return Path(configured) if configured else DEFAULT_FILE


@lru_cache(maxsize=4)
def _load(path: str) -> RegionList:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return RegionList(
        province=data["province"],
        province_aliases=tuple(data.get("province_aliases", ())),
        divisions=tuple(
            Division(d["name"], str(d.get("code", "")), tuple(d.get("aliases", ())))
            for d in data["divisions"]
        ),
    )


def region_list() -> RegionList:
    return _load(str(_config_path()))


def _clean(text: object) -> str:
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split())


def _strip_province(text: str, regions: RegionList) -> tuple[str, bool]:
    """(rest, named the province?)"""
    for name in (regions.province, *sorted(regions.province_aliases, key=len, reverse=True)):
        if text.startswith(name):
            return text[len(name) :], True
    return text, False


def _division(rest: str, regions: RegionList) -> Division | None:
    for d in regions.divisions:
        for name in (d.name, *sorted(d.aliases, key=len, reverse=True)):
            if rest.startswith(name):
                return d
    return None


def normalize(text: object) -> str | None:
    """The stored value of a region as typed (None for blank); ValueError (Chinese) if it is
    too long or names a division the province does not have."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    if len(cleaned) > MAX_LEN:
        raise ValueError(f"地区过长：{len(cleaned)} 字，最多 {MAX_LEN} 字")
    regions = region_list()
    rest, in_province = _strip_province(cleaned, regions)
    division = _division(rest, regions)
    if division is not None and (in_province or rest == cleaned):
        return regions.value_of(division)
    if in_province:
        if not rest:
            return regions.province
        names = "、".join(d.name for d in regions.divisions)
        raise ValueError(f"{regions.province}的盟市须为以下之一：{names}")
    near = _near_division(cleaned, regions)
    if near is not None:
        # 乌兰查布市 was stored as a region outside the province, and the regional picture
        # listed it beside 乌兰察布市 (an operator's spreadsheet)
        raise ValueError(
            f"「{cleaned}」不是{regions.province}的盟市：是否为「{near}」？"
            "如确为省外地区，请写明省份（如 北京市、河北省石家庄市）"
        )
    return cleaned


def _near_division(text: str, regions: RegionList) -> str | None:
    """A division whose name ``text`` nearly is (one character off in a name of four or more:
    a typo), or None; shorter names differ by one character from real cities elsewhere."""
    for d in regions.divisions:
        for name in (d.name, *d.aliases):
            same_length = len(name) >= 4 and len(text) == len(name)  # 上海市 is not 乌海市
            if same_length and sum(a != b for a, b in zip(text, name, strict=True)) == 1:
                return d.name
    return None


def parse_field(raw: Any, f: Field) -> str | None:
    """A record field's parser (``common.fields``) for a region: ``normalize`` of the cell,
    its message a field error. Organisations (onboarding) and demands read regions so."""
    text = _parse_text(raw, f)  # blank → None; the field's own length message
    try:
        return normalize(text)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def is_valid(text: object) -> bool:
    try:
        normalize(text)
    except ValueError:
        return False
    return True


def unit(region: str | None) -> tuple[str, str]:
    """(key, label) of the regional-picture unit a stored region counts in."""
    cleaned = _clean(region)
    if not cleaned:
        return NONE_KEY, NONE_LABEL
    regions = region_list()
    rest, in_province = _strip_province(cleaned, regions)
    if in_province:
        division = _division(rest, regions)
        if division is not None:
            return regions.value_of(division), division.name
        return regions.province, f"{regions.province}（未注明盟市）"
    match = _PROVINCE.match(cleaned)
    province = match.group(1) if match else cleaned
    return province, province


def unit_order(key: str) -> tuple[int, int, str]:
    """Sort key: the province's divisions in list order, then other regions, blanks last."""
    regions = region_list()
    values = regions.values
    if key in values:
        return (0, values.index(key), key)
    if key == regions.province:
        return (1, 0, key)
    if key == NONE_KEY:
        return (3, 0, key)
    return (2, 0, key)
