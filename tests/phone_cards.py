"""The phone layout of a list table, read from the page's HTML: a ``.cards-on-phone`` table
(static/css/app.css) shows each row as a card, each cell after its column's name
(``data-label``); a design review found lists whose titles wrapped every four characters and
whose status or action were scrolled out of view at 375 px."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Cells that need no label in a card: its title, its check box, its buttons.
UNLABELLED = {"card-head", "card-check", "card-actions"}


@dataclass
class Cell:
    tag: str
    classes: set[str]
    label: str | None
    colspan: int
    text: str = ""


@dataclass
class Table:
    classes: set[str] = field(default_factory=set)
    in_wrap: bool = False
    rows: list[list[Cell]] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.table: Table | None = None
        self.open_divs: list[set[str]] = []
        self.depth = 0  # nested tables inside ours are not read
        self.in_body = False
        self.cell: Cell | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        if tag == "div" and self.table is None:
            self.open_divs.append(classes)
        if tag == "table":
            if self.table is None and a.get("id") == self.table_id:
                wrap = bool(self.open_divs) and "table-wrap" in self.open_divs[-1]
                self.table = Table(classes, wrap)
                self.depth = 1
            elif self.depth:
                self.depth += 1
            return
        if self.depth != 1:
            return
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.table.rows.append([])
        elif tag in ("td", "th") and self.in_body and self.cell is None:
            self.cell = Cell(tag, classes, a.get("data-label"), int(a.get("colspan") or 1))
            self.table.rows[-1].append(self.cell)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self.table is None and self.open_divs:
            self.open_divs.pop()
        if tag == "table" and self.depth:
            self.depth -= 1
        if self.depth != 1:
            return
        if tag == "tbody":
            self.in_body = False
        elif tag in ("td", "th") and self.cell is not None and self.cell.tag == tag:
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.text += data


def read_table(html: str, table_id: str) -> Table:
    reader = _Reader(table_id)
    reader.feed(html)
    assert reader.table is not None, f"no table #{table_id}"
    return reader.table


def assert_cards_on_phone(html: str, table_id: str, *, head: bool = True) -> Table:
    """Table ``table_id`` reads as cards on a phone: it is a ``.table.cards-on-phone`` in a
    ``.table-wrap``, and in every row that is not a single cell across the table (a group
    heading, "no records") each cell carries its column's name or is the card's title, check
    box or buttons; ``head``: each card has one title."""
    table = read_table(html, table_id)
    assert {"table", "cards-on-phone"} <= table.classes, table.classes
    assert table.in_wrap, f"#{table_id} is not in a .table-wrap"
    cards = [row for row in table.rows if not (len(row) == 1 and row[0].colspan > 1)]
    assert cards, f"#{table_id} has no rows"
    for row in cards:
        for cell in row:
            assert cell.label or cell.classes & UNLABELLED or cell.tag == "th", (
                f"#{table_id}: a cell without a label: {cell}"
            )
        if head:
            heads = [c for c in row if "card-head" in c.classes or c.tag == "th"]
            assert len(heads) == 1, f"#{table_id}: a card without one title: {row}"
    return table
