"""The base of every Flask-WTF form: WTForms' own Chinese messages.

A validator given no message of its own (``Length(max=100)``, a choice that is not offered,
an integer that is not one) would otherwise answer in English. WTForms ships a Chinese
catalogue (``wtforms/locale/zh``); Flask-WTF reads translations from Flask-Babel, which this
app does not use, so ``WTF_I18N_ENABLED`` is off (revive/config.py) and the forms ask WTForms
for its catalogue directly. A message written in a validator still wins.
"""

from __future__ import annotations

from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)
