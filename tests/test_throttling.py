"""Throttling (issue 10, finding 4): password guesses on both login paths and the
password change, per account and per address, and the costly endpoints; a 429
with ``Retry-After``, a page in the user's language, the API's error body; the
counts shared between two app instances through Redis."""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Iterator
from typing import Any

import limits.storage.memory
import pytest
from flask import Flask
from flask_babel import force_locale, gettext, ngettext

from booking import create_app, ratelimit
from booking.ratelimit import limiter_of
from models import Role
from tests.api_helpers import assert_error
from tests.conftest import PASSWORD, _testing_overrides, csrf_token_of

WRONG = "not the right password"
WAIT = ("For your security, this action is paused. Try again in %(num)d minute.",
        "For your security, this action is paused. Try again in %(num)d minutes.")


def _in(app: Flask, locale: str, title: str, minutes: int) -> tuple[str, str]:
    """The page's title and message in ``locale``, as its catalogue has them."""
    with app.test_request_context(), force_locale(locale):
        return gettext(title), ngettext(*WAIT, minutes)


def _text(answer: Any) -> str:
    return html.unescape(answer.get_data(as_text=True))


class Clock:
    """The limiter's clock, moved by the test: no sleeping."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Limits of 3 per minute, counted from zero on a clock the test moves."""
    at = Clock()
    monkeypatch.setattr(limits.storage.memory, "time", at)
    monkeypatch.setattr(ratelimit, "time", at)
    for name in ("RATELIMIT_LOGIN_PER_ACCOUNT", "RATELIMIT_LOGIN_PER_ADDRESS",
                 "RATELIMIT_COSTLY_PER_ACCOUNT", "RATELIMIT_COSTLY_PER_ADDRESS"):
        monkeypatch.setitem(app.config, name, "3 per minute")
    limiter_of(app).reset()
    yield at
    limiter_of(app).reset()


def _login_page(client, email: str, password: str, **kw: Any):
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": token}, **kw)


def _token(client, email: str, password: str, **kw: Any):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password}, **kw)


def test_login_page_refuses_even_the_right_password_until_the_window_ends(
        client, make, clock) -> None:
    user = make.user(Role.TRAINER)
    for _ in range(3):
        assert _login_page(client, user.email, WRONG).status_code == 200
    answer = _login_page(client, user.email, PASSWORD)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "60"
    page = _text(answer)
    assert 'lang="fr"' in page
    title, message = _in(client.application, "fr", "Too many attempts", 1)
    assert title in page
    assert message in page
    assert client.get("/dashboard").status_code == 302  # not logged in

    clock.advance(59)
    assert _login_page(client, user.email, PASSWORD).status_code == 429
    clock.advance(2)
    answer = _login_page(client, user.email, PASSWORD)
    assert answer.status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_the_page_speaks_english_to_english_readers(
        app, client, make, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "3 per 3 minutes")
    user = make.user(Role.TRAINER)
    with client.session_transaction() as session:
        session["lang"] = "en"
    for _ in range(3):
        _login_page(client, user.email, WRONG)
    clock.advance(100)  # the page rounds the wait up to whole minutes
    answer = _login_page(client, user.email, WRONG)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "80"
    assert "Too many attempts" in _text(answer)
    assert "Try again in 2 minutes." in _text(answer)


def test_token_endpoint_refuses_even_the_right_password_until_the_window_ends(
        client, make, clock) -> None:
    user = make.user(Role.TRAINER)
    for _ in range(3):
        assert_error(_token(client, user.email, WRONG), 401, "unauthorized")
    answer = _token(client, user.email, PASSWORD)
    body = assert_error(answer, 429, "rate_limited")
    assert answer.headers["Retry-After"] == "60"
    assert body["details"] == {"retry_after": 60}
    assert "token" not in body

    clock.advance(61)
    assert _token(client, user.email, PASSWORD).status_code == 201


def test_one_count_per_account_across_both_login_paths_and_spellings(
        client, make, clock) -> None:
    user = make.user(Role.TRAINER, email="camille.martin@example.org")
    assert _login_page(client, "Camille.Martin@example.org", WRONG).status_code == 200
    assert _token(client, "  camille.martin@EXAMPLE.org ", WRONG).status_code == 401
    assert _login_page(client, user.email, WRONG).status_code == 200
    assert_error(_token(client, user.email, PASSWORD), 429, "rate_limited")
    assert _login_page(client, user.email, PASSWORD).status_code == 429


