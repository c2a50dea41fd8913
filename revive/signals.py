"""Domain events, so lower floors never import higher ones (accounts → inventory, inventory /
imports / demands → matching).

Senders fire *after* their transaction committed, with one exception said at the signal
(``patent_transitioned``: inside the transaction, so what receivers add commits or rolls back
with the change itself). Receivers must be quick and must never make the sender fail: matching
records work as rows and enqueues it (revive.queue); inventory links an accepted invitation's
account to the patents its inviter chose; notifications tells inventors of review outcomes.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Patent texts or their matchability may have changed.
#: kwargs: patent_ids: list[int] | None (None: a bulk change, e.g. an import; find stale ones).
patents_changed = _signals.signal("patents-changed")

#: A demand was posted or edited (kwargs: demand_id: int, created: bool; an edit also sends
#: fields: list[str], the keys that changed, and actor_id: int).
demand_saved = _signals.signal("demand-saved")

#: A demand was closed (kwargs: demand_id: int).
demand_closed = _signals.signal("demand-closed")

#: A closed demand was opened again (kwargs: demand_id: int, actor_id: int); sent after
#: commit, after demand_saved.
demand_reopened = _signals.signal("demand-reopened")

#: A patent moved through the entry workflow (inventory.workflow.transition). Sent INSIDE the
#: caller's transaction, after the StatusChange row is flushed: receivers only add rows to the
#: session (never commit, flush or raise on purpose), so the notice of a 退回 / 入库 commits
#: with the move and disappears with it (a refused batch item's savepoint takes both back).
#: kwargs: patent: Patent, change: StatusChange, action: str (the workflow action's name),
#: actor: User | None, comment: str | None, batch: bool (True inside ``perform_batch``: the
#: receivers that tell people wait for ``patents_transitioned``, so a batch of 500 is one
#: notice per person, not 500).
patent_transitioned = _signals.signal("patent-transitioned")

#: A batch of patents moved by one action (inventory.services.perform_batch), sent INSIDE the
#: batch's transaction after its last move, like ``patent_transitioned`` (receivers only add
#: rows). kwargs: changes: list[tuple[Patent, StatusChange]] (the moves that were made; refused
#: ones are not there), action: str, actor: User | None, comment: str | None.
patents_transitioned = _signals.signal("patents-transitioned")

#: A signed 转让 / 作价入股 contract took the patent right away from the university (its 实施状态
#: became 已转让 / 作价入股; revive.deals). Sent INSIDE the signer's transaction, like
#: ``patent_transitioned``: receivers only add or change rows. Licensing withdraws the patent's
#: active open-licence declaration. kwargs: patent: Patent, actor: User, reason: str (Chinese).
patent_rights_gone = _signals.signal("patent-rights-gone")

#: Asked (not told) before a contract is recorded on a deal (revive.deals): a receiver returns
#: {field: why it cannot be recorded (Chinese)} or None. Licensing answers for the open licence:
#: a 开放许可 contract needs a declaration in effect on the signing day, and no sole or exclusive
#: licence may be granted while one is declared (专利法第五十一条).
#: kwargs: patent: Patent, kind: ContractKind, scope: LicenseScope | None, signed_on: date.
#: Read the answers from ``send()``'s (receiver, value) pairs.
contract_checked = _signals.signal("contract-checked")

#: Asked (not told) by matching (revive.matching.holds): the contracts that keep patents from
#: being proposed — a sole or exclusive licence in force (to nobody), any contract in force
#: (to its own enterprise) — and the deals that ended 未成交 (a mark on the pair). Deals
#: answers with a list of revive.matching.holds.Hold. kwargs: on: date (the platform's day),
#: patent_ids: Collection[int] | None (None: every patent). Read the answers from ``send()``.
patent_holds = _signals.signal("patent-holds")

#: A match run finished and stored its candidates (committed). The standing alerts read the
#: candidates an all-demand run added. kwargs: run_id: int, scope: str (RunScope value).
match_run_finished = _signals.signal("match-run-finished")

#: An enterprise asked for an introduction (申请对接; committed). kwargs: match_id: int.
intent_submitted = _signals.signal("intent-submitted")

#: An invitation was accepted: its account exists (committed).
#: kwargs: invitation_id: int, user_id: int.
invitation_accepted = _signals.signal("invitation-accepted")

#: A matching index build (full or delta) succeeded and is the active index (committed).
#: kwargs: build_id: int. Pools propose the newly entered patents that fit them.
index_built = _signals.signal("index-built")
