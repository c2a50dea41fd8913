"""The deal pipeline as data: every stage change goes through one of these ACTIONS.

已推荐 → 已接洽 → 洽谈中 → 已签约, one step at a time; 未成交 from any open stage (with a reason);
已签约 is final; 未成交 may be reopened by staff, back to the stage it failed from; staff may also
step an open deal back one stage (with a reason: a mis-click).

Who may do what (object scope is checked in deals.permissions):

- officers and the platform admin (STAFF): every action;
- the two parties — the enterprise that posted the demand, and the patent's university side
  (university admin, the patent's college admin, its inventors) — may record that contact
  happened and that negotiation started (已推荐 → 已接洽 → 洽谈中): they are the ones who
  talk, and waiting for an officer to click would make the board lie; but only once the
  university has answered 愿意对接 (deals.services.refusal), or the enterprise alone could
  move a deal the university never agreed to;
- outcomes (已签约 with its contract, 未成交 with its reason) and reopening are recorded by
  staff only: they feed the official contract figures (合同数、金额、备案), so one accountable
  role records them;
- the regulator reads only.
"""

from __future__ import annotations

from dataclasses import dataclass

from revive.accounts.models import Role
from revive.deals.models import Stage
from revive.errors import InvalidTransition, ValidationFailed

S = Stage

OPEN_STAGES = frozenset({S.RECOMMENDED, S.CONTACTED, S.NEGOTIATING})
FINAL_STAGES = frozenset({S.SIGNED, S.FAILED})
STAFF = frozenset({Role.OFFICER, Role.PLATFORM_ADMIN})


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[Stage]
    # None: "the stage it came from" (reopen goes back to where the deal failed).
    target: Stage | None
    parties_allowed: bool = False  # besides STAFF, may the deal's two sides do it?
    reason_required: bool = False  # 未成交原因 (deals.reasons.FAILURE_REASONS)
    comment_required: bool = False
    contract_required: bool = False


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("contact", "标记为已接洽", frozenset({S.RECOMMENDED}), S.CONTACTED, True),
        Action("negotiate", "进入洽谈", frozenset({S.CONTACTED}), S.NEGOTIATING, True),
        Action(
            "sign", "签约（登记合同）", frozenset({S.NEGOTIATING}), S.SIGNED, contract_required=True
        ),
        Action("fail", "标记为未成交", OPEN_STAGES, S.FAILED, reason_required=True),
        Action("reopen", "重新开启", frozenset({S.FAILED}), None, comment_required=True),
        # One step back, with a reason: an officer who clicked 进入洽谈 by mistake could only
        # mark the deal 未成交 and reopen it, which told both sides it had failed and left a
        # failure in the history (officer trial).
        Action(
            "back_to_recommended",
            "退回「已推荐」",
            frozenset({S.CONTACTED}),
            S.RECOMMENDED,
            comment_required=True,
        ),
        Action(
            "back_to_contacted",
            "退回「已接洽」",
            frozenset({S.NEGOTIATING}),
            S.CONTACTED,
            comment_required=True,
        ),
    )
}

# Every (from, to) pair the pipeline allows; reopen may return to any open stage.
ALLOWED_MOVES: frozenset[tuple[Stage, Stage]] = frozenset(
    (src, a.target) for a in ACTIONS.values() if a.target is not None for src in a.sources
) | frozenset((S.FAILED, s) for s in OPEN_STAGES)


def get_action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        # a name that is no action is a bad request (422), not a move the state forbids
        known = "、".join(ACTIONS)
        message = f"未知的操作：{str(name)[:40]}（可用：{known}）"
        raise ValidationFailed(message, details={"action": message}) from None


def action_to(current: Stage, target: Stage | str) -> Action:
    """The action that moves a deal in ``current`` to ``target`` (API convenience)."""
    try:
        target = Stage(target)
    except ValueError:
        raise InvalidTransition(f"未知的阶段：{target}") from None
    for a in ACTIONS.values():
        if current not in a.sources:
            continue
        if a.target == target or (a.target is None and target in OPEN_STAGES):
            return a  # reopen: the service checks ``target`` is where the deal failed from
    raise InvalidTransition(f"不能从「{current.label}」变更为「{target.label}」")


def available(stage: Stage) -> list[Action]:
    return [a for a in ACTIONS.values() if stage in a.sources]
