"""Login answers that tell nothing (issue 10, findings 4 and 6): the same argon2
work for existing, unknown and deactivated accounts on both login paths, and a
``next`` that can only lead to a local path."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from models import Role
from tests.conftest import PASSWORD, csrf_token_of


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every argon2 verification made, by hash."""
    made: list[str] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        made.append(str(hash))
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return made


def _login_page(client, email: str, password: str, next_: str | None = None):
    url = "/auth/login" if next_ is None else "/auth/login?" + _query(next_)
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def _query(next_: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": next_})


def _token(client, email: str, password: str):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


CASES = ["wrong password", "unknown e-mail", "deactivated, right password",
         "deactivated, wrong password"]


def _attempt(make, case: str) -> tuple[str, str]:
    if case == "wrong password":
        return make.user(Role.TRAINER).email, "not the password"
    if case == "unknown e-mail":
        return "nobody@example.org", "not the password"
    user = make.user(Role.TRAINER, active=False)
    return user.email, PASSWORD if case == "deactivated, right password" else "wrong"


@pytest.mark.parametrize("case", CASES)
def test_every_refused_login_page_costs_one_verification(client, make, verifications,
                                                         case) -> None:
    email, password = _attempt(make, case)
    assert _login_page(client, email, password).status_code == 200
    assert len(verifications) == 1
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("case", CASES)
def test_every_refused_token_costs_one_verification(client, make, verifications,
                                                    case) -> None:
    email, password = _attempt(make, case)
    answer = _token(client, email, password)
    assert answer.status_code == 401
    assert answer.json["message"] == "unknown e-mail or wrong password"
    assert len(verifications) == 1


def test_a_successful_login_costs_one_verification_too(client, make, verifications) -> None:
    user = make.user(Role.TRAINER)
    assert _token(client, user.email, PASSWORD).status_code == 201
    assert _login_page(client, user.email, PASSWORD).status_code == 302
    assert len(verifications) == 2


def test_unknown_accounts_are_checked_against_a_hash_of_todays_cost(
        app, client, make, verifications, monkeypatch) -> None:
    """A dummy hash made at another cost would answer faster (or slower) than a
    real account's: it follows the configuration."""
    user = make.user(Role.TRAINER)
    _token(client, user.email, "not the password")
    _token(client, "nobody@example.org", "not the password")
    real, dummy = verifications
    assert real.split("$")[3] == dummy.split("$")[3]  # m=…,t=…,p=…
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    _token(client, "nobody@example.org", "not the password")
    assert "t=2" in verifications[-1]


HOSTILE_NEXT = [
    "/bookings\r\nSet-Cookie: stolen=1", "/bookings\nX: y", "/bookings\rX: y",
    "/bookings\x00", "/book\tings", "/bookings\x1b[2J", "/bookings\x7f", "/bookings\x85",
    "/bookings\u2028", "//evil.example/", "/\\evil.example", "https://evil.example/",
    "javascript:alert(1)", "bookings", " /bookings",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_follows_a_hostile_next(client, make, target) -> None:
    user = make.user(Role.TRAINER)
    answer = _login_page(client, user.email, PASSWORD, target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200
    # Already logged in, the login page sends on with the same check.
    again = client.get("/auth/login?" + _query(target))
    assert again.status_code == 302
    assert again.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("target", ["/bookings", "/equipment?category=pilot_line&q=a%20b",
                                    "/bookings/new#top", "/équipement"])
def test_login_follows_a_local_next(client, make, target) -> None:
    user = make.user(Role.TRAINER)
    answer = _login_page(client, user.email, PASSWORD, target)
    assert answer.status_code == 302
    assert answer.headers["Location"] != "/dashboard"
