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


def test_a_profile_told_without_the_company_as_subject_is_removed():
    """Founded in a year, 是一家 …, its titles and markets: about the company, not a need; what
    it makes stays (it tells the field)."""
    r = read_demand(
        "介质层配方改进",
        "某电子科技有限公司于2012年成立，是一家以节能为主产业的高新技术企业，主要生产覆铜板、"
        "铝基板等产品，省级重点培育企业；市场覆盖华南、华东各主要电子产业区域及东南亚国家。",
    )
    assert "覆铜板" in r.text
    for gone in ("2012", "是一家", "重点培育", "东南亚"):
        assert gone not in r.text
    assert not r.multi  # the markets are no sub-need of their own
    assert len(r.removed) == 4


def test_the_listing_forms_introduction_is_no_sub_need():
    """A real posting (R0434) opens with the form's 一、基础介绍：公司主要经营：… — an SME tester
    saw it listed as 子需求 1 with 暂无足够接近的专利."""
    r = read_demand(
        "水刺布循环水的水处理工艺",
        "一、基础介绍：公司主要经营：水刺无纺布。应用场景：水刺无纺布的生产过程中，多道工序都"
        "需要大量的水及循环水的使用。二、技术需求：循环水中纤维杂质多，过滤网频繁堵塞，"
        "希望提供高效的循环水过滤与水质稳定处理工艺。",
    )
    assert not any("主要经营" in need.text for need in r.needs)
    assert "基础介绍" not in r.text and "过滤" in r.text


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


def test_a_marker_with_a_comma_leaves_no_punctuation_in_front_of_the_sub_need():
    """A marker written twice ("2.、"), as real postings do: the sub-need and its label start
    with the need itself, not with 、."""
    r = read_demand(
        "钢板表面粘结问题解决方案",
        "背景：1.、含水的粉状物料在运输过程中易粘结在车厢底部，卸货时大量残留，降低运输效率；"
        "2.、混凝土浆体易粘结在搅拌筒叶片及滚筒内壁上，降低生产效率增加生产成本。",
    )
    assert r.multi
    assert r.needs[1].text.startswith("混凝土浆体") and r.needs[1].label.startswith("混凝土浆体")
    assert all(not n.text.startswith(("、", "．", ".")) for n in r.needs)


def test_a_part_that_carries_on_the_one_before_is_not_a_need_of_its_own():
    """A semicolon then 因此 / 但是 …: the consequence of a background, one need."""
    text = (
        "自2014年公司全电动搬运车投放美洲市场以来，广泛应用于仓库和码头货物的装卸，"
        "但部分客户反映该产品的承载能力不能满足所有货物的装卸需求；"
        "因此，迫切需要在现有全电动搬运车的基础上研发一种承载更大的车辆，来满足客户的需要"
    )
    assert not read_demand("大吨位全电动搬运车", text).multi
    # without the connective the same two parts are read as two needs
    assert read_demand("大吨位全电动搬运车", text.replace("因此，", "")).multi


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


SHEEP_FARM = (
    "我们是锡林郭勒的一家肉羊养殖合作社，存栏5000只。一、羔羊早期断奶后成活率低，需要断奶配套技术；"
    "二、冬季饲草不足，想用全混合日粮饲喂设备提高饲料利用率；三、粪污堆积，环保检查压力大，"
    "需要粪污好氧堆肥发酵技术。"
)


def test_a_first_person_introduction_is_no_sub_need():
    """Seen by a new user: 子需求 1 read 我们是锡林郭勒的一家肉羊养殖合作社,存栏500…"""
    r = read_demand("牧场技术需求", SHEEP_FARM)
    assert "我们是锡林郭勒的一家肉羊养殖合作社" in r.removed
    assert [n.label for n in r.needs] == [
        "羔羊早期断奶后成活率低，需要断奶配套技术",
        "冬季饲草不足，想用全混合日粮饲喂设备提高饲料…",  # not 饲料利…
        "粪污堆积，环保检查压力大，需要粪污好氧堆肥发酵…",
    ]


