"""The audit log speaks Chinese: every action the services record and every key of the data
they record has a label, and every enum or code value reads as its label (是/否 for flags).

Two walks over what the services record:

- the source: every ``audit.record`` / ``audit.record_many`` call in revive/ (and the keywords
  passed to the helpers that forward ``**data`` to it), read with ``ast``: its object type,
  literal action and data keys;
- the tables the dynamic actions come from (inventory.workflow, deals.workflow, MatchState)
  and the value vocabularies (statuses, stages, answers, contract kinds, reasons, …).

tests/audit/test_audit_completeness.py checks the events every writing route really leaves
with ``labels.missing`` as well.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from revive.audit import labels
from revive.audit.labels import ENTITY_LABELS, action_label, details, key_spec, missing
from revive.deals import workflow as deal_workflow
from revive.deals.models import ContractKind, Stage, UniversityResponse
from revive.deals.reasons import FAILURE_REASONS
from revive.evaluations.models import CooperationIntent
from revive.inventory import fields as patent_fields
from revive.inventory import workflow as patent_workflow
from revive.inventory.inventors import VIA_LABELS
from revive.inventory.models import EntryStatus
from revive.licensing.models import FeeMode
from revive.matching.models import MatchState
from revive.matching.reasons import REJECT_REASONS

REVIVE = Path(__file__).resolve().parents[2] / "revive"
CJK = re.compile(r"[\u4e00-\u9fff]")
NOT_DATA = frozenset({"actor", "organization_id"})  # columns of the event, not its data


# ---------------------------------------------------------------------------- the source walk


def _is_audit_call(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "audit"
    )


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments (AUDIT_ENTITY = "open_licence")."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    out[target.id] = node.value.value
    return out


def _text(node: ast.AST | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _arg(call: ast.Call, index: int, name: str) -> ast.AST | None:
    if len(call.args) > index:
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _forwards(call: ast.Call, fn: ast.FunctionDef) -> bool:
    """``call`` passes ``fn``'s own ``**kwargs`` on."""
    kwarg = fn.args.kwarg.arg if fn.args.kwarg else None
    return any(
        k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg
        for k in call.keywords
    )


def recorded() -> tuple[set[tuple[str, str]], set[tuple[str, str]], list[str]]:
    """(entity, action) literals, (entity, key) pairs, and the files walked."""
    actions: set[tuple[str, str]] = set()
    keys: set[tuple[str, str]] = set()
    files = []
    for path in sorted(REVIVE.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        constants = _constants(tree)
        # Helpers that forward **data to audit.record (or to such a helper): their callers'
        # keywords are data too.
        forwarders: dict[str, str] = {}
        functions = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.args.kwarg]
        changed = True
        while changed:
            changed = False
            for fn in functions:
                if fn.name in forwarders:
                    continue
                for call in ast.walk(fn):
                    if not isinstance(call, ast.Call) or not _forwards(call, fn):
                        continue
                    if _is_audit_call(call, "record"):
                        entity = _text(_arg(call, 0, "entity"), constants)
                    elif isinstance(call.func, ast.Name):
                        entity = forwarders.get(call.func.id)
                    else:
                        entity = None
                    if entity:
                        forwarders[fn.name] = entity
                        changed = True
                        break
        for node in ast.walk(tree):
            if _is_audit_call(node, "record"):
                files.append(path.name)
                entity = _text(_arg(node, 0, "entity"), constants)
                assert entity, f"{path}:{node.lineno}: audit.record without a literal object type"
                action = _text(_arg(node, 2, "action"), constants)
                if action:
                    actions.add((entity, action))
                keys |= {(entity, k.arg) for k in node.keywords if k.arg and k.arg not in NOT_DATA}
            elif _is_audit_call(node, "record_many"):
                files.append(path.name)
                entity = _text(_arg(node, 0, "entity"), constants)
                assert entity
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Tuple) and len(sub.elts) == 3:
                        action = _text(sub.elts[1], constants)
                        if action:
                            actions.add((entity, action))
                    if isinstance(sub, ast.Dict):
                        keys |= {(entity, k.value) for k in sub.keys if isinstance(k, ast.Constant)}
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in forwarders
            ):
                entity = forwarders[node.func.id]
                keys |= {(entity, k.arg) for k in node.keywords if k.arg and k.arg not in NOT_DATA}
    return actions, keys, files


def test_the_walk_finds_the_services_that_record():
    actions, keys, files = recorded()
    # A sanity check of the walk itself: the main recorders and their keys are found.
    for name in ("workflow.py", "services.py", "inventors.py", "recovery.py", "importers.py"):
        assert name in files
    assert ("patent", "from_status") in keys and ("deal", "late") in keys
    assert ("patent", "invitation_id") in keys  # through the inventors._audit helper
    assert ("contract", "changes") in keys  # through deals.services._audit_contract
    assert ("patent", "import_update") in actions and ("demand", "close") in actions


