"""A real OpenID Connect provider for the tests: ``oidc-provider-mock`` (PyPI).

It is made for tests: any client id and secret are accepted, its login page
asks for the subject to sign in as, and ``PUT /users/<sub>`` sets the claims
it will vouch for (e-mail, name, groups). It runs in a subprocess on
127.0.0.1 with a free port, through :mod:`tests.sso_servers.oidc_launcher`,
which can move its clock (the clock-skew tests).

- ``oidc_provider``: the session's provider, clock right.
- ``oidc_providers``: ``oidc_providers.at(skew)`` a provider ``skew`` seconds
  ahead (or behind), started once per session and skew.
- :func:`closed_port_url`: an address where nothing listens (a provider down);
  :func:`maintenance_url`: one where a gateway answers 503 (a provider down
  behind its reverse proxy).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import pytest

from tests.sso_servers.process import (
    answers,
    closed_port_url,  # noqa: F401 (tests/test_sso_oidc.py's)
    free_port,
    log_tail,
    stop_process,
    wait_until_ready,
)

LAUNCHER = Path(__file__).resolve().with_name("oidc_launcher.py")
ROOT = LAUNCHER.parents[2]
START_TIMEOUT = 30  # seconds for the discovery document to answer
CLIENT_ID = "plateforme-tests"
CLIENT_SECRET = "plateforme-tests-secret"  # the mock accepts any


@contextmanager
def maintenance_url() -> Iterator[str]:
    """An address answering every request with 503 and an HTML page, as a
    gateway does while the provider behind it is down for maintenance."""

    class Maintenance(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<html><body>Service en maintenance</body></html>"
            self.send_response(503)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer  # http.server's names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Maintenance)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class OidcProvider:
    issuer: str
    skew: float
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: IO[bytes] | None = field(default=None, repr=False)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """What an establishment would give us for this provider."""
        return {"issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "scopes": "openid email profile", **extra}

    def set_user(self, sub: str, **claims: Any) -> None:
        """The claims the provider gives for ``sub`` from now on."""
        request = urllib.request.Request(  # noqa: S310 (our own loopback server)
            f"{self.issuer}/users/{urllib.request.quote(sub, safe='')}",
            data=json.dumps(claims).encode(), method="PUT",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            assert answer.status == 204, answer.read()

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.log_path, lines)

    def start(self) -> None:
        self.launch()
        self.wait()

    def launch(self) -> None:
        port = self.issuer.rsplit(":", 1)[1]
        env = {**os.environ, "OIDC_MOCK_CLOCK_SKEW": str(self.skew), "NO_COLOR": "1",
               "PYTHONUNBUFFERED": "1"}
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "--host", "127.0.0.1", "--port", port],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> None:
        assert self.process is not None
        url = self.issuer + "/.well-known/openid-configuration"
        wait_until_ready(
            self.process,
            lambda: answers(url, lambda body: json.loads(body).get("issuer") == self.issuer),
            name="oidc-provider-mock", what=url, timeout=START_TIMEOUT, log=self.log_path,
            stop=self.stop, hint=" (install it with `pip install -r requirements-dev.txt`)")

    def stop(self) -> None:
        stop_process(self.process)
        if self.log is not None:
            self.log.close()
            self.log = None


def _require_mock() -> None:
    # Looked for, not imported: it runs in its own process (and warns on import).
    if importlib.util.find_spec("oidc_provider_mock") is None:
        pytest.fail("the OpenID Connect tests need oidc-provider-mock: "
                    "`.venv/bin/pip install -r requirements-dev.txt` (or `make test`)",
                    pytrace=False)


class OidcProviders:
    """Providers by clock skew, each started on first use, all stopped at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: dict[float, OidcProvider] = {}

    def at(self, skew: float = 0) -> OidcProvider:
        return self.start(skew)[0]

    def start(self, *skews: float) -> list[OidcProvider]:
        """The providers at these skews, those not running yet started side by
        side (each takes a few seconds to import its libraries)."""
        new = []
        for skew in dict.fromkeys(skews):
            if skew not in self.running:
                _require_mock()
                provider = OidcProvider(f"http://127.0.0.1:{free_port()}", skew,
                                        self.workdir / f"oidc-provider-{skew:+g}.log")
                provider.launch()
                self.running[skew] = provider
                new.append(provider)
        for provider in new:
            provider.wait()
        return [self.running[skew] for skew in skews]

    def stop(self) -> None:
        for provider in self.running.values():
            provider.stop()


@pytest.fixture(scope="session")
def oidc_providers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProviders]:
    providers = OidcProviders(tmp_path_factory.mktemp("oidc"))
    try:
        yield providers
    finally:
        providers.stop()


@pytest.fixture(scope="session")
def oidc_provider(oidc_providers: OidcProviders) -> OidcProvider:
    """The session's provider, its clock right."""
    return oidc_providers.at(0)
