"""Shared template macros other pages rely on: pagination keeps filters, rates keep denominators."""

from __future__ import annotations

import math

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

from revive import pagination

IMPORT = '{% from "_macros.html" import pagination, status_badge, field, kpi, rate with context %}'


def Page(page: int, pages: int, total: int | None = None) -> pagination.Page:  # noqa: N802
    """A revive.pagination.Page on ``page`` of ``pages`` (20 rows a page)."""
    per_page = 20
    total = total if total is not None else pages * per_page
    assert math.ceil(total / per_page) == pages
    return pagination.Page([], total, page, per_page)


def render(app, source: str, url: str = "/", **context) -> str:
    with app.test_request_context(url):
        return render_template_string(IMPORT + source, **context)


def test_pagination_keeps_current_filters_and_marks_current_page(app):
    html = render(
        app,
        '{{ pagination(p, endpoint="dashboard.home") }}',
        url="/?q=%E6%9D%90%E6%96%99&status=entered&status=draft&page=4",
        p=Page(4, 12, total=230),
    )

    assert 'href="/?q=%E6%9D%90%E6%96%99&amp;status=entered&amp;status=draft&amp;page=5"' in html
    assert 'rel="prev"' in html
    assert 'rel="next"' in html
    assert '<span class="current" aria-current="page">4</span>' in html
    assert ">12</a>" in html
    assert ">1</a>" in html
    assert ">9</a>" not in html  # far pages collapse into an ellipsis
    assert "共 230 条" in html


def test_pagination_is_silent_for_a_single_page(app):
    assert "<a" not in render(app, "{{ pagination(p) }}", p=Page(1, 1))


def test_status_badge_accepts_enum_or_value(app):
    html = render(app, '{{ status_badge(EntryStatus.RETURNED) }}|{{ status_badge("entered") }}')

    assert '<span class="badge status-returned">退回</span>' in html
    assert '<span class="badge status-entered">已入库</span>' in html


def test_rate_always_shows_denominator(app):
    html = render(app, "{{ rate(3688, 7782) }} {{ rate(0, 0, bar=True) }}")

    assert "47.4%（3688 / 7782）" in html
    assert "—（0 / 0）" in html


def test_field_renders_label_help_and_errors(app):
    class Form(FlaskForm):
        title = StringField(
            "专利名称", validators=[DataRequired("请填写专利名称")], description="与专利证书一致"
        )

    with app.test_request_context("/", method="POST", data={"title": ""}):
        form = Form()
        form.validate()
        html = render_template_string(
            IMPORT + "{{ field(form.title, placeholder='名称') }}", form=form
        )

    assert '<label for="title" class="required">专利名称</label>' in html
    assert 'id="title-help">与专利证书一致</small>' in html
    assert '<p class="field-error">请填写专利名称</p>' in html
    assert 'aria-describedby="title-help title-error"' in html
    assert 'placeholder="名称"' in html


def test_kpi_formats_numbers_and_links(app):
    html = render(app, '{{ kpi(7782, "盘点数", sub="58 所高校", href="/x") }}')

    assert '<a class="kpi" href="/x">' in html
    assert ">7,782<" in html
    assert "58 所高校" in html
