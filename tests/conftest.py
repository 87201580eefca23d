"""Test set-up: each database test runs on SQLite and, when TEST_DATABASE_URL
names a PostgreSQL server, on PostgreSQL too.

Each backend's schema is built once per session by the real migrations; each
test then runs inside an outer transaction that is rolled back, the code under
test committing only savepoints (``join_transaction_mode="create_savepoint"``).
Tests that need real commits (several connections, a live server) use
``committed_db`` instead, which empties the tables afterwards.
"""

from __future__ import annotations

import itertools
import os
import smtplib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from booking import create_app
from booking.database import BEGIN_OPTION
from booking.extensions import db as ext_db
from booking.timeutil import frozen
from config import database_url
from models import (
    Base,
    CampusSetting,
    Certification,
    CertificationType,
    Company,
    Equipment,
    EquipmentCategory,
    Establishment,
    EstablishmentKind,
    OpeningHours,
    Role,
    User,
    utcnow,
)

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
PG_SKIP_REASON = (
    "PostgreSQL tests skipped: TEST_DATABASE_URL is not set "
    "(.ci/run sets it to postgresql://postgres@127.0.0.1:5432/test)"
)
PASSWORD = "correct horse battery"
# A Tuesday in term time, far from daylight-saving changes and holidays.
NOW = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"databases: sqlite, postgresql ({PG_URL})"
    return "databases: sqlite only. " + PG_SKIP_REASON


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if PG_SKIP_REASON in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests skipped. {PG_SKIP_REASON}")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With TEST_DATABASE_URL set, an unreachable server fails the run: CI must
    not go green by skipping the PostgreSQL half."""
    if not PG_URL:
        return
    engine = create_engine(database_url(PG_URL))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        pytest.exit(f"TEST_DATABASE_URL={PG_URL} is unreachable: {exc}", returncode=1)
    finally:
        engine.dispose()


@dataclass
class Database:
    backend: str
    url: str


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**_testing_overrides(), "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        ext_db.engine.dispose()


def _testing_overrides() -> dict[str, Any]:
    from config import TestingConfig

    return {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own beside the
    one named (``test`` becomes ``test_gw0``, ``test_gw1``...), created when
    missing: two workers never reset each other's schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON),
        ]),
    ],
)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite"
        url = f"sqlite:///{path}"
    else:
        url = _worker_database(database_url(PG_URL))
        _reset_postgres(url)
    _migrate(url)
    return Database(request.param, url)


@pytest.fixture(scope="session")
def app(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app(
        {**_testing_overrides(), "SQLALCHEMY_DATABASE_URI": database.url,
         "EXPORT_DIR": str(tmp_path_factory.mktemp("export")),
         "DOCUMENTS_DIR": str(tmp_path_factory.mktemp("documents")),
         "ONBOARDING_DIR": str(tmp_path_factory.mktemp("onboarding"))}
    )
    yield application
    with application.app_context():
        ext_db.engine.dispose()


def _begin_outer(connection: Connection) -> Any:
    if connection.dialect.name == "sqlite":
        connection.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
    return connection.begin()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session for the test's own rows, inside an outer transaction that is
    rolled back afterwards, whatever the code under test committed.

    No app context stays pushed during the test: each request, CLI command or
    job pushes its own, as in production (a shared context would share ``g``
    and the scoped session between requests). Their sessions join the same
    connection through savepoints, so they see the test's rows.
    """
    with app.app_context():
        connection = ext_db.engine.connect()
    outer = _begin_outer(connection)
    original = ext_db.session
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    ext_db.session = scoped_session(factory, scopefunc=_app_ctx_id)
    session = factory()
    try:
        yield session
    finally:
        session.close()
        ext_db.session = original
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def committed_db(app: Flask) -> Iterator[Any]:
    """The real session, for tests that need commits seen by other connections;
    every table is emptied afterwards."""
    with app.app_context():
        yield ext_db
        ext_db.session.remove()
        with ext_db.engine.begin() as conn:
            # Components point at their line (RESTRICT): detach them first.
            conn.execute(Equipment.__table__.update().values(parent_id=None))
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            # The row migration 0010 seeds: the trainer guard reads it.
            conn.execute(CampusSetting.__table__.insert().values(
                id=1, travel_minutes=60, updated_at=utcnow()))


