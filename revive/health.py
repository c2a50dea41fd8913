"""``GET /healthz``: is this web process able to serve? For load balancers and the compose
healthcheck, which asked for /login before: that page answers 200 with the database down or
never migrated, so a broken site looked healthy.

200 ``{"status": "ok", …}`` when the database answers and its schema is the one this code
needs (Alembic's head, when the database records a revision; a schema made by
``create_all``, as in tests, records none). 503 with the reason otherwise. Public and cheap:
two small queries, no session, no user, nothing about the data.
"""

from __future__ import annotations

import functools
import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify

from revive.config import PROJECT_ROOT
from revive.extensions import db

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@functools.cache
def _heads() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.get("/healthz")
def healthz():
    try:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            tables = set(sa.inspect(conn).get_table_names())
            revision = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in tables
                else None
            )
    except sa.exc.SQLAlchemyError as exc:
        logger.warning("Health check: database unreachable: %s", exc)
        return jsonify(status="error", database="unreachable", message="数据库无法连接"), 503
    if "users" not in tables:
        message = "数据库尚未初始化：请运行 revive db upgrade"
        return jsonify(status="error", database="empty", message=message), 503
    if revision is not None and revision not in _heads():
        message = f"数据库结构版本 {revision} 不是本程序需要的版本：请运行 revive db upgrade"
        return jsonify(status="error", database="outdated", message=message), 503
    return jsonify(status="ok", database="ok", revision=revision)
