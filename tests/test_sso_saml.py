"""SAML 2.0 sign-in against a real IdP (pysaml2's Server signing with xmlsec1, on
loopback), through Flask's test client: the Responses a browser would post
back, good and bad.

Our test client plays the browser: it asks /auth/sso/<code>/login for the
AuthnRequest, the IdP's login form is posted for a user, and the Response the
IdP's page would auto-post is posted to our callback, as is or altered. The
browser tests (tests/browser/test_sso_saml_signin.py) cover the pages,
provisioning, the IdP down and logout.
"""

from __future__ import annotations

import base64
import html
import re
import time
import zlib
from types import SimpleNamespace
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, build_opener

import pytest
from defusedxml import ElementTree
from flask import Flask
from flask.testing import FlaskClient
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.md import entity_descriptor_from_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.sso import saml
from booking.services.errors import ValidationError
from models import IdentityLink, IdentityProvider, User
from tests.conftest import csrf_token_of
from tests.sso_servers.saml import IdPAnswer, SamlIdP, saml_idp  # noqa: F401 (fixture)

CODE = "univ-saml"
ACS = f"http://127.0.0.1:5000/auth/sso/{CODE}/callback"  # PUBLIC_URL of the tests
ENTITY = f"http://127.0.0.1:5000/auth/sso/{CODE}/metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
NAME_ID = "8f2e6a1c-persistent-camille"
ATTRIBUTES = {"mail": ["camille.durand@univ-tours.test"], "displayName": ["Camille Durand"],
              "eduPersonAffiliation": ["staff", "member"]}



class _KeepRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test reads the Location itself


def get_unfollowed(url: str) -> tuple[int, str]:
    """(status, Location) of a GET at the IdP, its redirect not followed."""
    try:
        with build_opener(_KeepRedirects).open(url, timeout=10) as answer:
            return answer.status, answer.headers.get("Location", "")
    except HTTPError as error:
        with error:
            return error.code, error.headers.get("Location", "")


@pytest.fixture
def provider(db: Session, make: Any, client: FlaskClient,
             saml_idp: SamlIdP) -> IdentityProvider:  # noqa: F811
    saml_idp.set_user("cdurand", name_id=NAME_ID, **ATTRIBUTES)
    with client.session_transaction() as session:
        session["lang"] = "en"  # the pages' sentences are compared in English
    row = IdentityProvider(code=CODE, establishment=make.establishment(), kind="saml",
                           label="Université de Tours",
                           settings={"idp_metadata_url": saml_idp.metadata_url},
                           role_rules=[{"attribute": "eduPersonAffiliation", "value": "staff",
                                        "role": "trainer"}])
    db.add(row)
    db.flush()
    metadata = client.get(f"/auth/sso/{CODE}/metadata")
    assert metadata.status_code == 200, metadata.get_data(as_text=True)[:500]
    saml_idp.trust_sp("test-client", metadata.get_data(as_text=True))
    return row


def start(client: FlaskClient) -> str:
    """Press « Se connecter avec … »: the AuthnRequest's address at the IdP."""
    answer = client.get(f"/auth/sso/{CODE}/login")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:800]
    return str(answer.headers["Location"])


def post_back(client: FlaskClient, answer: IdPAnswer) -> Any:
    assert answer.acs_url == ACS
    return client.post(urlsplit(answer.acs_url).path, data=answer.form())


def page_text(answer: Any) -> str:
    return " ".join(answer.get_data(as_text=True).split())