def test_every_recorded_action_has_a_chinese_label():
    actions, _, _ = recorded()
    table = [("patent", a) for a in (*patent_workflow.ACTIONS, *patent_workflow.SYSTEM_ACTIONS)]
    table += [("deal", a) for a in deal_workflow.ACTIONS]
    table += [("match", s.value) for s in (MatchState.ACCEPTED, MatchState.REJECTED)]
    unlabelled = sorted(
        f"{e}.{a}" for e, a in actions | set(table) if not CJK.search(action_label(e, a))
    )
    assert not unlabelled, f"audit actions without a Chinese label: {unlabelled}"
    assert all(CJK.search(ENTITY_LABELS[e]) for e, _ in actions | set(table))


def test_every_recorded_key_has_a_chinese_label():
    _, keys, _ = recorded()
    unlabelled = sorted(
        f"{e}.{k}"
        for e, k in keys
        if (spec := key_spec(e, k)) is None or not CJK.search(spec.label)
    )
    assert not unlabelled, (
        f"audit data keys without a Chinese label (audit/labels.py): {unlabelled}"
    )


@pytest.mark.parametrize(
    ("entity", "key", "values"),
    [
        ("patent", "from_status", [s.value for s in EntryStatus]),
        ("patent", "to_status", [s.value for s in EntryStatus]),
        ("deal", "from_stage", [s.value for s in Stage]),
        ("deal", "to_stage", [s.value for s in Stage]),
        ("deal", "response", [r.value for r in UniversityResponse]),
        ("deal", "previous", [r.value for r in UniversityResponse]),
        ("deal", "reason", list(FAILURE_REASONS)),
        ("match", "reason", list(REJECT_REASONS)),
        ("contract", "kind", [k.value for k in ContractKind]),
        ("patent", "contract_kind", [k.value for k in ContractKind]),
        ("evaluation", "intent", [i.value for i in CooperationIntent]),
        ("open_licence", "fee_mode", [f.value for f in FeeMode]),
        ("patent", "via", list(VIA_LABELS)),
        ("user", "via", ["admin", "email"]),
        ("deal", "late", [True, False]),
        ("open_licence", "pledged", [True, False]),
    ],
)
def test_every_value_reads_as_its_label(entity, key, values):
    for value in values:
        (line,) = details(entity, {key: value})
        assert CJK.search(line.label) and CJK.search(line.text), (key, value, line)
        assert not [g for g in missing(entity, "-", {key: value}) if not g.startswith("action")]


def test_a_workflow_event_reads_without_codes():
    lines = details(
        "patent",
        {"from_status": "pending_school", "to_status": "returned", "comment": "请补充中试数据"},
    )
    assert [(d.label, d.text) for d in lines] == [
        ("原状态", "待学校审核"),
        ("新状态", "退回"),
        ("意见 / 备注", "请补充中试数据"),
    ]
    (late,) = details("deal", {"late": True})
    assert (late.label, late.text) == ("逾期答复", "是")
    (reason,) = details("match", {"reason": "wrong_field"})
    assert (reason.label, reason.text) == ("否决原因", "领域不符")


def test_changed_fields_read_with_their_labels_and_values():
    (line,) = details(
        "patent",
        {"changes": {"patent_type": ["invention", "utility"], "is_funded": [None, True]}},
    )
    funded = patent_fields.FIELDS_BY_KEY["is_funded"].label
    assert line.label == "修改内容"
    assert line.text == f"专利类型：发明 → 实用新型；{funded}：（空） → 是"
    (fields,) = details("demand", {"fields": ["title", "region"]})
    assert fields.text == "需求名称、地区"
    assert missing("patent", "edit", {"changes": {"no_such_field": [1, 2]}}) == [
        "field patent.no_such_field"
    ]


def test_an_unknown_key_or_code_is_reported_missing():
    assert missing("patent", "edit", {"mystery": 1}) == ["key patent.mystery"]
    assert missing("match", "rejected", {"reason": "new_code"}) == ["value match.reason='new_code'"]
    assert missing("patent", "teleport", {}) == ["action patent.teleport"]


def test_an_expiry_stored_in_utc_reads_in_local_time():
    (line,) = details("user", {"expires_at": "2025-03-01T17:30+00:00"})
    assert line.text == "2025-03-02 01:30"


def test_plain_text_of_the_export_names_objects():
    text = labels.plain_text(
        "deal", {"patent_id": 7, "late": False}, {("patent", 7): "201710601862.3《甲》"}
    )
    assert text == "专利：201710601862.3《甲》；逾期答复：否"


def test_every_declared_licence_term_has_a_label():
    # licensing.services.declare records the terms with a comprehension the walk cannot read.
    from revive.licensing.rules import FIELD_KEYS

    assert all(CJK.search(key_spec("open_licence", k).label) for k in FIELD_KEYS)
