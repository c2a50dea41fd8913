"""What the audit log says, in Chinese: the object types, the actions, and every key and value
of an event's data (the page, the filter and the exports read the same tables).

The audit package has two floors. Recording (models, services, guard) is at the bottom: every
domain's services call ``audit.record``. Reading (this module, objects, queries, views) is at
the top, beside api and cli: it names and links the objects of every domain, so it imports
them (module level, no hidden cycle: no domain imports the reading side).

Workflow actions take their labels from the workflow tables themselves (inventory.workflow,
deals.workflow), so a new transition is labelled where it is defined; field keys take them
from the field tables (inventory.fields, demands.fields, licensing.rules). A key or an action
without a label here fails tests/audit/test_audit_labels.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from revive import clock
from revive.accounts.models import InstitutionType, Role, TokenScope
from revive.alerts.models import AlertKind
from revive.db import LabeledEnum
from revive.deals import workflow as deal_workflow
from revive.deals.models import ContractKind, LicenseScope, Stage, UniversityResponse
from revive.deals.reasons import FAILURE_REASONS
from revive.demands import fields as demand_fields
from revive.evaluations.models import CooperationIntent
from revive.inventory import fields as patent_fields
from revive.inventory import workflow as patent_workflow
from revive.inventory.inventors import VIA_LABELS as INVENTOR_VIA
from revive.inventory.models import EntryStatus
from revive.licensing import rules as licence_rules
from revive.licensing.models import ApplicationStatus, FeeMode
from revive.matching.models import MatchSource, MatchState
from revive.matching.reasons import REJECT_REASONS
from revive.pools.models import IndustryMode, MemberState
from revive.settings.services import SETTINGS

ENTITY_LABELS = {
    "patent": "专利",
    "demand": "需求",
    "match": "匹配",
    "deal": "对接",
    "contract": "合同",
    "evaluation": "市场评价",
    "evaluation_invite": "评价邀请",
    "open_licence": "开放许可",
    "licence_application": "开放许可实施申请",
    "user": "账号",
    "invitation": "成员邀请",
    "strength_model": "匹配强度模型",
    "api_token": "API 令牌",
    "organization": "单位",
    "setting": "平台设置",
    "pool": "产业专利池",
    "roadshow": "路演推介",
}

_OWN: dict[str, dict[str, str]] = {
    "patent": {
        "create": "登记",
        "edit": "修改",
        "import_create": "导入新建",
        "import_update": "导入更新",
        "assign_college": "批量分配学院",
        "implementation": "实施状态更新（签约）",
        "link_inventor": "关联发明人账号",
        "unlink_inventor": "取消关联发明人账号",
        "delete": "删除草稿",
    },
    "demand": {
        "create": "发布",
        "edit": "修改",
        "close": "关闭",
        "reopen": "重新开放",
        "import_create": "导入新建",
        "import_update": "导入更新",
        "alerts_on": "订阅新专利提醒",
        "alerts_off": "取消新专利提醒",
        "detail_requested": "技术经理人请企业补充技术细节",
    },
    "match": {
        MatchState.ACCEPTED.value: "采纳",
        MatchState.REJECTED.value: "否决",
        "intent": "企业申请对接",
        "withdraw_intent": "企业撤回对接申请",
        "officer_add": "技术经理人添加候选",
    },
    "strength_model": {"refit_request": "发起重新训练", "activate": "启用新模型"},
    "deal": {
        "push": "推送对接",
        "respond": "高校答复",
        "remind": "催办高校答复",
        "extend_deadline": "延长高校答复期限",
    },
    "contract": {"create": "登记合同", "update": "更正合同"},
    "evaluation": {"create": "提交评价", "update": "修改评价"},
    "evaluation_invite": {"create": "邀请评价"},
    "open_licence": {"declare": "声明开放许可", "withdraw": "撤回开放许可"},
    "licence_application": {
        "apply": "申请实施开放许可",
        "confirm": "确认实施申请",
        "sign": "登记签订开放许可",
        "withdraw": "撤回实施申请",
    },
    "setting": {"update": "修改平台设置"},
    "user": {
        "password_reset_link": "管理员重置密码（签发一次性链接）",
        "password_reset": "通过链接设置新密码",
        "confirm_email": "验证注册邮箱",
        "create_platform_admin": "创建平台管理员（命令行）",
        "create_staff": "创建平台账号（初始密码由管理员设定）",
        "create_enterprise_user": "为企业添加账号（一次性链接设置密码）",
        "accept_invitation": "接受邀请并设置密码",
        "deactivate": "停用账号",
        "reactivate": "重新启用账号",
        "alerts_subscribe": "订阅提醒",
        "alerts_unsubscribe": "退订提醒",
    },
    "api_token": {"create": "创建 API 令牌", "revoke": "撤销 API 令牌"},
    "invitation": {"create": "发出邀请", "revoke": "撤销邀请"},
    "organization": {
        "create": "添加单位",
        "import_create": "导入新建单位",
        "import_update": "导入更新单位",
        "fee_reduction": "设置年费减缴比例",
    },
    "pool": {
        "create": "新建产业专利池",
        "edit": "修改产业专利池",
        "rank": "发起排序",
        "include_patent": "纳入专利",
        "exclude_patent": "排除专利",
        "include_demand": "纳入需求",
        "exclude_demand": "排除需求",
    },
    "roadshow": {"create": "登记路演", "invite": "邀请参会企业评价"},
}


@cache
def action_labels() -> dict[str, dict[str, str]]:
    """{entity: {action: label}} for every action the services record."""
    labels = {entity: dict(actions) for entity, actions in _OWN.items()}
    for actions in (patent_workflow.ACTIONS, patent_workflow.SYSTEM_ACTIONS):
        labels["patent"].update({a.name: a.label for a in actions.values()})
    labels["deal"].update({a.name: a.label for a in deal_workflow.ACTIONS.values()})
    return labels


def action_label(entity: str, action: str) -> str:
    """The Chinese label, or the stored code when unknown (old rows stay readable)."""
    return action_labels().get(entity, {}).get(action, action)


def any_label(action: str) -> str:
    """A label for an action code without its object type (the action filter): the labels
    of the object types using it, joined when they differ."""
    found = dict.fromkeys(
        actions[action] for actions in action_labels().values() if action in actions
    )
    return " / ".join(found) or action


def entity_label(entity: str) -> str:
    return ENTITY_LABELS.get(entity, entity)


# ---------------------------------------------------------------------------- values


def yes_no(value: Any) -> str:
    return "是" if value else "否"


def _enum(enum_cls: type[LabeledEnum]) -> Callable[[Any], str]:
    def label(value: Any) -> str:
        try:
            return enum_cls(value).label
        except ValueError:
            return str(value)

    return label


def _codes(table: Mapping[str, str]) -> Callable[[Any], str]:
    return lambda value: table.get(str(value), str(value))


def _moment(value: Any) -> str:
    """An ISO moment stored in the data (UTC) in local time."""
    try:
        return clock.format_dt(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _stars(value: Any) -> str:
    return f"{value}★"


def _count(unit: str) -> Callable[[Any], str]:
    return lambda value: f"{value} {unit}"


def _text(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)
    return str(value)


USER_VIA = {
    "admin": "管理员签发的链接",
    "email": "邮件中的链接",
    "unsubscribe_link": "邮件中的退订链接（无需登录）",
    "account_page": "账号与安全页",
}
TOKEN_REVOKE_REASONS = {
    "owner": "本人撤销",
    "admin": "管理员撤销",
    "deactivated": "账号停用",
    "password_changed": "修改密码",
    "password_reset": "重置密码",
}


@dataclass(frozen=True)
class Key:
    """How one data key reads: its label, its value's text (default: as stored, booleans as
    是/否), or the object type an id names (shown by name, linked where the viewer may)."""

    label: str
    value: Callable[[Any], str] | None = None
    ref: str | None = None  # entity type (see audit.objects) the value is the id of
    hidden: bool = False  # said by another key already (shown in exports, not on the page)


# Keys with one meaning wherever they appear.
KEYS: dict[str, Key] = {
    "from_status": Key("原状态", _enum(EntryStatus)),
    "to_status": Key("新状态", _enum(EntryStatus)),
    "from_stage": Key("原阶段", _enum(Stage)),
    "to_stage": Key("新阶段", _enum(Stage)),
    "comment": Key("意见 / 备注"),
    "response": Key("答复", _enum(UniversityResponse)),
    "previous": Key("此前的答复", _enum(UniversityResponse)),
    "late": Key("逾期答复", yes_no),
    "days_overdue": Key("已逾期（天）"),
    "previous_due": Key("原答复期限", _moment),
    "response_due_at": Key("新答复期限", _moment),
    "extension_days": Key("延长（天）"),
    "patent_id": Key("专利", ref="patent"),
    "demand_id": Key("需求", ref="demand"),
    "match_id": Key("匹配", ref="match"),
    "deal_id": Key("对接", ref="deal"),
    "contract_id": Key("合同", ref="contract"),
    "enterprise_id": Key("企业", ref="organization"),
    "inventor_id": Key("发明人账号", ref="user"),
    "inventor": Key("发明人", hidden=True),  # the name; inventor_id shows it, linked
    "invitation_id": Key("邀请编号", lambda v: f"#{v}"),
    "import_job_id": Key("导入任务", lambda v: f"#{v}"),
    "contract_kind": Key("合同类型", _enum(ContractKind)),
    "kind": Key("合同类型", _enum(ContractKind)),
    "amount_wan": Key("金额（万元）"),
    "signed_on": Key("签约日期"),
    "record_no": Key("备案号"),
    "parties": Key("合同当事人"),
    "license_scope": Key("许可方式", _enum(LicenseScope)),
    "license_until": Key("许可期限至"),
    "prospect_stars": Key("产业化前景", _stars),
    "intent": Key("产学研合作意愿", _enum(CooperationIntent)),
    "fee_mode": Key(licence_rules.LABELS["fee_mode"], _enum(FeeMode)),
    "email": Key("邮箱"),
    "role": Key("角色", _enum(Role)),
    "college_id": Key("学院编号", lambda v: f"#{v}"),
    "expires_at": Key("链接有效期至", _moment),
    "sessions_ended": Key("退出的登录会话", _count("个")),
    "tokens_revoked": Key("撤销的 API 令牌", _count("个")),
    "fields": Key("涉及字段"),
    "changes": Key("修改内容"),
    "before": Key("修改前"),
}
# Keys whose meaning depends on the object type.
ENTITY_KEYS: dict[tuple[str, str], Key] = {
    ("patent", "application_no"): Key("申请号"),
    ("patent", "title"): Key("专利名称"),
    ("match", "reason"): Key("否决原因", _codes(REJECT_REASONS)),
    ("match", "note"): Key("技术经理人的推荐说明"),
    ("match", "existing"): Key("已有候选的来源", _enum(MatchSource)),
    ("match", "strength"): Key("匹配强度（概率）"),
    ("deal", "note"): Key("推荐说明"),
    ("deal", "source"): Key("候选来源", _enum(MatchSource)),
    ("setting", "key"): Key("设置项", lambda v: SETTINGS[v].label if v in SETTINGS else str(v)),
    ("setting", "before"): Key("原值", yes_no),
    ("setting", "after"): Key("新值", yes_no),
    ("match", "message"): Key("企业的对接说明"),
    ("deal", "reason"): Key("未成交原因", _codes(FAILURE_REASONS)),
    ("demand", "reason"): Key("关闭原因"),
    ("demand", "note"): Key("说明"),
    ("open_licence", "reason"): Key("撤回原因"),
    ("licence_application", "declaration_id"): Key("开放许可声明", ref="open_licence"),
    ("licence_application", "fee_summary"): Key("许可使用费（声明）"),
    ("licence_application", "from_status"): Key("原状态", _enum(ApplicationStatus)),
    ("licence_application", "to_status"): Key("新状态", _enum(ApplicationStatus)),
    ("licence_application", "date"): Key("日期"),
    ("licence_application", "note"): Key("专利权人备注"),
    ("licence_application", "reason"): Key("撤回原因"),
    ("patent", "via"): Key("关联方式", _codes(INVENTOR_VIA)),
    ("user", "via"): Key("方式", _codes(USER_VIA)),
    ("user", "kind"): Key("提醒类型", _enum(AlertKind)),
    ("api_token", "user_id"): Key("令牌所属账号", ref="user"),
    ("api_token", "name"): Key("令牌名称"),
    ("api_token", "scope"): Key("权限范围", _enum(TokenScope)),
    ("api_token", "prefix"): Key("令牌前缀"),
    ("api_token", "expires_on"): Key("有效期至"),
    ("api_token", "reason"): Key("撤销原因", _codes(TOKEN_REVOKE_REASONS)),
    ("organization", "name"): Key("单位名称"),
    ("organization", "credit_code"): Key("统一社会信用代码"),
    ("organization", "region"): Key("地区"),
    ("organization", "institution_type"): Key("单位类型", _enum(InstitutionType)),
    ("organization", "default_was"): Key("此前的默认减缴比例（%）"),
    ("pool", "run_id"): Key("排序任务", lambda v: f"#{v}"),
    ("pool", "member_state"): Key("此前状态", _enum(MemberState)),
    ("roadshow", "title"): Key("路演名称"),
    ("roadshow", "held_on"): Key("路演日期"),
    ("roadshow", "place"): Key("地点"),
    ("roadshow", "pool_id"): Key("产业专利池", ref="pool"),
    ("roadshow", "tier"): Key("推广分层"),
    ("roadshow", "patent_count"): Key("路演专利", _count("件")),
    ("roadshow", "enterprise_count"): Key("参会企业", _count("家")),
    ("roadshow", "invited"): Key("新发出的评价邀请", _count("条")),
    ("roadshow", "already_invited"): Key("此前已邀请", _count("条")),
    ("strength_model", "serving"): Key("当时使用的模型"),
    ("strength_model", "auc_heldout"): Key("新模型留出集 AUC"),
    ("strength_model", "auc_heldout_current"): Key("原模型留出集 AUC"),
    ("strength_model", "n_decisions"): Key("参与训练的决定", _count("条")),
}
# The open-licence terms recorded with a declaration: licensing.rules names them.
for _key in licence_rules.FIELD_KEYS:
    if _key not in KEYS:
        _value = yes_no if _key in licence_rules.FLAG_KEYS else None
        ENTITY_KEYS[("open_licence", _key)] = Key(licence_rules.LABELS[_key], _value)

CONTRACT_FIELDS = {
    "kind": "合同类型",
    "amount_wan": "金额（万元）",
    "signed_on": "签约日期",
    "record_no": "备案号",
    "parties": "合同当事人",
    "license_scope": "许可方式",
    "license_until": "许可期限至",
}
EVALUATION_FIELDS = {"prospect_stars": "产业化前景", "intent": "产学研合作意愿"}
ORGANIZATION_FIELDS = {"reduction_pct": "年费减缴比例（%）"}
POOL_FIELDS = {
    "name": "名称",
    "description": "产业说明",
    "key_terms": "关键词",
    "industry_codes": "行业代码",
    "industry_mode": "行业代码用法",
    "bar": "新入库专利推荐阈值",
}


def key_spec(entity: str, key: str) -> Key | None:
    return ENTITY_KEYS.get((entity, key)) or KEYS.get(key)


# ---------------------------------------------------------------------------- record fields


def field_label(entity: str, key: str) -> str | None:
    """The Chinese name of a record field named in ``fields`` / ``changes`` / ``before``."""
    if entity == "patent":
        f = patent_fields.FIELDS_BY_KEY.get(key)
        return f.label if f else None
    if entity == "demand":
        f = demand_fields.FIELDS_BY_KEY.get(key)
        return f.label if f else None
    if entity == "contract":
        return CONTRACT_FIELDS.get(key)
    if entity == "evaluation":
        return EVALUATION_FIELDS.get(key)
    if entity == "organization":
        return ORGANIZATION_FIELDS.get(key)
    if entity == "pool":
        return POOL_FIELDS.get(key)
    return None


def field_value(entity: str, key: str, value: Any) -> str:
    """A stored field value as people read it: enum labels, modes, 是/否, '（空）'."""
    if value is None or value == "":
        return "（空）"
    spec = None
    if entity == "patent":
        spec = patent_fields.FIELDS_BY_KEY.get(key)
    elif entity == "demand":
        spec = demand_fields.FIELDS_BY_KEY.get(key)
    if spec is not None:
        if spec.enum is not None:
            return _enum(spec.enum)(value)
        if key in ("transfer_modes", "cooperation_modes"):
            return patent_fields.display_value("transfer_modes", value)
        return _text(value)
    if entity == "contract" and key == "kind":
        return _enum(ContractKind)(value)
    if entity == "evaluation":
        return (_stars if key == "prospect_stars" else _enum(CooperationIntent))(value)
    if entity == "pool" and key == "industry_mode":
        return _enum(IndustryMode)(value)
    return _text(value)


# ---------------------------------------------------------------------------- an event


@dataclass(frozen=True)
class Detail:
    """One line of an event's details: ``label``: ``text``, or the object ``ref`` names."""

    label: str
    text: str = ""
    ref: tuple[str, int] | None = None  # (entity type, id): named and linked by the page
    key: str = ""
    hidden: bool = False


