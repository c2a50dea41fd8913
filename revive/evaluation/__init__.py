"""Offline evaluation (``revive eval``) and benchmarks (``revive bench``) of the matching engine.

Runs the production pipeline of ``revive.engine`` on CSV files; no database, no Flask app.
"""
