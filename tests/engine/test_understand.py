"""Reading real postings: boilerplate out, sub-needs split only when unrelated, thin marked."""

from __future__ import annotations

from revive.engine.understand import read_demand


def test_listing_form_boilerplate_is_removed():
    r = read_demand(
        "高密封电磁阀",
        "技术研发（关键、核心技术）|产品研发（新产品、新工艺）|工艺改进 需要高密封型电磁阀的成型技术",
    )
    assert "技术研发" not in r.text and "|" not in r.text
    assert "电磁阀的成型技术" in r.text
    assert any("技术研发" in piece for piece in r.removed)


def test_cooperation_and_budget_sections_are_removed():
    r = read_demand(
        "门表面喷漆不匀",
        "技术需求：门的表面喷漆很难达到均匀。资金预算：相关解决方案面谈。合作方式：技术转让",
    )
    assert "面谈" not in r.text and "技术转让" not in r.text
    assert "喷漆" in r.text
    assert len(r.removed) == 2


def test_company_profile_clause_is_removed_but_a_need_in_it_is_kept():
    r = read_demand(
        "视觉传感器",
        "公司主要从事石化储运设备的制造。现需要视觉传感器实时检测罐车口位置，希望精度高。",
    )
    assert "石化储运" not in r.text
    assert "罐车口" in r.text


def test_unrelated_enumerated_needs_become_sub_needs():
    r = read_demand(
        "钕铁硼永磁材料生锈难题",
        "1、咖啡机配件使用的钕铁硼永磁材料容易生锈，影响产品使用；"
        "2、咖啡机的橡胶件原来用压机压制，想改为注塑开模具进行注塑；"
        "3、寻找一种可以机加工的材料，不粘胶，类似固体蜡但有一定硬度。",
    )
    assert r.multi and len(r.needs) == 3
    assert "钕铁硼" in r.needs[0].text and "注塑" in r.needs[1].text
    assert all(len(n.label) <= 24 for n in r.needs)


def test_specifications_of_one_need_stay_one_need():
    r = read_demand(
        "扩径工具研制",
        "需要开发满足559规格生产的扩径工具。技术要求：1.模具硬度不低于HRC53；"
        "2.高度公差不超过0.1mm；3.壁厚27-33mm。",
    )
    assert not r.multi


def test_related_parts_stay_one_need():
    r = read_demand(
        "电磁阀研发",
        "1、高密封型电磁阀成型技术研发，电磁阀密封性能提高；2、高密封型电磁阀气动控制技术研发，电磁阀密封可靠",
    )
    assert not r.multi


def test_title_only_and_very_short_postings_are_thin():
    assert read_demand("自动化焊接机器人", "自动化焊接机器人").thin
    assert read_demand("茶叶压扁机", "").thin
    long = read_demand(
        "有机果园金龟子综合防治",
        "有效防控金龟子的药品和成熟方法。市场上现有的防治金龟子的投入品不能有效防控，"
        "有机防控技术不全，产品单一。",
    )
    assert not long.thin and long.content_words >= 6
