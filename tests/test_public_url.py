"""Links written into feeds and e-mails follow the address actually served:
`make run PORT=8123` links to port 8123, not 5000. A configured BASE_URL (the
public address of a deployment) wins; without it, a page links to the host it
was asked on, and work outside a request (the scheduler's e-mails) to the port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from booking.public_url import public_url
from booking.services.feeds import operations as feeds
from models import FeedScope, Role

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def unconfigured(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """As `make run` starts it: no BASE_URL in the environment, PORT 8123."""
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    monkeypatch.setitem(app.config, "BASE_URL", "http://127.0.0.1:8123")
    return app


def test_a_configured_public_address_wins(app: Any) -> None:
    with app.test_request_context("/", base_url="http://localhost:8123"):
        assert public_url() == app.config["PUBLIC_URL"]


def test_pages_link_to_the_host_they_were_asked_on(unconfigured: Any) -> None:
    with unconfigured.test_request_context("/", base_url="http://127.0.0.1:8123"):
        assert public_url() == "http://127.0.0.1:8123"
    with unconfigured.app_context():  # a scheduler job: the port served
        assert public_url() == "http://127.0.0.1:8123"


def test_feed_page_follows_the_port(unconfigured: Any, client: Any, login: Any,
                                    make: Any, db: Any, now: Any) -> None:
    user = make.user(Role.TRAINER)
    machine = make.equipment()
    feed = feeds.create_feed(db, actor=user, now=now, scope=FeedScope.EQUIPMENT,
                             scope_id=machine.id, key=unconfigured.config["SECRET_KEY"])
    login(user)
    html = client.get("/calendars", base_url="http://localhost:8123").get_data(as_text=True)
    served = feeds.feed_urls(feed, key=unconfigured.config["SECRET_KEY"],
                             base_url="http://localhost:8123")
    assert f'value="{served.url}"' in html
    assert "127.0.0.1:5000" not in html


@pytest.mark.parametrize("port", ["8123"])
def test_make_run_tells_both_processes_the_port(port: str) -> None:
    plan = subprocess.run(["make", "-n", "run", f"PORT={port}", f"PYTHON={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert f"PORT={port} " in plan.split("scheduler run")[0].splitlines()[-1]
    assert f"--port {port}" in plan
    [serve] = [line for line in plan.splitlines() if " run --host " in line]
    assert f"PORT={port} " in serve
