"""Benchmarks: offline evaluation (``revive eval``, ``revive fit-strength``) and timing
(``revive bench``) of the matching engine, and the web benchmark (``revive scale-seed`` loads
a synthetic million-patent set, ``revive bench-web`` times the pages against it).

``eval``/``fit-strength``/``bench`` run the production pipeline of ``revive.engine`` on CSV
files (no database, no Flask app); ``scale-seed`` and ``bench-web`` need the app's database.
(Not to be confused with ``revive.evaluations``: enterprises' 市场评价 of patents.)
"""
