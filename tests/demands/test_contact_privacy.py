"""Contact details an enterprise writes into a demand's texts stay with those who may see its
contact fields (the poster, officers): not shown to universities or the regulator in the
targets or the export, not guessable through keyword search, and never in a title."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.demands.contacts import HIDDEN, has_contacts, hide_contacts
from revive.demands.models import Demand
from revive.extensions import db
from tests.demands.helpers import FUTURE, make_demand

PHONE, EMAIL = "13912345678", "boss@zhinong.example"
TEXT = f"需要果蔬保鲜技术，延长货架期。联系电话 {PHONE}，邮箱 {EMAIL}"
SPECS = f"货架期 ≥ 30 天；联系人王经理 电话{PHONE} 微信 wx_boss123"


def _found(client, q: str) -> bool:
    """Whether the demand list's keyword search finds the demand (HTML list and API)."""
    page = client.get("/demands/", query_string={"q": q}).get_data(as_text=True)
    api = client.get("/api/v1/demands", query_string={"q": q}).get_json()
    assert ("果蔬保鲜需求" in page) == bool(api["items"]), q
    return bool(api["items"])


def test_a_university_cannot_recover_contacts_through_search(world, client, auth):
    """A tester grew a guess one character at a time from 「联系电话 」 and read the phone
    number and the e-mail address back from which searches still listed the demand."""
    make_demand(world.ent_a, title="果蔬保鲜需求", description=TEXT, target_specs=SPECS)
    for role in (Role.UNIVERSITY_ADMIN, Role.INVENTOR, Role.REGULATOR):
        auth.login(world.users[role])
        assert _found(client, "果蔬保鲜")  # what the reader may read is searched
        assert _found(client, "货架期 ≥ 30")
        for guess in ("联系电话 139", PHONE[:4], "boss@", "zhinong", "wx_boss"):
            assert not _found(client, guess), (role, guess)
        auth.logout()
    for role in (Role.OFFICER, Role.PLATFORM_ADMIN):  # who may see the contacts finds them
        auth.login(world.users[role])
        assert _found(client, PHONE) and _found(client, "wx_boss")
        auth.logout()


def test_the_searchable_text_follows_every_edit(world, client, auth):
    demand = make_demand(world.ent_a, title="果蔬保鲜需求", description="需要果蔬保鲜技术")
    demand.description = f"需要果蔬保鲜技术，电话 {PHONE}"
    demand.target_specs = "货架期 ≥ 45 天"
    db.session.commit()
    stored = db.session.scalar(sa.select(Demand.public_text).where(Demand.id == demand.id))
    assert PHONE not in stored and "〔联系方式已隐藏〕" in stored and "45 天" in stored
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert _found(client, "45 天") and not _found(client, PHONE[-4:])


def test_targets_hide_contacts_from_universities_on_the_page_and_in_the_api(world, client, auth):
    demand = make_demand(world.ent_a, title="果蔬保鲜需求", description=TEXT, target_specs=SPECS)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    data = client.get(f"/api/v1/demands/{demand.id}").get_json()
    for shown in (page, data["target_specs"]):
        assert PHONE not in shown and "wx_boss123" not in shown
        assert "货架期 ≥ 30 天" in shown and "〔联系方式已隐藏〕" in shown
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])  # the poster reads what it wrote
    assert "wx_boss123" in client.get(f"/api/v1/demands/{demand.id}").get_json()["target_specs"]


def test_the_regulators_export_hides_contacts_in_the_texts(world, client, auth):
    make_demand(world.ent_a, title="果蔬保鲜需求", description=TEXT, target_specs=SPECS)
    auth.login(world.users[Role.REGULATOR])
    body = client.get("/demands/export.csv").get_data().decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(body)) if r["需求名称"] == "果蔬保鲜需求")
    for key in ("需求描述", "量化技术指标"):
        assert PHONE not in row[key] and "〔联系方式已隐藏〕" in row[key], key
    assert EMAIL not in body and "wx_boss123" not in body
    auth.logout()
    auth.login(world.users[Role.OFFICER])
    assert EMAIL in client.get("/demands/export.csv").get_data().decode("utf-8-sig")


