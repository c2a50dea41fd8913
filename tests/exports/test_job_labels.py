"""我的导出 tells two exports of one kind apart by their filters in words, shows 行数 「—」 for a
job not counted yet, and the page refusing a fourth export links to 我的导出 (explore3 F9)."""

from __future__ import annotations

import html as htmllib

from tests.exports.helpers import run_worker
from tests.exports.test_views import INVENTORY, _job_id


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_jobs_show_their_filters_and_an_uncounted_job_no_row_count(
    client, auth, uni, threshold, enqueued
):
    auth.login(uni.admin)
    threshold(0)
    every = _job_id(client.get(INVENTORY))
    draft = _job_id(client.get(f"{INVENTORY}?status=draft&q=材料&sort=title"))
    listing = _text(client.get("/exports/"))
    rows = {
        job_id: listing.split(f'href="/exports/{job_id}"')[1].split("</tr>")[0]
        for job_id in (every, draft)
    }
    assert "全部（未筛选）" in rows[every]
    assert "筛选：状态：草稿；关键词：“材料”" in rows[draft]  # the order is no filter
    for row in rows.values():
        assert '<td class="num">—</td>' in row and '<td class="num">0</td>' not in row
    assert "筛选：状态：草稿" in _text(client.get(f"/exports/{draft}"))
    run_worker(every)
    listing = _text(client.get("/exports/"))
    row = listing.split(f'href="/exports/{every}"')[1].split("</tr>")[0]
    assert '<td class="num">—</td>' not in row  # counted now


def test_the_too_many_exports_page_links_to_my_exports(client, auth, uni, threshold, enqueued):
    auth.login(uni.admin)
    threshold(0)
    for i in range(3):
        _job_id(client.get(f"{INVENTORY}?q=材料{i}"))
    refused = client.get(f"{INVENTORY}?q=导出")
    assert refused.status_code == 429
    assert 'href="/exports/" data-my-exports' in _text(refused)
