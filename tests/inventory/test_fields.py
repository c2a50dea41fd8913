from datetime import date
from decimal import Decimal

import pytest

from revive.inventory.fields import display_value, match_header, validate_record
from revive.inventory.models import ImplementationStatus, PatentType, Willingness

VALID = {"application_no": "201710601862.3", "title": "一种锂电池负极材料"}


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("申请号", "application_no"),
        ("专利申请号", "application_no"),
        ("application_no", "application_no"),
        ("申请号（必填）", "application_no"),
        (" 专利名称* ", "title"),
        ("技术成熟度", "trl"),
        ("TRL", "trl"),
        ("发明人（设计人）", "inventors"),
        ("意向价格(万元)", "asking_price"),
    ],
)
def test_headers_in_chinese_english_and_variants_map_to_fields(header, key):
    assert match_header(header).key == key


def test_unknown_header_maps_to_nothing():
    assert match_header("备注") is None


def test_values_are_parsed_from_labels_and_variants():
    result = validate_record(
        {
            **VALID,
            "trl": "TRL 6",
            "value_grade": "★★★★",
            "transfer_willingness": "视条件",
            "transfer_modes": "转让、许可，合作研发",
            "implementation_status": "已产业化",
            "filing_date": "2017/07/21",
            "is_funded": "否",
            "asking_price": "1,200万元",
            "patent_type": "发明专利",
        }
    )
    assert result.ok, result.errors
    v = result.values
    assert v["trl"] == 6 and v["value_grade"] == 4
    assert v["transfer_willingness"] == Willingness.CONDITIONAL
    assert v["transfer_modes"] == "assignment,license,joint_dev"
    assert v["implementation_status"] == ImplementationStatus.INDUSTRIALIZED
    assert v["filing_date"] == date(2017, 7, 21)
    assert v["is_funded"] is False
    assert v["asking_price"] == Decimal("1200.00")
    assert v["patent_type"] == PatentType.INVENTION


def test_patent_type_is_derived_from_the_application_number_when_missing():
    assert validate_record(VALID).values["patent_type"] == PatentType.INVENTION


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"trl": "10"}, "技术成熟度应在 1–9 之间"),
        ({"value_grade": "六星"}, "专利价值分级自评应为"),
        ({"transfer_willingness": "也许"}, "转化意愿取值无效"),
        ({"transfer_modes": "赠送"}, "包含无效方式"),
        ({"filing_date": "1970-01-01"}, "超出范围"),
        ({"filing_date": "2017-02-30"}, "不是有效日期"),
        ({"grant_date": "2016-01-01", "filing_date": "2017-01-05"}, "授权日早于申请日"),
        ({"patent_type": "实用新型"}, "与申请号所示类型"),
        ({"contact_email": "not-an-email"}, "联系邮箱格式不正确"),
        ({"title": ""}, "缺少必填项：专利名称"),
        ({"title": "长" * 501}, "专利名称过长"),
    ],
)
def test_invalid_values_get_a_chinese_reason(extra, message):
    result = validate_record({**VALID, **extra})
    assert not result.ok
    assert any(message in msg for _, msg in result.errors), result.errors


def test_partial_validation_checks_only_given_keys():
    assert validate_record({"trl": "3"}, partial=True).values == {"trl": 3}


def test_display_values_reimport_to_the_same_values():
    values = validate_record(
        {
            **VALID,
            "transfer_modes": "转让、开放许可",
            "transfer_willingness": "愿意",
            "is_funded": "是",
            "filing_date": "2017-07-21",
            "asking_price": "12.5",
        }
    ).values
    shown = {k: display_value(k, v) for k, v in values.items()}
    assert validate_record(shown).values == values


def test_chinese_punctuation_in_free_text_is_kept_as_written():
    title = "一种基于石墨烯（GO）的传感器，及其制备方法；用途"
    assert validate_record({**VALID, "title": title}).values["title"] == title


def test_formula_neutralising_apostrophe_from_our_exports_is_removed_on_import():
    values = validate_record(
        {**VALID, "contact_phone": "'+86 10 6278 0000", "title": "'=1+1", "advantages": "'＝1+1"}
    ).values
    assert values["contact_phone"] == "+86 10 6278 0000"
    assert values["title"] == "=1+1"  # stored as text; exports neutralise it again
    assert values["advantages"] == "＝1+1"  # the full-width sign is quoted and unquoted too


