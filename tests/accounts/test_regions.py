"""Regions: 盟市 of the demo province from its list, free text elsewhere, on forms and imports."""

from __future__ import annotations

import pytest

from revive.accounts import regions
from revive.onboarding.fields import validate_institution


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("呼市", "内蒙古自治区呼和浩特市"),
        ("包头", "内蒙古自治区包头市"),
        ("包头市", "内蒙古自治区包头市"),
        ("内蒙古呼和浩特市赛罕区", "内蒙古自治区呼和浩特市"),
        ("内蒙古自治区 锡林郭勒盟", "内蒙古自治区锡林郭勒盟"),
        ("内蒙古自治区", "内蒙古自治区"),
        ("江苏省无锡市", "江苏省无锡市"),
        (" 北京市　海淀区 ", "北京市海淀区"),
        ("", None),
    ],
)
def test_normalize(typed, stored):
    assert regions.normalize(typed) == stored


def test_a_division_the_province_lacks_is_refused_with_the_list():
    with pytest.raises(ValueError, match="盟市须为以下之一：呼和浩特市"):
        regions.normalize("内蒙古自治区北海市")


@pytest.mark.parametrize(
    ("stored", "unit"),
    [
        ("内蒙古自治区包头市", ("内蒙古自治区包头市", "包头市")),
        ("内蒙古自治区", ("内蒙古自治区", "内蒙古自治区（未注明盟市）")),
        ("江苏省无锡市", ("江苏省", "江苏省")),
        ("广西壮族自治区桂林市", ("广西壮族自治区", "广西壮族自治区")),
        ("北京市海淀区", ("北京市", "北京市")),
        (None, ("", "未填写地区")),
    ],
)
def test_unit_of_the_regional_picture(stored, unit):
    assert regions.unit(stored) == unit


def test_divisions_sort_in_list_order_before_other_regions():
    keys = ["江苏省", "", "内蒙古自治区包头市", "内蒙古自治区呼和浩特市", "内蒙古自治区"]
    assert sorted(keys, key=regions.unit_order) == [
        "内蒙古自治区呼和浩特市",
        "内蒙古自治区包头市",
        "内蒙古自治区",
        "江苏省",
        "",
    ]


def test_institution_record_stores_the_division_and_refuses_a_wrong_one():
    ok = validate_institution({"region": "鄂尔多斯"}, partial=True)
    assert ok.values["region"] == "内蒙古自治区鄂尔多斯市"
    bad = validate_institution({"region": "内蒙古自治区东海市"}, partial=True)
    assert bad.errors and "盟市须为" in bad.errors[0][1]


def test_enterprise_registration_stores_the_normalised_region(app, client):
    from tests.onboarding.helpers import code

    form = {
        "company_name": "包头稀土新材料有限公司",
        "credit_code": code(3, authority="91"),
        "region": "包头",
        "contact_name": "王经理",
        "email": "rare@example.com",
        "password": "Welcome-2026x",
        "confirm": "Welcome-2026x",
    }
    client.post("/register", data=form)
    from revive.accounts.models import Organization
    from revive.extensions import db

    org = db.session.scalar(
        db.select(Organization).where(Organization.name == form["company_name"])
    )
    assert org is not None and org.region == "内蒙古自治区包头市"


@pytest.mark.parametrize(
    ("typed", "meant"), [("乌兰查布市", "乌兰察布市"), ("巴彦卓尔市", "巴彦淖尔市")]
)
def test_a_near_miss_of_a_division_is_refused_with_the_right_name(typed, meant):
    """An operator's 乌兰查布市 was stored as a region outside the province, and the regional
    picture listed it beside 乌兰察布市."""
    with pytest.raises(ValueError, match=f"是否为「{meant}」"):
        regions.normalize(typed)


@pytest.mark.parametrize("typed", ["上海市", "广州市", "河北省石家庄市"])
def test_real_places_elsewhere_are_not_taken_for_typos(typed):
    assert regions.normalize(typed) == typed  # 上海市 is one character from 乌海市