def _field_list(entity: str, keys: Iterable[Any]) -> str:
    return "、".join(field_label(entity, str(k)) or str(k) for k in keys)


def _changes(entity: str, changes: Mapping[str, Any]) -> str:
    parts = []
    for key, pair in changes.items():
        old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else ("", pair)
        parts.append(
            f"{field_label(entity, key) or key}：{field_value(entity, key, old)} → "
            f"{field_value(entity, key, new)}"
        )
    return "；".join(parts)


def _before(entity: str, before: Mapping[str, Any]) -> str:
    return "；".join(
        f"{field_label(entity, k) or k}：{field_value(entity, k, v)}" for k, v in before.items()
    )


def details(entity: str, data: Mapping[str, Any] | None) -> list[Detail]:
    """The event's data as labelled lines, in the order recorded."""
    out: list[Detail] = []
    for key, value in (data or {}).items():
        spec = key_spec(entity, key)
        label = spec.label if spec else key
        hidden = bool(spec and spec.hidden)
        if key == "changes" and isinstance(value, Mapping):
            out.append(Detail(label, _changes(entity, value), key=key, hidden=hidden))
        elif key == "fields" and isinstance(value, list | tuple):
            out.append(Detail(label, _field_list(entity, value), key=key, hidden=hidden))
        elif key == "before" and isinstance(value, Mapping):
            out.append(Detail(label, _before(entity, value), key=key, hidden=hidden))
        elif spec is not None and spec.ref and isinstance(value, int):
            out.append(Detail(label, f"#{value}", ref=(spec.ref, value), key=key, hidden=hidden))
        elif spec is not None and spec.value is not None:
            out.append(Detail(label, spec.value(value), key=key, hidden=hidden))
        else:
            out.append(Detail(label, _text(value), key=key, hidden=hidden))
    return out


