"""Reasons are spans both texts contain, never fragments, fillers, numbers or units."""

from __future__ import annotations

from revive.engine.reasons import shared_spans


def idf_of(word: str) -> float:
    common = {"保鲜": 5.0, "果汁": 6.0, "沙棘": 8.0, "货架": 5.5, "饮料": 4.5, "视觉": 6.0}
    return common.get(word, 4.0)


def spans(demand: str, patent: str) -> list[str]:
    return [r.text for r in shared_spans(demand, patent, idf_of, generic_idf=3.0)]


def test_longest_shared_phrase_wins_over_its_words():
    out = spans("需要视觉传感器检测罐车口位置", "一种基于视觉传感器的焊缝位置检测方法")
    assert "视觉传感器" in out
    assert "视觉" not in out  # inside the longer span, not repeated


def test_no_single_characters_fillers_numbers_or_units():
    demand = "沙棘果汁保鲜期只有3天，约30%的产品需要延长货架期，每天处理10吨"
    patent = "一种鲜切果蔬褐变抑制方法，货架期延长，只有天然成分，约30%，10吨，保鲜效果好"
    out = spans(demand, patent)
    assert out, "货架期 / 保鲜 are shared"
    for span in out:
        assert len(span) >= 2
        assert span not in {"只有", "约", "天", "期", "30%", "10吨", "吨", "3天"}
        assert not span.replace("%", "").replace("吨", "").isdigit()


def test_a_latin_unit_or_a_connective_alone_is_no_reason():
    """Seen among the reasons shown for real postings: mm, 影响, 造成 on their own."""
    out = spans("直径为 mm 级的颗粒，对设备造成影响", "颗粒直径 mm 级，会造成磨损并影响寿命")
    assert out == ["直径", "颗粒"]
    assert "影响" not in spans("孔径精度达到mm级，明显影响装配", "装配时孔径偏差在mm级会影响密封")


def test_a_reason_does_not_run_across_punctuation():
    out = spans(
        "钢板厚度12mm，冲击功27J，显著影响焊接接头的低温韧性",
        "一种低温韧性优良的焊接接头，板厚12mm，冲击功不低于27J，显著影响其使用",
    )
    assert sorted(out) == ["低温韧性", "冲击功", "焊接接头"]  # not "12mm,冲击功", "27j,显著影响"


def test_spans_occur_in_both_texts_as_written():
    demand = "ＬＥＤ手电筒亮度自动调节"
    patent = "一种LED手电筒，其亮度可根据环境自动调节"
    for span in spans(demand, patent):
        assert span.lower() in "led手电筒亮度自动调节" and span.lower() in patent.lower()


def test_nothing_shared_gives_no_reasons():
    assert spans("稀土永磁回收", "一种手机壳") == []


def test_a_span_does_not_keep_a_character_it_took_in_by_segmentation():
    """用激光 / 计算出 / 强度高 read as 激光 / 计算 / 强度; 高 at the head of a term stays."""
    assert spans("需要用激光切割", "一种用激光切割板材的方法") == ["激光切割"]
    assert spans("能计算出轨迹", "该系统可计算出位移量") == ["计算"]
    assert sorted(spans("钢板强度高", "一种强度高且耐腐蚀的钢板")) == ["强度", "钢板"]
    assert spans("高分子量聚乙烯纤维", "一种高分子量聚乙烯材料") == ["高分子量聚乙烯"]


def test_a_number_written_in_chinese_is_no_reason():
    out = spans("成活率只有五成，希望提高到八成", "苗种成活率由五成提高到八成以上")
    assert out == ["成活率"]
    assert spans("降噪延迟低于毫秒级", "响应时间为毫秒级的降噪电路") == ["降噪"]  # 毫秒 alone


def test_a_technical_word_is_not_cut_in_half_and_only_can_is_no_reason():
    """Seen by a new user: 好氧 was cut 好 | 氧, so the reason read 氧堆肥发酵 and the patent
    text lit up from its second character; 只能 and 规模 led a rare-earth posting's reasons."""
    out = spans(
        "牛粪需要好氧堆肥发酵，杂盐只能外运", "一种畜禽粪便好氧堆肥发酵装置，规模养殖场只能"
    )
    assert any(span.startswith("好氧") for span in out), out
    assert not any(span.startswith("氧") for span in out)
    assert "只能" not in out and "规模" not in out


def test_with_no_whole_word_shared_the_words_inside_longer_ones_are_the_reasons():
    """A 肉鸭 demand asking for 生物饲料 and a 生猪饲料 patent: no word of the demand is in the
    patent whole, and the page showed 「无明显共同关键词」 beside a 中. 饲料 is the reason; a
    bigram that is no word (水处 in 废水处理) never is."""
    assert spans("肉鸭养殖需要生物饲料", "一种生猪饲料添加剂") == ["饲料"]
    assert "水处" not in spans("印染废水处理", "一种水处置方法")
    # a whole shared word keeps the parts out
    assert spans("生物饲料与饲料添加剂", "一种饲料添加剂") == ["饲料添加剂"]


def test_an_sme_trials_lone_fillers_are_no_reasons():
    """An SME trial read 判断, 现场, 纵向, 一体化 (cut from 机电一体化) as the only shared words of
    unrelated pairs; inside a longer span such a word stays (现场检测)."""
    assert spans("人脸识别需要准确判断身份", "一种判断方法，判断准确") == []
    assert spans("机电一体化设备研发", "一种一体化的结构") == []
    assert spans("薄膜纵向横向厚度偏差", "纵向横向偏差较小的结构") == []
    assert "现场检测" in spans("蜂蜜现场检测", "一种现场检测装置")


def test_a_span_does_not_end_on_a_character_cut_off_its_word():
    """A third SME trial read 「轴承滚」 (轴承滚道 against a patent's 轴承滚子: jieba cuts
    轴承/滚/道, and 滚道 is a word) and 挤压成 (挤压成型 / 挤压成的); 量子点 keeps its 点, which
    no word joins to what follows."""
    assert spans("轴承滚道磨削", "一种轴承滚子的加工装置") == ["轴承"]
    assert spans("铝型材挤压成型工艺", "挤压成的铝型材") == ["铝型材", "挤压"]
    assert spans("量子点显示面板", "一种量子点材料") == ["量子点"]


def test_a_fields_own_word_in_a_small_pool_is_a_reason():
    """In the demo's 163 entered patents 饲料 is in 10 and 检测 in 30: over 5 %, so they were
    "generic" and an SME read 「无明显共同关键词」 beside 生物饲料 / 生猪饲料. A word is
    generic only in at least GENERIC_MIN_DOCS documents (or half a smaller index); large
    indexes keep the 5 % rule."""
    import math

    from revive.engine.reasons import GENERIC_DF, generic_cutoff

    def idf(df: int, n: int) -> float:
        return math.log((1 + n) / (1 + df)) + 1

    assert idf(10, 163) >= generic_cutoff(163) and idf(30, 163) >= generic_cutoff(163)
    assert idf(120, 163) < generic_cutoff(163)  # in three documents of four: still generic
    assert generic_cutoff(7743) == math.log(7744 / (1 + GENERIC_DF * 7743)) + 1
    out = shared_spans(
        "优质肉鸭生物饲料的创制",
        "一种生猪饲料的低蛋白日粮配制方法",
        lambda w: idf(10, 163),
        generic_idf=generic_cutoff(163),
    )
    assert [r.text for r in out] == ["饲料"]
