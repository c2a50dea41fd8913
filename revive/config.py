"""Configuration, every setting read from the environment (see the table in README.md)."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask.helpers import get_debug_flag

from revive import clock

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None


def _env_probability(name: str) -> float | None:
    """A probability (0–1) from the environment; unset: None (the caller's default)."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {raw!r}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _timezone() -> str:
    name = (os.environ.get("REVIVE_TIMEZONE") or "").strip() or clock.DEFAULT_TIMEZONE
    clock.zone(name)  # ValueError naming REVIVE_TIMEZONE when unknown
    return name


ALERT_TIERS = {"strong": "strong", "强": "strong", "medium": "medium", "中": "medium"}


def _alert_tier() -> str:
    """REVIVE_ALERT_MIN_TIER: the weakest match tier that raises a standing alert."""
    raw = (os.environ.get("REVIVE_ALERT_MIN_TIER") or "").strip().lower() or "strong"
    if raw not in ALERT_TIERS:
        raise ValueError(f"REVIVE_ALERT_MIN_TIER must be strong (强) or medium (中), got {raw!r}")
    return ALERT_TIERS[raw]


def data_dir() -> Path:
    """Folder for the embedded SQLite database, uploads, broker spool and index artifacts;
    made owner-only (0700) when it does not exist yet (an existing one keeps its mode)."""
    path = Path(os.environ.get("REVIVE_DATA_DIR") or PROJECT_ROOT / "instance")
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for bare postgres URLs (docker/heroku style)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key(base: Path, *, shared: bool = False) -> str:
    """SECRET_KEY, or the data dir's own key (made on first start). ``shared``: the database is
    a server that processes on other machines use too — a key made here is this machine's
    alone, so its making is logged as a warning (an operator's web started without SECRET_KEY
    in production made one quietly, and the workers holding the real key refused to start)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    # Embedded default: a random key kept in the data dir so sessions survive restarts.
    # Written whole to a file of its own, then linked into place: processes starting at once
    # (web and workers on shared storage) never read a half-written file, and the first link
    # wins (os.link refuses an existing name), so all of them end up with the same key.
    key_file = base / "secret_key"
    if not key_file.exists():
        draft = base / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(draft, key_file)
            if shared:
                logging.getLogger(__name__).warning(
                    "SECRET_KEY is not set: made a new key in %s for this machine. Every web "
                    "and worker process of a deployment must share one SECRET_KEY "
                    "(未设置 SECRET_KEY：已在本机生成新密钥；所有网站与后台处理进程须使用同一个)",
                    key_file,
                )
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            draft.unlink()
    return key_file.read_text(encoding="utf-8").strip()


def sweep_seconds() -> int:
    """How often beat runs the recovery sweep (REVIVE_SWEEP_SECONDS)."""
    return max(1, _env_int("REVIVE_SWEEP_SECONDS", 60))


PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.3, "interval_max": 0.3}


def broker_settings(base: Path, url: str | None = None) -> dict[str, Any]:
    """Celery settings for the broker ``url`` (default: CELERY_BROKER_URL, else REDIS_URL, else
    kombu's filesystem transport, a broker that needs no server)."""
    url = (
        url or os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or "filesystem://"
    )
    sweep = sweep_seconds()
    conf: dict[str, Any] = {
        "broker_url": url,
        "task_ignore_result": True,  # the *Job/*Run rows are the record, not Celery's backend
        "task_serializer": "json",
        "accept_content": ["json"],
        # Late ack + reject on worker loss: a task whose worker died is redelivered, not lost.
        # What each guarantees, and what the sweep below adds: revive/queue.py's docstring.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": "revive",
        # Periodic work (run by `celery beat`; `make run` embeds it in its one worker with -B).
        "beat_schedule": {
            # The one recovery sweep (revive.queue.resend_stuck). A sweep still queued when the
            # next one is due is dropped: a busy worker does not run a backlog of them.
            "queue-resend-stuck": {
                "task": "queue.resend_stuck",
                "schedule": float(sweep),
                "options": {"expires": float(sweep)},
            },
            "deals-notify-overdue": {"task": "deals.notify_overdue", "schedule": 3600.0},
            # Keeps the cached regional dashboard figures warm (also right after a deploy).
            "dashboard-refresh": {"task": "dashboard.refresh", "schedule": 300.0, "args": [None]},
            # Learns match strength from the day's decisions (keeps the model when too few).
            "matching-refit-strength": {"task": "matching.refit_strength", "schedule": 86400.0},
            # Reviewers' daily digest of new submissions: hourly, each reviewer gets at most one
            # a (local) day, from REVIVE_DIGEST_HOUR on, so a missed beat only delays it.
            "inventory-review-digest": {"task": "notifications.review_digest", "schedule": 3600.0},
            # Standing alerts' daily e-mail (one per person a local day, the same hour rule).
            "alerts-digest": {"task": "alerts.digest", "schedule": 3600.0},
            # Background exports' files are deleted REVIVE_EXPORT_KEEP_HOURS after they finish.
            "exports-cleanup": {"task": "exports.cleanup", "schedule": 3600.0},
            # Uploaded import files are deleted REVIVE_UPLOAD_KEEP_DAYS after the import ends;
            # a job left 待确认 over REVIVE_IMPORT_PENDING_DAYS is cancelled, its file deleted.
            "imports-cleanup": {"task": "imports.cleanup", "schedule": 3600.0},
        },
    }
    # Results only for the fan-out's parts (matching.score_shards → the chord's callback).
    conf["result_backend"] = os.environ.get("CELERY_RESULT_BACKEND") or (
        f"file://{base / 'results'}" if url.startswith("filesystem://") else url
    )
    conf["result_expires"] = 3600
    if url.startswith("filesystem://"):
        (base / "results").mkdir(parents=True, exist_ok=True)
        spool = base / "broker"
        for sub in ("queue", "processed", "control"):
            (spool / sub).mkdir(parents=True, exist_ok=True)
        # kombu's transport with each message written whole before a worker can see it
        conf["broker_transport"] = "revive.fsbroker:Transport"
        # the folder gives the blocking pool, whose children share one lock: a child killed
        # while holding it stops them all, so the worker restarts itself (workers/pool.py)
        conf["worker_pool"] = "workers.pool:TaskPool"
        conf["broker_transport_options"] = {
            "data_folder_in": str(spool / "queue"),
            "data_folder_out": str(spool / "queue"),
            "processed_folder": str(spool / "processed"),
            # kombu's default is "control" relative to the working directory.
            "control_folder": str(spool / "control"),
            "store_processed": False,
            # How long an idle worker waits before looking in the folder again (kombu's
            # default 1 s). With late acks and a prefetch of one, a worker process looks for
            # its next task only after the last one is acked, so that wait came after every
            # task: two tasks a second in all, and a security review's 100 patent edits held
            # an import behind them for 44 s. A folder listing every 50 ms costs nothing.
            "polling_interval": 0.05,
        }
    else:
        # Redis hands a message taken but not acked within this window to another worker.
        # Far above the longest task (tens of minutes: a first full index build or an
        # all-demand run over a million patents), or a task still running would run twice at
        # once. Recovery from a dead worker does not wait for it: the sweep re-sends the row
        # after REVIVE_WORKER_LOST_SECONDS, so what comes back this late is a no-op.
        hours = max(1, _env_int("REVIVE_BROKER_VISIBILITY_HOURS", 24))
        conf["broker_transport_options"] = {
            "visibility_timeout": hours * 3600,
            # a Redis host that drops packets fails a connection in seconds (a send, a worker,
            # /healthz's broker probe), not after the system's connect timeout
            "socket_connect_timeout": 5,
        }
        # Redis down: a send gives up after about a second (the work is recorded and the sweep
        # sends it when Redis is back) instead of holding the page for kombu's and the
        # result backend's default retries (about 20 s, seen on an upload).
        conf["task_publish_retry_policy"] = dict(PUBLISH_RETRY)
        conf["result_backend_transport_options"] = {"retry_policy": dict(PUBLISH_RETRY)}
    return conf


FORM_OVERHEAD = 1024 * 1024  # a multipart request's boundaries, headers and other fields


def request_limit(upload_mb: int) -> int:
    """The largest request body: a file of the upload limit plus the form around it. The
    limit had been the file's alone, so a 49.99 MB file was refused as over 50 MB (a security
    review); the file's own size is checked where it is saved (imports.services)."""
    return upload_mb * 1024 * 1024 + FORM_OVERHEAD


class ConfigError(ValueError):
    """A setting the process cannot start with; its message names the setting (the ``revive``
    command prints it alone, without a traceback)."""


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The app's configuration from the environment (README: 配置), with ``overrides``;
    ConfigError naming the setting when one is unusable."""
    try:
        return _load_config(overrides)
    except ConfigError:
        raise
    except ValueError as exc:  # _env_int, _alert_tier, REVIVE_TIMEZONE … name their setting
        raise ConfigError(str(exc)) from None


def _load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    base = data_dir()
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{base / 'revive.db'}"
    max_upload_mb = _env_int("REVIVE_MAX_UPLOAD_MB", 50)
    https = os.environ.get("REVIVE_BASE_URL", "").lower().startswith("https://")
    # Sign-in sessions (revive/accounts/sessions.py). 12 h absolute: one working day, overtime
    # included, so nobody is signed out mid-task, yet a cookie left on a shared office or lab
    # computer (or copied from one) is dead by the next morning. 120 min idle: long enough to
    # write a patent disclosure or a contract form without a request in between, short
    # enough that an unattended, unlocked screen does not stay signed in for the afternoon.
    session_hours = max(1, _env_int("REVIVE_SESSION_LIFETIME_HOURS", 12))
    cfg: dict[str, Any] = {
        "SECRET_KEY": _secret_key(base, shared=not db_url.startswith("sqlite")),
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(db_url),
        # A database server that does not answer fails a connection in seconds, not after the
        # system's connect timeout (minutes for a host that drops packets: a starting worker's
        # wait for the database and /healthz depend on it)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}
        | ({} if db_url.startswith("sqlite") else {"connect_args": {"connect_timeout": 10}}),
        "REVIVE_DATA_DIR": str(base),
        "UPLOAD_FOLDER": os.environ.get("REVIVE_UPLOAD_DIR") or str(base / "uploads"),
        "MAX_CONTENT_LENGTH": request_limit(max_upload_mb),
        "REVIVE_MAX_UPLOAD_MB": max_upload_mb,
        "REVIVE_MAX_IMPORT_ROWS": _env_int("REVIVE_MAX_IMPORT_ROWS", 200_000),
        # Rows per import commit transaction (each batch resumable after a crash).
        "REVIVE_IMPORT_COMMIT_BATCH": max(1, _env_int("REVIVE_IMPORT_COMMIT_BATCH", 1000)),
        # Unfinished import jobs (queued, validating, 待确认, committing) a user may have at
        # once, and the days a validated job waits for its confirmation before beat's cleanup
        # cancels it and deletes its file (revive.imports.services).
        "REVIVE_IMPORT_MAX_ACTIVE": max(1, _env_int("REVIVE_IMPORT_MAX_ACTIVE", 5)),
        "REVIVE_IMPORT_PENDING_DAYS": max(1, _env_int("REVIVE_IMPORT_PENDING_DAYS", 7)),
        # What reading one import file may cost (revive.imports.reader.ReadLimits): the
        # decompressed size of any one part of an .xlsx, the memory of its shared-strings
        # table, and the cells read from one file.
        "REVIVE_XLSX_MAX_PART_MB": _env_int("REVIVE_XLSX_MAX_PART_MB", 64),
        "REVIVE_XLSX_MAX_STRINGS_MB": _env_int("REVIVE_XLSX_MAX_STRINGS_MB", 256),
        "REVIVE_IMPORT_MAX_CELLS": _env_int("REVIVE_IMPORT_MAX_CELLS", 20_000_000),
        # JSON request bodies (the API): far below the upload limit; a body is a few KB.
        "REVIVE_MAX_JSON_BYTES": _env_int("REVIVE_MAX_JSON_KB", 256) * 1024,
        "REVIVE_PAGE_SIZE": _env_int("REVIVE_PAGE_SIZE", 50),
        # Exports (revive/exports): a .xlsx of more rows than this is built by a worker (with
        # progress) instead of inside the request; its file is kept this many hours for its
        # requester, who may have this many such exports unfinished at once.
        "REVIVE_EXPORT_DIRECT_MAX_ROWS": max(0, _env_int("REVIVE_EXPORT_DIRECT_MAX_ROWS", 5000)),
        "REVIVE_EXPORT_KEEP_HOURS": max(1, _env_int("REVIVE_EXPORT_KEEP_HOURS", 24)),
        "REVIVE_UPLOAD_KEEP_DAYS": max(1, _env_int("REVIVE_UPLOAD_KEEP_DAYS", 30)),
        "REVIVE_EXPORT_MAX_ACTIVE": max(1, _env_int("REVIVE_EXPORT_MAX_ACTIVE", 3)),
        # An enterprise account's posts and introduction requests an hour (a security review
        # posted 30 demands and 40 intents in a row, each notifying the officers).
        "REVIVE_DEMANDS_PER_HOUR": max(1, _env_int("REVIVE_DEMANDS_PER_HOUR", 20)),
        "REVIVE_INTENTS_PER_HOUR": max(1, _env_int("REVIVE_INTENTS_PER_HOUR", 30)),
        # Annual fees (revive/inventory/fees.py): the CNIPA fee table file (default: the
        # packaged revive/inventory/resources/annual_fees.json) and the fee reduction (费减, %)
        # of an institution whose school admin has not set one (0, 70 or 85).
        "REVIVE_ANNUAL_FEE_TABLE": os.environ.get("REVIVE_ANNUAL_FEE_TABLE") or None,
        "REVIVE_FEE_REDUCTION_DEFAULT": _env_int("REVIVE_FEE_REDUCTION_DEFAULT", 85),
        # Matching index: documents per shard (≤ 65,536); changed patents up to this many go
        # into a delta shard in seconds, more trigger a full rebuild; ALL-demand match runs
        # are split into this many parallel tasks over the shards (1 = one task).
        "REVIVE_INDEX_SHARD_DOCS": min(_env_int("REVIVE_INDEX_SHARD_DOCS", 65_536), 65_536),
        "REVIVE_DELTA_MAX_DOCS": _env_int("REVIVE_DELTA_MAX_DOCS", 20_000),
        "REVIVE_MATCH_FANOUT": _env_int("REVIVE_MATCH_FANOUT", 1),
        # Threads one worker process uses to search the shards of one demand (a worker with
        # cores to spare, e.g. one answering new demands: lower latency).
        "REVIVE_SEARCH_THREADS": max(1, _env_int("REVIVE_SEARCH_THREADS", 1)),
        # Match strength (revive/engine/strength.py): below the bar a candidate is 弱 and a
        # demand whose best candidate is below it shows 暂无合适专利; from STRONG it is 强.
        # Unset: the active strength model's own thresholds.
        "REVIVE_MATCH_BAR": _env_probability("REVIVE_MATCH_BAR"),
        "REVIVE_MATCH_STRONG": _env_probability("REVIVE_MATCH_STRONG"),
        # matching.refit_strength refits the model from officers' decisions only when it has
        # at least this many usable ones; fewer: the shipped judged-set model stays.
        "REVIVE_REFIT_MIN_DECISIONS": max(1, _env_int("REVIVE_REFIT_MIN_DECISIONS", 100)),
        # Patents sampled for an index's character profile (strength's ``chars`` feature).
        "REVIVE_CHARS_SAMPLE": max(100, _env_int("REVIVE_CHARS_SAMPLE", 20_000)),
        "REVIVE_INVITE_DAYS": _env_int("REVIVE_INVITE_DAYS", 7),
        # Personal API tokens (revive/accounts/tokens.py): the expiry offered by default, and
        # the furthest a user may choose — a forgotten token in another system's settings
        # stops working within a year at most.
        "REVIVE_API_TOKEN_DAYS": max(1, _env_int("REVIVE_API_TOKEN_DAYS", 90)),
        "REVIVE_API_TOKEN_MAX_DAYS": max(1, _env_int("REVIVE_API_TOKEN_MAX_DAYS", 365)),
        "REVIVE_SESSION_LIFETIME_HOURS": session_hours,
        "REVIVE_SESSION_IDLE_MINUTES": max(1, _env_int("REVIVE_SESSION_IDLE_MINUTES", 120)),
        # Login throttling (revive/accounts/services.py: login): failed logins per window from
        # untrusted clients per account, on one trusted device per account, and from untrusted
        # clients per address — high, as a campus NAT puts thousands behind one address.
        "REVIVE_LOGIN_WINDOW_MINUTES": max(1, _env_int("REVIVE_LOGIN_WINDOW_MINUTES", 15)),
        "REVIVE_LOGIN_ACCOUNT_MAX_FAILURES": _env_int("REVIVE_LOGIN_ACCOUNT_MAX_FAILURES", 10),
        "REVIVE_LOGIN_DEVICE_MAX_FAILURES": _env_int("REVIVE_LOGIN_DEVICE_MAX_FAILURES", 10),
        "REVIVE_LOGIN_IP_MAX_FAILURES": _env_int("REVIVE_LOGIN_IP_MAX_FAILURES", 100),
        # Password recovery (revive/accounts/recovery.py): lifetime of an e-mailed link, of a
        # link an admin hands over (it may take a day to reach the person), and reset
        # requests per hour per address tried and per client address.
        "REVIVE_PASSWORD_RESET_MINUTES": max(1, _env_int("REVIVE_PASSWORD_RESET_MINUTES", 30)),
        "REVIVE_ADMIN_RESET_HOURS": max(1, _env_int("REVIVE_ADMIN_RESET_HOURS", 24)),
        "REVIVE_RESET_MAX_PER_ADDRESS": _env_int("REVIVE_RESET_MAX_PER_ADDRESS", 3),
        "REVIVE_RESET_MAX_PER_IP": _env_int("REVIVE_RESET_MAX_PER_IP", 30),
        # Self-registered enterprise accounts prove their mailbox when SMTP is configured
        # (accounts/confirm.py): the link's lifetime, and new links per account an hour.
        "REVIVE_EMAIL_CONFIRM_HOURS": max(1, _env_int("REVIVE_EMAIL_CONFIRM_HOURS", 72)),
        "REVIVE_CONFIRM_RESEND_PER_HOUR": max(1, _env_int("REVIVE_CONFIRM_RESEND_PER_HOUR", 3)),
        # enterprise self-registrations per client address an hour (each may send an e-mail)
        "REVIVE_REGISTER_PER_IP": max(1, _env_int("REVIVE_REGISTER_PER_IP", 10)),
        # Local time of every page, export, e-mail and notification text (revive.clock); a
        # zone unknown to tzdata stops the start with the setting's name.
        "REVIVE_TIMEZONE": _timezone(),
        # Reviewers get one digest a day of the patents that arrived in their review queue,
        # from this local hour on (the hourly beat sends whatever is due).
        "REVIVE_DIGEST_HOUR": min(23, max(0, _env_int("REVIVE_DIGEST_HOUR", 8))),
        # Standing alerts (revive/alerts): new entered patents proposed to an open demand at
        # this tier or above are announced — strong (强, default) or medium (中 and 强). Their
        # e-mail is one digest a day per person, from REVIVE_DIGEST_HOUR on.
        "REVIVE_ALERT_MIN_TIER": _alert_tier(),
        # A university must answer a pushed match within this many days, else it is overdue.
        "REVIVE_RESPONSE_DAYS": _env_int("REVIVE_RESPONSE_DAYS", 7),
        # Public address of the site, for full links in e-mails (e.g. https://revive.example.cn).
        "REVIVE_BASE_URL": os.environ.get("REVIVE_BASE_URL", ""),
        # JSON object overriding thresholds of revive.evaluations.tiers.TierRules (分层推广).
        "REVIVE_TIER_RULES": os.environ.get("REVIVE_TIER_RULES", ""),
        # The demo province's 盟市 list (revive/accounts/resources/regions.json by default).
        "REVIVE_REGIONS_FILE": os.environ.get("REVIVE_REGIONS_FILE") or None,
        # Industry pools: patents kept per ranking, the engine score from which a newly
        # entered patent is proposed to a pool's curator, and the boost of industry-code
        # matches (revive/pools/ranking.py).
        "REVIVE_POOL_TOP_K": max(1, _env_int("REVIVE_POOL_TOP_K", 100)),
        "REVIVE_POOL_DEMANDS_TOP_K": max(1, _env_int("REVIVE_POOL_DEMANDS_TOP_K", 50)),
        "REVIVE_POOL_PROPOSE_BAR": float(os.environ.get("REVIVE_POOL_PROPOSE_BAR") or 0.10),
        # E-mail for notifications; unset host = in-app only.
        "REVIVE_SMTP_HOST": os.environ.get("REVIVE_SMTP_HOST", ""),
        "REVIVE_SMTP_PORT": _env_int("REVIVE_SMTP_PORT", 587),
        "REVIVE_SMTP_USER": os.environ.get("REVIVE_SMTP_USER", ""),
        "REVIVE_SMTP_PASSWORD": os.environ.get("REVIVE_SMTP_PASSWORD", ""),
        "REVIVE_SMTP_FROM": os.environ.get("REVIVE_SMTP_FROM", "noreply@revive.local"),
        "REVIVE_SMTP_TLS": _env_bool("REVIVE_SMTP_TLS", True),
        # Number of reverse proxies in front of the app (0 = clients connect directly).
        "REVIVE_TRUSTED_PROXIES": _env_int("REVIVE_TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        # The signed cookie is not accepted for longer than a session can live anyway (the
        # user_sessions row is what decides; this is a second, cheaper check).
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=session_hours),
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies by default when the public address is https (SESSION_COOKIE_SECURE
        # overrides either way).
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", https),
        "REMEMBER_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", https),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Forms take WTForms' own Chinese messages (revive/common/forms.py), not Flask-Babel's.
        "WTF_I18N_ENABLED": False,
        # Background work's recovery (revive/queue.py): a running job whose worker has shown
        # no life for this long is re-sent (its heartbeat beats 4 times as often); a job sent
        # but not started for this long is re-sent (the broker lost it: a normal wait in the
        # queue must stay below it; a re-send of one merely waiting is harmless).
        "REVIVE_SWEEP_SECONDS": sweep_seconds(),
        "REVIVE_WORKER_LOST_SECONDS": max(2, _env_int("REVIVE_WORKER_LOST_SECONDS", 120)),
        "REVIVE_MESSAGE_LOST_SECONDS": max(1, _env_int("REVIVE_MESSAGE_LOST_SECONDS", 600)),
        # A starting worker waits this long for the database to answer, then stops with the
        # reason instead of taking jobs it cannot do (revive/health.py schema_problem).
        "REVIVE_WORKER_DB_WAIT": max(0, _env_int("REVIVE_WORKER_DB_WAIT", 30)),
        "CELERY": broker_settings(base),
    }
    if overrides:
        cfg.update(overrides)
    _check_links(cfg)
    _check_secret_key(cfg)
    return cfg


MIN_SECRET_KEY_LENGTH = 32
# Placeholders of examples and templates, compared without case and punctuation
PLACEHOLDER_KEYS = ("changeme", "replaceme", "yoursecret", "secretkey", "notsecret", "insecure")


def weak_secret_key(key: object) -> bool:
    """Short (under MIN_SECRET_KEY_LENGTH characters), a placeholder (changeme, your-secret-key
    …) or of a few characters repeated."""
    text = str(key or "")
    plain = "".join(ch for ch in text.lower() if ch.isalnum())
    return (
        len(text) < MIN_SECRET_KEY_LENGTH
        or len(set(text)) < 8
        or any(word in plain for word in PLACEHOLDER_KEYS)
    )


def _production(cfg: dict[str, Any]) -> bool:
    """A deployment on a database server: not the tests (TESTING), not Flask's debug mode, and
    not the embedded SQLite default of `make run` (whose key is made in the data dir)."""
    uri = str(cfg.get("SQLALCHEMY_DATABASE_URI") or "")
    return not (cfg.get("TESTING") or cfg.get("DEBUG") or get_debug_flag()) and not (
        uri.startswith("sqlite")
    )


def _check_secret_key(cfg: dict[str, Any]) -> None:
    """A production start refuses a SECRET_KEY anyone could guess: an operator's stray web
    process ran with SECRET_KEY=changeme, accepted silently — with it, anyone can sign a
    session cookie as any user. The key itself is never printed."""
    if _production(cfg) and weak_secret_key(cfg.get("SECRET_KEY")):
        raise ConfigError(
            "SECRET_KEY 太弱（少于 32 个字符、是 changeme 之类的示例值，"
            "或只由少数几个字符重复组成）：知道它的人可以伪造任何用户的登录 Cookie。"
            "请生成随机密钥："
            'python3 -c "import secrets; print(secrets.token_hex(32))"，'
            "并让网站与所有后台处理进程使用同一个。"
            " / SECRET_KEY is too weak (under 32 characters, a placeholder such as changeme, or a "
            "few characters repeated): whoever guesses it can sign in as anyone. Generate one "
            'with python3 -c "import secrets; print(secrets.token_hex(32))" and give the same one '
            "to the web and every worker."
        )


def _check_links(cfg: dict[str, Any]) -> None:
    """E-mailed links need REVIVE_BASE_URL: without it a link takes its host from the request's
    Host header, which the client chooses — a security review had a password-reset link for a
    real user point at http://evil.example/password/reset/<token>. Without SMTP the links are
    only shown to an admin or logged, so the local default needs no base URL."""
    if cfg.get("REVIVE_SMTP_HOST") and not cfg.get("REVIVE_BASE_URL"):
        raise ConfigError(
            "REVIVE_SMTP_HOST is set but REVIVE_BASE_URL is not: e-mailed links (password "
            "resets, invitations) would take their host from each request's Host header. Set "
            "REVIVE_BASE_URL to the site's public address, e.g. https://revive.example.cn "
            "（配置了邮件发送时必须设置 REVIVE_BASE_URL，即网站的公网地址）"
        )
