"""How an admin configures the establishments' identity providers (issue 12):
the service (secrets written but never read back, codes, role rules, local
passwords, admins only), the pages « Connexion des établissements » and an
account's links, and the API.

The protocols' own checks are their modules' (booking/auth/sso/<kind>.py):
these tests use CAS, OIDC and LDAP settings that the real check_settings take,
and one refusal of each to see it placed next to its field.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.services.accounts import providers as service
from booking.services.accounts.provisioning import link_account
from booking.services.errors import Forbidden, NotFound, ValidationError
from models import Establishment, IdentityLink, IdentityProvider, Role
from tests.api_helpers import Callers, assert_error
from tests.conftest import NOW, csrf_token_of

OIDC = {"issuer": "https://login.example.org/realms/staff", "client_id": "plateforme",
        "client_secret": "s3cret-oidc"}
LDAP = {"url": "ldap://127.0.0.1:389", "search_base": "ou=people,dc=example,dc=org",
        "search_filter": "(uid={username})", "bind_dn": "cn=reader,dc=example,dc=org",
        "bind_password": "s3cret-ldap"}
CAS = {"server_url": "https://cas.example.org/cas/"}


@pytest.fixture
def place(make) -> Establishment:
    return make.establishment(code="IUT", name="IUT de Tours")


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN, name="Alice Admin", locale="en")


@pytest.fixture
def coordinator(make, place):
    return make.user(Role.COORDINATOR, establishment=place, locale="en")


def _provider(db, place, *, actor=None, kind="cas", code="iut-cas", settings=None,
              **extra: Any) -> IdentityProvider:
    return service.create_provider(db, actor=actor, establishment=place, kind=kind, code=code,
                                   label="CAS de l'IUT", settings=settings or CAS, now=NOW,
                                   **extra)


def _refused(call) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value


# --- the service ----------------------------------------------------------------------------


def test_an_oidc_secret_is_kept_when_an_update_leaves_it_out(db, place, admin) -> None:
    provider = _provider(db, place, actor=admin, kind="oidc", code="kc", settings=OIDC)
    assert service.secrets_set(provider) == {"client_secret": True}
    assert "client_secret" not in service.public_settings(provider)
    changed = {**OIDC, "client_id": "autre"}
    del changed["client_secret"]
    service.update_provider(db, provider, actor=admin, now=NOW, settings=changed)
    assert provider.settings["client_secret"] == "s3cret-oidc"
    assert provider.settings["client_id"] == "autre"
    service.update_provider(db, provider, actor=admin, now=NOW,
                            settings={**changed, "client_secret": ""})
    assert provider.settings["client_secret"] == "s3cret-oidc"
    service.update_provider(db, provider, actor=admin, now=NOW,
                            settings={**changed, "client_secret": "nouveau"})
    assert provider.settings["client_secret"] == "nouveau"
    service.update_provider(db, provider, actor=admin, now=NOW, label="Keycloak")
    assert provider.settings["client_secret"] == "nouveau"
    service.update_provider(db, provider, actor=admin, now=NOW,
                            forget_secrets=["client_secret"])
    assert "client_secret" not in provider.settings


def test_an_ldap_password_goes_with_its_service_account(db, place, admin) -> None:
    provider = _provider(db, place, actor=admin, kind="ldap", code="annuaire", settings=LDAP)
    kept = {k: v for k, v in LDAP.items() if k != "bind_password"}
    service.update_provider(db, provider, actor=admin, now=NOW, settings=kept)
    assert provider.settings["bind_password"] == "s3cret-ldap"
    anonymous = {k: v for k, v in kept.items() if k != "bind_dn"}
    service.update_provider(db, provider, actor=admin, now=NOW, settings=anonymous)
    assert "bind_password" not in provider.settings


@pytest.mark.parametrize(("code", "field"), [
    ("A B", "code"), ("x", "code"), ("-x", "code"), ("a" * 41, "code"), ("iut-cas", "code")])
def test_codes_are_url_segments_used_once(db, place, admin, code, field) -> None:
    _provider(db, place, actor=admin)
    error = _refused(lambda: _provider(db, place, actor=admin, code=code))
    assert error.details["field"] == field


@pytest.mark.parametrize(("rules", "field"), [
    ([{"attribute": "eduPersonAffiliation", "value": "staff", "role": "admin"}],
     "role_rules.0.role"),
    ([{"attribute": "groups", "value": "", "role": "trainer"}], "role_rules.0.value"),
    ([{"attribute": "groups", "value": "a", "role": "trainer"},
      {"attribute": "", "value": "b", "role": "coordinator"}], "role_rules.1.attribute"),
    ("groups=staff", "role_rules"),
])
def test_role_rules_are_checked(db, place, admin, rules, field) -> None:
    error = _refused(lambda: _provider(db, place, actor=admin, role_rules=rules))
    assert error.details["field"] == field


def test_the_protocols_check_names_its_setting(db, place, admin) -> None:
    error = _refused(lambda: _provider(db, place, actor=admin,
                                       settings={"server_url": "ftp://cas"}))
    assert error.details["field"] == "settings.server_url"


def test_local_passwords_stay_until_a_provider_is_enabled(db, place, admin) -> None:
    error = _refused(lambda: service.set_local_passwords(db, place, False, actor=admin,
                                                         now=NOW))
    assert error.details["field"] == "local_passwords"
    provider = _provider(db, place, actor=admin, enabled=False)
    _refused(lambda: service.set_local_passwords(db, place, False, actor=admin, now=NOW))
    service.update_provider(db, provider, actor=admin, now=NOW, enabled=True)
    service.set_local_passwords(db, place, False, actor=admin, now=NOW)
    assert place.local_passwords is False


def test_only_admins_configure_providers(db, place, admin, coordinator) -> None:
    with pytest.raises(Forbidden):
        _provider(db, place, actor=coordinator)
    provider = _provider(db, place, actor=admin)
    for call in (lambda: service.update_provider(db, provider, actor=coordinator, now=NOW,
                                                 label="x"),
                 lambda: service.delete_provider(db, provider, actor=coordinator, now=NOW)):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(Forbidden):
        service.set_local_passwords(db, place, True, actor=coordinator, now=NOW)
    link = link_account(db, provider, "u1", coordinator, actor=admin, now=NOW)
    with pytest.raises(Forbidden):
        service.unlink_account(db, link, actor=coordinator, now=NOW)
    assert provider.label == "CAS de l'IUT"


# --- the pages ------------------------------------------------------------------------------


def _post(client, url: str, data: dict[str, Any], page: str | None = None):
    token = csrf_token_of(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _field_errors(html: str, name: str) -> list[str]:
    block = re.search(rf'id="{name}-error">(.*?)</(?:div|p)>', html, re.S)
    return [block.group(1)] if block else []


FORM = {"label": "Keycloak", "code": "kc", "enabled": "y", **OIDC, "scopes": "",
        "default_role": "", "email_attribute": "", "name_attribute": "",
        "rule_0_attribute": "groups", "rule_0_value": "staff", "rule_0_role": "coordinator"}


def test_the_pages_are_for_admins_only(db, login, place, coordinator) -> None:
    client = login(coordinator)
    for url in ("/admin/identity-providers", "/admin/identity-providers/new?kind=cas"):
        assert client.get(url).status_code == 403


def test_an_admin_adds_an_oidc_provider_through_the_form(db, login, admin, place) -> None:
    client = login(admin)
    assert "OpenID Connect" in client.get("/admin/identity-providers/new").get_data(
        as_text=True)
    url = "/admin/identity-providers/new?kind=oidc"
    page = client.get(url).get_data(as_text=True)
    assert 'name="issuer"' in page
    assert 'name="server_url"' not in page
    answer = _post(client, url, {**FORM, "establishment": place.id,
                                 "issuer": "http://login.example.org"})
    assert answer.status_code == 200
    assert "https" in " ".join(_field_errors(answer.get_data(as_text=True), "issuer"))
    answer = _post(client, url, {**FORM, "establishment": place.id,
                                 "rule_1_attribute": "eduPersonAffiliation"})
    assert answer.status_code == 200
    assert _field_errors(answer.get_data(as_text=True), "rule_1_value")
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0
    answer = _post(client, url, {**FORM, "establishment": place.id})
    assert answer.status_code == 302
    provider = db.scalar(select(IdentityProvider).where(IdentityProvider.code == "kc"))
    assert provider.settings["client_secret"] == "s3cret-oidc"
    assert provider.role_rules == [{"attribute": "groups", "value": "staff",
                                    "role": "coordinator"}]
    listing = client.get("/admin/identity-providers").get_data(as_text=True)
    assert "/auth/sso/kc/callback" in listing
    assert "s3cret" not in listing
    edit = client.get(f"/admin/identity-providers/{provider.id}/edit").get_data(as_text=True)
    assert "s3cret" not in edit
    assert 'id="client_secret-state"' in edit
    changed = {**FORM, "client_secret": "", "label": "Keycloak du campus"}
    answer = _post(client, f"/admin/identity-providers/{provider.id}/edit", changed)
    assert answer.status_code == 302
    db.expire_all()
    assert provider.label == "Keycloak du campus"
    assert provider.settings["client_secret"] == "s3cret-oidc"


def test_a_saml_provider_lists_the_sp_metadata_url(db, login, admin, place,
                                                   monkeypatch) -> None:
    """The SAML module may not be there yet: its check is stood in for."""
    import booking.auth.sso as sso

    class Saml:
        @staticmethod
        def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
            return dict(settings)

    real = sso.adapter
    monkeypatch.setattr(sso, "adapter", lambda kind: Saml if kind == "saml" else real(kind))
    service.create_provider(db, actor=admin, establishment=place, kind="saml",
                            code="renater", label="Fédération", now=NOW,
                            settings={"idp_metadata_url": "https://idp.example.org/md"})
    listing = login(admin).get("/admin/identity-providers").get_data(as_text=True)
    assert "/auth/sso/renater/metadata" in listing


def test_a_post_without_csrf_token_is_refused(db, login, admin, place) -> None:
    client = login(admin)
    answer = client.post("/admin/identity-providers/new?kind=cas",
                         data={"establishment": place.id, "label": "CAS", "code": "cas",
                               "server_url": CAS["server_url"]})
    assert answer.status_code == 400
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0


def test_deleting_asks_first_and_keeps_the_accounts(db, login, admin, place,
                                                    coordinator) -> None:
    provider = _provider(db, place, actor=admin)
    link_account(db, provider, "coord", coordinator, actor=admin, now=NOW)
    client = login(admin)
    url = f"/admin/identity-providers/{provider.id}/delete"
    assert "1 account signs in through it" in client.get(url).get_data(as_text=True)
    assert _post(client, url, {}).status_code == 302
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0
    assert db.scalar(select(func.count()).select_from(IdentityLink)) == 0
    assert coordinator.active


def test_the_local_passwords_switch(db, login, admin, place) -> None:
    provider = _provider(db, place, actor=admin, enabled=False)
    client = login(admin)
    url = f"/admin/establishments/{place.id}/local-passwords"
    answer = _post(client, url, {"allowed": "off"}, page="/admin/identity-providers")
    assert answer.status_code == 302
    page = client.get("/admin/identity-providers").get_data(as_text=True)
    assert "Turn passwords off only once the establishment has an enabled" in page
    db.expire_all()
    assert place.local_passwords is True
    service.update_provider(db, provider, actor=admin, now=NOW, enabled=True)
    _post(client, url, {"allowed": "off"}, page="/admin/identity-providers")
    db.expire_all()
    assert place.local_passwords is False
    assert "Allow passwords again" in client.get("/admin/identity-providers").get_data(
        as_text=True)


def test_an_account_is_linked_and_unlinked_on_its_page(db, login, admin, place,
                                                       coordinator) -> None:
    provider = _provider(db, place, actor=admin)
    client = login(admin)
    url = f"/admin/accounts/{coordinator.id}/sign-in"
    answer = _post(client, url, {"provider": provider.id, "subject": "jdupont"})
    assert answer.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "jdupont" in page
    assert "Never" in page
    again = _post(client, url, {"provider": provider.id, "subject": "jdupont"})
    assert again.status_code == 200
    assert "already linked" in " ".join(_field_errors(again.get_data(as_text=True),
                                                      "subject"))
    link = db.scalar(select(IdentityLink))
    answer = _post(client, f"/admin/identity-links/{link.id}/remove", {}, page=url)
    assert answer.status_code == 302
    assert db.scalar(select(func.count()).select_from(IdentityLink)) == 0


# --- the API --------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    return Callers(client)


def test_the_api_is_for_admins_only(db, api, place, coordinator, admin) -> None:
    provider = _provider(db, place, actor=admin)
    as_coordinator = api(coordinator)
    body = {"establishment_id": place.id, "kind": "cas", "code": "autre", "label": "CAS",
            "settings": CAS}
    for answer in (as_coordinator.get("/api/v1/identity-providers"),
                   as_coordinator.post("/api/v1/identity-providers", json=body),
                   as_coordinator.get(f"/api/v1/identity-providers/{provider.id}"),
                   as_coordinator.patch(f"/api/v1/identity-providers/{provider.id}",
                                        json={"label": "x"}),
                   as_coordinator.delete(f"/api/v1/identity-providers/{provider.id}"),
                   as_coordinator.get(f"/api/v1/users/{coordinator.id}/identity-links")):
        assert_error(answer, 403, "forbidden")
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 1


def test_the_api_writes_secrets_and_never_reads_them(db, api, place, admin) -> None:
    caller = api(admin)
    body = {"establishment_id": place.id, "kind": "oidc", "code": "kc", "label": "Keycloak",
            "settings": OIDC, "role_rules": [{"attribute": "groups", "value": "staff",
                                              "role": "trainer"}]}
    created = caller.post("/api/v1/identity-providers", json=body)
    assert created.status_code == 201, created.json
    assert created.json["client_secret_set"] is True
    assert "client_secret" not in created.json["settings"]
    assert created.json["callback_url"].endswith("/auth/sso/kc/callback")
    provider_id = created.json["id"]
    listed = caller.get("/api/v1/identity-providers")
    assert listed.json["total"] == 1
    assert "s3cret" not in listed.get_data(as_text=True)
    settings = {k: v for k, v in OIDC.items() if k != "client_secret"}
    patched = caller.patch(f"/api/v1/identity-providers/{provider_id}",
                           json={"settings": {**settings, "scopes": "openid email groups"}})
    assert patched.status_code == 200, patched.json
    assert patched.json["client_secret_set"] is True
    assert db.get(IdentityProvider, provider_id).settings["client_secret"] == "s3cret-oidc"
    forgot = caller.patch(f"/api/v1/identity-providers/{provider_id}",
                          json={"forget_secrets": ["client_secret"]})
    assert forgot.json["client_secret_set"] is False
    assert caller.delete(f"/api/v1/identity-providers/{provider_id}").status_code == 204
    assert_error(caller.get(f"/api/v1/identity-providers/{provider_id}"), 404, "not_found")


@pytest.mark.parametrize(("change", "field"), [
    ({"settings": {"server_url": "gopher://x"}}, "settings.server_url"),
    ({"settings": {}}, "settings.server_url"),
    ({"code": "Pas Bon"}, "code"),
])
def test_the_api_names_the_refused_field(db, api, place, admin, change, field) -> None:
    body = {"establishment_id": place.id, "kind": "cas", "code": "cas-iut", "label": "CAS",
            "settings": CAS, **change}
    answer = api(admin).post("/api/v1/identity-providers", json=body)
    assert_error(answer, 422, "validation")
    assert answer.json["details"]["field"] == field
    assert db.scalar(select(func.count()).select_from(IdentityProvider)) == 0


@pytest.mark.parametrize("rule", [{"attribute": "a", "value": "b", "role": "admin"},
                                  {"attribute": "  ", "value": "b", "role": "trainer"},
                                  {"attribute": "a\x07", "value": "b", "role": "trainer"}])
def test_the_api_refuses_a_rule_before_the_service(db, api, place, admin, rule) -> None:
    body = {"establishment_id": place.id, "kind": "cas", "code": "cas-iut", "label": "CAS",
            "settings": CAS, "role_rules": [rule]}
    answer = api(admin).post("/api/v1/identity-providers", json=body)
    assert_error(answer, 422, "validation")
    assert "role_rules" in answer.json["details"]["errors"]["json"]


def test_the_api_links_accounts(db, api, place, admin, coordinator) -> None:
    provider = _provider(db, place, actor=admin)
    caller = api(admin)
    url = f"/api/v1/users/{coordinator.id}/identity-links"
    created = caller.post(url, json={"provider_id": provider.id, "subject": "jdupont"})
    assert created.status_code == 201, created.json
    again = caller.post(url, json={"provider_id": provider.id, "subject": "jdupont"})
    assert_error(again, 422, "validation")
    assert again.json["details"]["field"] == "subject"
    assert [link["subject"] for link in caller.get(url).json["items"]] == ["jdupont"]
    assert_error(caller.post("/api/v1/users/999999/identity-links",
                             json={"provider_id": provider.id, "subject": "x"}),
                 404, "not_found")
    assert_error(caller.post(url, json={"provider_id": 999999, "subject": "x"}),
                 404, "not_found")
    link_id = created.json["id"]
    assert caller.delete(f"/api/v1/identity-links/{link_id}").status_code == 204
    assert_error(caller.delete(f"/api/v1/identity-links/{link_id}"), 404, "not_found")


def test_the_api_sets_local_passwords(db, api, place, admin, coordinator) -> None:
    url = f"/api/v1/establishments/{place.id}"
    caller = api(admin)
    assert caller.get(url).json["local_passwords"] is True
    refused = caller.patch(url, json={"local_passwords": False})
    assert_error(refused, 422, "validation")
    assert refused.json["details"]["field"] == "local_passwords"
    assert_error(api(coordinator).patch(url, json={"local_passwords": True}), 403, "forbidden")
    _provider(db, place, actor=admin)
    answer = caller.patch(url, json={"local_passwords": False})
    assert answer.status_code == 200
    assert answer.json["local_passwords"] is False


@pytest.mark.parametrize("settings", [
    {"server_url": "https://cas.example.org/\x00"}, {"server_url": 42},
    {"server_url": ["a", {"b": 1}]}, {f"k{i}": "v" for i in range(31)},
    {"server_url": "https://cas.example.org/cas/\r\nX: 1"}, "server_url=x"])
def test_the_api_bounds_every_setting(db, api, place, admin, settings) -> None:
    body = {"establishment_id": place.id, "kind": "cas", "code": "cas-iut", "label": "CAS",
            "settings": settings}
    answer = api(admin).post("/api/v1/identity-providers", json=body)
    assert_error(answer, 422, "validation")
    assert "settings" in answer.json["details"]["errors"]["json"]


def test_unknown_ids_are_404(db, api, admin) -> None:
    caller = api(admin)
    for answer in (caller.get("/api/v1/identity-providers/999999"),
                   caller.patch("/api/v1/identity-providers/999999", json={"label": "x"}),
                   caller.delete("/api/v1/identity-providers/999999"),
                   caller.get("/api/v1/users/999999/identity-links")):
        assert_error(answer, 404, "not_found")
