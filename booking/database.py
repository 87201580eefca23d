"""Engine set-up per backend, and the write transaction the booking service needs.

SQLite: the sqlite3 driver opens its transactions late and as DEFERRED, so two
writers can both read "free" and then one fails with ``database is locked`` or,
worse, both insert. We take the transaction over (``isolation_level = None``)
and begin it ourselves, ``BEGIN IMMEDIATE`` when the caller is about to write:
writers then queue on the busy timeout, one at a time, and each sees the
previous one's rows before it checks.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, scoped_session

SQLITE_BUSY_TIMEOUT_MS = 15000
BEGIN_OPTION = "plateforme_sqlite_begin"


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQLite's lower() folds ASCII only; searches (ILIKE is lower() LIKE
        # lower()) must find "Étuve" from "étuve", as on PostgreSQL.
        dbapi_connection.create_function(
            "lower", 1, lambda text: text.lower() if isinstance(text, str) else text,
            deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
        conn.info["sqlite_write_lock"] = mode == "IMMEDIATE"


def _plain(session: Session | scoped_session[Session]) -> Session:
    return session() if isinstance(session, scoped_session) else session


def begin_write(session: Session | scoped_session[Session]) -> None:
    """Start the session's transaction as a writer.

    On SQLite the transaction begins with the database's write lock, so a
    check followed by an insert cannot interleave with another writer. On
    PostgreSQL nothing is needed here: the exclusion constraint settles races.
    Call it before the transaction's first statement.
    """
    session = _plain(session)
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().info.get("sqlite_write_lock"):
            return
        raise RuntimeError("begin_write() called after the transaction had started")
    session.connection(execution_options={BEGIN_OPTION: "IMMEDIATE"})


def holds_write_lock(session: Session | scoped_session[Session]) -> bool:
    session = _plain(session)
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return True
    return session.in_transaction() and bool(session.connection().info.get("sqlite_write_lock"))


def init_write_transactions(app: Any) -> None:
    """Requests that may write start their transaction as writers (SQLite)."""
    from flask import request

    from booking.extensions import db

    @app.before_request
    def _begin_write_for_unsafe_methods() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(db.session)
