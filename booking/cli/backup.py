"""``flask --app wsgi backup create PATH`` and ``backup restore PATH``.

SQLite: the online backup API copies a consistent snapshot while the app runs,
into one self-contained file; a restore goes back through the same API into
the live database, under SQLite's own locks (never a file copied over an open
database and its WAL). PostgreSQL: ``pg_dump --format=custom``, and
``pg_restore --clean --if-exists --single-transaction``: a restore is all or
nothing. The tools get the connection as a URI without its password, and the
password in ``PGPASSWORD``, never on a command line that ``ps`` shows.

A backup is written beside PATH and renamed into place once complete, so PATH
is never half a backup, and an existing PATH is kept unless ``--force``. A
restore replaces every row of the database: it asks first unless ``--yes``,
and refuses, before touching anything, a missing file, a file that is not a
backup of this application, or a backup of the other kind of database.
Messages are in English, as the other commands' own messages.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import URL, make_url, text

from booking.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database.")

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom format
KIND_NAMES = {"sqlite": "an SQLite database", "postgresql": "a PostgreSQL dump (pg_dump)"}
# A TOC line of pg_restore --list naming an extension, or the comment on one.
EXTENSION_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")


def _url() -> URL:
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() not in KIND_NAMES:
        raise click.ClickException(
            f"backups cover SQLite and PostgreSQL, not {url.get_backend_name()}")
    return url


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _kind_of(path: Path) -> str | None:
    with path.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def create_command(path: Path, force: bool) -> None:
    """Write a backup of the database to PATH, while the app runs."""
    url = _url()
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists: name another file, or --force to replace it")
    if not path.parent.is_dir():
        raise click.ClickException(f"no directory {path.parent}")
    if url.get_backend_name() == "sqlite":
        source = _sqlite_file(url)
        if not source.is_file():
            raise click.ClickException(f"no database at {source}")
    else:
        pg_dump = _tool("pg_dump")
    # Beside PATH, so that the rename is atomic; mode 0600, as a backup holds
    # password hashes; removed whatever happens.
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    partial = Path(name)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(source, partial)
        else:
            conninfo, env = pg_connection(url)
            _run([pg_dump, "--format=custom", f"--file={partial}", f"--dbname={conninfo}"],
                 env)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"backup of {_shown(url)} written to {path} ({path.stat().st_size:,} bytes)")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the database without asking.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace every row of the database with the backup at PATH."""
    url = _url()
    backend = url.get_backend_name()
    if not path.is_file():
        raise click.ClickException(f"no backup file at {path}")
    kind = _kind_of(path)
    if kind is None:
        raise click.ClickException(f"{path} is not a backup: neither {KIND_NAMES['sqlite']} "
                                   f"nor {KIND_NAMES['postgresql']} in its custom format")
    if kind != backend:
        raise click.ClickException(f"{path} is {KIND_NAMES[kind]}, and the database "
                                   f"({_shown(url)}) is {backend}: nothing restored")
    if backend == "sqlite":
        target = _sqlite_file(url)
        if not target.parent.is_dir():
            raise click.ClickException(f"no directory {target.parent}")
        revision = _sqlite_revision(path)
    else:
        pg_restore = _tool("pg_restore")
        listing = _run([pg_restore, "--list", str(path)], dict(os.environ))
        if not re.search(r"^\d+; \d+ \d+ TABLE \S+ alembic_version ", listing, re.MULTILINE):
            raise click.ClickException(f"{path} is not a backup of this application: "
                                       "it has no alembic_version table")
        revision = None
    if not yes:
        click.confirm(f"Replace every row of {_shown(url)} with the backup {path}?", abort=True)
    if backend == "sqlite":
        _sqlite_restore(path, target)
    else:
        _pg_restore(pg_restore, listing, path, url)
    db.engine.dispose()  # no connection of this process keeps the old database
    with db.engine.connect() as conn:
        revision = conn.scalar(text("SELECT version_num FROM alembic_version")) or revision
    heads = ScriptDirectory.from_config(
        current_app.extensions["migrate"].migrate.get_config()).get_heads()
    click.echo(f"restored {path} into {_shown(url)}: migration {revision}")
    if revision not in heads:
        click.echo(f"the code is at migration {', '.join(heads)}: run "
                   "`flask --app wsgi db upgrade` before starting the app")


# --- SQLite ----------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path:
    if url.database in (None, "", ":memory:"):
        raise click.ClickException("an in-memory SQLite database has no backup")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A snapshot of ``source`` (its WAL included) as one standalone file."""
    try:
        with _closing(sqlite3.connect(source, timeout=30)) as src, \
                _closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise click.ClickException(f"backup of {source} failed: {exc}") from None


def _sqlite_revision(path: Path) -> str:
    """The backup's migration, after checking it is whole and one of ours."""
    try:
        with _closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise click.ClickException(f"{path} is damaged ({check}): nothing restored")
            return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.Error:
        raise click.ClickException(f"{path} is not a backup of this application: it has no "
                                   "alembic_version table") from None


def _sqlite_restore(path: Path, target: Path) -> None:
    try:
        with _closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as src, \
                _closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)
    except sqlite3.Error as exc:
        raise click.ClickException(f"restore into {target} failed: {exc}") from None


class _closing:
    """sqlite3 connections close on leaving (their own ``with`` only commits)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


# --- PostgreSQL ------------------------------------------------------------------------


def _tool(name: str) -> str:
    """The PostgreSQL client tool, from PG_BIN if set, else from PATH."""
    directory = os.environ.get("PG_BIN")
    found = shutil.which(name, path=directory) if directory else shutil.which(name)
    if found is None:
        where = f"in PG_BIN ({directory})" if directory else "on PATH"
        raise click.ClickException(
            f"{name} not found {where}: install the PostgreSQL client tools of the server's "
            "major version (Debian: postgresql-client-15), or set PG_BIN to their directory")
    return found


def pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq URI for ``--dbname`` (no password in it) and the environment
    of the tool, with the password in PGPASSWORD if the URL has one."""
    env = dict(os.environ)
    env.pop("PGPASSWORD", None)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: build the URI anew.
    conninfo = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                          database=url.database, query=url.query)
    return conninfo.render_as_string(hide_password=False), env


def _pg_restore(pg_restore: str, listing: str, path: Path, url: URL) -> None:
    """The whole dump in one transaction, except the extensions the database
    already has: dropping one needs its owner (often a superuser, who created
    it before the first migration), and keeping it loses nothing."""
    with db.engine.connect() as conn:
        present = set(conn.scalars(text("SELECT extname FROM pg_extension")))
    db.engine.dispose()
    kept = "\n".join(f";{line}" if (m := EXTENSION_ENTRY.match(line)) and m[1] in present
                     else line for line in listing.splitlines())
    conninfo, env = pg_connection(url)
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as entries:
        entries.write(kept + "\n")
        entries.flush()
        _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", f"--use-list={entries.name}",
              f"--dbname={conninfo}", str(path)], env)


def _run(command: list[str], env: dict[str, Any]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise click.ClickException(f"{tool} failed (exit {done.returncode}): "
                                   f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout
