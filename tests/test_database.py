"""The engine set-up: aware UTC instants, SQLite pragmas and serialised writers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, StatementError

from booking.database import BEGIN_OPTION, begin_write, holds_write_lock
from booking.extensions import db as ext_db
from models import AuditEntry


def test_instants_come_back_aware_in_utc(db) -> None:
    paris_winter = timezone(timedelta(hours=1))
    entry = AuditEntry(at=datetime(2027, 3, 2, 9, 0, tzinfo=paris_winter), action="t",
                       object_type="x", object_id=1, details={})
    db.add(entry)
    db.flush()
    db.expire_all()
    stored = db.scalar(select(AuditEntry.at).where(AuditEntry.id == entry.id))
    assert stored == datetime(2027, 3, 2, 8, 0, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(db) -> None:
    db.add(AuditEntry(at=datetime(2027, 3, 2, 9, 0), action="t", object_type="x",  # noqa: DTZ001
                      object_id=1, details={}))
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()


def test_sqlite_pragmas(app, database) -> None:
    if database.backend != "sqlite":
        pytest.skip("SQLite engine set-up only")
    with app.app_context(), ext_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_writers_are_serialised(app, database) -> None:
    """A second writer cannot start while the first holds BEGIN IMMEDIATE: it
    queues on the busy timeout (shortened here) instead of interleaving."""
    if database.backend != "sqlite":
        pytest.skip("PostgreSQL relies on its exclusion constraint instead")
    with app.app_context():
        first = ext_db.session
        begin_write(first)
        assert holds_write_lock(first)
        first.execute(text("SELECT 1"))  # the first writer's transaction is open
        with ext_db.engine.connect() as other:
            other.connection.dbapi_connection.execute("PRAGMA busy_timeout=100")
            other.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with pytest.raises(OperationalError, match="locked"):
                other.begin()
        first.rollback()
        with ext_db.engine.connect() as other:
            other.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
            with other.begin():
                assert other.info["sqlite_write_lock"]
        ext_db.session.remove()


def test_begin_write_refuses_a_transaction_already_begun(app, database) -> None:
    if database.backend != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        ext_db.session.execute(text("SELECT 1"))
        with pytest.raises(RuntimeError, match="after the transaction had started"):
            begin_write(ext_db.session)
        ext_db.session.remove()
