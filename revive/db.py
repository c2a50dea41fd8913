"""Declarative base, naming convention, and small column helpers shared by all domains."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.functions import FunctionElement

from revive import clock
from revive.clock import utcnow
from revive.errors import ConflictError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def escape_like(text: str) -> str:
    """Escape LIKE wildcards in user input (backslash is the escape character)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str, *columns: Any, ignore_case: bool = False) -> sa.ColumnElement[bool]:
    """Any of ``columns`` contains ``text`` as typed (its % and _ are not wildcards)."""
    pattern = f"%{escape_like(text)}%"
    if ignore_case:
        return sa.or_(*(c.ilike(pattern, escape="\\") for c in columns))
    return sa.or_(*(c.like(pattern, escape="\\") for c in columns))


class elapsed(FunctionElement):  # noqa: N801  (used like a SQL function: elapsed(a, b))
    """``later - earlier`` of two UtcDateTime columns as a SQL value that *orders* rows by the
    time between them exactly, to the microsecond (ORDER BY, window functions): PostgreSQL's
    interval; on SQLite, whose stored text ('YYYY-MM-DD HH:MM:SS.ffffff') julianday() reads
    only to the millisecond, whole seconds times 10⁶ plus the microseconds. Only for ordering
    and comparing: the two dialects' values are not the same kind of thing."""

    inherit_cache = True
    name = "elapsed"


@compiles(elapsed)
def _elapsed_interval(element: elapsed, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


@compiles(elapsed, "sqlite")
def _elapsed_sqlite(element: elapsed, compiler: Any, **kw: Any) -> str:
    def micros(moment: str) -> str:
        # the fraction, padded: '…:SS' and '…:SS.5' read as 0 and 500000 microseconds
        return (
            f"(CAST(strftime('%s', {moment}) AS INTEGER) * 1000000"
            f" + CAST(substr({moment} || '000000', 21, 6) AS INTEGER))"
        )

    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"({micros(later)} - {micros(earlier)})"


def as_utc(value: datetime | None) -> datetime | None:
    """A datetime we stored as UTC, made timezone-aware (naive values are UTC by convention)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class UtcDateTime(sa.TypeDecorator):
    """``DateTime(timezone=True)`` that always hands back aware UTC datetimes — SQLite stores
    no zone and returns naive values, PostgreSQL returns aware ones; code compares them with
    ``utcnow()`` either way without converting at each use."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Stored and compared in UTC. SQLite keeps the wall-clock digits only, so a moment
        in another zone (an API client's updated_since=…+08:00) had been compared as if its
        digits were UTC: eight hours of changes went missing from a sync. A naive value is
        UTC already (what SQLite hands back)."""
        if not isinstance(value, datetime) or value.tzinfo is None:
            return value  # None, a naive (UTC) moment, or an interval in column arithmetic
        return clock.as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return as_utc(value)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)


class LabeledEnum(enum.StrEnum):
    """A StrEnum whose members carry a Chinese label: ``Member = ("value", "标签")``."""

    label: str

    def __new__(cls, value: str, label: str = "") -> LabeledEnum:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label or value
        return obj

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def by_label(cls) -> dict[str, LabeledEnum]:
        return {m.label: m for m in cls}


def enum_column(enum_cls: type[enum.Enum], name: str, **kw) -> sa.Enum:
    """String-backed enum column with a named CHECK constraint (no native PG enum type)."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        **kw,
    )


def commit_or_conflict(message: str | None = None) -> None:
    """Commit the session; when an optimistic-lock version was stale (someone saved first),
    roll back and raise ConflictError(message) so the user is told instead of overwritten."""
    session = app_session()
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(message) from None


T = TypeVar("T")
RACED = (sa.exc.IntegrityError, StaleDataError)


def retried(write: Callable[[], T], attempts: int) -> T:
    """Run ``write`` (which writes and commits) up to ``attempts`` times while a concurrent
    writer beats it to the same rows: a unique key taken meanwhile (IntegrityError) or a
    versioned row saved meanwhile (StaleDataError). Each failed try is rolled back, so the
    next one reads what is there now; the last one's error is raised (after its rollback)."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except RACED:
            app_session().rollback()
            if attempt == attempts:
                raise
    raise ValueError("attempts must be at least 1")


def lock_row(model: Any, row_id: int) -> None:
    """Hold one row until the session commits, so that a check made after this call (is there
    already such a record?) and the write that follows are not interleaved with another
    request doing the same: whoever locks second waits, then sees the first one's commit.

    PostgreSQL: the row's lock (SELECT … FOR UPDATE). SQLite has no row locks, and its driver
    opens a transaction only at the first write, so two requests' checks could both run before
    either writes: here the lock is a write that changes nothing (raw SQL, so no ``onupdate``
    column such as ``updated_at`` moves), which takes the database's write lock first."""
    session = app_session()
    table = model.__table__
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            sa.text(f'UPDATE "{table.name}" SET id = id WHERE id = :id'), {"id": row_id}
        )
    else:
        session.execute(sa.select(table.c.id).where(table.c.id == row_id).with_for_update())


def begin_write(session: Any = None) -> None:
    """Open the database transaction now, holding SQLite's write lock (a no-op elsewhere and
    when it is already open). SQLite's driver (pysqlite, before Python 3.12's ``autocommit``)
    opens its transaction only at the first INSERT / UPDATE / DELETE: a SAVEPOINT issued
    before that starts a transaction of its own, and its RELEASE commits it — a batch's
    "one commit" became a commit per item, which a later rollback could not take back (a
    tester's batch showed a 409 while four of its five patents had moved)."""
    session = session or app_session()
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


@contextmanager
def savepoint(session: Any = None) -> Iterator[Any]:
    """``session.begin_nested()`` that nests in the request's transaction on every database
    (see ``begin_write``): released, it commits nothing; the session's rollback takes it back."""
    session = session or app_session()
    begin_write(session)
    with session.begin_nested() as nested:
        yield nested


def app_session() -> Any:
    """The current app's Flask-SQLAlchemy session. This module sits below revive.extensions
    (whose SQLAlchemy object is built on ``Base``), so it asks Flask's extension registry
    instead of importing ``extensions.db``."""
    return current_app.extensions["sqlalchemy"].session
