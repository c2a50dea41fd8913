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

