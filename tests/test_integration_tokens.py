"""Integration tokens (issue 12, part 7): named, scoped, long-lived API tokens
created on the « Jetons d'intégration » page, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.services.accounts.integration_tokens import create_integration_token
from booking.timeutil import frozen
from models import ApiToken, Role
from tests.conftest import NOW, PASSWORD, csrf_token_of


def _create(app, db, actor, owner, scope="read", name="Synchro ENT"):
    with app.app_context():
        secret, row = create_integration_token(db, actor=actor, owner=owner, name=name,
                                               scope=scope, expires_on=None, now=NOW)
    db.flush()
    return secret, row


def _auth(secret):
    return {"Authorization": f"Bearer {secret}"}


def _post(client, url, data):
    page = client.get(url)
    data = {**data, "csrf_token": csrf_token_of(page.get_data(as_text=True))}
    return client.post(url, data=data)


def test_token_is_created_shown_once_and_stored_hashed(make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    client = login(trainer)
    url = f"/account/users/{trainer.id}/tokens"
    answer = _post(client, url, {"name": "Planning atelier", "scope": "read"})
    assert answer.status_code == 302
    html = client.get(url).get_data(as_text=True)
    secret = re.search(r'data-secret="([^"]+)"', html).group(1)
    row = db.scalars(select(ApiToken).where(ApiToken.user_id == trainer.id)).one()
    assert (row.kind, row.scope, row.name) == ("integration", "read", "Planning atelier")
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.expires_at is None
    again = client.get(url).get_data(as_text=True)
    assert "Planning atelier" in again
    assert secret not in again


@pytest.mark.parametrize("data", [{"name": "", "scope": "read"},
                                  {"name": "x" * 101, "scope": "read"},
                                  {"name": "Admin", "scope": "full"},
                                  {"name": "Hier", "scope": "read", "expires_on": "2027-01-11"}])
def test_bad_token_forms_write_nothing(make, login, db, now, data) -> None:
    trainer = make.user(Role.TRAINER)
    answer = _post(login(trainer), f"/account/users/{trainer.id}/tokens", data)
    assert answer.status_code == 200
    assert db.scalars(select(ApiToken).where(ApiToken.user_id == trainer.id)).all() == []


def test_an_expiry_date_ends_the_token(app, client, make, db) -> None:
    trainer = make.user(Role.TRAINER)
    with app.app_context():
        secret, _ = create_integration_token(
            db, actor=trainer, owner=trainer, name="Essai", scope="read",
            expires_on=(NOW + timedelta(days=2)).date(), now=NOW)
    db.flush()
    with frozen(NOW + timedelta(days=2)):
        assert client.get("/api/v1/bookings", headers=_auth(secret)).status_code == 200
    with frozen(NOW + timedelta(days=4)):
        assert client.get("/api/v1/bookings", headers=_auth(secret)).status_code == 401


def test_read_token_reads_but_never_writes(app, client, make, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    secret, _ = _create(app, db, trainer, trainer, scope="read")
    assert client.get("/api/v1/bookings", headers=_auth(secret)).status_code == 200
    answer = client.post("/api/v1/bookings", headers=_auth(secret), json={})
    assert answer.status_code == 403
    assert answer.json["error"] == "forbidden"
    assert "lecture seule" in answer.json["message"]  # French by default


def test_book_token_books_but_never_administers(app, client, make, db, now) -> None:
    admin = make.user(Role.ADMIN)
    secret, _ = _create(app, db, admin, admin, scope="book")
    # A booking write reaches the validation (422), not the scope check.
    assert client.post("/api/v1/bookings", headers=_auth(secret), json={}).status_code == 422
    answer = client.post("/api/v1/companies", headers=_auth(secret), json={"name": "Neuve"})
    assert answer.status_code == 403
    assert answer.json["error"] == "forbidden"


def test_last_use_is_recorded_at_most_once_a_minute(app, client, make, db) -> None:
    trainer = make.user(Role.TRAINER)
    secret, row = _create(app, db, trainer, trainer)
    assert row.last_used_at is None

    def last_use():
        db.expire_all()
        return db.get(ApiToken, row.id).last_used_at

    with frozen(NOW):
        client.get("/api/v1/bookings", headers=_auth(secret))
    assert last_use() == NOW
    with frozen(NOW + timedelta(seconds=30)):
        client.get("/api/v1/bookings", headers=_auth(secret))
    assert last_use() == NOW
    with frozen(NOW + timedelta(minutes=2)):
        client.get("/api/v1/bookings", headers=_auth(secret))
    assert last_use() == NOW + timedelta(minutes=2)


def test_revoked_token_is_refused(app, make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    secret, row = _create(app, db, trainer, trainer)
    client = login(trainer)
    page = client.get(f"/account/users/{trainer.id}/tokens").get_data(as_text=True)
    answer = client.post(f"/account/tokens/{row.id}/revoke",
                         data={"csrf_token": csrf_token_of(page)})
    assert answer.status_code == 302
    db.expire_all()
    assert db.get(ApiToken, row.id).revoked_at is not None
    assert client.get("/api/v1/bookings", headers=_auth(secret)).status_code == 401


def test_another_users_tokens_are_invisible(app, make, login, db, now) -> None:
    trainer, other = make.user(Role.TRAINER), make.user(Role.TRAINER)
    coordinator = make.user(Role.COORDINATOR)
    _, row = _create(app, db, trainer, trainer)
    for intruder in (other, coordinator):
        client = login(intruder)
        assert client.get(f"/account/users/{trainer.id}/tokens").status_code == 404
        page = client.get(f"/account/users/{intruder.id}/tokens").get_data(as_text=True)
        assert "Synchro ENT" not in page
        answer = client.post(f"/account/tokens/{row.id}/revoke",
                             data={"csrf_token": csrf_token_of(page)})
        assert answer.status_code == 404
        client.post("/auth/logout", data={"csrf_token": csrf_token_of(page)})
    db.expire_all()
    assert db.get(ApiToken, row.id).revoked_at is None


def test_admin_manages_anyones_tokens(app, make, login, db, now) -> None:
    trainer, admin = make.user(Role.TRAINER), make.user(Role.ADMIN)
    client = login(admin)
    url = f"/account/users/{trainer.id}/tokens"
    assert _post(client, url, {"name": "Pour lui", "scope": "book"}).status_code == 302
    row = db.scalars(select(ApiToken).where(ApiToken.user_id == trainer.id)).one()
    page = client.get(url).get_data(as_text=True)
    assert "Pour lui" in page
    answer = client.post(f"/account/tokens/{row.id}/revoke",
                         data={"csrf_token": csrf_token_of(page)})
    assert answer.status_code == 302
    db.expire_all()
    assert db.get(ApiToken, row.id).revoked_at is not None


def test_password_change_and_deactivation_end_integration_tokens(app, client, make, db,
                                                                   now) -> None:
    from booking.services.accounts.operations import change_password, end_sessions

    trainer = make.user(Role.TRAINER)
    first, _ = _create(app, db, trainer, trainer)
    with app.app_context():
        change_password(db, trainer, "une toute autre phrase 42", now=NOW)
    db.flush()
    assert client.get("/api/v1/bookings", headers=_auth(first)).status_code == 401
    second, _ = _create(app, db, trainer, trainer, name="Deuxième")
    with app.app_context():
        end_sessions(db, trainer, now=NOW)
        trainer.active = False
    db.flush()
    assert client.get("/api/v1/bookings", headers=_auth(second)).status_code == 401


def test_login_tokens_are_unchanged(client, make, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    answer = client.post("/api/v1/auth/tokens", json={"email": trainer.email,
                                                      "password": PASSWORD})
    assert answer.status_code == 201
    assert answer.json["expires_at"]
    row = db.scalars(select(ApiToken).where(ApiToken.user_id == trainer.id)).one()
    assert (row.kind, row.scope, row.name) == ("login", "full", None)


def test_the_api_creates_lists_and_revokes_integration_tokens(client, make, db, now) -> None:
    trainer, other = make.user(Role.TRAINER), make.user(Role.TRAINER)
    login_token = client.post("/api/v1/auth/tokens", json={"email": trainer.email,
                                                           "password": PASSWORD}).json["token"]
    url = f"/api/v1/users/{trainer.id}/integration-tokens"
    created = client.post(url, headers=_auth(login_token),
                          json={"name": "ENT", "scope": "book", "expires_on": "2027-02-01"})
    assert created.status_code == 201, created.json
    secret = created.json["token"]
    assert created.json["expires_at"] == "2027-02-02T00:00:00+01:00"
    listed = client.get(url, headers=_auth(login_token)).json
    assert [t["name"] for t in listed["items"]] == ["ENT"]
    assert "token" not in listed["items"][0]
    # An integration token never mints another, nor revokes one.
    assert client.post(url, headers=_auth(secret),
                       json={"name": "Copie", "scope": "read"}).status_code == 403
    # Another's tokens are not there at all.
    other_url = f"/api/v1/users/{other.id}/integration-tokens"
    assert client.get(other_url, headers=_auth(login_token)).status_code == 404
    token_id = created.json["id"]
    assert client.delete(f"/api/v1/integration-tokens/{token_id}",
                         headers=_auth(login_token)).status_code == 204
    assert client.get("/api/v1/bookings", headers=_auth(secret)).status_code == 401


def test_a_book_token_leaves_others_bookings_alone(app, client, make, db, now) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from booking.services.bookings.operations import BookingRequest, create_booking
    from booking.services.policy import Policy
    from models import BookingPurpose

    coordinator = make.user(Role.COORDINATOR)
    trainer = make.user(Role.TRAINER, establishment=coordinator.establishment)
    machine = make.equipment(establishment=coordinator.establishment)
    with app.app_context():
        start = datetime(2027, 1, 14, 9, tzinfo=ZoneInfo("Europe/Paris"))
        booking = create_booking(db, actor=trainer, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(machine.id, start,
                                                        start + timedelta(hours=1), "Essai",
                                                        BookingPurpose.TRAINING))
    secret, _ = _create(app, db, coordinator, coordinator, scope="book")
    answer = client.post(f"/api/v1/bookings/{booking.id}/cancel", headers=_auth(secret),
                         json={"reason": "Non"})
    assert answer.status_code == 403
    assert answer.json["error"] == "forbidden"
