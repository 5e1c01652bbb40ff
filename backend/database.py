"""Connection set-up for the engines the app talks to."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from flask import has_request_context, request
from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

# A session as services hold it: Flask-SQLAlchemy's scoped ``db.session``, or a plain one
# (event listeners receive the plain one).
SessionLike = Session | scoped_session[AppSession]

SQLITE_BUSY_TIMEOUT_MS = 10_000
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_reading: ContextVar[bool] = ContextVar("zoufang_reading", default=False)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read, like a GET's: on SQLite they take no write lock.

    For work outside a request that reads for long (a ledger job), so phones keep pushing.
    """
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def configure_engine(engine: Engine) -> None:
    """Give SQLite connections WAL, foreign keys, a busy timeout and real transactions.

    SQLite is the embedded default for one machine; writers take turns. PostgreSQL
    needs none of this.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defer BEGIN and break
        # SAVEPOINT; SQLAlchemy emits BEGIN itself (see the "begin" hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A transaction that reads and then writes cannot wait for another writer in
        # WAL mode: SQLite fails it at once ("database is locked"). So anything that
        # may write takes the write lock up front and waits its turn (busy timeout).
        # Read requests begin deferred; their one write, the token's last-used time,
        # is best-effort. So does work that says it only reads (``reading``).
        reading = _reading.get() or (has_request_context() and request.method in READING_METHODS)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def upsert_statement(session: SessionLike, model: Any) -> Any:
    """An INSERT that takes ``on_conflict_do_update``/``_do_nothing``, for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
