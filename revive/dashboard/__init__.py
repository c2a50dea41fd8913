"""Dashboards for every role: inventory overview, the conversion funnel 盘点 → 签约 (defined in
``funnel.py``), breakdowns, contracts, overdue responses, unmet demands, officer workload and
the enterprise's own view. Pages and who sees them: ``pages.py``; scoping: ``scope.py``."""
