"""Chinese labels of audit actions, per object type (the page, the filter and the export).

Workflow actions take their labels from the workflow tables themselves (inventory.workflow,
deals.workflow), so a new transition is labelled where it is defined. Imported lazily: the
domain packages sit above audit (their services call audit.record).
"""

from __future__ import annotations

from functools import cache

_OWN: dict[str, dict[str, str]] = {
    "patent": {
        "create": "登记",
        "edit": "修改",
        "import_create": "导入新建",
        "import_update": "导入更新",
        "implementation": "实施状态更新（签约）",
        "link_inventor": "关联发明人账号",
        "unlink_inventor": "取消关联发明人账号",
    },
    "demand": {
        "create": "发布",
        "edit": "修改",
        "close": "关闭",
        "import_create": "导入新建",
        "import_update": "导入更新",
        "alerts_on": "订阅新专利提醒",
        "alerts_off": "取消新专利提醒",
    },
    "match": {
        "accepted": "采纳",
        "rejected": "否决",
        "intent": "企业申请对接",
        "officer_add": "技术经理人添加候选",
    },
    "strength_model": {"refit_request": "发起重新训练", "activate": "启用新模型"},
    "deal": {"push": "推送对接", "respond": "高校答复"},
    "contract": {"create": "登记合同", "update": "更正合同"},
    "evaluation": {"create": "提交评价", "update": "修改评价"},
    "evaluation_invite": {"create": "邀请评价"},
    "open_licence": {"declare": "声明开放许可", "withdraw": "撤回开放许可"},
    "setting": {"update": "修改平台设置"},
    "user": {
        "password_reset_link": "管理员重置密码（签发一次性链接）",
        "password_reset": "通过链接设置新密码",
    },
}


@cache
def action_labels() -> dict[str, dict[str, str]]:
    """{entity: {action: label}} for every action the services record."""
    from revive.deals import workflow as deal_workflow
    from revive.inventory import workflow as patent_workflow

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
