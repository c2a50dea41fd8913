"""Rejection statistics: counts per university and per patent, scope by role, the chart, the
.xlsx export, and the patent page's panel."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from flask_login import login_user
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.db import utcnow
from revive.extensions import db
from revive.matching.models import MatchState
from revive.review import views
from tests.factories import make_user
from tests.matching.helpers import make_demand
from tests.review.helpers import make_match
from tests.spreadsheets import formula_cells

REJECTED, ACCEPTED = MatchState.REJECTED, MatchState.ACCEPTED


@pytest.fixture
def decided(world):
    """甲大学: a1 rejected 3× (too_early 2, vague 1) + accepted 1×, a2 rejected 1× (wrong_field);
    乙大学: b1 rejected 2× (vague, other) + one undecided candidate."""
    w = world
    d = [make_demand(w.ent_a, title=f"需求{i}") for i in range(4)]
    a1, a2, b1 = w.patents["a1"], w.patents["a2"], w.patents["b1"]
    made = {
        "a1_early_1": make_match(d[0], a1, state=REJECTED, reason="too_early"),
        "a1_early_2": make_match(d[1], a1, state=REJECTED, reason="too_early"),
        "a1_vague": make_match(d[2], a1, state=REJECTED, reason="vague"),
        "a1_accepted": make_match(d[3], a1, state=ACCEPTED),
        "a2_field": make_match(d[0], a2, state=REJECTED, reason="wrong_field"),
        "b1_vague": make_match(d[0], b1, state=REJECTED, reason="vague"),
        "b1_other": make_match(d[1], b1, state=REJECTED, reason="other", comment="已有供应商"),
        "b1_candidate": make_match(d[2], b1),
    }
    return made


def _reasons(**counts: int) -> dict[str, int]:
    out = dict.fromkeys(
        (
            "too_early",
            "unclear_advantage",
            "no_business_path",
            "vague",
            "wrong_field",
            "too_costly",
            "alternative_exists",
            "other",
        ),
        0,
    )
    out.update(counts)
    return out


def _stats(client, **params) -> dict:
    response = client.get("/api/v1/review/rejections", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _rows(data: dict, key: str) -> list[tuple]:
    return [(r["name"], r["rejected"], r["decided"], r["reasons"]) for r in data[key]]


def test_counts_per_university_and_patent(client, auth, world, decided):
    auth.login(world.officer)
    data = _stats(client)
    assert _rows(data, "by_university") == [
        ("甲大学", 4, 5, _reasons(too_early=2, vague=1, wrong_field=1)),
        ("乙大学", 2, 2, _reasons(vague=1, other=1)),
    ]
    assert _rows(data, "by_patent") == [
        ("甲校高镍正极材料", 3, 4, _reasons(too_early=2, vague=1)),
        ("乙校锂电隔膜", 2, 2, _reasons(vague=1, other=1)),
        ("甲校膜生物反应器", 1, 1, _reasons(wrong_field=1)),
    ]
    first = data["by_patent"][0]
    assert (first["university"], first["college"], first["value_grade"]) == (
        "甲大学",
        "材料学院",
        4,
    )
    assert [r["code"] for r in data["reasons"]][:2] == ["too_early", "unclear_advantage"]
    assert data["scope"] == "全部高校"


def test_page_tables_and_stacked_chart(client, auth, world, decided):
    auth.login(world.officer)
    html = client.get("/review/rejections").get_data(as_text=True)
    uni_row = html.split(f'data-university-id="{world.uni_a.id}"')[1].split("</tr>")[0]
    assert "80.0%（4 / 5）" in uni_row  # 否决率 with its denominator
    assert '<td class="num" data-reason="too_early">2</td>' in uni_row
    assert '<td class="num" data-reason="wrong_field">1</td>' in uni_row
    assert "85.7%（6 / 7）" in html  # the total line
    patent_row = html.split(f'data-patent-id="{world.patents["a1"].id}"')[1].split("</tr>")[0]
    assert "技术太早期 2" in patent_row and "描述不清 1" in patent_row
    assert re.findall(r'data-patent-id="(\d+)"', html) == [
        str(world.patents[k].id) for k in ("a1", "b1", "a2")
    ]
    spec = json.loads(
        re.search(
            r'<script type="application/json" id="chart-rejections">(.*?)</script>', html
        ).group(1)
    )
    assert spec["type"] == "bar"
    assert spec["labels"] == ["甲大学", "乙大学"]
    assert spec["options"]["scales"]["x"]["stacked"] and spec["options"]["scales"]["y"]["stacked"]
    # eight reasons by colour alone were unreadable (UX review o-rej-d): segments are labelled
    assert spec["options"]["plugins"]["segmentLabels"] == {"display": True}
    by_label = {d["label"]: d["data"] for d in spec["datasets"]}
    assert by_label == {
        "技术太早期": [2, 0],
        "描述不清": [1, 1],
        "领域不符": [1, 0],
        "其他": [0, 1],
    }
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/charts.js" in html


def test_top_patents_are_limited(client, auth, world, decided, monkeypatch):
    monkeypatch.setattr(views.queries, "TOP_PATENTS", 1)
    auth.login(world.officer)
    assert len(_stats(client, top=1)["by_patent"]) == 1
    assert len(_stats(client, top=2)["by_patent"]) == 2


def test_days_filter(client, auth, world, decided):
    decided["a1_early_1"].decided_at = utcnow() - timedelta(days=40)
    db.session.commit()
    auth.login(world.officer)
    rows = _stats(client, days=30)["by_university"]
    assert (rows[0]["name"], rows[0]["rejected"], rows[0]["reasons"]["too_early"]) == (
        "甲大学",
        3,
        1,
    )


@pytest.mark.parametrize(
    ("role", "universities", "patents", "scope"),
    [
        (Role.PLATFORM_ADMIN, [("甲大学", 4), ("乙大学", 2)], ["a1", "b1", "a2"], "全部高校"),
        (Role.REGULATOR, [("甲大学", 4), ("乙大学", 2)], ["a1", "b1", "a2"], "全部高校"),
        (Role.UNIVERSITY_ADMIN, [("甲大学", 4)], ["a1", "a2"], "本校（甲大学）"),
        (Role.COLLEGE_ADMIN, [("甲大学", 3)], ["a1"], "本学院（材料学院）"),
    ],
)
def test_scope_by_role(client, auth, world, decided, role, universities, patents, scope):
    auth.login(world.users[role])
    # a scoped role cannot widen its scope with ?university=
    data = _stats(
        client,
        university=world.uni_b.id if role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN) else "",
    )
    assert [(r["name"], r["rejected"]) for r in data["by_university"]] == universities
    assert [r["id"] for r in data["by_patent"]] == [world.patents[k].id for k in patents]
    assert data["scope"] == scope
    html = client.get("/review/rejections").get_data(as_text=True)
    assert ("乙校锂电隔膜" in html) == ("b1" in patents)
    assert ("甲校膜生物反应器" in html) == ("a2" in patents)
    book = load_workbook(io.BytesIO(client.get("/review/rejections.xlsx").data), read_only=True)
    exported = [row[1] for row in book["按专利"].iter_rows(min_row=2, values_only=True)]
    assert exported == [world.patents[k].title for k in patents]


def test_staff_university_filter(client, auth, world, decided):
    auth.login(world.officer)
    data = _stats(client, university=world.uni_b.id)
    assert [r["name"] for r in data["by_university"]] == ["乙大学"]
    html = client.get(f"/review/rejections?university={world.uni_b.id}").get_data(as_text=True)
    assert f'<option value="{world.uni_a.id}">甲大学</option>' in html  # choices stay complete


def test_export_has_both_sheets_with_every_patent(client, auth, world, decided, monkeypatch):
    monkeypatch.setattr(views.queries, "TOP_PATENTS", 1)  # the page shows one; export all
    world.patents["b1"].title = '=HYPERLINK("http://x")'
    db.session.commit()
    auth.login(world.officer)
    response = client.get("/review/rejections.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    # the Chinese name for browsers, a readable ASCII one for clients that ignore filename*
    # (werkzeug's own kept "-20261206.xlsx")
    assert "filename*=UTF-8''%E5%8C%B9%E9%85%8D" in disposition
    assert re.search(r'filename="revive-\d{8}\.xlsx"', disposition), disposition
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["按高校", "按专利"]
    uni = list(book["按高校"].iter_rows(values_only=True))
    assert uni[0][:4] == ("高校", "否决数", "已审核数", "否决率（否决数 / 已审核数）")
    assert uni[0][4:] == (
        "技术太早期",
        "优势不明确",
        "商业路径不明",
        "描述不清",
        "领域不符",
        "成本过高",
        "已有替代方案",
        "其他",
    )
    assert uni[1] == ("甲大学", 4, 5, 0.8, 2, 0, 0, 1, 1, 0, 0, 0)
    patents = list(book["按专利"].iter_rows(min_row=2, values_only=True))
    assert [p[5] for p in patents] == [3, 2, 1]
    assert patents[1][1] == '=HYPERLINK("http://x")'  # as written, in a text cell
    assert formula_cells(response.data) == []  # formulas neutralised: nothing runs


def test_empty_statistics(client, auth, world):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get("/review/rejections").get_data(as_text=True)
    assert "暂无否决记录" in html and "chart-rejections" not in html


# ---------------------------------------------------------------------------- patent panel


def _panel(app, user, patent):
    with app.test_request_context():
        if user is not None:
            login_user(user)
        return views.patent_panel(patent)


@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "anonymous")
def test_patent_panel_visibility(app, world, decided, role):
    user = world.users[role] if role is not None else None
    own, other_college, other_uni = (world.patents[k] for k in ("a1", "a2", "b1"))
    seen = {
        k: _panel(app, user, p) is not None
        for k, p in (("own", own), ("other_college", other_college), ("other_uni", other_uni))
    }
    expected = {
        Role.PLATFORM_ADMIN: (True, True, True),
        Role.OFFICER: (True, True, True),
        Role.REGULATOR: (True, True, True),
        Role.UNIVERSITY_ADMIN: (True, True, False),
        Role.COLLEGE_ADMIN: (True, False, False),
        Role.INVENTOR: (True, False, False),  # only the patents that name them
        Role.ENTERPRISE: (False, False, False),
        None: (False, False, False),
    }[role]
    assert (seen["own"], seen["other_college"], seen["other_uni"]) == expected


def test_patent_panel_counts(app, world, decided):
    panel = _panel(app, world.officer, world.patents["a1"])
    assert (panel["row"].rejected, panel["row"].decided) == (3, 4)
    assert panel["reasons"] == [("too_early", "技术太早期", 2), ("vague", "描述不清", 1)]
    assert panel["stats_link"] is True
    inventor_panel = _panel(app, world.users[Role.INVENTOR], world.patents["a1"])
    assert inventor_panel["stats_link"] is False


def test_patent_page_includes_the_panel(client, auth, world, decided):
    auth.login(world.users[Role.COLLEGE_ADMIN])
    html = client.get(f"/patents/{world.patents['a1'].id}").get_data(as_text=True)
    assert 'id="review-feedback"' in html
    section = html.split('id="review-feedback"')[1].split("</section>")[0]
    assert "75.0%（3 / 4）" in section
    assert '<tr data-reason="too_early"><td>技术太早期</td><td class="num">2</td></tr>' in section
    auth.logout()
    auth.login(make_user(Role.INVENTOR, organization=world.uni_a))  # not named on a1
    assert 'id="review-feedback"' not in client.get(f"/patents/{world.patents['a1'].id}").get_data(
        as_text=True
    )


def test_patent_page_panel_without_decisions(client, auth, world):
    auth.login(world.officer)
    html = client.get(f"/patents/{world.patents['a2'].id}").get_data(as_text=True)
    assert "本专利的匹配尚未经技术经理人审核" in html
