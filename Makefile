# Revive: `make run` sets up and starts the platform, `make test` sets up and runs the tests.
# Needs only Python 3.11+ and make; everything else is installed into .venv.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# (Re)install when pyproject.toml changes.
STAMP := $(VENV)/.installed
PORT ?= 5000
PYTEST_ARGS ?=
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

export PORT

.PHONY: help install browser run test test-pg lint clean clean-data

help:
	@echo "make run        install, migrate, load demo data, start web (127.0.0.1:$(PORT)) + worker"
	@echo "make test       install and run the whole test suite"
	@echo "make test-pg    run the suite on PostgreSQL ($(TEST_PG_URL)), browser tests aside"
	@echo "make lint       ruff check + format check + import contracts (lint-imports)"
	@echo "make clean      remove .venv and caches;  make clean-data  remove instance/ (local DB)"

$(STAMP): pyproject.toml
	@$(BIN)/python -c "" 2>/dev/null || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,anchors]'
	$(BIN)/python -c "from revive.engine.preload import warm; warm()"  # compile the kernels once
	@touch $@

install: $(STAMP)

# Debian's Chromium for the browser tests (tests/browser; apt-get, a no-op once installed).
# In CI a failure stops the run; elsewhere the browser tests then skip with the reason.
browser:
	@bash scripts/install-browser.sh || case "$${CI:-}" in \
	  1|true|TRUE|True|yes) exit 1 ;; \
	  *) echo "warning: Chromium not installed; the browser tests will be skipped" ;; \
	esac

run: $(STAMP)
	$(BIN)/revive db upgrade
	$(BIN)/revive seed-demo
	@exec scripts/run.sh

# With TEST_DATABASE_URL set (CI) the suite runs in two passes at once, one per core: on
# SQLite everything that uses a database (REVIVE_TEST_SCOPE=sqlite; browser tests included:
# their live server uses a SQLite file of its own), and on PostgreSQL what can behave
# differently there plus the integration tests (real Celery worker, needs
# REVIVE_TEST_REDIS_URL) and, to even out the two passes' times, the tests that use no test
# database (the engine, the evaluation, the benchmarks, the run script and the schemathesis
# CLI against servers on a SQLite file of their own: REVIVE_TEST_SCOPE=dialect; see
# tests/conftest.py). Each pass writes its log; both logs are printed, then the result.
# Each pass lists its slowest tests, to see where CI time goes.
TEST_LOGS := .pytest-logs
# The import-linter contracts (pyproject.toml [tool.importlinter]: the engine is pure, the
# domains keep their order, views and the API sit above services) are checked first.
test: $(STAMP) browser
	$(BIN)/lint-imports
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	  mkdir -p $(TEST_LOGS); \
	  ( env -u TEST_DATABASE_URL REVIVE_TEST_SCOPE=sqlite $(BIN)/pytest -q -p no:cacheprovider \
	      -m "not integration" \
	      --durations=15 $(PYTEST_ARGS) > $(TEST_LOGS)/sqlite.log 2>&1; \
	    echo $$? > $(TEST_LOGS)/sqlite.rc ) & \
	  ( REVIVE_TEST_SCOPE=dialect $(BIN)/pytest -q -p no:cacheprovider -m "not browser" \
	      --durations=25 $(PYTEST_ARGS) \
	      > $(TEST_LOGS)/postgresql.log 2>&1; \
	    echo $$? > $(TEST_LOGS)/postgresql.rc ) & \
	  wait; \
	  echo "== tests on SQLite (all that use a database) =="; cat $(TEST_LOGS)/sqlite.log; \
	  echo "== tests on PostgreSQL (dialect-sensitive, integration, and those using no database) =="; \
	  cat $(TEST_LOGS)/postgresql.log; \
	  echo "SQLite pass exit $$(cat $(TEST_LOGS)/sqlite.rc), PostgreSQL pass exit $$(cat $(TEST_LOGS)/postgresql.rc)"; \
	  [ "$$(cat $(TEST_LOGS)/sqlite.rc)" = 0 ] && [ "$$(cat $(TEST_LOGS)/postgresql.rc)" = 0 ]; \
	else \
	  $(BIN)/pytest -q $(PYTEST_ARGS); \
	fi

test-pg: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(TEST_PG_URL)} $(BIN)/pytest -q -m "not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[lint]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache build dist *.egg-info htmlcov .coverage
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

clean-data:
	rm -rf instance
