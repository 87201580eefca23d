"""CAS 3.0 sign-in against a real CAS server (django-cas-server, on loopback),
through Flask's test client: the tickets a browser would bring back, good and bad.

What a CAS client can be fooled with is the ticket: replayed, issued for
another site, forged, too old, or planted in a link the victim did not start.
The server alone judges a ticket (single use, bound to its service, valid
60 s by the server's own clock), so there is no clock skew of ours to test:
an old ticket is refused whatever our clock says. The browser tests
(tests/browser/test_sso_cas_signin.py) cover the pages, provisioning and logout.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.sso import cas
from booking.services.errors import ValidationError
from models import IdentityLink, IdentityProvider, LoginSession, User
from tests.sso_servers.cas import CasServer, cas_server, free_port  # noqa: F401 (fixture)

PASSWORD = "cas-secret"
ATTRIBUTES = {"mail": "camille.durand@univ-tours.test", "displayName": "Camille Durand",
              "eduPersonAffiliation": ["staff", "member"]}
CALLBACK = "http://127.0.0.1:5000/auth/sso/univ-cas/callback"  # PUBLIC_URL of the tests
EXPIRED = "a expiré ou a déjà servi"  # pages are in French first
ELSEWHERE = "http://127.0.0.1:5000/auth/sso/someone-else/callback"  # allowed by the server too


@pytest.fixture
def provider(db: Session, make: Any, cas_server: CasServer) -> IdentityProvider:  # noqa: F811
    cas_server.set_user("cdurand", PASSWORD, **ATTRIBUTES)
    row = IdentityProvider(code="univ-cas", establishment=make.establishment(), kind="cas",
                           label="CAS de l’université", settings=cas_server.settings(),
                           role_rules=[{"attribute": "eduPersonAffiliation", "value": "staff",
                                        "role": "trainer"}])
    db.add(row)
    db.flush()
    return row


def start(client: FlaskClient, provider: IdentityProvider) -> str:
    """Press « Se connecter avec … »: the service URL the CAS login was given."""
    answer = client.get(f"/auth/sso/{provider.code}/login")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    location = answer.headers["Location"]
    assert location.startswith(provider.settings["server_url"] + "login?"), location
    (service,) = parse_qs(urlsplit(location).query)["service"]
    return service


def come_back(client: FlaskClient, provider: IdentityProvider, ticket: str) -> Any:
    return client.get(f"/auth/sso/{provider.code}/callback", query_string={"ticket": ticket})


def page_text(answer: Any) -> str:
    return " ".join(answer.get_data(as_text=True).split())


def accounts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def test_a_ticket_signs_in_once_and_its_replay_is_refused(
        app: Flask, client: FlaskClient, db: Session, provider: IdentityProvider,
        cas_server: CasServer) -> None:  # noqa: F811
    service = start(client, provider)
    assert service == CALLBACK
    ticket = cas_server.ticket(service, "cdurand", PASSWORD)

    answer = come_back(client, provider, ticket)
    assert answer.status_code == 302, page_text(answer)[:800]
    link = db.scalar(select(IdentityLink).where(IdentityLink.provider_id == provider.id))
    assert link is not None
    assert link.subject == "cdurand"
    assert (link.user.email, link.user.name) == (ATTRIBUTES["mail"], "Camille Durand")
    logins = db.scalar(select(func.count()).select_from(LoginSession))

    # The same ticket again, from another browser that started a sign-in.
    thief = app.test_client()
    start(thief, provider)
    replayed = come_back(thief, provider, ticket)
    assert replayed.status_code == 403
    assert EXPIRED in page_text(replayed)
    assert db.scalar(select(func.count()).select_from(LoginSession)) == logins


def test_a_ticket_issued_for_another_site_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        cas_server: CasServer) -> None:  # noqa: F811
    start(client, provider)
    ticket = cas_server.ticket(ELSEWHERE, "cdurand", PASSWORD)
    before = accounts(db)

    answer = come_back(client, provider, ticket)
    assert answer.status_code == 403
    assert "émis pour un autre site" in page_text(answer)
    assert accounts(db) == before


@pytest.mark.parametrize("ticket", ["ST-forged0000000000000000000000000000000000000000000000000000",
                                    "PT-notaserviceticket", "x" * 300, "ST-é", "ST-\x00"])
def test_a_forged_ticket_is_refused(client: FlaskClient, db: Session,
                                    provider: IdentityProvider, ticket: str) -> None:
    start(client, provider)
    before = accounts(db)
    answer = come_back(client, provider, ticket)
    assert answer.status_code == 403
    assert "ticket" in page_text(answer)
    assert accounts(db) == before


def test_a_ticket_older_than_the_server_allows_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        cas_server: CasServer) -> None:  # noqa: F811
    service = start(client, provider)
    ticket = cas_server.ticket(service, "cdurand", PASSWORD)
    cas_server.age_tickets(120)  # the server keeps a ticket 60 s

    answer = come_back(client, provider, ticket)
    assert answer.status_code == 403
    assert EXPIRED in page_text(answer)


def test_a_ticket_this_browser_did_not_ask_for_is_refused(
        app: Flask, db: Session, provider: IdentityProvider,
        cas_server: CasServer) -> None:  # noqa: F811
    """Login CSRF: a link carrying someone's ticket, opened by a victim who
    never pressed our button, signs nobody in."""
    ticket = cas_server.ticket(CALLBACK, "cdurand", PASSWORD)
    victim = app.test_client()
    answer = come_back(victim, provider, ticket)
    assert answer.status_code == 400
    assert "pas été commencée dans ce navigateur" in page_text(answer)
    assert db.scalar(select(func.count()).select_from(IdentityLink)) == 0


def test_no_ticket_is_a_clear_refusal(client: FlaskClient, provider: IdentityProvider) -> None:
    start(client, provider)
    answer = client.get(f"/auth/sso/{provider.code}/callback")
    assert answer.status_code == 400
    assert "aucun ticket" in page_text(answer)


def test_a_server_down_at_the_start_is_a_502_page_not_the_browsers_error(
        client: FlaskClient, db: Session, provider: IdentityProvider) -> None:
    provider.settings = {"server_url": f"http://127.0.0.1:{free_port()}/cas/"}
    db.flush()
    answer = client.get(f"/auth/sso/{provider.code}/login")
    assert answer.status_code == 502
    assert "n’a pas répondu" in page_text(answer)
    assert "/auth/login" in answer.get_data(as_text=True)  # the password form, a click away


def test_a_server_that_stops_answering_before_the_ticket_is_checked_is_a_502(
        client: FlaskClient, db: Session, provider: IdentityProvider) -> None:
    start(client, provider)
    provider.settings = {"server_url": f"http://127.0.0.1:{free_port()}/cas/"}
    db.flush()
    answer = come_back(client, provider, "ST-whatever")
    assert answer.status_code == 502
    assert "n’a pas répondu" in page_text(answer)


def test_a_server_that_is_no_cas_server_is_a_502(client: FlaskClient, db: Session,
                                                 provider: IdentityProvider,
                                                 cas_server: CasServer) -> None:  # noqa: F811
    """A wrong server_url: its pages answer 404."""
    provider.settings = {"server_url": cas_server.url.replace("/cas/", "/not-cas/")}
    db.flush()
    assert client.get(f"/auth/sso/{provider.code}/login").status_code == 502
    provider.settings = cas_server.settings()
    db.flush()
    start(client, provider)
    provider.settings = {"server_url": cas_server.url.replace("/cas/", "/not-cas/")}
    db.flush()
    answer = come_back(client, provider, "ST-whatever")
    assert answer.status_code == 502


def test_logout_ends_the_cas_session_and_comes_back(
        app: Flask, provider: IdentityProvider) -> None:
    with app.test_request_context():
        url = cas.logout(provider, return_to="http://127.0.0.1:5000/auth/login")
    assert url == (provider.settings["server_url"]
                   + "logout?service=http%3A%2F%2F127.0.0.1%3A5000%2Fauth%2Flogin")


@pytest.mark.parametrize(("given", "stored"), [
    ("https://cas.univ-tours.fr/cas", "https://cas.univ-tours.fr/cas/"),
    (" https://cas.univ-tours.fr/cas/ ", "https://cas.univ-tours.fr/cas/"),
    ("http://127.0.0.1:8443", "http://127.0.0.1:8443/"),
])
def test_the_server_url_is_stored_ending_with_a_slash(given: str, stored: str) -> None:
    settings = cas.check_settings({"server_url": given, "email_attribute": "mail"})
    assert settings == {"server_url": stored, "email_attribute": "mail"}


@pytest.mark.parametrize("given", [None, "", "   ", 42, "cas.univ-tours.fr/cas",
                                   "ftp://cas.univ-tours.fr/", "https:///cas/",
                                   "https://cas.univ-tours.fr/cas?x=1",
                                   "https://cas.univ-tours.fr/cas#top",
                                   "https://cas.univ-tours.fr:99999/cas",
                                   "https://[::1/cas", "https://cas.univ-tours.fr/ca s",
                                   "https://cas.univ-tours.fr/caś"])
def test_a_bad_server_url_is_refused_on_its_field(app: Flask, given: Any) -> None:
    with app.app_context(), pytest.raises(ValidationError) as refused:
        cas.check_settings({} if given is None else {"server_url": given})
    assert refused.value.details == {"field": "settings.server_url"}
