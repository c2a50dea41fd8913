"""Account forms (Flask-WTF, CSRF on)."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
email_validators = [
    DataRequired("请输入邮箱"),
    Length(max=254, message="邮箱过长"),
    Regexp(EMAIL_RE, message="邮箱格式不正确"),
]


class LoginForm(FlaskForm):
    email = EmailField("邮箱", validators=email_validators)
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)])
