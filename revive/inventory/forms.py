"""The patent form: one control per field of ``fields.FIELDS`` (same keys as import and API).

The form does no field validation of its own (only CSRF): it hands raw strings keyed by field
key to the services, which run ``fields.validate_record`` exactly as an import does, and shows
``ValidationFailed.details`` next to each control. Choice fields therefore skip WTForms' own
choice check (``validate_choice=False``): a bad value gets the same Chinese message as in a
spreadsheet instead of WTForms' English one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from wtforms import (
    Field as WTField,
)
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from revive.common.forms import Form
from revive.db import utcnow
from revive.errors import DomainError
from revive.inventory.fields import (
    FIELDS_BY_KEY,
    GRADE_HELP,
    IMPLEMENTATION_HELP,
    IMPORT_FIELDS,
    MODEL_KEYS,
    TRL_HELP,
    WILLINGNESS_HELP,
    display_value,
)
from revive.inventory.models import (
    ImplementationStatus,
    Patent,
    PatentType,
    TransferMode,
    Willingness,
)
from revive.web import version_arg

# Field groups for the form and the detail page (every editable key appears exactly once).
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "基本信息",
        (
            "application_no",
            "title",
            "patent_type",
            "filing_date",
            "grant_date",
            "legal_status",
            "ipc_main",
            "ipc_all",
            "industry_code",
            "emerging_industry",
        ),
    ),
    (
        "权利人与发明人",
        (
            "patentees",
            "inventors",
            "college",
            "contact_name",
            "contact_phone",
            "contact_email",
        ),
    ),
    ("技术内容", ("tech_field", "abstract", "problem_solved", "advantages")),
    (
        "自评与转化意愿",
        (
            "implementation_status",
            "transfer_willingness",
            "transfer_modes",
            "trl",
            "value_grade",
            "prospects",
            "is_funded",
            "asking_price",
            "price_public",
            "partner_companies",
        ),
    ),
)

LONG_TEXT = frozenset({"abstract", "problem_solved", "advantages", "prospects"})
DATE_KEYS = frozenset({"filing_date", "grant_date"})

# Per-option help shown beside radio buttons: {field key: {option value: text}}.
OPTION_HELP: dict[str, dict[str, str]] = {
    "trl": {str(k): v for k, v in TRL_HELP.items()},
    "value_grade": {str(k): v for k, v in GRADE_HELP.items()},
    "transfer_willingness": {m.value: v for m, v in WILLINGNESS_HELP.items()},
    "implementation_status": {m.value: v for m, v in IMPLEMENTATION_HELP.items()},
}


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _choices(pairs: Any) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


def _control(key: str) -> WTField:
    f = FIELDS_BY_KEY[key]
    label = f.label
    if key == "patent_type":
        choices = _choices([("", "按申请号自动判断"), *PatentType.choices()])
        return SelectField(label, choices=choices, validate_choice=False)
    if key == "implementation_status":
        choices = _choices([("", "未填写"), *ImplementationStatus.choices()])
        return RadioField(label, choices=choices, validate_choice=False)
    if key == "transfer_willingness":
        return RadioField(
            label, choices=_choices([("", "未填写"), *Willingness.choices()]), validate_choice=False
        )
    if key == "transfer_modes":
        return MultiCheckboxField(
            label, choices=_choices(TransferMode.choices()), validate_choice=False
        )
    if key == "trl":
        choices = _choices([("", "未评")] + [(str(n), f"{n} 级") for n in range(1, 10)])
        return RadioField(label, choices=choices, validate_choice=False)
    if key == "value_grade":
        choices = _choices([("", "未评")] + [(str(n), "★" * n) for n in range(1, 6)])
        return RadioField(label, choices=choices, validate_choice=False)
    if key in ("is_funded", "price_public"):
        return RadioField(
            label,
            choices=_choices([("", "未填写"), ("是", "是"), ("否", "否")]),
            validate_choice=False,
        )
    if key == "college":
        # Choices are set per user in the view; a platform admin gets a text box instead.
        return SelectField(label, choices=[], validate_choice=False)
    if key in LONG_TEXT:
        return TextAreaField(label, render_kw={"rows": 4})
    if key in DATE_KEYS:
        return StringField(label, render_kw={"type": "date"})
    if key == "asking_price":
        return StringField(label, render_kw={"inputmode": "decimal"})
    if key == "contact_email":
        return StringField(label, render_kw={"type": "email"})
    return StringField(label)


class PatentForm(Form):
    """Create/edit form. ``version`` carries the patent version the form was loaded at."""

    version = HiddenField()
    # When the form was loaded (UTC, ISO): a stale save lists what others changed since.
    loaded_at = HiddenField()
    institution_id = SelectField("所属单位", choices=[], validate_choice=False)
    # Set by lock_college: the user may not change this patent's college (the field is shown
    # as text, and a value posted anyway is not taken).
    college_locked = False
    college_note = ""

    def raw_record(self) -> dict[str, str]:
        """Submitted values keyed by field key, as raw strings (what validate_record takes)."""
        raw: dict[str, str] = {}
        for f in IMPORT_FIELDS:
            if f.key == "college" and self.college_locked:
                continue
            control = self[f.key]
            if isinstance(control, SelectMultipleField):
                raw[f.key] = ",".join(control.data or [])
            else:
                raw[f.key] = str(control.data or "")
        return raw

    def expected_version(self) -> int | None:
        return version_arg(self.version.data)

    def loaded_since(self) -> datetime | None:
        """When the form was loaded; None when it carries no readable time (display only:
        a tampered value can only shorten or lengthen the list of others' changes shown)."""
        try:
            moment = datetime.fromisoformat(str(self.loaded_at.data or "")[:40])
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None

    def reload(self, version: int) -> None:
        """After a stale save: the form now stands at ``version``, loaded now."""
        self.version.data = str(version)
        self.loaded_at.data = utcnow().isoformat()

    def apply_errors(self, err: DomainError) -> bool:
        """Put ``err.details`` ({field key: message}) under each control; True if any matched."""
        details = err.details if isinstance(err.details, Mapping) else {}
        matched = False
        for key, message in details.items():
            if key in self:
                self[key].errors = [*(self[key].errors or []), str(message)]
                matched = True
        return matched

    def set_colleges(self, names: list[str], *, allow_none: bool) -> None:
        blank = [("", "（不指定学院）")] if allow_none else []
        self.college.choices = _choices([*blank, *((n, n) for n in names)])

    def lock_college(self, name: str, note: str) -> None:
        """Show the college as text with ``note`` (why it cannot change); ignore posted values."""
        self.college_locked, self.college_note = True, note
        self.college.data = name

    def set_institutions(self, pairs: list[tuple[int, str]]) -> None:
        self.institution_id.choices = _choices([("", "请选择"), *pairs])


for _f in IMPORT_FIELDS:
    setattr(PatentForm, _f.key, _control(_f.key))


def initial_data(patent: Patent) -> dict[str, Any]:
    """Form values for an existing patent, in the same text forms the importer accepts."""
    data: dict[str, Any] = {"version": str(patent.version), "loaded_at": utcnow().isoformat()}
    for key in MODEL_KEYS:
        value = getattr(patent, key)
        if key == "transfer_modes":
            data[key] = [m.value for m in patent.modes]
        elif hasattr(value, "label"):
            data[key] = value.value
        elif key in ("trl", "value_grade"):
            data[key] = "" if value is None else str(value)
        else:
            data[key] = display_value(key, value)
    data["college"] = patent.college.name if patent.college else ""
    return data


# ---------------------------------------------------------------------------- display helpers


def detail_groups(patent: Patent) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """[(group title, [(key, label, display text)])] for the detail page, in FIELD_GROUPS order."""
    groups = []
    for title, keys in FIELD_GROUPS:
        rows = []
        for key in keys:
            if key == "college":
                text = patent.college.name if patent.college else ""
            else:
                text = display_value(key, getattr(patent, key))
            rows.append((key, FIELDS_BY_KEY[key].label, text))
        groups.append((title, rows))
    return groups


def _revision_text(key: str, value: Any) -> str:
    """A stored revision value ({field: [old, new]} holds enum values, ISO dates…) as text."""
    if value is None or value == "":
        return "（空）"
    f = FIELDS_BY_KEY.get(key)
    if key == "transfer_modes":
        return display_value(key, value)
    if f is not None and f.enum is not None:
        try:
            return f.enum(value).label
        except ValueError:
            return str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


SOURCE_LABELS = {
    "create": "手工登记",
    "edit": "手工修改",
    "import": "批量导入",
    "contract": "合同签约",
}


def revision_rows(revisions: list[Any]) -> list[dict[str, Any]]:
    """History entries: who, when, source label and [(field label, old, new)] per revision."""
    rows = []
    for rev in revisions:
        changes = [
            (
                FIELDS_BY_KEY[k].label if k in FIELDS_BY_KEY else k,
                _revision_text(k, old),
                _revision_text(k, new),
            )
            for k, (old, new) in rev.changes.items()
        ]
        rows.append(
            {
                "actor": rev.actor.name if rev.actor else "系统",
                "at": rev.created_at,
                "source": SOURCE_LABELS.get(rev.source, rev.source),
                "changes": changes,
            }
        )
    return rows
