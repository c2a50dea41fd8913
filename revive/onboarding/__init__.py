"""First start and onboarding: the first platform admin (``revive create-admin``), the
universities and research institutes of a deployment (one by one, from a spreadsheet through
the shared import pipeline, or ``revive add-institutions``), and their colleges in bulk.

Sits above accounts, imports and inventory (it reuses inventory's field framework, as demands
does); nothing below imports it.
"""
