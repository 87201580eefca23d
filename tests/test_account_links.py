"""Accounts without an admin in the loop (issue 12, part 4): « Mot de passe
oublié » and the single-use links mailed to set a password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from booking.ratelimit import limiter_of
from booking.services.accounts.invitations import invite_user
from booking.services.accounts.tokens import issue_token, user_for_token
from booking.services.errors import Forbidden
from booking.timeutil import frozen
from models import LoginSession, OutboxMessage, Role, User
from tests.conftest import NOW, PASSWORD, csrf_token_of

NEW = "une toute nouvelle phrase 42"
LINK = re.compile(r"/auth/link/([A-Za-z0-9_-]+)")


def _post(client: Any, url: str, data: dict[str, str]) -> Any:
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _forgot(client: Any, email: str) -> Any:
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    return client.post("/auth/forgot", data={"email": email, "csrf_token": token})


def _mails(db: Any) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _link_in(message: OutboxMessage) -> str:
    found = LINK.search(message.body_text)
    assert found is not None, message.body_text
    return found.group(0)


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*', "", page)


def _log_in(client: Any, email: str, password: str) -> int:
    return _post(client, "/auth/login", {"email": email, "password": password}).status_code


def test_the_login_page_offers_the_forgotten_password(client, db) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/auth/forgot"' in page
    assert "Mot de passe oublié" in page


def test_the_same_answer_whether_the_address_exists_or_not(client, make, db, now) -> None:
    user = make.user(Role.TRAINER, email="connue@example.org")
    closed = make.user(Role.TRAINER, email="fermee@example.org", active=False)
    known = _forgot(client, "Connue@Example.org ")
    unknown = _forgot(client, "inconnue@example.org")
    deactivated = _forgot(client, closed.email)
    assert known.status_code == unknown.status_code == deactivated.status_code == 200
    pages = {_without_csrf(a.get_data(as_text=True)) for a in (known, unknown, deactivated)}
    assert len(pages) == 1
    assert "Consultez votre messagerie" in pages.pop()
    mails = _mails(db)
    assert [m.to_addr for m in mails] == [user.email]
    assert "/auth/link/" in mails[0].body_text
    assert "dans l’heure" in mails[0].body_text  # in the user's language, French


def test_the_link_sets_a_password_once_and_ends_every_session(
        app, client, make, db, now) -> None:
    user = make.user(Role.TRAINER)
    other = app.test_client()
    assert _log_in(other, user.email, PASSWORD) == 302
    token, _ = issue_token(db, user, now=NOW, lifetime=timedelta(days=30))
    _forgot(client, user.email)
    link = _link_in(_mails(db)[0])

    page = client.get(link)
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)
    short = _post(client, link, {"new_password": "court", "confirm": "court"})
    assert short.status_code == 200  # refused by the policy, the link still works
    done = _post(client, link, {"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/auth/login")

    assert db.scalars(select(LoginSession).where(LoginSession.user_id == user.id,
                                                 LoginSession.revoked_at.is_(None))).all() == []
    assert other.get("/dashboard").status_code == 302  # the other browser is logged out
    assert user_for_token(db, token, now=NOW) is None
    assert _log_in(app.test_client(), user.email, PASSWORD) == 200  # the old one is refused
    assert _log_in(app.test_client(), user.email, NEW) == 302

    again = client.get(link)
    assert again.status_code == 410
    assert "déjà été utilisé" in again.get_data(as_text=True)
    assert _post(client, link, {"new_password": PASSWORD, "confirm": PASSWORD}
                 ).status_code == 410


def test_the_link_expires_after_one_hour(client, make, db) -> None:
    user = make.user(Role.TRAINER)
    with frozen(NOW):
        _forgot(client, user.email)
    link = _link_in(_mails(db)[0])
    with frozen(NOW + timedelta(minutes=59)):
        assert client.get(link).status_code == 200
    with frozen(NOW + timedelta(hours=1)):
        gone = client.get(link)
        assert gone.status_code == 410
        assert "a expiré" in gone.get_data(as_text=True)
        assert _post(client, link, {"new_password": NEW, "confirm": NEW}).status_code == 410


def test_a_newer_link_voids_the_older_one(client, make, db, now) -> None:
    user = make.user(Role.TRAINER)
    _forgot(client, user.email)
    _forgot(client, user.email)
    first, second = (_link_in(m) for m in _mails(db))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


@pytest.mark.parametrize("link", ["/auth/link/inconnu", "/auth/link/" + "x" * 2000,
                                  "/auth/link/%C3%A9%00"])
def test_an_unknown_link_is_a_clear_404(client, db, now, link: str) -> None:
    answer = client.get(link)
    assert answer.status_code == 404
    assert "Ce lien est inconnu" in answer.get_data(as_text=True)


def test_a_deactivated_account_cannot_use_a_link_sent_before(client, make, db, now) -> None:
    user = make.user(Role.TRAINER)
    _forgot(client, user.email)
    link = _link_in(_mails(db)[0])
    user.active = False
    db.flush()
    assert client.get(link).status_code == 410


def test_asking_for_links_is_throttled(app, client, make, db, now, monkeypatch) -> None:
    user = make.user(Role.TRAINER)
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "3 per minute")
    limiter_of(app).reset()
    try:
        for _ in range(3):
            assert _forgot(client, user.email).status_code == 200
        assert _forgot(client, user.email).status_code == 429
        assert len(_mails(db)) == 3
    finally:
        limiter_of(app).reset()


# --- invitations -----------------------------------------------------------------------------


def _invite(client: Any, **data: Any) -> Any:
    return _post(client, "/accounts/invite", {k: str(v) for k, v in data.items()})


def test_a_coordinator_invites_a_trainer_with_a_link_valid_7_days(
        app, client, login, make, db, now) -> None:
    coordinator = make.user(Role.COORDINATOR)
    login(coordinator)
    assert 'href="/accounts/invite"' in client.get("/coordination/equipment").get_data(
        as_text=True)
    answer = _invite(client, name="Noé Invité", email="noe@example.org", role="trainer")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    invited = db.scalar(select(User).where(User.email == "noe@example.org"))
    assert invited.role is Role.TRAINER
    assert invited.active
    assert invited.establishment_id == coordinator.establishment_id
    assert _log_in(app.test_client(), invited.email, invited.password_hash) == 200  # unusable
    mail = _mails(db)[-1]
    assert mail.to_addr == "noe@example.org"
    assert "7 jours" in mail.body_text
    link = _link_in(mail)
    visitor = app.test_client()
    with frozen(NOW + timedelta(days=6, hours=23)):
        assert "Bienvenue sur Plateforme" in visitor.get(link).get_data(as_text=True)
    with frozen(NOW + timedelta(days=7)):
        assert visitor.get(link).status_code == 410
    assert _post(visitor, link, {"new_password": NEW, "confirm": NEW}).status_code == 302
    assert _log_in(app.test_client(), invited.email, NEW) == 302
    assert visitor.get(link).status_code == 410


def test_re_inviting_a_pending_invitee_voids_the_old_link(client, login, make, db, now) -> None:
    login(make.user(Role.COORDINATOR))
    for _ in range(2):
        assert _invite(client, name="Léa", email="lea@example.org", role="trainer"
                       ).status_code == 302
    first, second = (_link_in(m) for m in _mails(db))
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200
    assert len(db.scalars(select(User).where(User.email == "lea@example.org")).all()) == 1


def test_an_address_already_in_use_is_refused_clearly(client, login, make, db, now) -> None:
    existing = make.user(Role.TRAINER, email="deja@example.org")
    login(make.user(Role.COORDINATOR))
    answer = _invite(client, name="Autre", email=existing.email, role="trainer")
    assert answer.status_code == 200
    assert "Un compte utilise déjà deja@example.org" in answer.get_data(as_text=True)
    assert _mails(db) == []


def test_roles_an_inviter_may_not_give_are_refused(client, login, make, db, now) -> None:
    login(make.user(Role.COORDINATOR))
    answer = _invite(client, name="Chef", email="chef@example.org", role="admin")
    assert answer.status_code == 200  # not among the choices offered
    assert db.scalar(select(User).where(User.email == "chef@example.org")) is None
    with pytest.raises(Forbidden):
        invite_user(db, actor=make.user(Role.COORDINATOR), email="c@example.org", name="C",
                    role=Role.COORDINATOR, now=NOW)
    with pytest.raises(Forbidden):
        invite_user(db, actor=make.user(Role.COMPANY), email="t@example.org", name="T",
                    role=Role.TRAINER, now=NOW)


def test_a_trainer_may_not_invite(client, login, make, db, now) -> None:
    login(make.user(Role.TRAINER))
    assert client.get("/accounts/invite").status_code == 403


def test_a_company_contact_invites_only_into_their_own_company(
        client, login, make, db, now) -> None:
    contact = make.user(Role.COMPANY)
    other = make.company(name="Concurrente")
    login(contact)
    assert 'href="/accounts/invite"' in client.get("/dashboard").get_data(as_text=True)
    answer = _invite(client, name="Collègue", email="collegue@example.org", role="company",
                     company=other.id)
    assert answer.status_code == 200  # another company is not offered
    assert _mails(db) == []
    answer = _invite(client, name="Collègue", email="collegue@example.org", role="company")
    assert answer.status_code == 302
    colleague = db.scalar(select(User).where(User.email == "collegue@example.org"))
    assert colleague.company_id == contact.company_id != other.id
    # The service too: a company sent along is ignored, never obeyed.
    sent = invite_user(db, actor=contact, email="autre@example.org", name="Autre",
                       role=Role.COMPANY, now=NOW, company_id=other.id)
    assert sent.company_id == contact.company_id
    answer = _invite(client, name="Form", email="form@example.org", role="trainer")
    assert answer.status_code == 200
    assert db.scalar(select(User).where(User.email == "form@example.org")) is None


# --- a password someone else chose -----------------------------------------------------------


def test_a_password_set_by_an_admin_must_be_changed_at_first_sign_in(
        app, client, make, db, now) -> None:
    admin, user = make.user(Role.ADMIN), make.user(Role.TRAINER)
    admin_browser = app.test_client()
    assert _log_in(admin_browser, admin.email, PASSWORD) == 302
    given = "donnée par l’admin 2027"
    answer = _post(admin_browser, f"/admin/accounts/{user.id}/password",
                   {"password": given, "confirm": given})
    assert answer.status_code == 302
    db.refresh(user)
    assert user.must_change_password

    assert _log_in(client, user.email, given) == 302
    for page in ("/dashboard", "/equipment", "/certifications"):
        answer = client.get(page)
        assert answer.status_code == 302, page
        assert answer.headers["Location"].endswith("/auth/password")
    forced = client.get("/auth/password")
    assert forced.status_code == 200
    assert "choisi par quelqu’un d’autre" in forced.get_data(as_text=True)
    token, _ = issue_token(db, user, now=NOW, lifetime=timedelta(days=1))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code != 302  # the API is not redirected
    assert _post(client, "/auth/password", {"current_password": given, "new_password": NEW,
                                            "confirm": NEW}).status_code == 302
    assert client.get("/dashboard").status_code == 200
    db.refresh(user)
    assert not user.must_change_password


def test_an_account_created_by_an_admin_must_change_its_password(
        app, client, login, make, db, now) -> None:
    login(make.user(Role.ADMIN))
    given = "donnée par l’admin 2027"
    answer = _post(client, "/admin/accounts/new",
                   {"name": "Nouvelle", "email": "nouvelle@example.org", "role": "trainer",
                    "establishment": "0", "company": "0", "password": given})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    created = db.scalar(select(User).where(User.email == "nouvelle@example.org"))
    assert created.must_change_password
    other = app.test_client()
    assert _log_in(other, created.email, given) == 302
    assert other.get("/dashboard").headers["Location"].endswith("/auth/password")
    token = csrf_token_of(other.get("/auth/password").get_data(as_text=True))
    logout = other.post("/auth/logout", data={"csrf_token": token})
    assert logout.headers["Location"].endswith("/auth/login")


def test_the_cli_marks_a_temporary_password_only(app, db, now) -> None:
    runner = app.test_cli_runner()
    for email, extra in (("cli@example.org", ["--temporary"]), ("own@example.org", [])):
        result = runner.invoke(args=[
            "users", "create", "--email", email, "--name", "Cli", "--role", "admin",
            "--password", "choisi en console 2027", *extra])
        assert result.exit_code == 0, result.output
    assert db.scalar(select(User.must_change_password).where(User.email == "cli@example.org"))
    assert not db.scalar(select(User.must_change_password)
                         .where(User.email == "own@example.org"))