def test_a_label_is_cut_between_words_not_inside_one():
    """Seen by a new user: a label ending 饲料利… (饲料利用率 cut in two). Labels end at one of
    jieba's word boundaries of the text, as close to the width as one lies."""
    from revive.engine.text import segmenter

    texts = [
        "我们需要一种高浓度有机废水处理工艺及其配套的自动化控制设备研发",
        "冬季饲草不足，想用全混合日粮饲喂设备提高饲料利用率",
        "需要提高铝合金压铸件表面质量和尺寸精度的新工艺新方法",
    ]
    for text in texts:
        label = read_demand(text, "").needs[0].label
        assert label.endswith("…") and len(label) <= 24, label
        kept = label[:-1]
        assert text.startswith(kept)
        ends = segmenter().spans(text)[:, 2].tolist()
        assert len(kept) in ends, (label, segmenter().cut(text))
    assert (
        read_demand(texts[1], "").needs[0].label == "冬季饲草不足，想用全混合日粮饲喂设备提高饲料…"
    )


def test_labels_read_as_written_and_are_never_cut_inside_a_number():
    """Labels show the poster's own case and full-width punctuation (the matching reads the
    normalised text), and a figure is never cut in two."""
    r = read_demand(
        "废水与光伏",
        "1、煤化工高盐废水COD高，蒸发结晶杂盐按危废处置，需要分盐结晶工艺；"
        "2、厂区屋顶光伏电站规模20MW，光伏组件热斑故障靠人工巡检，希望引进红外诊断技术。",
    )
    assert [n.label for n in r.needs] == [
        "煤化工高盐废水COD高，蒸发结晶杂盐按危废处置…",
        "厂区屋顶光伏电站规模20MW，光伏组件热斑故障…",
    ]
    assert "cod" in r.needs[0].text  # what matching reads stays normalised
    r = read_demand("需要提高产能至年产钕铁硼磁体1234567890吨的产线改造", "")
    assert r.needs[0].label == "需要提高产能至年产钕铁硼磁体…"  # not …123456789…
    r = read_demand("需要提高产能至年产钕铁硼磁体NdFeBmagnet的产线改造", "")
    assert r.needs[0].label == "需要提高产能至年产钕铁硼磁体…"


def test_an_enumerated_posting_with_a_people_section_keeps_every_item_its_own_need():
    """Seen by a new user (a real posting): item 4 and the 人才 section were merged into
    sub-need 1 (they shared 生物饲料 with it), so a reason from item 4 showed under item 1's
    label. The people wanted are not a technology; the four items are four needs."""
    r = read_demand(
        "肉鸭安全生产技术",
        "技术：1、优质、高效、安全肉鸭生物饲料的创制；2、肉鸭产品质量安全追溯体系建设；"
        "3、生态健康无公害养殖肉鸭技术；4、适合我国国情的现代化屠宰技术设备。"
        "人才：生物饲料研究方面的专家1名、食品(肉鸭)加工行业专家1名、无公害养殖肉鸭专家1名。",
    )
    assert [n.label for n in r.needs] == [
        "优质、高效、安全肉鸭生物饲料的创制",
        "肉鸭产品质量安全追溯体系建设",
        "生态健康无公害养殖肉鸭技术",
        "适合我国国情的现代化屠宰技术设备",
    ]
    assert any(x.startswith("人才") for x in r.removed)
    assert "专家" not in r.text and not r.text.startswith("技术")


def test_semicolons_without_two_asks_are_aspects_of_one_need():
    """A real posting: its setting, a specification and a constraint, run together by the
    listing form (条件：…成熟度：…技术指标：…) and separated by semicolons, were shown as three
    sub-needs, and the main need got none of the fitting patents. One need, labelled by the
    title; the readiness level goes, the indicator stays."""
    r = read_demand(
        "轴承圆柱（含鼓型）滚子表面缺陷检测设备",
        "主要内容：与技术提供方共同研发一台可以代替人工并提升检测效率的设备；检测外表面、2端面、"
        "2倒角面条件：在线检测成熟度：技术成熟度达到9级技术指标：总体准确率大于95%；检出大于"
        "20um的缺陷；因工件加工完毕后，表面残留水渍和污渍将影响缺陷的正确判别考虑。",
    )
    assert [n.label for n in r.needs] == ["轴承圆柱（含鼓型）滚子表面缺陷检测设备"]
    assert "成熟度:技术成熟度达到9级" in r.removed
    assert "总体准确率大于95%" in r.text and "在线检测" in r.text
    # two parts that each ask for something stay two needs
    two = read_demand(
        "车间改造",
        "需要解决焊接烟尘收集效率低的问题；希望引进机器视觉检测涂装表面缺陷的设备",
    )
    assert len(two.needs) == 2


