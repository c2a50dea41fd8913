"""Template filters shared by every page (revive/templating.py)."""

from __future__ import annotations

import pytest

from revive.templating import format_size


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (None, "—"),
        (812, "812 B"),
        (1024, "1.0 KB"),
        (50_800, "49.6 KB"),
        (1024 * 1024 - 1, "1.0 MB"),  # not "1024.0 KB"
        (1024 * 1024, "1.0 MB"),
        (52_000_000, "49.6 MB"),  # a design review: an upload's size read "50781.2 KB"
    ],
)
def test_a_file_size_reads_in_the_unit_that_fits(size, text):
    assert format_size(size) == text


def test_the_filter_is_registered(app):
    with app.test_request_context():
        assert app.jinja_env.from_string("{{ n|filesize }}").render(n=3 * 1024 * 1024) == "3.0 MB"


def test_export_and_filter_buttons_say_the_same_thing_on_every_page():
    """A design review: export buttons said both "导出 Excel / CSV" and "导出 .xlsx", filter
    buttons 筛选, 查看 and 搜索. Exports say 导出 Excel / 导出 CSV; a filter form's button says
    筛选 (搜索 is for a keyword box)."""
    import re
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r">\s*导出 \.(xlsx|csv)", text), path
        assert not re.search(r'type="submit"[^>]*>\s*查看\s*<', text), path