def missing(entity: str, action: str, data: Mapping[str, Any] | None) -> list[str]:
    """What of an event has no Chinese label (the label tests): its object type, its action,
    a data key, a field named in fields/changes/before, an enum or code value."""
    gaps = []
    if entity not in ENTITY_LABELS:
        gaps.append(f"entity {entity}")
    if action_label(entity, action) == action:
        gaps.append(f"action {entity}.{action}")
    for key, value in (data or {}).items():
        spec = key_spec(entity, key)
        if spec is None:
            gaps.append(f"key {entity}.{key}")
            continue
        nested: Iterable[Any] = ()
        if key == "fields" and isinstance(value, list | tuple):
            nested = value
        elif key in ("changes", "before") and isinstance(value, Mapping):
            nested = value.keys()
        gaps += [f"field {entity}.{k}" for k in nested if field_label(entity, str(k)) is None]
        labelled = spec.value is None or value in (None, "") or spec.ref
        if not labelled and spec.value(value) == str(value):  # an enum or code, unlabelled
            gaps.append(f"value {entity}.{key}={value!r}")
    return gaps


def plain_text(entity: str, data: Mapping[str, Any] | None, names: Mapping | None = None) -> str:
    """The details as one line of text (the exports): '原状态：待学院审核；新状态：…'."""
    names = names or {}
    parts = []
    for d in details(entity, data):
        text = names.get(d.ref, d.text) if d.ref else d.text
        parts.append(f"{d.label}：{text}")
    return "；".join(parts)
