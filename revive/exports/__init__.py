"""Spreadsheet exports too large to build inside a request: a job per export, built by a
worker as the requesting user, with progress, then a download kept for a while.

Domains register an export *kind* (what it lists, for whom, how rows are counted and
written; revive.exports.registry); their export views call ``views.export_response``, which
streams a small export directly, as before, and turns a large .xlsx into a job.
"""
