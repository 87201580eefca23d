"""Browser tests: Debian's Chromium, driven by Playwright, against a live server.

Once per session: a fresh SQLite file is migrated and loaded with the demo
campus (each step its own ``flask`` subprocess, as a newcomer would run
them), then ``flask run`` serves it on a free port until the session ends.
Each test gets a new browser context in French, in Paris time. Every test
here carries the ``browser`` marker; none is skipped: without
/usr/bin/chromium they fail and say how to install it (``make test`` does).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import DEMO_PASSWORD, SIZES, log_in, set_language
from tests.sso_servers.process import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--lang=fr-FR"]
SETUP_TIMEOUT = 240  # seconds for the migrations and the demo load
START_TIMEOUT = 60  # seconds for /healthz to answer
HERE = Path(__file__).resolve().parent
FAILURES = ROOT / "screenshots" / "failures"  # what the browser showed when a test failed
FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


@dataclass
class LiveServer:
    url: str
    database: Path
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the live database directly (the tests' own look-ups)."""
        with contextlib.closing(sqlite3.connect(self.database, timeout=30)) as conn:
            return conn.execute(sql, params).fetchall()

    def id_of(self, table: str, column: str, value: str) -> int:
        rows = self.query(f"SELECT id FROM {table} WHERE {column} = ?", value)
        assert rows, f"no {table} with {column} = {value!r} in the demo campus"
        return int(rows[0][0])

    def api(self, method: str, path: str, body: dict[str, Any] | None = None,
            token: str | None = None) -> tuple[int, Any]:
        """Call the JSON API: (status, decoded answer)."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,  # noqa: S310
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def token(self, email: str) -> str:
        """One API token per account for the whole session: each new token
        counts as a login, and logins are throttled per account."""
        if email not in self.tokens:
            status, answer = self.api("POST", "/api/v1/auth/tokens",
                                      {"email": email, "password": DEMO_PASSWORD})
            assert status == 201, answer
            self.tokens[email] = answer["token"]
        return self.tokens[email]

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def _wait_healthy(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the live server exited with {process.returncode}:\n"
                        f"{server.log_tail()}", pytrace=False)
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the live server did not answer /healthz within {START_TIMEOUT} s:\n"
                f"{server.log_tail()}", pytrace=False)


@dataclass
class _Setup:
    server: LiveServer
    env: dict[str, str]
    log: Any  # the open log file
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def live_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Setup]:
    """Start migrating and loading the demo campus, without waiting: the
    browser starts meanwhile (see :func:`browser`)."""
    workdir = tmp_path_factory.mktemp("live")
    database = workdir / "live.sqlite"
    server = LiveServer(f"http://127.0.0.1:{free_port()}", database, workdir / "server.log")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "FLASK_CONFIG": "development",
           "FLASK_DEBUG": "0", "BASE_URL": server.url, "SECRET_KEY": "browser-tests-secret",
           "EXPORT_DIR": str(workdir / "export"), "DOCUMENTS_DIR": str(workdir / "documents"),
           "ONBOARDING_DIR": str(workdir / "onboarding"),
           "MAIL_SERVER": "", "PYTHONUNBUFFERED": "1"}
    steps = " && ".join(shlex.join(_flask(*step)) for step in (("db", "upgrade"),
                                                                ("demo", "load")))
    with server.log.open("wb") as log:
        process = subprocess.Popen(["/bin/sh", "-c", steps], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            yield _Setup(server, env, log, process)
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def live_server(live_setup: _Setup) -> Iterator[LiveServer]:
    """The app served by ``flask run`` on the migrated demo database."""
    server, log = live_setup.server, live_setup.log
    try:
        code = live_setup.process.wait(timeout=SETUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"migrating and loading the demo took over {SETUP_TIMEOUT} s:\n"
                    f"{server.log_tail()}", pytrace=False)
    if code:
        pytest.fail(f"migrating or loading the demo failed ({code}):\n{server.log_tail()}",
                    pytrace=False)
    port = server.url.rsplit(":", 1)[1]
    process = subprocess.Popen(_flask("run", "--port", port, "--no-reload", "--no-debugger"),
                               cwd=ROOT, env=live_setup.env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_healthy(server, process)
        yield server
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def browser(live_setup: _Setup) -> Iterator[Any]:
    """Chromium, launched while the demo database is being prepared."""
    if not CHROMIUM.exists():
        pytest.fail(f"the browser tests need Debian's Chromium at {CHROMIUM}: install it with "
                    "`apt-get install chromium` (`make test` installs it when missing)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(request: pytest.FixtureRequest, browser: Any,
                live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """Make browser contexts (a second user, another screen size); all are
    closed after the test, once their pages are saved if the test failed."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                      base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    if request.node.stash.get(FAILED, False):
        _keep_evidence(request.node.name, contexts)
    for context in contexts:
        context.close()


def _keep_evidence(name: str, contexts: list[Any]) -> None:
    FAILURES.mkdir(parents=True, exist_ok=True)
    pages = [page for context in contexts for page in context.pages]
    for n, page in enumerate(pages):
        stem = FAILURES / f"{name}-{n}"
        with contextlib.suppress(Exception):  # evidence only: never hide the real failure
            page.screenshot(path=f"{stem}.png", full_page=True)
            stem.with_suffix(".html").write_text(f"<!-- {page.url} -->\n{page.content()}")


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    return new_context().new_page()


@pytest.fixture
def login(page: Any) -> Callable[[str], Any]:
    return lambda email: log_in(page, email)


@pytest.fixture
def open_page(new_context: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``open_page(email, lang, size, **context_options)``: a logged-in page in
    ``lang`` at ``size`` (a key of ``SIZES``)."""
    switched: list[Any] = []

    def open_(email: str, lang: str, size: str, **options: Any) -> Any:
        page = log_in(new_context(**SIZES[size], **options).new_page(), email)
        # Always switched, French too: the session's choice pins the page's
        # language, whatever another worker's test set on the shared account.
        set_language(page, lang)
        if lang != "fr":
            switched.append(page)
        return page

    yield open_
    # The switch stored the language on the account, and other tests read
    # French. A page of its own, so the test's page stays as the failure left it.
    for page in switched:
        with contextlib.suppress(Exception):  # the test's own failure matters more
            restore = page.context.new_page()
            restore.goto("/dashboard")
            set_language(restore, "fr")
            restore.close()
