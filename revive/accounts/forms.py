"""Account forms (Flask-WTF, CSRF on). Rules that need the database live in services."""

from __future__ import annotations

from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp

from revive.accounts import uscc
from revive.accounts.models import ENTERPRISE_TAGS, Role, TokenScope
from revive.accounts.services import EMAIL_RE
from revive.common.forms import Form
from revive.errors import DomainError

email_validators = [
    DataRequired("请输入邮箱"),
    Length(max=254, message="邮箱过长"),
    Regexp(EMAIL_RE, message="邮箱格式不正确"),
]
PHONE_RE = r"^[0-9+\-() ]{5,40}$"
NO_COLLEGE = SelectChoice("0", "（不指定）")


# The password policy (services.validate_password) as the new-password fields' labels state it.
PASSWORD_RULES = "（至少 8 位，含字母和数字；勿用常见密码、邮箱或姓名）"


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            "密码" + PASSWORD_RULES,
            validators=[DataRequired("请输入密码"), Length(max=200, message="密码过长")],
        ),
        PasswordField(
            "确认密码",
            validators=[
                DataRequired("请再次输入密码"),
                EqualTo("password", "两次输入的密码不一致"),
            ],
        ),
    )


def role_field(*roles: Role) -> SelectField:
    """A role picker offering ``roles`` (the services check the role again)."""
    return SelectField(
        "角色",
        choices=[SelectChoice(r.value, r.label) for r in roles],
        invalid_choice_message="请选择角色",
    )


def apply_error(form: Form, err: DomainError) -> bool:
    """Show a service error under the field it names; False when it names no field of ``form``."""
    field = (err.details or {}).get("field") if isinstance(err.details, dict) else None
    if field and field in form:
        form[field].errors = [*form[field].errors, err.message]
        return True
    return False


class LoginForm(Form):
    email = EmailField("邮箱", validators=email_validators)
    password = PasswordField(
        "密码", validators=[DataRequired("请输入密码"), Length(max=200, message="密码过长")]
    )


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RegisterEnterpriseForm(Form):
    company_name = StringField(
        "企业名称",
        validators=[DataRequired("请填写企业名称"), Length(max=200, message="企业名称过长")],
    )
    credit_code = StringField(
        "统一社会信用代码",
        validators=[DataRequired("请填写统一社会信用代码"), Length(max=40, message="信用代码过长")],
    )
    region = StringField("所在地区", validators=[Optional(), Length(max=100, message="地区过长")])
    tags = MultiCheckboxField(
        "企业标签",
        choices=[SelectChoice(t) for t in ENTERPRISE_TAGS],
        invalid_choice_message="请从列表中选择企业标签",
    )
    contact_name = StringField(
        "联系人姓名",
        validators=[DataRequired("请填写联系人姓名"), Length(max=100, message="姓名过长")],
    )
    email = EmailField("邮箱（登录账号）", validators=email_validators)
    phone = StringField(
        "联系电话",
        validators=[Optional(), Regexp(PHONE_RE, message="电话格式不正确")],
    )
    password, confirm = new_password_fields()

    def validate_credit_code(self, field: StringField) -> None:
        try:
            field.data = uscc.validate(field.data)
        except DomainError as err:
            raise ValidationError(err.message) from None


class InviteForm(Form):
    organization_id = HiddenField()
    email = EmailField("邮箱", validators=email_validators)
    name = StringField(
        "姓名", validators=[DataRequired("请填写姓名"), Length(max=100, message="姓名过长")]
    )
    role = role_field(Role.INVENTOR, Role.COLLEGE_ADMIN, Role.UNIVERSITY_ADMIN)
    # Choices are set per request (the colleges of the university being managed).
    college_id = SelectField(
        "所属学院",
        coerce=int,
        choices=[NO_COLLEGE],
        validate_choice=False,
        invalid_value_message="请选择学院",
    )


class EnterpriseUserForm(Form):
    """The platform admin adds a user to a registered enterprise (a one-time link sets the
    password)."""

    organization_id = HiddenField()
    email = EmailField("邮箱", validators=email_validators)
    name = StringField(
        "姓名", validators=[DataRequired("请填写姓名"), Length(max=100, message="姓名过长")]
    )


class AcceptInviteForm(Form):
    name = StringField(
        "姓名", validators=[DataRequired("请填写姓名"), Length(max=100, message="姓名过长")]
    )
    password, confirm = new_password_fields()


class ChangePasswordForm(Form):
    current_password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new_password = PasswordField(
        "新密码" + PASSWORD_RULES,
        validators=[DataRequired("请输入新密码"), Length(max=200, message="密码过长")],
    )
    confirm = PasswordField(
        "确认新密码",
        validators=[
            DataRequired("请再次输入新密码"),
            EqualTo("new_password", "两次输入的密码不一致"),
        ],
    )


class CollegeForm(Form):
    organization_id = HiddenField()
    name = StringField(
        "学院名称",
        validators=[DataRequired("请填写学院名称"), Length(max=200, message="学院名称过长")],
    )


class StaffUserForm(Form):
    email = EmailField("邮箱", validators=email_validators)
    name = StringField(
        "姓名", validators=[DataRequired("请填写姓名"), Length(max=100, message="姓名过长")]
    )
    role = role_field(Role.OFFICER, Role.REGULATOR, Role.PLATFORM_ADMIN)
    organization_name = StringField(
        "所属机构（可选）", validators=[Optional(), Length(max=200, message="机构名称过长")]
    )
    password = PasswordField(
        "初始密码" + PASSWORD_RULES,
        validators=[DataRequired("请输入初始密码"), Length(max=200, message="密码过长")],
    )


class ForgotPasswordForm(Form):
    email = EmailField("注册邮箱", validators=email_validators)


class ResetPasswordForm(Form):
    password, confirm = new_password_fields()


class DayField(DateField):
    """A date input (YYYY-MM-DD) with the parse error in Chinese."""

    def process_formdata(self, valuelist: list) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("日期格式应为 YYYY-MM-DD，例如 2027-03-31") from None


class ApiTokenForm(Form):
    name = StringField(
        "名称（用途）",
        validators=[DataRequired("请填写令牌名称（用途）"), Length(max=100, message="名称过长")],
    )
    scope = SelectField(
        "权限",
        choices=[
            SelectChoice(TokenScope.READ.value, "只读（只能查询：GET）"),
            SelectChoice(TokenScope.WRITE.value, "读写（可查询和修改，权限与本账号相同）"),
        ],
        invalid_choice_message="请选择权限",
    )
    expires_on = DayField(
        "有效期至（含当天，北京时间）",
        validators=[InputRequired("请选择有效期")],
        format="%Y-%m-%d",
    )
    # asked again: a stolen session cookie alone must not make a long-lived credential
    password = PasswordField(
        "当前密码（确认是您本人）", validators=[DataRequired("请输入当前密码")]
    )
