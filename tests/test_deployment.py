"""What docs/deployment.md promises of the production entry points: gunicorn's
settings as gunicorn.conf.py gives them, and wsgi.py behind a reverse proxy."""

from __future__ import annotations

import runpy
from typing import Any

import pytest
from flask import Flask, request
from gunicorn.config import Config as GunicornConfig

from config import Config
from tests.conftest import ROOT


def test_gunicorn_accepts_its_config_file_with_the_documented_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = GunicornConfig()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in settings.settings:
            settings.set(name, value)  # gunicorn's own validation
    assert settings.wsgi_app == "wsgi:app"
    assert settings.address == [("127.0.0.1", 8000)]
    assert (settings.workers, settings.worker_class_str, settings.threads) == (2, "gthread", 4)
    assert settings.preload_app
    assert (settings.timeout, settings.graceful_timeout, settings.keepalive) == (30, 20, 5)
    assert (settings.max_requests, settings.max_requests_jitter) == (2000, 200)
    assert settings.control_socket_disable
    documented = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for row in ("| `timeout` | 30 s |", "| `max_requests`, `max_requests_jitter` | 2,000, 200 |",
                "| `worker_class`, `threads` | `gthread`, 4 |", "| `graceful_timeout` | 20 s |"):
        assert row in documented


def _wsgi(monkeypatch: pytest.MonkeyPatch, hops: int) -> Flask:
    """wsgi.py's app, built afresh with PROXY_HOPS = ``hops``, and a page that
    shows the client's address as the app sees it."""
    monkeypatch.setattr(Config, "PROXY_HOPS", hops)
    monkeypatch.setattr(Config, "SQLALCHEMY_DATABASE_URI", "sqlite://")
    app: Flask = runpy.run_path(str(ROOT / "wsgi.py"))["app"]
    app.add_url_rule("/client-address", "client_address", lambda: request.remote_addr or "")
    return app


FORWARDED: dict[str, Any] = {
    "environ_base": {"REMOTE_ADDR": "127.0.0.1"},  # nginx, on the same host
    # A client wrote the first address; nginx appended the second, its peer.
    "headers": {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"},
}


def test_behind_one_proxy_the_client_is_the_address_it_appended(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answer = _wsgi(monkeypatch, 1).test_client().get("/client-address", **FORWARDED)
    assert answer.get_data(as_text=True) == "203.0.113.7"


def test_without_a_proxy_no_forwarded_address_is_believed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answer = _wsgi(monkeypatch, 0).test_client().get("/client-address", **FORWARDED)
    assert answer.get_data(as_text=True) == "127.0.0.1"
