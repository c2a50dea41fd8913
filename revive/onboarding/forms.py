"""Onboarding forms (Flask-WTF, CSRF on). Field rules that need the database live in services."""

from __future__ import annotations

from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from revive.accounts.models import InstitutionType
from revive.common.forms import Form
from revive.onboarding.fields import NAME_MAX, REGION_MAX


class InstitutionForm(Form):
    name = StringField(
        "单位名称（全称）",
        validators=[DataRequired("请填写单位名称"), Length(max=NAME_MAX, message="单位名称过长")],
    )
    credit_code = StringField(
        "统一社会信用代码",
        validators=[DataRequired("请填写统一社会信用代码"), Length(max=40, message="信用代码过长")],
    )
    region = StringField(
        "所在地区（盟市或省）",
        validators=[DataRequired("请填写所在地区"), Length(max=REGION_MAX, message="地区过长")],
    )
    institution_type = SelectField(
        "单位类型",
        choices=[SelectChoice(t.value, t.label) for t in InstitutionType],
        invalid_choice_message="请选择单位类型",
    )


class CollegesForm(Form):
    organization_id = HiddenField()
    names = TextAreaField(
        "学院名称（每行一个）",
        validators=[Optional(), Length(max=40_000, message="名单过长")],
    )