def test_bidirectional_overrides_are_removed_from_free_text():
    """A tester's U+202E (right-to-left override) kept reversing a title in lists and the
    CSV export: a way to make one title read as another."""
    values = validate_record(
        {**VALID, "title": "一种\u202e法方测检\u202c装置", "advantages": "\u2066强度高\u2069"}
    ).values
    assert values["title"] == "一种法方测检装置"
    assert values["advantages"] == "强度高"


def test_a_title_is_one_line_and_free_text_keeps_one_kind_of_line_break():
    """Every line break (CR LF, NEL, U+2028/9, Word's vertical tab) is a plain newline in
    free text, and a space in a title, whatever wrote it; C1 controls are dropped."""
    values = validate_record(
        {
            **VALID,
            "title": "一种传感器\u2028及其\r\n制备\x85方法",
            "advantages": "强度高\u2029耐腐蚀\x0b寿命长\x9b",
        }
    ).values
    assert values["title"] == "一种传感器 及其 制备 方法"
    assert values["advantages"] == "强度高\n耐腐蚀\n寿命长"


def test_text_pasted_from_word_loses_its_symbol_font_bullets_and_soft_hyphens():
    """Word's bullets are private-use characters that show as boxes outside Word (an SME
    tester's pasted demand), its optional hyphens invisible characters inside words."""
    values = validate_record({**VALID, "advantages": "\uf0b7 耐腐\u00ad蚀\n\uf0a7 寿命长"}).values
    assert values["advantages"] == "• 耐腐蚀\n• 寿命长"


def test_a_title_of_invisible_characters_only_is_missing():
    """Zero-width spaces, a BOM or a word joiner are no title; inside a title they stay (a
    joiner holds an emoji sequence together)."""
    assert not validate_record({**VALID, "title": "\u200b\ufeff\u2060 "}).ok
    title = "一种\u200d检测方法"
    assert validate_record({**VALID, "title": f"\u200b{title}\ufeff"}).values["title"] == title


@pytest.mark.parametrize(
    ("typed", "day"), [(44260, "2021-03-05"), (44260.0, "2021-03-05"), ("43895", "2020-03-05")]
)
def test_an_excel_date_serial_is_read_as_its_date(typed, day):
    """A date cell formatted as General shows Excel's serial (44260). It was refused with the
    date it stands for in the message; a university office had 50 of 151 rows refused that
    way and expected the import to take the date it named. Outside 1985–2064 five digits are
    still refused."""
    from revive.common.fields import FieldError
    from revive.inventory.fields import FIELDS_BY_KEY

    field = FIELDS_BY_KEY["filing_date"]
    assert field.parse_value(typed) == date.fromisoformat(day)
    with pytest.raises(FieldError, match="格式不正确"):
        field.parse_value("12345")


def test_the_applicant_header_variants_are_known():
    from revive.inventory.importers import map_columns

    columns = map_columns(["申请号", "专利名称", "申请（专利）人"])
    assert columns.index_of("patentees") == 2 and columns.ignored == []


@pytest.mark.parametrize("typed", ["—", "-", "／", "无", "N/A"])
def test_a_placeholder_legal_status_is_blank(typed):
    """A tester's 「—」 was stored as a status: 31 patents fell outside both 有效 and 未填写."""
    assert validate_record({**VALID, "legal_status": typed}).values["legal_status"] is None
    assert validate_record({**VALID, "legal_status": "有效"}).values["legal_status"] == "有效"


def test_what_offices_type_for_price_and_willingness_is_read():
    """A tester's inventory lost 100 rows to 意向价格 「面议」, 14 to 转化意愿 「视情况」."""
    values = validate_record({**VALID, "asking_price": "面议", "transfer_willingness": "视情况"})
    assert values.ok, values.errors
    assert values.values["asking_price"] is None
    assert values.values["transfer_willingness"].value == "conditional"


def test_a_numeric_application_number_gets_back_its_check_digit_zero():
    """201412717435.0 in a number cell reads back as 201412717435 (Excel drops a .0): the
    check digit is given back where 0 is the right one, and only there."""
    from revive.common.fields import FieldError
    from revive.inventory.appno import check_character
    from revive.inventory.fields import FIELDS_BY_KEY

    parse = FIELDS_BY_KEY["application_no"].parse_value
    base = next(n for n in range(201412717430, 201412717500) if check_character(str(n)) == "0")
    assert parse(float(base)) == f"{base}.0"
    other = next(n for n in range(201412717430, 201412717500) if check_character(str(n)) != "0")
    with pytest.raises(FieldError):
        parse(float(other))