def accounts(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def signatures(answer: IdPAnswer) -> dict[str, int]:
    """How many signatures the Response and its assertion carry (direct children)."""
    root = ElementTree.fromstring(answer.xml)
    (assertion,) = root.findall(f"{{{SAML}}}Assertion")
    return {"response": len(root.findall(f"{{{DSIG}}}Signature")),
            "assertion": len(assertion.findall(f"{{{DSIG}}}Signature"))}


def signed_in(answer: Any) -> bool:
    return answer.status_code == 302 and "/auth/" not in answer.headers.get("Location", "/auth/")


def test_a_signed_response_signs_in_and_its_replay_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    location = start(client)
    assert location.startswith(f"{saml_idp.base}/sso/redirect?"), location
    assert "SAMLRequest" in parse_qs(urlsplit(location).query)
    answer = saml_idp.answer(location, "cdurand")

    first = post_back(client, answer)
    assert signed_in(first), page_text(first)[:800]
    link = db.scalar(select(IdentityLink).where(IdentityLink.provider_id == provider.id))
    assert link is not None
    assert link.subject == NAME_ID
    assert (link.user.email, link.user.name) == ("camille.durand@univ-tours.test",
                                                 "Camille Durand")

    before = accounts(db)
    again = post_back(client, answer)
    assert again.status_code == 403, page_text(again)[:800]
    assert "already used" in page_text(again)
    assert accounts(db) == before


def test_the_page_asked_for_survives_the_idps_cross_site_post(
        app: Flask, client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    """In production the IdP's POST brings no Lax session cookie: the page the
    person asked for travels in RelayState, checked like any ?next=."""
    answer = client.get(f"/auth/sso/{CODE}/login?next=/bookings/new")
    location = answer.headers["Location"]
    assert parse_qs(urlsplit(location).query)["RelayState"] == ["/bookings/new"]
    idp_answer = saml_idp.answer(location, "cdurand")
    assert idp_answer.relay_state == "/bookings/new"
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # what SameSite=Lax drops
    arrived = post_back(client, idp_answer)
    assert arrived.status_code == 302, page_text(arrived)[:800]
    assert arrived.headers["Location"] == "/bookings/new"


def test_a_relay_state_leading_off_the_site_is_not_followed(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    answer = saml_idp.answer(start(client), "cdurand")
    answer.relay_state = "https://evil.example/phish"
    arrived = post_back(client, answer)
    assert signed_in(arrived), page_text(arrived)[:800]
    assert "evil" not in arrived.headers["Location"]


def test_a_response_to_a_request_this_browser_did_not_make_is_refused(
        app: Flask, client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    # The attacker starts a sign-in in their own browser and signs in at the IdP...
    attacker = app.test_client()
    answer = saml_idp.answer(start(attacker), "cdurand")
    # ...then makes the victim's browser post that Response (login CSRF).
    before = accounts(db)
    planted = post_back(client, answer)
    assert planted.status_code == 403, page_text(planted)[:800]
    assert "not for a sign-in started from this browser" in page_text(planted)
    assert accounts(db) == before
    # The victim's own sign-in still works, and so would the attacker's.
    assert signed_in(post_back(client, saml_idp.answer(start(client), "cdurand")))


def test_a_response_to_a_request_we_did_not_issue_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    # A real AuthnRequest of ours, its ID replaced by one we never issued (as an
    # attacker replaying an old exchange, or an IdP-initiated login, would
    # bring): the IdP signs a good Response to it, in a browser that did start
    # a sign-in with us.
    location = start(client)
    query = parse_qs(urlsplit(location).query)
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15).decode()
    ours = re.search(r' ID="([^"]+)"', xml)
    assert ours, xml
    xml = xml.replace(ours.group(1), "_1700000000.not-our-mac")
    packed = zlib.compressobj(wbits=-15)
    forged = base64.b64encode(packed.compress(xml.encode()) + packed.flush()).decode()
    answer = saml_idp.answer(f"{saml_idp.base}/sso/redirect?" + urlencode({"SAMLRequest": forged}),
                             "cdurand")
    assert 'InResponseTo="_1700000000.not-our-mac"' in answer.xml

    refused = post_back(client, answer)
    assert refused.status_code == 403, page_text(refused)[:800]
    assert "not for a sign-in started from this browser" in page_text(refused)
    assert db.scalar(select(IdentityLink).where(IdentityLink.provider_id == provider.id)) is None


def test_a_response_to_a_request_older_than_its_lifetime_is_refused(
        client: FlaskClient, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    answer = saml_idp.answer(start(client), "cdurand")
    # Our clock alone moves past the request's lifetime (the IdP's assertion,
    # checked by pysaml2's clock, is still fresh): the request id has expired.
    later = time.time() + saml.REQUEST_MAX_AGE + 60
    monkeypatch.setattr(saml, "time", SimpleNamespace(time=lambda: later))
    refused = post_back(client, answer)
    assert refused.status_code == 403, page_text(refused)[:800]
    assert "started too long ago" in page_text(refused)


def test_the_subject_can_be_an_attribute_instead_of_the_name_id(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    provider.settings = {**provider.settings, "subject_attribute": "eduPersonPrincipalName"}
    db.flush()
    saml_idp.set_user("cdurand", name_id=NAME_ID, eduPersonPrincipalName=["cdurand@univ-tours.fr"],
                      **ATTRIBUTES)
    assert signed_in(post_back(client, saml_idp.answer(start(client), "cdurand")))
    link = db.scalar(select(IdentityLink).where(IdentityLink.provider_id == provider.id))
    assert link is not None
    assert link.subject == "cdurand@univ-tours.fr"


def test_an_attribute_changed_after_signing_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    answer = saml_idp.answer(start(client), "cdurand")
    xml = answer.xml
    assert signatures(answer) == {"response": 0, "assertion": 1}
    # Someone who can read a Response changes whose address it vouches for.
    tampered = answer.with_xml(xml.replace("camille.durand@univ-tours.test",
                                           "mallory@univ-tours.test"))
    before = accounts(db)
    refused = post_back(client, tampered)
    assert refused.status_code == 403, page_text(refused)[:800]
    assert "signature" in page_text(refused)
    assert accounts(db) == before
    # The untouched Response was not burnt by the forgery.
    assert signed_in(post_back(client, answer))


def test_an_unsigned_response_is_refused(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    answer = saml_idp.answer(start(client), "cdurand", sign="none")
    assert signatures(answer) == {"response": 0, "assertion": 0}
    before = accounts(db)
    refused = post_back(client, answer)
    assert refused.status_code == 403, page_text(refused)[:800]
    assert "signature" in page_text(refused)
    assert accounts(db) == before


def test_a_response_signed_as_a_whole_is_accepted(
        client: FlaskClient, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    # Shibboleth's default: the Response signed, the assertion inside it not.
    answer = saml_idp.answer(start(client), "cdurand", sign="response")
    assert signatures(answer) == {"response": 1, "assertion": 0}
    assert signed_in(post_back(client, answer))


@pytest.mark.parametrize(("shift", "accepted"), [
    (-100, True),    # the IdP's clock 100 s behind ours: within SSO_CLOCK_SKEW (120 s)
    (100, True),     # 100 s ahead: within
    (-900, False),   # 15 min behind: its 5-minute assertion expired by our clock
    (600, False),    # 10 min ahead: not valid yet by our clock
])
def test_clock_skew_within_the_tolerance_only(
        client: FlaskClient, db: Session, provider: IdentityProvider,
        saml_idp: SamlIdP, shift: int, accepted: bool) -> None:  # noqa: F811
    answer = saml_idp.answer(start(client), "cdurand", shift=shift)
    result = post_back(client, answer)
    if accepted:
        assert signed_in(result), page_text(result)[:800]
    else:
        assert result.status_code == 403, page_text(result)[:800]
        assert "clocks" in page_text(result)
        assert db.scalar(select(IdentityLink).where(IdentityLink.provider_id == provider.id)) \
            is None


def test_the_sp_metadata_is_valid_saml_metadata(
        client: FlaskClient, provider: IdentityProvider) -> None:
    answer = client.get(f"/auth/sso/{CODE}/metadata")
    assert answer.status_code == 200
    assert answer.mimetype == "application/samlmetadata+xml"
    descriptor = entity_descriptor_from_string(answer.get_data(as_text=True))
    assert descriptor.entity_id == ENTITY
    (sp,) = descriptor.spsso_descriptor
    assert [(acs.binding, acs.location) for acs in sp.assertion_consumer_service] == \
        [(BINDING_HTTP_POST, ACS)]
    assert [slo.binding for slo in sp.single_logout_service] == [BINDING_HTTP_REDIRECT]
    assert [name.text for name in sp.name_id_format] == [NAMEID_FORMAT_PERSISTENT]
    uses = {key.use for key in sp.key_descriptor}
    assert uses == {"signing", "encryption"}
    certificate = sp.key_descriptor[0].key_info.x509_data[0].x509_certificate.text
    assert base64.b64decode("".join(certificate.split()))  # a DER certificate
    # No weak algorithm offered (pysaml2 would list all xmlsec1 knows, MD5 included).
    assert "md5" not in answer.get_data(as_text=True)
    assert "#sha1" not in answer.get_data(as_text=True)
    # The same metadata every time: the IdP was given it once.
    assert client.get(f"/auth/sso/{CODE}/metadata").get_data() == answer.get_data()


def test_the_metadata_of_a_provider_of_another_kind_is_not_found(
        client: FlaskClient, db: Session, make: Any) -> None:
    db.add(IdentityProvider(code="some-cas", establishment=make.establishment(), kind="cas",
                            label="CAS", settings={"server_url": "https://cas.test/cas/"}))
    db.flush()
    assert client.get("/auth/sso/some-cas/metadata").status_code == 404


def test_a_get_on_the_callback_is_refused_clearly(
        client: FlaskClient, provider: IdentityProvider) -> None:
    answer = client.get(f"/auth/sso/{CODE}/callback")
    assert answer.status_code == 400
    assert "sent no answer" in page_text(answer)


def test_settings_are_checked(app: Flask, saml_idp: SamlIdP) -> None:  # noqa: F811
    xml = saml_idp.metadata_xml()
    with app.test_request_context():
        assert saml.check_settings({"idp_metadata_xml": xml}) == {"idp_metadata_xml": xml}
        assert saml.check_settings({"idp_metadata_url": " https://idp.test/md "}) == \
            {"idp_metadata_url": "https://idp.test/md"}
        for bad, field in [
            ({}, "settings.idp_metadata_url"),
            ({"idp_metadata_url": "https://idp.test/md", "idp_metadata_xml": xml},
             "settings.idp_metadata_url"),
            ({"idp_metadata_url": "ftp://idp.test/md"}, "settings.idp_metadata_url"),
            ({"idp_metadata_url": "https://[::1/md"}, "settings.idp_metadata_url"),
            ({"idp_metadata_xml": "<html>not metadata</html>"}, "settings.idp_metadata_xml"),
            ({"idp_metadata_xml": "<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"},
             "settings.idp_metadata_xml"),
            # An SP's metadata is not an IdP's.
            ({"idp_metadata_xml": xml.replace("IDPSSODescriptor", "SPSSODescriptor")},
             "settings.idp_metadata_xml"),
            ({"idp_metadata_xml": xml, "idp_entity_id": "https://other.test/idp"},
             "settings.idp_entity_id"),
            ({"idp_metadata_xml": xml, "subject_attribute": 7}, "settings.subject_attribute"),
        ]:
            with pytest.raises(ValidationError) as refused:
                saml.check_settings(bad)
            assert refused.value.details == {"field": field}, bad


def log_out(client: FlaskClient, token: str) -> str:
    """Our logout, then the page that sends the browser on to the IdP: where to."""
    answer = client.post("/auth/logout", data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200
    link = re.search(r'<a class="btn btn-primary" href="([^"]+)"', answer.get_data(as_text=True))
    assert link, page_text(answer)[:800]
    return html.unescape(link.group(1))


def test_logout_sends_a_signed_logout_request_the_idp_accepts(
        client: FlaskClient, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    assert signed_in(post_back(client, saml_idp.answer(start(client), "cdurand")))
    token = csrf_token_of(client.get("/dashboard").get_data(as_text=True))
    before = len(saml_idp.logouts())

    location = log_out(client, token)
    assert location.startswith(f"{saml_idp.base}/slo/redirect?SAMLRequest="), location
    assert {"SigAlg", "Signature"} <= set(parse_qs(urlsplit(location).query))
    assert client.get("/dashboard").status_code == 302  # our session ended first

    # The IdP checks the signature with the certificate of our metadata, ends
    # its session and sends the browser back to our login page.
    status, back = get_unfollowed(location)
    assert status == 303
    assert back.startswith("http://127.0.0.1:5000/auth/login?SAMLResponse="), back
    (logout,) = saml_idp.logouts()[before:]
    assert logout["issuer"] == ENTITY
    assert logout["name_id"] == NAME_ID
    assert logout["signed"]
    assert logout["session_index"]
    # The IdP's answer lands on our login page, which shows itself.
    landing = client.get(urlsplit(back)._replace(scheme="", netloc="").geturl())
    assert landing.status_code == 200


def test_a_forged_logout_request_is_refused_by_the_idp(
        client: FlaskClient, provider: IdentityProvider,
        saml_idp: SamlIdP) -> None:  # noqa: F811
    """The other side of the signature above: the IdP refuses an unsigned one,
    so a signed one proves our certificate signed it."""
    assert signed_in(post_back(client, saml_idp.answer(start(client), "cdurand")))
    token = csrf_token_of(client.get("/dashboard").get_data(as_text=True))
    location = log_out(client, token)
    query = parse_qs(urlsplit(location).query)
    unsigned = f"{saml_idp.base}/slo/redirect?" + urlencode(
        {"SAMLRequest": query["SAMLRequest"][0]})
    before = len(saml_idp.logouts())
    assert get_unfollowed(unsigned)[0] == 400
    assert len(saml_idp.logouts()) == before


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol2;'
        '</samlp:Response>')


@pytest.mark.parametrize("posted", [
    "not base64 at all!",
    base64.b64encode(b"<html>a login page</html>").decode(),
    base64.b64encode(b"\xff\xfe\x00binary").decode(),
    base64.b64encode(BOMB.encode()).decode(),
    base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                     b'ID="_x" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>').decode(),
])
def test_an_unreadable_answer_is_a_clear_400(
        client: FlaskClient, db: Session, provider: IdentityProvider, posted: str) -> None:
    start(client)
    before = accounts(db)
    answer = client.post(f"/auth/sso/{CODE}/callback", data={"SAMLResponse": posted})
    assert answer.status_code in (400, 403), page_text(answer)[:800]
    assert "could not be checked" in page_text(answer) or "not for a sign-in" in page_text(answer)
    assert accounts(db) == before