def test_a_terms_section_takes_the_numbered_items_it_opens():
    """A tester (a real posting) saw 「2、最好有小试或中试的试验装置」, the second qualification
    asked of the university, listed as a sub-need."""
    r = read_demand(
        "高盐废水处理工艺",
        "具体要求如下：（1）实现废水中氨氮的回收利用；（2）实现此类废水的零排放，而且成本较低。"
        "资质要求：1、在废水处理领域有一定工业处理经验积累；2、最好有小试或中试的试验装置，"
        "可以在现场进行试验研究。成本要求：吨水处理成本小于35元。",
    )
    assert all("小试" not in n.text for n in r.needs) and "小试" not in r.text
    assert any("小试" in x and x.startswith("资质要求") for x in r.removed)
    assert "吨水处理成本" in r.text  # the next label ends the section


def test_the_listing_forms_field_names_are_not_part_of_a_label():
    """A tester saw sub-needs labelled 「需求名称：高倍率快速自动对焦需求简介：…」."""
    r = read_demand(
        "1、高倍率快速自动对焦2、运动控制器研发",
        "1、需求名称：高倍率快速自动对焦需求简介：显微镜对Panel进行观察测量，需要1s内完成对焦。"
        "2、需求名称：运动控制器研发需求简介：龙门移动结构，需要控制器控制两个电机同时运动。",
    )
    labels = [n.label for n in r.needs]
    assert len(labels) == 2 and labels[0].startswith("高倍率快速自动对焦")
    assert labels[1].startswith("运动控制器研发")
    assert not any("需求名称" in x or "需求简介" in x for x in labels)


def test_targets_belong_to_the_whole_demand_not_its_last_part():
    """An integrator's 「COD去除率≥90%」 (the demand's own targets field) was appended to the
    last enumerated part, which then read as a specification: two sub-needs became one."""
    from revive.engine.understand import SPECS_SEPARATOR

    title = "电吸附技术处理高浓度有机废水的配套工艺及设备"
    text = (
        "1、开发新型吸附材料、生物材料用于印染等工业高浓度废水处理及其相关生化处理出水深度"
        "处理新工艺。2、开发1项的新工艺及相关设备，需与EST技术形成完整的工艺链"
    )
    plain = read_demand(title, text)
    with_targets = read_demand(title, text + SPECS_SEPARATOR + "COD去除率≥90%")
    assert len(plain.needs) == 2
    assert [n.label for n in with_targets.needs] == [n.label for n in plain.needs]
    assert with_targets.text.endswith("cod去除率≥90%")  # read with the whole demand
    assert all("cod" not in n.text for n in with_targets.needs)
    one = read_demand("铝合金压铸件表面缺陷检测", "人工目检漏检多" + SPECS_SEPARATOR + "检出率≥99%")
    assert len(one.needs) == 1 and one.needs[0].text.endswith("检出率≥99%")


def test_what_the_company_does_is_profile_even_with_its_subject_left_out():
    """An integrator's posting showed 「从事滑板车……的研发、生产」 as its first sub-need."""
    reading = read_demand(
        "滑板车、家用健身车等产品部件焊接，塑胶注塑成型的研究",
        "企业成立于2004年，从事滑板车、滑冰鞋、电动车、家用健身车等青少年运动健身相关产品的研发、"
        "生产。目前主要存在：1.整机主要部件为钢铁五金加工及焊接，其中钢塑结构及材料性能分析；"
        "2.塑胶注塑成型的研究。",
    )
    assert any(r.startswith("从事滑板车") for r in reading.removed)
    assert "从事" not in reading.text and all("从事" not in n.text for n in reading.needs)
    asks = read_demand("焊接", "从事焊接加工多年，急需解决薄板焊接变形问题。")
    assert "薄板焊接变形" in asks.text  # a clause that asks for something stays
