"""Dashboards: per-university inventory figures and charts."""
