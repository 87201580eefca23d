"""Login, logout, passwords and the CSRF guard, through the real pages."""

from __future__ import annotations

from sqlalchemy import func, select

from booking.auth.passwords import hash_password, verify_password
from models import LoginSession, Role, User
from tests.conftest import PASSWORD, csrf_token_of


def _post_login(client, email: str, password: str):
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": token}
    )


def test_login_page_is_french_by_default(client) -> None:
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="fr"' in html
    assert "Mot de passe" in html


def test_login_then_dashboard(client, make) -> None:
    user = make.user(Role.TRAINER, name="Camille Martin")
    response = _post_login(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Camille Martin" in page.get_data(as_text=True)


def test_login_is_case_insensitive_on_email(client, make) -> None:
    user = make.user(Role.TRAINER)
    assert _post_login(client, user.email.upper(), PASSWORD).status_code == 302


def test_wrong_password_is_refused(client, make, db) -> None:
    user = make.user(Role.TRAINER)
    response = _post_login(client, user.email, "not the password")
    assert response.status_code == 200
    assert client.get("/dashboard").status_code == 302
    assert db.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_unknown_email_gets_the_same_answer(client) -> None:
    response = _post_login(client, "nobody@example.org", "whatever-password")
    assert response.status_code == 200
    assert "mot de passe" in response.get_data(as_text=True).lower()


def test_inactive_account_cannot_log_in(client, make) -> None:
    user = make.user(Role.TRAINER, active=False)
    assert _post_login(client, user.email, PASSWORD).status_code == 200


def test_dashboard_requires_login(client) -> None:
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_next_redirect_stays_on_site(client, make) -> None:
    user = make.user(Role.TRAINER)
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login?next=//evil.example/steal",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_logout_really_ends_the_session(client, make, login) -> None:
    user = make.user(Role.TRAINER)
    login(user)
    with client.session_transaction() as sess:
        stolen = dict(sess)  # a copy of the cookie, as a thief would keep it
    token = csrf_token_of(client.get("/dashboard").get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    with client.session_transaction() as sess:
        sess.update(stolen)
    assert client.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions(app, client, make, login, db) -> None:
    user = make.user(Role.TRAINER)
    other = app.test_client()
    token = csrf_token_of(other.get("/auth/login").get_data(as_text=True))
    other.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                    "csrf_token": token})
    assert other.get("/dashboard").status_code == 200

    login(user)
    token = csrf_token_of(client.get("/auth/password").get_data(as_text=True))
    response = client.post("/auth/password", data={
        "current_password": PASSWORD, "new_password": "a brand new secret",
        "confirm": "a brand new secret", "csrf_token": token,
    })
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200  # this session stays
    assert other.get("/dashboard").status_code == 302  # the other one is closed
    db.expire_all()
    with app.app_context():
        assert verify_password(db.get(User, user.id).password_hash, "a brand new secret")


def test_form_post_without_csrf_token_is_refused(client, make) -> None:
    user = make.user(Role.TRAINER)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/dashboard").status_code == 302


def test_outdated_hash_is_upgraded_at_login(app, client, make, db) -> None:
    with app.app_context():
        app.config["ARGON2_TIME_COST"] = 2
        weak = hash_password(PASSWORD)
        app.config["ARGON2_TIME_COST"] = 1
    user = make.user(Role.TRAINER, password_hash=weak)
    assert _post_login(client, user.email, PASSWORD).status_code == 302
    db.expire_all()
    stored = db.get(User, user.id).password_hash
    assert stored != weak
    assert "t=1" in stored


def test_language_switch_changes_the_page(client) -> None:
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    client.post("/language", data={"lang": "en", "next": "/auth/login", "csrf_token": token})
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Password" in html