def test_a_title_with_contact_details_is_refused_everywhere(world, client, auth):
    """A title is shown on every list, notice and e-mail, where nothing hides them."""
    auth.login(world.users[Role.ENTERPRISE])
    form = {"title": f"果蔬保鲜 电话{PHONE}", "description": "需要果蔬保鲜技术"}
    response = client.post("/demands/new", data={**form, "deadline": FUTURE})
    assert response.status_code == 422
    assert "需求名称中不能含电话、邮箱等联系方式" in response.get_data(as_text=True)
    api = client.post("/api/v1/demands", json=form)
    assert api.status_code == 422 and "联系方式" in api.get_json()["details"]["title"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Demand)) == 0


def test_the_poster_is_told_when_the_targets_hold_contacts(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    response = client.post(
        "/demands/new",
        data={
            "title": "果蔬保鲜需求",
            "description": "需要果蔬保鲜技术",
            "target_specs": SPECS,
            "visibility": "public",
            "deadline": FUTURE,
        },
        follow_redirects=True,
    )
    assert "量化技术指标中含有电话、邮箱等联系方式" in response.get_data(as_text=True)


def test_a_number_ending_the_description_is_not_read_with_the_targets(world, client, auth):
    """A re-test grew the phone number again: the searchable text joined description and
    targets, and 「13912345678」 + 「千亩…」 on the next line read as a quantity."""
    make_demand(
        world.ent_a,
        title="果蔬保鲜需求",
        description=f"需要盐碱地稳产技术。联系电话{PHONE}",
        target_specs="千亩示范田产量≥600公斤",
    )
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert _found(client, "千亩示范田")
    assert not _found(client, "电话1391234") and not _found(client, PHONE)


@pytest.mark.parametrize(
    "written",
    [
        "１３９１２３４５６７８",  # full-width digits
        "1３9-1234-5678",
        "139.1234.5678",
        "1 3 9 1 2 3 4 5 6 7 8",
        "010-8888 7777",
        "li＠example.com",
        "V信 zhangsan888",
        "weixin: zs_8866",
        "wx: zs_7766",
        "微 信 abcd_1234",
        "QQ号 12345678",
        "扣扣 987654321",
        "ＱＱ：55667788",
    ],
)
def test_the_ways_people_write_contacts_are_hidden(written):
    """Each seen in a re-test, shown in clear to a university before."""
    text = f"联系方式：{written}，欢迎洽谈"
    assert has_contacts(text)
    assert hide_contacts(text) == f"联系方式：{HIDDEN}，欢迎洽谈"


@pytest.mark.parametrize(
    "technical",
    [
        "产量 1.35 1.40 1.45 1.50 吨",
        "年产15000000000元",
        "直径 13912345678mm",
        "数据量 13912345678 条",
        "wxyz12345 型号",
        "标准 GB/T 19001-2016",
        "ISBN 978-7-111-12345-6",
        "温度 1 3 5 7 9",
        "VX-20000型滴灌控制器改造",  # model numbers after VX / Wx (a security re-test)
        "Wx-8000A型奶牛挤奶机在线检测",
        "QQ 20000型",
    ],
)
def test_figures_are_not_taken_for_contacts(technical):
    assert not has_contacts(technical)


def test_a_full_width_phone_number_in_a_title_is_refused(world, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    api = client.post(
        "/api/v1/demands",
        json={"title": "盐碱地技术 联系１３９１２３４５６７８", "description": "x"},
    )
    assert api.status_code == 422 and "联系方式" in api.get_json()["details"]["title"]


def _stored_under_older_rules(demand: Demand, version: int = 0) -> None:
    """The row as a release whose rules missed these contacts left it."""
    db.session.execute(
        sa.update(Demand)
        .where(Demand.id == demand.id)
        .values(public_text=demand.description, public_text_rules=version)
    )
    db.session.commit()
    db.session.expire_all()


def test_the_rules_version_is_raised_with_the_rules():
    """The sweep rewrites the texts of an older RULES_VERSION only: rules changed without
    raising it would leave every stored text as the old rules hid it."""
    from revive.demands.contacts import RULES_HASH, rules_hash

    assert rules_hash() == RULES_HASH, (
        "the contact rules changed: raise contacts.RULES_VERSION and set RULES_HASH to "
        f"{rules_hash()}"
    )


def test_texts_stored_under_older_rules_are_rewritten_by_the_sweep(world, client, auth):
    """The pages hide what the running release's rules find, but search reads the stored
    text: one written by older rules kept a phone number guessable until the demand was next
    edited. The recovery sweep rewrites such rows, leaving updated_at, the version (an open
    edit form) and the title (the enterprise's own words) alone."""
    from revive import queue
    from revive.demands.contacts import RULES_VERSION

    demand = make_demand(world.ent_a, title="果蔬保鲜需求 VX-20000型", description=TEXT)
    assert demand.public_text_rules == RULES_VERSION  # written with the running rules
    _stored_under_older_rules(demand)
    before = db.session.get(Demand, demand.id)
    changed, version = before.updated_at, before.version
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert _found(client, PHONE[:5])  # the stored text still holds the number

    sent = queue.resend_stuck()
    assert sent.get("demands.public_text") == [demand.id]
    db.session.expire_all()
    row = db.session.get(Demand, demand.id)
    assert row.public_text_rules == RULES_VERSION and PHONE not in row.public_text
    assert (row.updated_at, row.version) == (changed, version)
    assert row.title == "果蔬保鲜需求 VX-20000型"
    assert not _found(client, PHONE[:5]) and _found(client, "果蔬保鲜")
    assert "demands.public_text" not in queue.resend_stuck()  # nothing left


def test_a_newer_releases_texts_are_left_alone(world):
    """Two releases side by side during an upgrade: the older one's sweep must not put back
    what the newer one's rules hide."""
    from revive import queue
    from revive.demands.contacts import RULES_VERSION

    demand = make_demand(world.ent_a, title="果蔬保鲜需求", description=TEXT)
    _stored_under_older_rules(demand, version=RULES_VERSION + 1)
    assert "demands.public_text" not in queue.resend_stuck()
    assert db.session.get(Demand, demand.id).public_text == TEXT


def test_the_sweep_does_not_overwrite_an_edit_made_meanwhile(world, monkeypatch):
    """The sweep reads a batch, then writes: an enterprise's edit in between wrote the text
    anew (under the running rules); the sweep's older reading must not replace it."""
    from revive import queue
    from revive.demands import upkeep
    from revive.demands.contacts import RULES_VERSION

    demand = make_demand(world.ent_a, title="果蔬保鲜需求", description=TEXT)
    _stored_under_older_rules(demand)
    rewrite = upkeep.public_text_of

    def edited_meanwhile(description, specs):
        db.session.execute(  # the edit, as the model writes it, between read and write
            sa.update(Demand)
            .where(Demand.id == demand.id)
            .values(
                description="改写后的需求",
                public_text="改写后的需求",
                public_text_rules=RULES_VERSION,
                version=Demand.version + 1,
            )
        )
        return rewrite(description, specs)

    monkeypatch.setattr(upkeep, "public_text_of", edited_meanwhile)
    queue.resend_stuck()
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).public_text == "改写后的需求"


def test_a_manual_sweep_rewrites_every_row(world, monkeypatch):
    from revive import queue
    from revive.demands import upkeep

    monkeypatch.setattr(upkeep, "BATCH", 2)
    monkeypatch.setattr(upkeep, "PER_SWEEP", 2)
    demands = [make_demand(world.ent_a, title=f"需求{i}", description=TEXT) for i in range(5)]
    for d in demands:
        _stored_under_older_rules(d)
    assert len(queue.resend_stuck()["demands.public_text"]) == 2  # a beat: PER_SWEEP
    assert len(queue.resend_stuck(full=True)["demands.public_text"]) == 3  # the rest
    stored = db.session.scalars(sa.select(Demand.public_text)).all()
    assert stored and not any(PHONE in t for t in stored)
