"""Two app servers behind one proxy (docs/deployment.md): two real gunicorns on
two ports, one database and one Redis. The login limiter counts the tries made
on either server together, so a second server is no way around it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time as clock
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import race_client
from tests.conftest import Database
from tests.test_concurrency import free_port
from tests.test_throttling import _redis_or_skip

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0


def _serve(database: Database, log_path: Path, prefix: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, "FLASK_CONFIG": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": database.url, "SESSION_COOKIE_SECURE": "0",
           "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL",
                                                   "redis://127.0.0.1:6379/13"),
           "RATELIMIT_KEY_PREFIX": prefix, "RATELIMIT_LOGIN_PER_ACCOUNT": "3 per 15 minutes"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
             "--no-control-socket", "--preload", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = clock.monotonic() + START_TIMEOUT
    while clock.monotonic() < deadline and process.poll() is None:
        if race_client.call("GET", f"{url}/healthz", timeout=1.0)[0] == 200:
            return url, process
        clock.sleep(0.1)
    process.kill()
    pytest.fail(f"gunicorn did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def two_servers(database: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    redis = _redis_or_skip()
    prefix = f"two-servers-{secrets.token_hex(4)}"
    started = []
    try:
        for name in ("a", "b"):
            started.append(_serve(database, tmp_path / f"{name}.log", prefix))
        yield started[0][0], started[1][0]
    finally:
        for _url, process in started:
            process.terminate()
            process.wait(10)
        for key in redis.scan_iter(f"*{prefix}*"):
            redis.delete(key)


def test_the_login_limit_is_shared_by_two_servers(two_servers) -> None:
    first, second = two_servers
    tries = {"email": "nobody@example.org", "password": "not the password"}
    answers = [race_client.call("POST", f"{url}/api/v1/auth/tokens", tries)[0]
               for url in (first, second, first)]
    assert answers == [401, 401, 401]
    # The fourth try, on either server, is over the shared limit of three.
    assert race_client.call("POST", f"{second}/api/v1/auth/tokens", tries)[0] == 429
    assert race_client.call("POST", f"{first}/api/v1/auth/tokens", tries)[0] == 429
