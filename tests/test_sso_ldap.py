"""Sign-in by an LDAP bind, through the real pages, against Debian's slapd.

The directory (tests/sso_servers/ldap.py) is the real one; the pages are
driven by Flask's test client. What a replayed or tampered answer and clock
skew test for the other protocols has no LDAP counterpart: the bind is made by
the server over its own connection and proves the password there and then;
nothing comes back through the browser, and no time is compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from booking.auth.sso import ldap as ldap_adapter
from booking.auth.sso.identity import ProviderDown
from booking.auth.sso.ldap import ldap3  # imported there, its warnings silenced
from booking.services.accounts.providers import create_provider
from booking.services.errors import ValidationError
from models import IdentityLink, IdentityProvider, LoginSession, Role, User
from tests.conftest import NOW, csrf_token_of
from tests.sso_servers.ldap import COORDINATORS, PERSONS, Directory, slapd_directory  # noqa: F401

WRONG = "Identifiant ou mot de passe incorrect"
RULES = [{"attribute": "employeeType", "value": "staff", "role": "trainer"},
         {"attribute": "memberOf", "value": COORDINATORS, "role": "coordinator"}]


@pytest.fixture
def directory(slapd_directory: Directory) -> Directory:  # noqa: F811
    return slapd_directory


@pytest.fixture
def add_provider(db: Any, make: Any) -> Any:
    def add(settings: dict[str, Any], code: str = "annuaire") -> IdentityProvider:
        return create_provider(db, actor=None, establishment=make.establishment(
            name="Université du Campus"), kind="ldap", code=code, label="Annuaire du campus",
            settings=settings, role_rules=RULES, now=NOW)
    return add


@pytest.fixture
def template_provider(add_provider: Any, directory: Directory) -> IdentityProvider:
    return add_provider(directory.template_settings())


@pytest.fixture
def search_provider(add_provider: Any, directory: Directory) -> IdentityProvider:
    return add_provider(directory.search_settings())


@pytest.fixture
def binds(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The DN of every bind the application attempts (service account included)."""
    seen: list[str | None] = []
    real = ldap3.Connection.bind

    def spy(self: ldap3.Connection, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.user)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ldap3.Connection, "bind", spy)
    return seen


def sign_in(client: Any, provider: IdentityProvider, username: str, password: str) -> Any:
    url = f"/auth/sso/{provider.code}/login"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={"username": username, "password": password,
                                  "csrf_token": token})


def signed_in(client: Any) -> bool:
    return client.get("/dashboard").status_code == 200


def sessions(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(LoginSession))


def test_the_form_in_french(client: Any, template_provider: IdentityProvider) -> None:
    page = client.get(f"/auth/sso/{template_provider.code}/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("Annuaire du campus", "Identifiant", "Mot de passe", "Se connecter",
                 'name="csrf_token"', "Université du Campus"):
        assert text in html


@pytest.mark.parametrize("mode", ["template", "search"])
def test_first_sign_in_creates_the_account(client: Any, db: Any, directory: Directory,
                                           request: pytest.FixtureRequest, mode: str) -> None:
    provider = request.getfixturevalue(f"{mode}_provider")
    amelie = PERSONS["amartin"]
    response = sign_in(client, provider, "amartin", amelie.password)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert signed_in(client)
    user = db.scalar(select(User).where(User.email == amelie.mail))
    assert (user.name, user.role, user.establishment_id) == (
        "Amélie Martin", Role.TRAINER, provider.establishment_id)
    link = db.scalar(select(IdentityLink).where(IdentityLink.user_id == user.id))
    assert link.subject == directory.entry_uuid("amartin")
    session = db.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
    assert session.provider_id == provider.id


def test_a_group_gives_the_coordinator_role(client: Any, db: Any,
                                             search_provider: IdentityProvider) -> None:
    bruno = PERSONS["bpetit"]
    assert sign_in(client, search_provider, "bpetit", bruno.password).status_code == 302
    assert db.scalar(select(User.role).where(User.email == bruno.mail)) is Role.COORDINATOR


