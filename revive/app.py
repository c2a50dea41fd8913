"""The Flask application factory: config, extensions, blueprints, error handlers, headers."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from revive import (
    clock,
    input_guard,
    models,  # noqa: F401  (register every table on the metadata)
    navigation,
)
from revive.accounts.views import bp as accounts_bp
from revive.accounts.views import load_signed_in_user
from revive.alerts import receivers as alert_receivers
from revive.alerts.views import bp as alerts_bp
from revive.api import bp as api_bp
from revive.api.auth import load_token_user
from revive.api.common import MAX_INT
from revive.audit.views import bp as audit_bp
from revive.celery import celery_init_app
from revive.config import PROJECT_ROOT, load_config
from revive.dashboard.views import bp as dashboard_bp
from revive.deals import receivers as deal_receivers
from revive.deals.views import bp as deals_bp
from revive.demands import importers as _demand_imports  # noqa: F401  (registers its import kind)
from revive.demands import upkeep as _demand_upkeep  # noqa: F401  (registers its sweep check)
from revive.demands.views import bp as demands_bp
from revive.errors import NotFoundError, register_error_handlers
from revive.evaluations.views import bp as evaluations_bp
from revive.exports.views import bp as exports_bp
from revive.extensions import csrf, db, login_manager, migrate
from revive.health import bp as health_bp
from revive.imports.views import bp as imports_bp
from revive.inventory import importers as _patent_imports  # noqa: F401  (registers its import kind)
from revive.inventory import receivers as inventory_receivers
from revive.inventory.views import bp as inventory_bp
from revive.licensing import receivers as licensing_receivers
from revive.licensing.views import bp as licensing_bp
from revive.matching import receivers as matching_receivers
from revive.matching.views import bp as matching_bp
from revive.notifications import receivers as notification_receivers
from revive.notifications.views import bp as notifications_bp
from revive.onboarding import importers as _institution_imports  # noqa: F401  (registers its import kind)
from revive.onboarding.views import bp as onboarding_bp
from revive.pool.views import bp as pool_bp
from revive.pools import receivers as pool_receivers
from revive.pools.views import bp as pools_bp
from revive.pools.views import roadshow_bp
from revive.review.views import bp as review_bp
from revive.settings.views import bp as settings_bp
from revive.templating import register_template_helpers


@event.listens_for(Engine, "do_connect")
def _sqlite_file_owner_only(dialect: Any, conn_rec: Any, cargs: list, cparams: dict) -> None:
    """An embedded SQLite database the app is about to create is made first, empty and readable
    by its owner only (0600; SQLite gives its -wal and -shm files the same mode): it holds
    every account, contact and contract, and was created world-readable under the usual
    umask (a security review). An existing file is left as it is."""
    if dialect.name != "sqlite" or not cargs or cparams.get("uri"):
        return
    name = cargs[0]
    if not isinstance(name, str) or name in ("", ":memory:"):
        return
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # a missing folder or no permission: SQLite's own error says which


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite: enforce foreign keys; WAL + busy timeout so the web app and a worker can share it.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # All scripts are files under /static (no inline JS); data reaches them as JSON blocks.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
}

HSTS = "max-age=31536000; includeSubDomains"


def _check_settings_files(app: Flask) -> None:
    """Settings that name a data file or carry JSON are read once at start-up, so a typo stops
    the app with the setting's name instead of failing pages later with a 500 (as
    REVIVE_TIMEZONE and the other settings already do, in load_config)."""
    from revive.accounts import regions
    from revive.evaluations.tiers import rules_from_mapping
    from revive.inventory import fees

    checks = {
        "REVIVE_REGIONS_FILE": regions.region_list,
        "REVIVE_ANNUAL_FEE_TABLE": fees.load_table,
        "REVIVE_TIER_RULES": lambda: rules_from_mapping(app.config.get("REVIVE_TIER_RULES")),
    }
    with app.app_context():
        for name, check in checks.items():
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure to read it stops the start
                raise ValueError(
                    f"{name} ({app.config.get(name)!r}) cannot be used: {exc}"
                ) from exc
    reduction = app.config.get("REVIVE_FEE_REDUCTION_DEFAULT")
    if reduction not in (0, 70, 85):
        raise ValueError(
            f"REVIVE_FEE_REDUCTION_DEFAULT must be 0, 70 or 85 (the legal fee reductions), "
            f"got {reduction!r}"
        )


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(load_config(config))
    _check_settings_files(app)
    if app.config["REVIVE_TRUSTED_PROXIES"]:
        # Behind N reverse proxies: trust X-Forwarded-* so per-IP login limits see real clients.
        n = app.config["REVIVE_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    # Log lines in the platform's zone, with the offset (pages show local time; logs were UTC)
    clock.set_process_timezone(app.config["REVIVE_TIMEZONE"])
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S%z",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"

    # The cookie names a server-side session (revive/accounts/sessions.py); no live session,
    # no user — whatever ``_user_id`` the signed cookie still carries.
    login_manager.user_loader(load_signed_in_user)

    @app.before_request
    def _load_user_first() -> None:
        """Resolve the signed-in user before the view runs: checking the session may write
        its last_seen_at (and commit), which must not happen halfway through a view's work.
        Tests share one app context across requests, hence the reset of Flask-Login's
        per-request cache. An API request with a bearer token is authenticated by the token
        alone (revive/api/auth.py); every other request by its session, as before."""
        if request.endpoint != "static":
            g.pop("_login_user", None)
            g.pop("api_token_id", None)
            if not load_token_user():
                current_user._get_current_object()

    celery_init_app(app)
    register_error_handlers(app)
    input_guard.init_app(app)  # NUL, lone surrogates, JSON size and depth: 400/413, not 500

    @app.before_request
    def _ids_in_range() -> None:
        """A path id beyond the integer column range names no record: 404 (HTML or JSON, by
        the usual error handlers), not a database overflow."""
        for value in (request.view_args or {}).values():
            if isinstance(value, int) and value > MAX_INT:
                raise NotFoundError()

    app.register_blueprint(health_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(inventory_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(demands_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(matching_bp)
    app.register_blueprint(deals_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(licensing_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(onboarding_bp)
    app.register_blueprint(pool_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(pools_bp)
    app.register_blueprint(roadshow_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(exports_bp)

    inventory_receivers.connect()  # accepted invitations → the inviter's chosen patent links
    matching_receivers.connect()  # signals from inventory/imports/demands → matching work
    notification_receivers.connect()  # review outcomes → the inventors' inbox
    pool_receivers.connect()  # index builds → newly entered patents proposed to pools
    alert_receivers.connect()  # finished runs, new demands and intents → standing alerts
    deal_receivers.connect()  # who may see a deal → the inbox and e-mails of its notifications
    licensing_receivers.connect()  # a patent assigned by contract → its open licence withdrawn

    register_template_helpers(app)

    navigation.register(app)  # the grouped main menu and its per-request counts

    @app.get("/favicon.ico")
    def _favicon():
        """Browsers and tools ask for /favicon.ico whatever the page links (a 404 on every
        page otherwise): the SVG icon the pages link to."""
        return redirect(url_for("static", filename="favicon.svg"))

    @app.after_request
    def _security_headers(response):
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.is_secure:  # https (directly, or via X-Forwarded-Proto behind ProxyFix)
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static" and (session.get("_user_id") or g.get("api_token_id")):
            # Pages and files of a signed-in user (or an API token's) are never kept by
            # browsers or proxies.
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
