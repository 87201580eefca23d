"""``flask backup create`` and ``backup restore``: a round trip on each backend
brings back the rows as they were at the backup, and nothing else; every
refusal says why, exits non-zero and leaves the database and files as they were.

Each round trip runs on a scratch database of its backend, migrated for the
test and dropped after it: a file on SQLite, a database of its own on
PostgreSQL (pg_dump dumps a whole database).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, delete, make_url, select, text, update
from sqlalchemy.orm import Session

from booking import create_app
from booking.cli.backup import pg_connection
from booking.extensions import db as ext_db
from models import Company, Establishment, EstablishmentKind
from tests.conftest import NOW, PASSWORD, Database, _testing_overrides


def _app(url: str) -> Flask:
    return create_app({**_testing_overrides(), "SQLALCHEMY_DATABASE_URI": url})


def _cli(app: Flask, *args: str, **kwargs: Any) -> Result:
    return app.test_cli_runner().invoke(args=["backup", *args], **kwargs)


@contextmanager
def scratch_app(database: Database, tmp_path: Path) -> Iterator[Flask]:
    """An app on a migrated scratch database of ``database``'s backend.

    On PostgreSQL the database belongs to a role of its own, not a superuser,
    and btree_gist is created beforehand by the superuser, as the deployment
    guide allows: the app's role restores without owning the extension."""
    from flask_migrate import upgrade

    server = make_url(database.url)
    # Named after the test database: concurrent runs, each on its own, do not meet.
    name, owner = f"{server.database}_backup", f"{server.database}_backup_owner"
    cleanup = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'DROP ROLE IF EXISTS "{owner}"']
    if database.backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'scratch.sqlite'}"
    else:
        _admin(server, *cleanup, f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{PASSWORD}'",
               f'CREATE DATABASE "{name}" OWNER "{owner}"')
        _admin(server.set(database=name), "CREATE EXTENSION btree_gist")
        url = server.set(database=name, username=owner, password=PASSWORD).render_as_string(
            hide_password=False)
    app = _app(url)
    try:
        with app.app_context():
            upgrade()
        yield app
    finally:
        with app.app_context():
            ext_db.session.remove()
            ext_db.engine.dispose()
        if database.backend == "postgresql":
            _admin(server, *cleanup)