def test_second_sign_in_updates_name_and_email(client: Any, db: Any, directory: Directory,
                                               template_provider: IdentityProvider) -> None:
    ines = PERSONS["iduval"]
    assert sign_in(client, template_provider, "iduval", ines.password).status_code == 302
    client.post("/auth/logout", data={"csrf_token": csrf_token_of(
        client.get("/dashboard").get_data(as_text=True))})
    directory.replace("iduval", mail="ines.duval-roy@univ.campus.test",
                      displayName="Inès Duval-Roy")
    try:
        assert sign_in(client, template_provider, "iduval", ines.password).status_code == 302
    finally:
        directory.replace("iduval", mail=ines.mail, displayName=ines.display_name)
    users = db.scalars(select(User).where(User.name.like("Inès%"))).all()
    assert [(u.name, u.email) for u in users] == [
        ("Inès Duval-Roy", "ines.duval-roy@univ.campus.test")]


@pytest.mark.parametrize("mode", ["template", "search"])
def test_wrong_password_and_unknown_user_get_the_same_answer(
        client: Any, db: Any, request: pytest.FixtureRequest, mode: str) -> None:
    provider = request.getfixturevalue(f"{mode}_provider")
    wrong = sign_in(client, provider, "amartin", "not-the-password")
    unknown = sign_in(client, provider, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert WRONG in wrong.get_data(as_text=True)
    assert WRONG in unknown.get_data(as_text=True)
    assert not signed_in(client)
    assert sessions(db) == 0


@pytest.mark.parametrize("mode", ["template", "search"])
def test_an_empty_password_never_binds(client: Any, db: Any, binds: list[str | None],
                                       request: pytest.FixtureRequest, mode: str,
                                       directory: Directory, app: Any) -> None:
    """slapd takes a DN with an empty password as an anonymous bind, and says
    yes: the application must refuse before asking it."""
    provider = request.getfixturevalue(f"{mode}_provider")
    response = sign_in(client, provider, "amartin", "")
    assert response.status_code in (200, 401)
    assert not signed_in(client)
    with app.test_request_context(), pytest.raises(ldap_adapter.WrongCredentials):
        ldap_adapter.authenticate(provider.settings, "amartin", "", timeout=5)
    assert binds == []
    assert sessions(db) == 0


@pytest.mark.parametrize("username", [
    "*", "amart*", ")(uid=*", "amartin)(uid=*", "*)(|(uid=*", "amartin)(|(uid=*)",
    ",ou=x", "amartin,ou=people", "amartin+cn=Amélie Martin", "\\2a", "amartin\x00"])
@pytest.mark.parametrize("mode", ["template", "search"])
def test_an_injected_username_signs_no_one_in(client: Any, db: Any, mode: str, username: str,
                                              request: pytest.FixtureRequest) -> None:
    """With Amélie's own password: a filter or DN built from the raw name would
    find her (``amart*``) or someone."""
    provider = request.getfixturevalue(f"{mode}_provider")
    response = sign_in(client, provider, username, PERSONS["amartin"].password)
    assert response.status_code in (200, 401), response.status_code
    assert not signed_in(client)
    assert sessions(db) == 0


def test_the_username_is_escaped(app: Any, directory: Directory, binds: list[str | None]) -> None:
    with app.test_request_context(), pytest.raises(ldap_adapter.WrongCredentials):
        ldap_adapter.authenticate(directory.template_settings(), "a,ou=x+cn=y", "pw", timeout=5)
    assert binds == [f"uid=a\\,ou\\=x\\+cn\\=y,{directory.people_base}"]


def test_no_role_from_the_mapping_is_refused(client: Any, db: Any,
                                             template_provider: IdentityProvider) -> None:
    response = sign_in(client, template_provider, "cleroy", PERSONS["cleroy"].password)
    assert response.status_code == 403
    assert "Annuaire du campus" in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.email == PERSONS["cleroy"].mail)) is None


