"""The policy of new passwords (issue 10, finding 4): at least 12 characters, none
of the common passwords of zxcvbn's list, nothing trivial, not the account's own
e-mail or name; on every path that sets a password, each refusal next to the
field and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from booking.auth.passwords import verify_password
from booking.demo.campus import PASSWORD as DEMO_PASSWORD
from booking.services.accounts.password_policy import MIN_PASSWORD_LENGTH, check_new_password
from booking.services.errors import ValidationError
from models import AuditEntry, Role, User
from tests.conftest import PASSWORD, csrf_token_of

ACCEPTED = [
    PASSWORD, DEMO_PASSWORD, "une phrase assez longue 42", "nouveau-secret-1",
    "s3cret-passphrase", "long enough password", "assez-long-secret", "Tr0mbone-Ciel-Nuit",
    "a brand new secret",
]

REFUSED = {
    # too short
    "short": "short", "1234567890": "short", "aaaaaaaaaa": "short", "Tr0mbone-11": "short",
    # zxcvbn's list of common passwords, in any case, with digits or signs around
    "qwerty123456": "common", "QWERTY123456": "common", "1qaz2wsx3edc": "common",
    "password1234": "common", "Password123!": "common", "azerty123456": "common",
    "!!soleil2024!!": "common", "123456789123": "common", "leavemealone": "common",
    # trivial
    "aaaaaaaaaaaa": "trivial", "            ": "trivial", "111111111111": "trivial",
    "abcabcabcabc": "trivial", "xYz!xYz!xYz!": "trivial",
    "123456789012": "trivial", "1234567890123": "trivial", "0987654321098": "trivial",
    "abcdefghijkl": "trivial", "ABCDEFGHIJKLMN": "trivial", "zyxwvutsrqpo": "trivial",
    "qwertyuiopas": "trivial", "azertyuiopqsd": "trivial", "mlkjhgfdsqpoiu": "trivial",
    "acegikmoqsuw": "trivial",
}

OWN = {"email": "camille.martin@example.org", "name": "Camille Martin"}
OWN_REFUSED = ["camille.martin@example.org", "Camille.Martin@Example.org",
               "camillemartin2027", "Camille Martin !!", "martin-camille-12", "CAMILLE.martin42"]


def _reason(password: str, **own: str) -> str | None:
    """The refusal's message, or None when the password passes."""
    try:
        check_new_password(password, **own)
    except ValidationError as exc:
        refusal = exc
    else:
        return None
    assert refusal.details == {"field": "password"}
    return refusal.message


def test_the_minimum_is_twelve() -> None:
    assert MIN_PASSWORD_LENGTH == 12


@pytest.mark.parametrize("password", ACCEPTED)
def test_good_passwords_pass(app, password: str) -> None:
    with app.app_context():
        assert _reason(password, **OWN) is None


@pytest.mark.parametrize("password", sorted(REFUSED))
def test_common_and_trivial_passwords_are_refused(app, password: str) -> None:
    expected = {"short": "at least 12 characters", "common": "common",
                "trivial": "easy to guess"}[REFUSED[password]]
    with app.app_context(), force_locale("en"):
        assert expected in (_reason(password) or "")


@pytest.mark.parametrize("password", OWN_REFUSED)
def test_the_accounts_own_email_or_name_is_refused(app, password: str) -> None:
    with app.app_context(), force_locale("en"):
        assert "name or e-mail" in (_reason(password, **OWN) or "")
        assert _reason(password, email="someone@example.org", name="Someone Else") is None


def test_the_list_comes_from_zxcvbn() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    from booking.services.accounts import password_policy

    common = password_policy.common_passwords()
    assert len(common) == len(set(FREQUENCY_LISTS["passwords"])) > 20_000


# --- every path that sets a password ------------------------------------------------


def _count(db) -> tuple[int, int]:
    return (db.scalar(select(func.count()).select_from(User)),
            db.scalar(select(func.count()).select_from(AuditEntry)))


def test_cli_refuses_a_common_password(app, db) -> None:
    before = _count(db)
    result = app.test_cli_runner().invoke(args=[
        "users", "create", "--email", "new@example.org", "--name", "New", "--role", "trainer",
        "--password", "qwerty123456"])
    assert result.exit_code != 0
    with app.app_context(), force_locale("fr"):  # the command speaks the campus language
        assert _reason("qwerty123456") in result.output
    assert _count(db) == before


def test_api_refuses_the_accounts_own_email(client, make, db) -> None:
    admin = make.user(Role.ADMIN)
    token = client.post("/api/v1/auth/tokens",
                        json={"email": admin.email, "password": PASSWORD}).json["token"]
    before = _count(db)
    answer = client.post("/api/v1/users", headers={"Authorization": f"Bearer {token}"}, json={
        "email": "nadia.roux@example.org", "name": "Nadia Roux", "role": "trainer",
        "password": "nadia.roux@example.org"})
    assert answer.status_code == 422
    assert answer.json["error"] == "validation"
    assert answer.json["details"]["field"] == "password"
    assert _count(db) == before


def _post(client, url: str, data: dict[str, Any]):
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_admin_forms_place_the_refusal_next_to_the_field(app, client, make, login, db) -> None:
    login(make.user(Role.ADMIN, locale="en"))
    before = _count(db)
    answer = _post(client, "/admin/accounts/new", {
        "name": "Nadia Roux", "email": "nadia@example.org", "role": "trainer",
        "establishment": "0", "company": "0", "new_company": "", "password": "aaaaaaaaaaaa"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="password-error"' in html
    assert "easy to guess" in html
    assert _count(db) == before

    target = make.user(Role.TRAINER, name="Julien Moreau")
    answer = _post(client, f"/admin/accounts/{target.id}/password",
                   {"password": "JulienMoreau2027", "confirm": "JulienMoreau2027"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="password-error"' in html
    assert "name or e-mail" in html
    db.expire_all()
    with app.app_context():
        assert verify_password(db.get(User, target.id).password_hash, PASSWORD)


def test_password_change_refuses_a_common_password(app, client, make, login, db) -> None:
    user = make.user(Role.TRAINER, locale="en")
    login(user)
    answer = _post(client, "/auth/password", {
        "current_password": PASSWORD, "new_password": "Password123!",
        "confirm": "Password123!"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="new_password-error"' in html
    assert "common" in html
    db.expire_all()
    with app.app_context():
        assert verify_password(db.get(User, user.id).password_hash, PASSWORD)


def test_the_demo_password_satisfies_the_policy(app) -> None:
    with app.app_context():
        check_new_password(DEMO_PASSWORD, email="admin@plateforme.test", name="Admin")
    readme = (__import__("pathlib").Path(__file__).parent.parent / "README.md").read_text()
    assert f"**`{DEMO_PASSWORD}`**" in readme