def _admin(server: Any, *statements: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _establishment(code: str, name: str) -> Establishment:
    return Establishment(code=code, name=name, city="Tours", department="37",
                         kind=EstablishmentKind.LYCEE, created_at=NOW)


def _rows(app: Flask) -> tuple[set[tuple[str, str]], set[str]]:
    with app.app_context(), Session(ext_db.engine) as session:
        return ({tuple(row) for row in session.execute(select(Establishment.code,
                                                             Establishment.name))},
                set(session.scalars(select(Company.name))))


def _revision(app: Flask) -> str:
    with app.app_context(), ext_db.engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def test_a_round_trip_brings_back_the_rows_of_the_backup(database: Database,
                                                        tmp_path: Path) -> None:
    backup = tmp_path / "plateforme.backup"
    with scratch_app(database, tmp_path) as app:
        with app.app_context(), Session(ext_db.engine) as session:
            session.add_all([_establishment("TRS", "Faculté de pharmacie"),
                             Company(name="Cosmétiques du Val", created_at=NOW)])
            session.commit()
        at_backup, revision = _rows(app), _revision(app)

        made = _cli(app, "create", str(backup))
        assert made.exit_code == 0, made.output
        assert f"written to {backup}" in made.output
        magic = b"SQLite format 3\x00" if database.backend == "sqlite" else b"PGDMP"
        assert backup.read_bytes().startswith(magic)
        assert backup.stat().st_mode & 0o077 == 0  # password hashes: the owner's eyes only

        with app.app_context(), Session(ext_db.engine) as session:
            session.execute(update(Establishment).values(name="Renommée"))
            session.execute(delete(Company))
            session.add(_establishment("ORL", "Lycée ajouté après"))
            session.commit()
        changed = _rows(app)
        assert changed != at_backup

        # Without --yes it asks; "no" leaves the database as it is.
        declined = _cli(app, "restore", str(backup), input="n\n")
        assert declined.exit_code == 1
        assert "Replace every row" in declined.output
        assert _rows(app) == changed

        restored = _cli(app, "restore", str(backup), "--yes")
        assert restored.exit_code == 0, restored.output
        assert f"migration {revision}" in restored.output
        assert "db upgrade" not in restored.output  # the backup is at the code's migration
        assert _rows(app) == at_backup

        if database.backend == "postgresql":
            # The schema came back whole: the overlap guard with it.
            with app.app_context(), ext_db.engine.connect() as conn:
                assert conn.scalar(text("SELECT count(*) FROM pg_constraint "
                                        "WHERE conname = 'xcl_occupancy_no_overlap'")) == 1

        # An existing backup is kept unless --force.
        before = backup.read_bytes()
        kept = _cli(app, "create", str(backup))
        assert kept.exit_code == 1
        assert "exists" in kept.output
        assert backup.read_bytes() == before
        assert _cli(app, "create", str(backup), "--force").exit_code == 0
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


# --- refusals: each comes before the database is touched -----------------------------------

SERVER = "postgresql://plateforme@127.0.0.1:5432/nowhere_backup_test"


def _unreachable_app(backend: str, tmp_path: Path) -> Flask:
    """An app whose database does not exist: a refusal that came too late would fail
    to connect (PostgreSQL) or find no table (SQLite), never touch a real one."""
    if backend == "sqlite":
        return _app(f"sqlite:///{tmp_path / 'never-created.sqlite'}")
    return _app(SERVER)


def _sqlite_file(path: Path, table: str) -> Path:
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE {table} (version_num VARCHAR(32))")
    conn.execute(f"INSERT INTO {table} VALUES ('0005')")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_restore_refuses_a_missing_file(backend: str, tmp_path: Path) -> None:
    result = _cli(_unreachable_app(backend, tmp_path), "restore", str(tmp_path / "nope"),
                  "--yes")
    assert result.exit_code == 1
    assert "no backup file at" in result.output


@pytest.mark.parametrize(("backend", "other"), [("sqlite", "is a PostgreSQL dump (pg_dump)"),
                                                ("postgresql", "is an SQLite database")])
def test_restore_refuses_a_backup_of_the_other_database(backend: str, other: str,
                                                       tmp_path: Path) -> None:
    backup = tmp_path / "other.backup"
    if backend == "sqlite":
        backup.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    else:
        _sqlite_file(backup, "alembic_version")
    result = _cli(_unreachable_app(backend, tmp_path), "restore", str(backup), "--yes")
    assert result.exit_code == 1
    assert other in result.output
    assert "nothing restored" in result.output
    assert not (tmp_path / "never-created.sqlite").exists()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_restore_refuses_a_file_that_is_no_backup(backend: str, tmp_path: Path) -> None:
    backup = tmp_path / "notes.txt"
    backup.write_text("SELECT 1;\n")
    result = _cli(_unreachable_app(backend, tmp_path), "restore", str(backup), "--yes")
    assert result.exit_code == 1
    assert "is not a backup" in result.output


def test_restore_refuses_an_sqlite_file_of_another_application(tmp_path: Path) -> None:
    other = _sqlite_file(tmp_path / "other.sqlite", "notes")
    result = _cli(_unreachable_app("sqlite", tmp_path), "restore", str(other), "--yes")
    assert result.exit_code == 1
    assert "not a backup of this application" in result.output
    assert not (tmp_path / "never-created.sqlite").exists()


def test_create_refuses_without_the_database_file(tmp_path: Path) -> None:
    result = _cli(_unreachable_app("sqlite", tmp_path), "create", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "tool"), [("create", "pg_dump"),
                                               ("restore", "pg_restore")])
def test_postgresql_tools_missing_are_named(command: str, tool: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()  # empty, while pg_dump and pg_restore are on PATH
    monkeypatch.setenv("PG_BIN", str(tools))
    backup = tmp_path / "plateforme.dump"
    if command == "restore":
        backup.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(64))
    confirm = ["--yes"] if command == "restore" else []
    result = _cli(_unreachable_app("postgresql", tmp_path), command, str(backup), *confirm)
    assert result.exit_code == 1
    assert f"{tool} not found in PG_BIN ({tools})" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["bin"] if command == "create" else ["bin", "plateforme.dump"])


def test_the_password_goes_to_the_environment_never_to_the_command_line(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "stale")
    url = make_url("postgresql+psycopg://plateforme:s3cr%40t%2Fpw@db.example:5433/campus"
                   "?sslmode=require")
    conninfo, env = pg_connection(url)
    assert "s3cr" not in conninfo
    assert env["PGPASSWORD"] == "s3cr@t/pw"
    assert make_url(conninfo) == make_url(
        "postgresql://plateforme@db.example:5433/campus?sslmode=require")

    conninfo, env = pg_connection(make_url("postgresql+psycopg://postgres@127.0.0.1/campus"))
    assert "PGPASSWORD" not in env  # no password: libpq's own (~/.pgpass), not a stale one
    assert conninfo == "postgresql://postgres@127.0.0.1/campus"