def test_the_subject_attribute_can_be_chosen(client: Any, db: Any, add_provider: Any,
                                             directory: Directory) -> None:
    provider = add_provider(directory.search_settings(subject_attribute="uid"))
    assert sign_in(client, provider, "amartin", PERSONS["amartin"].password).status_code == 302
    assert db.scalar(select(IdentityLink.subject)) == "amartin"


def test_a_stopped_directory_is_a_clear_502(client: Any, db: Any, directory: Directory,
                                            template_provider: IdentityProvider) -> None:
    with directory.stopped():
        response = sign_in(client, template_provider, "amartin", PERSONS["amartin"].password)
    assert response.status_code == 502
    assert "n’a pas répondu" in response.get_data(as_text=True)
    assert sessions(db) == 0


def test_a_directory_that_never_answers_is_down(app: Any, directory: Directory) -> None:
    """A port that accepts connections and never answers: the timeout ends it."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = {**directory.template_settings(),
                    "url": f"ldap://127.0.0.1:{silent.getsockname()[1]}"}
        with app.test_request_context(), pytest.raises(ProviderDown):
            ldap_adapter.authenticate(settings, "amartin", "x", timeout=0.5)


@pytest.mark.parametrize("mode", ["start_tls", "ldaps"])
def test_tls_with_the_directory_s_own_authority(client: Any, db: Any, add_provider: Any,
                                                directory: Directory, mode: str) -> None:
    tls = ({"start_tls": True} if mode == "start_tls" else {"url": directory.ldaps_url})
    provider = add_provider(directory.search_settings(ca_certificates=directory.ca_pem, **tls))
    assert sign_in(client, provider, "amartin", PERSONS["amartin"].password).status_code == 302
    assert signed_in(client)


@pytest.mark.parametrize("tls", [
    {"start_tls": True},  # the system's authorities do not know the test CA
    {"ldaps": "127.0.0.1"},
    {"ldaps": "localhost", "ca": True},  # the right CA, but not the certificate's name
], ids=["start_tls-unknown-ca", "ldaps-unknown-ca", "ldaps-wrong-name"])
def test_a_certificate_that_does_not_check_out_is_refused(
        client: Any, db: Any, add_provider: Any, directory: Directory,
        tls: dict[str, Any]) -> None:
    settings = directory.template_settings()
    if "ldaps" in tls:
        settings["url"] = f"ldaps://{tls['ldaps']}:{directory.tls_port}"
    else:
        settings["start_tls"] = True
    if tls.get("ca"):
        settings["ca_certificates"] = directory.ca_pem
    provider = add_provider(settings)
    response = sign_in(client, provider, "amartin", PERSONS["amartin"].password)
    assert response.status_code == 502
    assert "Le certificat d’Annuaire du campus n’a pas pu être vérifié" in \
        response.get_data(as_text=True)
    assert sessions(db) == 0


def test_a_refused_service_account_is_said(client: Any, add_provider: Any,
                                           directory: Directory) -> None:
    provider = add_provider(directory.search_settings(bind_password="wrong"))
    response = sign_in(client, provider, "amartin", PERSONS["amartin"].password)
    assert response.status_code == 502
    assert "compte de service" in response.get_data(as_text=True)


def test_guesses_are_throttled_before_any_bind(client: Any, app: Any, binds: list[str | None],
                                               monkeypatch: pytest.MonkeyPatch,
                                               template_provider: IdentityProvider) -> None:
    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "3 per hour")
    answers = [sign_in(client, template_provider, "hroux", "guess").status_code
               for _ in range(4)]
    assert answers == [401, 401, 401, 429]
    assert len(binds) == 3


def test_a_post_without_the_csrf_token_binds_nothing(client: Any, binds: list[str | None],
                                                      template_provider: IdentityProvider) -> None:
    response = client.post(f"/auth/sso/{template_provider.code}/login",
                           data={"username": "amartin", "password": PERSONS["amartin"].password})
    assert response.status_code == 400
    assert binds == []
    assert not signed_in(client)


def test_the_callback_has_nothing_to_receive(client: Any,
                                             template_provider: IdentityProvider) -> None:
    assert client.get(f"/auth/sso/{template_provider.code}/callback").status_code == 400


def test_logout_leaves_nothing_at_the_directory(template_provider: IdentityProvider) -> None:
    assert ldap_adapter.logout(template_provider, return_to="http://x/") is None


@pytest.fixture
def base() -> dict[str, Any]:
    return {"url": "ldap://ldap.example.org", "user_dn_template": "uid={username},dc=example"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"url": "http://ldap.example.org"}, "settings.url"),
    ({"url": "ldap://"}, "settings.url"),
    ({"url": "ldap://host/dc=x"}, "settings.url"),
    ({"url": None}, "settings.url"),
    ({"user_dn_template": "uid=alice,dc=example"}, "settings.user_dn_template"),
    ({"user_dn_template": "not a dn {username}"}, "settings.user_dn_template"),
    ({"search_base": "dc=example", "search_filter": "(uid={username})"},
     "settings.user_dn_template"),
    ({"user_dn_template": None}, "settings.user_dn_template"),
    ({"user_dn_template": None, "search_base": "dc=example", "search_filter": "(uid=x)"},
     "settings.search_filter"),
    ({"user_dn_template": None, "search_base": "dc=example", "search_filter": "uid={username}"},
     "settings.search_filter"),
    ({"user_dn_template": None, "search_base": "dc=example",
      "search_filter": "(uid={username}", "bind_dn": "cn=r,dc=example"}, "settings.search_filter"),
    ({"user_dn_template": None, "search_base": "dc=example", "search_filter": "(uid={username})",
      "bind_dn": "cn=r,dc=example"}, "settings.bind_password"),
    ({"user_dn_template": None, "search_filter": "(uid={username})"}, "settings.search_base"),
    ({"bind_dn": "cn=r,dc=example", "bind_password": "pw"}, "settings.bind_dn"),
    ({"start_tls": "yes"}, "settings.start_tls"),
    ({"url": "ldaps://ldap.example.org", "start_tls": True}, "settings.start_tls"),
    ({"subject_attribute": "entry UUID"}, "settings.subject_attribute"),
    ({"ca_certificates": "-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----"},
     "settings.ca_certificates"),
    ({"ca_certificates": 42}, "settings.ca_certificates"),
])
def test_settings_refused(base: dict[str, Any], changes: dict[str, Any], field: str) -> None:
    settings = {k: v for k, v in {**base, **changes}.items() if v is not None}
    with pytest.raises(ValidationError) as refused:
        ldap_adapter.check_settings(settings)
    assert refused.value.details == {"field": field}


def test_settings_accepted(base: dict[str, Any]) -> None:
    assert ldap_adapter.check_settings({**base, "url": " ldaps://ldap.example.org:636 "}) == {
        **base, "url": "ldaps://ldap.example.org:636", "start_tls": False}
    search = {"url": "ldap://h", "start_tls": True, "search_base": "ou=people,dc=example",
              "search_filter": "(&(objectClass=person)(uid={username}))",
              "bind_dn": "cn=reader,dc=example", "bind_password": " p w ",
              "subject_attribute": "objectGUID", "email_attribute": "mail"}
    assert ldap_adapter.check_settings(search) == search


def test_settings_accept_a_pem_authority(base: dict[str, Any], directory: Directory) -> None:
    settings = {**base, "ca_certificates": directory.ca_pem}
    assert ldap_adapter.check_settings(settings)["ca_certificates"] == directory.ca_pem