@pytest.fixture
def client(app: Flask, db: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def _no_real_email(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may open an SMTP connection by accident."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a test tried to open a real SMTP connection")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setattr(smtplib, "SMTP_SSL", refuse)


@pytest.fixture
def now() -> Iterator[datetime]:
    """The frozen clock of the edges (views, CLI), at :data:`NOW`."""
    with frozen(NOW) as at:
        yield at


class Factory:
    """Rows with sensible defaults; every keyword overrides one column."""

    def __init__(self, app: Flask, session: Session) -> None:
        self.app = app
        self.session = session
        self._seq = itertools.count(1)
        self._hashes: dict[str, str] = {}

    def password_hash(self, password: str = PASSWORD) -> str:
        from booking.auth.passwords import hash_password

        if password not in self._hashes:
            with self.app.app_context():
                self._hashes[password] = hash_password(password)
        return self._hashes[password]

    def _n(self) -> int:
        return next(self._seq)

    def _add(self, obj: Any) -> Any:
        self.session.add(obj)
        self.session.flush()
        return obj

    def establishment(self, **kw: Any) -> Establishment:
        n = self._n()
        kw.setdefault("code", f"EST-{n}")
        kw.setdefault("name", f"Établissement {n}")
        kw.setdefault("city", "Orléans")
        kw.setdefault("department", "45")
        kw.setdefault("kind", EstablishmentKind.LYCEE)
        return self._add(Establishment(**kw))

    def company(self, **kw: Any) -> Company:
        kw.setdefault("name", f"Entreprise {self._n()}")
        return self._add(Company(**kw))

    def user(self, role: Role | str = Role.TRAINER, **kw: Any) -> User:
        role = Role(role)
        n = self._n()
        kw.setdefault("email", f"{role.value}{n}@example.org")
        kw.setdefault("name", f"{role.value.title()} {n}")
        if "password_hash" not in kw:
            kw["password_hash"] = self.password_hash(kw.pop("password", PASSWORD))
        if role is Role.COMPANY and "company" not in kw and "company_id" not in kw:
            kw["company"] = self.company()
        if role is Role.COORDINATOR and "establishment" not in kw and "establishment_id" not in kw:
            kw["establishment"] = self.establishment()
        return self._add(User(role=role, **kw))

    def certification_type(self, **kw: Any) -> CertificationType:
        n = self._n()
        kw.setdefault("code", f"CERT-{n}")
        kw.setdefault("name", f"Habilitation {n}")
        kw.setdefault("validity_months", 12)
        return self._add(CertificationType(**kw))

    def certification(self, user: User, ctype: CertificationType, **kw: Any) -> Certification:
        kw.setdefault("valid_from", date(2026, 1, 1))
        kw.setdefault("valid_until", date(2027, 12, 31))
        return self._add(Certification(user=user, certification_type=ctype, **kw))

    def equipment(self, *, hours: tuple[time, time] | None = (time(8), time(18)),
                  **kw: Any) -> Equipment:
        """Equipment open Monday to Friday 08:00–18:00 unless ``hours`` says otherwise."""
        n = self._n()
        kw.setdefault("code", f"EQ-{n}")
        kw.setdefault("name", f"Équipement {n}")
        kw.setdefault("category", EquipmentCategory.TRAINING_EQUIPMENT)
        if "establishment" not in kw and "establishment_id" not in kw:
            kw["establishment"] = self.establishment()
        equipment = Equipment(**kw)
        if hours is not None:
            equipment.opening_hours = [
                OpeningHours(weekday=d, opens=hours[0], closes=hours[1]) for d in range(5)
            ]
        return self._add(equipment)


@pytest.fixture
def make(app: Flask, db: Session) -> Factory:
    return Factory(app, db)


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], FlaskClient]:
    """Log a user in through the real login form (CSRF token included)."""

    def _login(user: User, password: str = PASSWORD) -> FlaskClient:
        page = client.get("/auth/login")
        token = csrf_token_of(page.get_data(as_text=True))
        response = client.post(
            "/auth/login",
            data={"email": user.email, "password": password, "csrf_token": token},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return _login


def csrf_token_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


ROOT = Path(__file__).resolve().parent.parent
ONE_HOUR = timedelta(hours=1)
