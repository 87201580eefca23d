"""Accounts made by an identity provider's word (issue 12, part 2), and what
the sign-in pages around the protocols do: the buttons, « Choisir mon
établissement », passwords turned off per establishment, the refusal page.

The protocols themselves are tested end to end against real servers
(tests/test_sso_*.py, tests/browser/test_sso_*_signin.py); here the
provider's answer is given to the service directly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.services.accounts.providers import (
    BUTTONS_ON_LOGIN,
    set_local_passwords,
)
from booking.services.accounts.provisioning import SignInRefused, link_account, sign_in
from booking.services.errors import ValidationError
from models import ApiToken, AuditEntry, IdentityLink, IdentityProvider, LoginSession, Role, User
from tests.conftest import NOW, PASSWORD, csrf_token_of

STAFF = [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"},
         {"attribute": "groups", "value": "plateforme-coord", "role": "coordinator"}]


def provider(db, est, *, code="univ-cas", rules=STAFF, default_role=None, enabled=True,
             label="Université de Tours"):
    # Built directly: the settings belong to the protocol modules, not to these tests.
    row = IdentityProvider(code=code, establishment_id=est.id, kind="cas", label=label,
                           settings={"server_url": "http://127.0.0.1:9/cas/"},
                           role_rules=rules, default_role=default_role, enabled=enabled,
                           created_at=NOW)
    db.add(row)
    db.flush()
    return row


def attrs(**values):
    return {key: value if isinstance(value, list) else [value] for key, value in values.items()}


ALICE = attrs(mail="Alice.Martin@univ-tours.fr", displayName="Alice Martin",
              eduPersonAffiliation=["member", "staff"])


def test_first_sign_in_creates_the_account_in_the_providers_establishment(app, db, make):
    est = make.establishment()
    idp = provider(db, est)
    with app.app_context():
        user = sign_in(db, idp, "a1b2", ALICE, now=NOW)
    assert (user.email, user.name, user.role) == ("alice.martin@univ-tours.fr", "Alice Martin",
                                                  Role.TRAINER)
    assert user.establishment_id == est.id
    assert user.company_id is None
    link = db.scalars(select(IdentityLink).where(IdentityLink.user_id == user.id)).one()
    assert (link.provider_id, link.subject, link.last_sign_in_at) == (idp.id, "a1b2", NOW)
    assert not user.password_hash.startswith("$argon2")  # no password anyone could type
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "user.create",
                                                AuditEntry.object_id == user.id)).one()
    assert entry.details["provider"] == "univ-cas"


def test_the_highest_role_a_rule_gives_wins(app, db, make):
    idp = provider(db, make.establishment())
    with app.app_context():
        user = sign_in(db, idp, "c1", {**ALICE, "groups": ["plateforme-coord"]}, now=NOW)
    assert user.role is Role.COORDINATOR


def test_the_default_role_applies_when_no_rule_matches(app, db, make):
    idp = provider(db, make.establishment(), default_role="trainer", rules=[])
    with app.app_context():
        user = sign_in(db, idp, "d1", attrs(mail="d@univ.fr", name="D"), now=NOW)
    assert user.role is Role.TRAINER


def test_no_role_refuses_and_writes_nothing(app, db, make):
    idp = provider(db, make.establishment())
    before = db.scalar(select(func.count(User.id)))
    with app.app_context(), pytest.raises(SignInRefused) as refused:
        sign_in(db, idp, "s1", attrs(mail="etudiant@univ.fr", eduPersonAffiliation="student"),
                now=NOW)
    assert "Université de Tours" in str(refused.value)
    assert refused.value.code == "no_role"
    assert db.scalar(select(func.count(User.id))) == before
    assert db.scalar(select(func.count(IdentityLink.id))) == 0


def test_later_sign_ins_update_name_and_email_and_find_the_account_by_subject(app, db, make):
    idp = provider(db, make.establishment())
    later = NOW + timedelta(days=3)
    with app.app_context():
        first = sign_in(db, idp, "a1b2", ALICE, now=NOW)
        again = sign_in(db, idp, "a1b2", {**ALICE, "mail": ["alice.dupont@univ-tours.fr"],
                                          "displayName": ["Alice Dupont"]}, now=later)
    assert again.id == first.id
    assert (again.email, again.name) == ("alice.dupont@univ-tours.fr", "Alice Dupont")
    link = db.scalars(select(IdentityLink).where(IdentityLink.user_id == first.id)).one()
    assert link.last_sign_in_at == later


def test_an_email_already_used_is_never_taken_over(app, db, make):
    """Linked by the subject only: a provider that lets anyone claim an address
    must not open the account that uses it here."""
    est = make.establishment()
    existing = make.user(Role.COORDINATOR, establishment=est, email="alice.martin@univ-tours.fr")
    idp = provider(db, est)
    with app.app_context(), pytest.raises(SignInRefused) as refused:
        sign_in(db, idp, "intruder", ALICE, now=NOW)
    assert refused.value.code == "email_taken"
    assert db.scalar(select(func.count(IdentityLink.id))) == 0
    # Once an admin links the subject, the same answer signs that account in.
    admin = make.user(Role.ADMIN)
    with app.app_context():
        link_account(db, idp, "a1b2", existing, actor=admin, now=NOW)
        assert sign_in(db, idp, "a1b2", ALICE, now=NOW).id == existing.id


def test_an_update_to_an_address_another_account_uses_keeps_the_old_one(app, db, make):
    est = make.establishment()
    make.user(Role.TRAINER, establishment=est, email="pris@univ-tours.fr")
    idp = provider(db, est)
    with app.app_context():
        user = sign_in(db, idp, "a1b2", ALICE, now=NOW)
        sign_in(db, idp, "a1b2", {**ALICE, "mail": ["pris@univ-tours.fr"]}, now=NOW)
    assert user.email == "alice.martin@univ-tours.fr"


def test_a_deactivated_account_stays_out_whatever_the_provider_says(app, db, make):
    idp = provider(db, make.establishment())
    with app.app_context():
        user = sign_in(db, idp, "a1b2", ALICE, now=NOW)
        user.active = False
        with pytest.raises(SignInRefused) as refused:
            sign_in(db, idp, "a1b2", ALICE, now=NOW)
    assert "deactivated" in str(refused.value)


def test_a_later_sign_in_without_a_role_is_refused(app, db, make):
    """Someone who left the staff keeps their account (bookings refer to it)
    but no longer signs in through the provider."""
    idp = provider(db, make.establishment())
    with app.app_context():
        sign_in(db, idp, "a1b2", ALICE, now=NOW)
        with pytest.raises(SignInRefused):
            sign_in(db, idp, "a1b2", {**ALICE, "eduPersonAffiliation": ["alum"]}, now=NOW)


@pytest.mark.parametrize("subject", ["", "   ", "a\x00b", "x" * 256])
def test_a_missing_or_unusable_subject_is_refused(app, db, make, subject):
    idp = provider(db, make.establishment())
    with app.app_context(), pytest.raises(SignInRefused):
        sign_in(db, idp, subject, ALICE, now=NOW)


def test_no_email_or_a_bad_one_is_refused(app, db, make):
    idp = provider(db, make.establishment())
    with app.app_context():
        with pytest.raises(SignInRefused):
            sign_in(db, idp, "n1", attrs(eduPersonAffiliation="staff"), now=NOW)
        with pytest.raises(SignInRefused):
            sign_in(db, idp, "n2", attrs(mail="pas une adresse", eduPersonAffiliation="staff"),
                    now=NOW)


def test_configured_attribute_names_are_read(app, db, make):
    idp = provider(db, make.establishment(), default_role="trainer")
    idp.settings = {**idp.settings, "email_attribute": "courriel", "name_attribute": "nom"}
    with app.app_context():
        user = sign_in(db, idp, "x1", attrs(courriel="x@univ.fr", nom="Xavier Roy",
                                            mail="autre@univ.fr"), now=NOW)
    assert (user.email, user.name) == ("x@univ.fr", "Xavier Roy")


def test_a_disabled_provider_signs_no_one_in(app, db, make):
    idp = provider(db, make.establishment(), enabled=False)
    with app.app_context(), pytest.raises(SignInRefused):
        sign_in(db, idp, "a1b2", ALICE, now=NOW)


# -- local passwords per establishment ---------------------------------------------------

def test_passwords_off_refuse_trainers_and_coordinators_not_admins_nor_companies(
        app, db, make, client):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est)
    admin = make.user(Role.ADMIN, establishment=est)
    company = make.user(Role.COMPANY)
    provider(db, est)
    with app.app_context():
        set_local_passwords(db, est, False, actor=admin, now=NOW)
    db.flush()

    def log_in(user):
        page = client.get("/auth/login")
        return client.post("/auth/login", data={
            "email": user.email, "password": PASSWORD,
            "csrf_token": csrf_token_of(page.get_data(as_text=True))})

    refused = log_in(trainer)
    assert refused.status_code == 200
    assert "Université de Tours" in refused.get_data(as_text=True)  # the way in is offered
    assert db.scalar(select(func.count(LoginSession.id)).where(
        LoginSession.user_id == trainer.id)) == 0
    answer = client.post("/api/v1/auth/tokens", json={"email": trainer.email,
                                                      "password": PASSWORD})
    assert answer.status_code == 401
    assert db.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == trainer.id)) == 0
    assert log_in(admin).status_code == 302
    assert client.post("/api/v1/auth/tokens", json={"email": company.email,
                                                    "password": PASSWORD}).status_code == 201


def test_passwords_cannot_be_turned_off_without_an_enabled_provider(app, db, make):
    est = make.establishment()
    admin = make.user(Role.ADMIN)
    provider(db, est, enabled=False)
    with app.app_context(), pytest.raises(ValidationError) as refused:
        set_local_passwords(db, est, False, actor=admin, now=NOW)
    assert refused.value.details == {"field": "local_passwords"}
    db.refresh(est)
    assert est.local_passwords is True


# -- the pages around the protocols ---------------------------------------------------------

def test_login_page_offers_each_provider_and_keeps_next(app, db, make, client):
    est = make.establishment()
    provider(db, est, code="univ-cas", label="ENT de l’université")
    html = client.get("/auth/login?next=/bookings").get_data(as_text=True)
    assert "ENT de l’université" in html
    assert "/auth/sso/univ-cas/login?next=/bookings" in html.replace("%2F", "/")


def test_many_providers_ask_for_the_establishment_first(app, db, make, client):
    places = [make.establishment() for _ in range(BUTTONS_ON_LOGIN + 1)]
    for index, place in enumerate(places):
        provider(db, place, code=f"idp-{index}", label=f"Service {index}")
    login = client.get("/auth/login").get_data(as_text=True)
    assert "/auth/establishments" in login
    assert "Service 0" not in login
    chooser = client.get("/auth/establishments").get_data(as_text=True)
    assert all(place.name in chooser for place in places)
    one = client.get(f"/auth/establishments/{places[2].id}").get_data(as_text=True)
    assert "Service 2" in one
    assert "Service 3" not in one


def test_an_establishment_without_provider_has_no_provider_page(app, db, make, client):
    est = make.establishment()
    assert client.get(f"/auth/establishments/{est.id}").status_code == 404
    assert client.get("/auth/sso/nope/login").status_code == 404
    assert client.get("/auth/sso/" + "x" * 300 + "/login").status_code == 404


def test_a_disabled_provider_has_no_sign_in_page(app, db, make, client):
    provider(db, make.establishment(), enabled=False)
    assert client.get("/auth/sso/univ-cas/login").status_code == 404
    assert "Université de Tours" not in client.get("/auth/login").get_data(as_text=True)
