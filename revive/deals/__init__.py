"""供需对接: pushed matches (deals), their stage pipeline, university responses and contracts.

- workflow.py: the allowed moves as a table (ACTIONS) and who may make them;
- permissions.py: who sees which deal (404 outside one's scope) and may answer or sign;
- services.py: push (an accepted match's deal), change_stage, respond, record_contract,
  notify_overdue — each writes a DealEvent + audit event, notifies the other side, and is
  guarded by the deal's version;
- queries.py: board, lists, panels, the overdue rule;
- views.py: /deals board and deal page, the panels for patent and demand pages;
- cli.py: the ``revive notify-overdue`` command.
"""
