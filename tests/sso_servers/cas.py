"""A real CAS 3.0 server for the tests: django-cas-server (PyPI), on loopback.

:mod:`tests.sso_servers.cas_project` is the smallest Django project serving it:
SQLite in a temporary folder, migrated at start, one service pattern allowing
any loopback address (our callbacks) and releasing ``uid``, ``mail``,
``displayName``, ``givenName``, ``sn`` and ``eduPersonAffiliation``. Its accounts
are a JSON file the tests write (:meth:`CasServer.set_user`), read again at each
login and each ticket. Django's ``runserver`` serves it in a subprocess on a
free port.

- ``cas_server``: the session's server; ``cas_server.down()`` stops it for the
  duration of a ``with`` block (a provider that does not answer), then starts
  it again on the same port and database.
- :meth:`CasServer.ticket`: sign in at the server as a browser would (its login
  form) and get the service ticket it issues for a service URL.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.sso_servers.process import (
    answers,
    free_port,
    log_tail,
    stop_process,
    wait_until_ready,
)

PROJECT = Path(__file__).resolve().with_name("cas_project")
START_TIMEOUT = 30  # seconds for the login page to answer
SETUP_TIMEOUT = 120  # seconds for the migrations


@dataclass
class CasServer:
    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The server_url an establishment gives us (ends with /)."""
        return f"http://127.0.0.1:{self.port}/cas/"

    @property
    def log_path(self) -> Path:
        return self.workdir / "cas-server.log"

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"server_url": self.url, **extra}

    def set_user(self, username: str, password: str, **attributes: str | list[str]) -> None:
        """The account ``username`` and the attributes the server releases
        for it from now on (a list for several values)."""
        users = self._users()
        users[username] = {"password": password, "attributes": attributes}
        self._write_users(users)

    def _users(self) -> dict[str, Any]:
        path = self.workdir / "users.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _write_users(self, users: dict[str, Any]) -> None:
        path = self.workdir / "users.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(users))
        temporary.replace(path)  # the server never reads half a file

    def ticket(self, service: str, username: str, password: str) -> str:
        """Sign in at the login form with a fresh cookie jar, as a browser
        would, and return the service ticket issued for ``service``."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(),
                                             _NoRedirect())
        login = self.url + "login?" + urlencode({"service": service})
        with opener.open(login, timeout=10) as answer:
            page = answer.read().decode()
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
        fields.update(username=username, password=password)
        body = urlencode(fields).encode()
        request = urllib.request.Request(login, data=body)  # noqa: S310 (our loopback server)
        try:
            with opener.open(request, timeout=10) as answer:
                status, location, text = answer.status, "", answer.read()[:500]
        except urllib.error.HTTPError as redirect:  # the 302 (no redirect followed)
            with redirect:
                status, location = redirect.code, redirect.headers.get("Location", "")
                text = redirect.read()[:500]
        assert status == 302, f"the CAS server did not redirect after the login: {text!r}"
        tickets = parse_qs(urlsplit(location).query).get("ticket")
        assert tickets, f"no ticket in the CAS server's redirect: {location}"
        assert location.startswith(service), location
        return tickets[0]

    def age_tickets(self, seconds: int) -> None:
        """Make every ticket issued so far ``seconds`` older (the server
        refuses a ticket older than its CAS_TICKET_VALIDITY, 60 s)."""
        with contextlib.closing(sqlite3.connect(self.workdir / "cas.sqlite3", timeout=30)) as db:
            db.execute("UPDATE cas_server_serviceticket SET creation = "
                       "datetime(creation, ?)", (f"-{int(seconds)} seconds",))
            db.commit()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    # Running it -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        # The project is copied into the server's folder (see prepare), which
        # is the only addition to the path: neither tests/sso_servers (its
        # cas.py would hide python-cas's) nor the app's packages.
        return {**os.environ, "DJANGO_SETTINGS_MODULE": "cas_project.settings",
                "CAS_TEST_DIR": str(self.workdir), "PYTHONPATH": str(self.workdir / "code"),
                "PYTHONUNBUFFERED": "1"}

    def django(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "django", *args]

    def prepare(self) -> None:
        """Migrate the server's database and declare our services, once."""
        shutil.copytree(PROJECT, self.workdir / "code" / "cas_project",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for step in (("migrate", "--noinput"), ("cas_test_services",)):
            done = subprocess.run(self.django(*step), cwd=self.workdir, env=self.env(),
                                  capture_output=True, timeout=SETUP_TIMEOUT, check=False)
            if done.returncode:
                pytest.fail(f"the CAS server's `django-admin {' '.join(step)}` failed:\n"
                            f"{(done.stdout + done.stderr).decode(errors='replace')[-3000:]}",
                            pytrace=False)

    def start(self) -> None:
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.django("runserver", f"127.0.0.1:{self.port}", "--noreload", "--insecure"),
            cwd=self.workdir, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_ready(self.process, lambda: answers(self.url + "login"),
                         name="the CAS server (django-cas-server)", what=self.url + "login",
                         timeout=START_TIMEOUT, log=self.log_path, stop=self.stop)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The server stopped for the block (connections refused), then back."""
        self.stop()
        try:
            yield
        finally:
            self.start()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Keep the CAS server's redirect: its Location carries the ticket, and the
    service it points at need not answer."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _require_django_cas_server() -> None:
    missing = [name for name in ("django", "cas_server")
               if importlib.util.find_spec(name) is None]
    if missing:
        pytest.fail(f"the CAS tests need django-cas-server and Django ({', '.join(missing)} "
                    "missing): `.venv/bin/pip install -r requirements-dev.txt` (or `make test`)",
                    pytrace=False)


@pytest.fixture(scope="session")
def cas_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CasServer]:
    """django-cas-server on 127.0.0.1, started once per session."""
    _require_django_cas_server()
    server = CasServer(free_port(), tmp_path_factory.mktemp("cas"))
    server.prepare()
    server.start()
    try:
        yield server
    finally:
        server.stop()
