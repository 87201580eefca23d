"""One demo campus per module and ``now``, each test in a savepoint of it.

Loading the demo makes some fifty bookings, projects and paperwork through the
services: seconds on each backend. The tests that read the campus (or change it
and expect the change forgotten) share one load instead of loading it each: the
load stays in an outer transaction that is never committed, and each test runs
in a savepoint rolled back afterwards, like conftest's ``db`` on an empty database.
Tests of the load itself (a second load, another policy) keep conftest's ``db``.

Every test of a module using :func:`shared_campus` must use it (on SQLite the
campus's transaction holds the write lock; another connection would wait on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Flask
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from booking.demo.campus import load_demo_campus
from booking.extensions import db as ext_db
from tests.conftest import NOW, _begin_outer

# The moments the demo is loaded at: each lays the campus out differently.
NOWS = [
    NOW,
    datetime(2026, 4, 26, 21, 30, tzinfo=UTC),  # Sunday night before May's public holidays
    datetime(2026, 10, 18, 23, 30, tzinfo=UTC),  # already Monday in Paris; DST ends that week
    datetime(2026, 12, 20, 10, 0, tzinfo=UTC),  # Christmas and New Year's Day ahead
]


@contextmanager
def _joined(connection: Connection) -> Iterator[Session]:
    """A session of ``connection``, and the app's sessions joined to it through
    savepoints while it lasts (as conftest's ``db`` does)."""
    original = ext_db.session
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    ext_db.session = scoped_session(factory, scopefunc=_app_ctx_id)
    session = factory()
    try:
        yield session
    finally:
        session.close()
        ext_db.session = original


@contextmanager
def shared_campus(app: Flask, now: datetime) -> Iterator[Connection]:
    """A connection whose open transaction holds the demo loaded at ``now``."""
    with app.app_context():
        connection = ext_db.engine.connect()
    outer = _begin_outer(connection)
    try:
        with app.app_context(), _joined(connection) as session:
            load_demo_campus(session, now=now)
            # Releases the session's savepoint into the outer transaction
            # (closing it uncommitted would undo the load).
            session.commit()
        yield connection
    finally:
        if outer.is_active:
            outer.rollback()
        connection.close()


@contextmanager
def campus_session(connection: Connection) -> Iterator[Session]:
    """A test's session on the shared campus: whatever it or the app writes is
    rolled back with the test's savepoint."""
    savepoint = connection.begin_nested()
    try:
        with _joined(connection) as session:
            yield session
    finally:
        if savepoint.is_active:
            savepoint.rollback()