def test_the_account_count_follows_the_account_from_every_address(client, make, clock) -> None:
    user = make.user(Role.TRAINER)
    for n in range(3):
        _token(client, user.email, WRONG, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
    answer = _token(client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "192.0.2.99"})
    assert_error(answer, 429, "rate_limited")
    # Another account from the same addresses is still free.
    other = make.user(Role.TRAINER)
    assert _token(client, other.email, PASSWORD,
                  environ_base={"REMOTE_ADDR": "192.0.2.0"}).status_code == 201


def test_the_address_count_covers_every_account_tried_from_it(
        app, client, make, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "100 per minute")
    users = [make.user(Role.TRAINER) for _ in range(4)]
    here = {"REMOTE_ADDR": "198.51.100.7"}
    assert _login_page(client, users[0].email, WRONG, environ_base=here).status_code == 200
    assert _token(client, users[1].email, WRONG, environ_base=here).status_code == 401
    assert _login_page(client, "nobody@example.org", WRONG, environ_base=here).status_code == 200
    assert _login_page(client, users[3].email, PASSWORD, environ_base=here).status_code == 429
    assert_error(_token(client, users[3].email, PASSWORD, environ_base=here), 429,
                 "rate_limited")
    # The same account from another address is not held back.
    assert _token(client, users[3].email, PASSWORD,
                  environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 201


def test_a_malformed_body_still_gets_its_own_answer(app, client, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ADDRESS", "100 per minute")
    bad = client.post("/api/v1/auth/tokens", data='{"email": ', content_type="application/json")
    assert_error(bad, 400, "bad_request")
    for body in (["a list"], {"email": 5, "password": "x"}, {"email": "\ud800", "password": "x"}):
        assert client.post("/api/v1/auth/tokens", json=body).status_code in (401, 422)


def test_password_change_counts_as_a_password_guess(client, make, login, clock) -> None:
    user = make.user(Role.TRAINER)
    login(user)  # one attempt of the account's three
    for _ in range(2):
        token = csrf_token_of(client.get("/auth/password").get_data(as_text=True))
        answer = client.post("/auth/password", data={
            "current_password": WRONG, "new_password": "a brand new secret",
            "confirm": "a brand new secret", "csrf_token": token})
        assert answer.status_code == 200
    token = csrf_token_of(client.get("/auth/password").get_data(as_text=True))
    answer = client.post("/auth/password", data={
        "current_password": PASSWORD, "new_password": "a brand new secret",
        "confirm": "a brand new secret", "csrf_token": token})
    assert answer.status_code == 429
    assert answer.headers["Retry-After"]


def _costly_calls(client, make) -> dict[str, Any]:
    target = make.user(Role.TRAINER)
    return {
        "admin reset": (Role.ADMIN, lambda token: client.post(
            f"/admin/accounts/{target.id}/password",
            data={"password": "nouveau-secret-1", "confirm": "nouveau-secret-1",
                  "csrf_token": token}), f"/admin/accounts/{target.id}/password"),
        "admin create": (Role.ADMIN, lambda token: client.post(
            "/admin/accounts/new", data={"csrf_token": token}), "/admin/accounts/new"),
        "import": (Role.COORDINATOR, lambda token: client.post(
            "/coordination/import", data={"csrf_token": token}), "/coordination/import"),
        "report csv": (Role.COORDINATOR, lambda token: client.get(
            "/reports/utilisation.csv"), None),
        "bookings csv": (Role.TRAINER, lambda token: client.get("/bookings/export.csv"), None),
        "bookings ics": (Role.TRAINER, lambda token: client.get("/bookings/export.ics"), None),
    }


@pytest.mark.parametrize("name", ["admin reset", "admin create", "import", "report csv",
                                  "bookings csv", "bookings ics"])
def test_costly_pages_are_limited_per_account(app, client, make, login, clock, monkeypatch,
                                              name) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_COSTLY_PER_ADDRESS", "100 per minute")
    role, call, form_page = _costly_calls(client, make)[name]
    login(make.user(role))
    for _ in range(3):
        token = csrf_token_of(client.get(form_page).get_data(as_text=True)) if form_page else ""
        assert call(token).status_code != 429
    token = csrf_token_of(client.get(form_page).get_data(as_text=True)) if form_page else ""
    answer = call(token)
    assert answer.status_code == 429
    assert _in(client.application, "fr", "Too many attempts", 1)[0] in _text(answer)
    assert int(answer.headers["Retry-After"]) > 0
    if form_page:  # the form page itself is not counted
        assert client.get(form_page).status_code == 200


def test_costly_pages_are_limited_per_address(app, client, make, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_COSTLY_PER_ACCOUNT", "100 per minute")
    here = {"REMOTE_ADDR": "203.0.113.5"}
    first, second = client, app.test_client()
    for browser in (first, second):
        assert _login_page(browser, make.user(Role.TRAINER).email, PASSWORD).status_code == 302
    assert first.get("/bookings/export.csv", environ_base=here).status_code == 200
    assert second.get("/bookings/export.csv", environ_base=here).status_code == 200
    assert first.head("/bookings/export.csv", environ_base=here).status_code == 200
    assert second.get("/bookings/export.csv", environ_base=here).status_code == 429
    assert second.get("/bookings/export.csv",
                      environ_base={"REMOTE_ADDR": "203.0.113.6"}).status_code == 200


def test_costly_api_calls_are_limited_per_account(app, client, make, clock, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_COSTLY_PER_ADDRESS", "100 per minute")
    admin = make.user(Role.ADMIN)
    headers = {"Authorization": "Bearer " + _token(client, admin.email, PASSWORD).json["token"]}
    for _ in range(3):
        assert client.get("/api/v1/reports/utilisation", headers=headers).status_code != 429
    body = assert_error(client.get("/api/v1/reports/utilisation", headers=headers), 429,
                        "rate_limited")
    assert body["details"]["retry_after"] > 0
    for n in range(3):
        answer = client.post("/api/v1/users", headers=headers, json={
            "email": f"new{n}@example.org", "name": "New", "role": "trainer",
            "password": "short"})
        assert answer.status_code == 422
    assert_error(client.post("/api/v1/users", headers=headers, json={}), 429, "rate_limited")


# --- several app instances --------------------------------------------------------

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("TEST_REDIS_URL"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    return client


def _app(database_url: str, **config: Any) -> Flask:
    return create_app({**_testing_overrides(), "SQLALCHEMY_DATABASE_URI": database_url,
                       "RATELIMIT_LOGIN_PER_ACCOUNT": "3 per minute", **config})


def test_two_app_instances_share_the_counts_through_redis(database, db, make) -> None:
    server = _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex}"
    first, second = (_app(database.url, RATELIMIT_STORAGE_URI=REDIS_URL,
                          RATELIMIT_KEY_PREFIX=prefix) for _ in range(2))
    assert limiter_of(first) is not limiter_of(second)
    user = make.user(Role.TRAINER)
    try:
        one, two = first.test_client(), second.test_client()
        assert _token(one, user.email, WRONG).status_code == 401
        assert _token(two, user.email, WRONG).status_code == 401
        assert _token(one, user.email, WRONG).status_code == 401
        answer = _token(two, user.email, PASSWORD)
        assert_error(answer, 429, "rate_limited")
        assert 0 < int(answer.headers["Retry-After"]) <= 60
        assert list(server.scan_iter(f"*{prefix}*"))
    finally:
        for key in server.scan_iter(f"*{prefix}*"):
            server.delete(key)


def test_memory_counts_are_per_instance(database, db, make) -> None:
    """What a gunicorn worker has without Redis: its own counts."""
    first, second = _app(database.url), _app(database.url)
    user = make.user(Role.TRAINER)
    one, two = first.test_client(), second.test_client()
    for _ in range(3):
        assert _token(one, user.email, WRONG).status_code == 401
    assert_error(_token(one, user.email, PASSWORD), 429, "rate_limited")
    assert _token(two, user.email, PASSWORD).status_code == 201


def test_an_unreachable_redis_falls_back_to_counts_in_memory(database, db, make) -> None:
    app = _app(database.url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
               PROPAGATE_UNEXPECTED=False)
    user = make.user(Role.TRAINER)
    client = app.test_client()
    for _ in range(3):
        assert _token(client, user.email, WRONG).status_code == 401
    assert_error(_token(client, user.email, PASSWORD), 429, "rate_limited")
