"""The administration pages, through the Flask test client: admins only;
establishments, equipment (lines, certifications, rules, opening hours),
certification types and accounts written by the same services as the API;
deactivating or resetting a password ends the user's open sessions."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.auth.passwords import verify_password
from models import (
    AuditEntry,
    CertificationType,
    Company,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Establishment,
    EstablishmentKind,
    LoginSession,
    Role,
    User,
)
from tests.conftest import PASSWORD, csrf_token_of

PAGES = ["/admin", "/admin/establishments", "/admin/establishments/new",
         "/admin/equipment", "/admin/equipment/new", "/admin/certification-types",
         "/admin/certification-types/new", "/admin/accounts", "/admin/accounts/new"]


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN, name="Alice Admin", locale="en")


@pytest.fixture
def as_admin(admin, login):
    return login(admin)


def _post(client, url: str, data: dict[str, Any]):
    """POST a form with the CSRF token of its page."""
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _other_client(app, user: User):
    """A second browser, logged in as ``user``."""
    other = app.test_client()
    token = csrf_token_of(other.get("/auth/login").get_data(as_text=True))
    answer = other.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                             "csrf_token": token})
    assert answer.status_code == 302
    assert other.get("/dashboard").status_code == 200
    return other


def _count(db, model, *where) -> int:
    return db.scalar(select(func.count()).select_from(model).where(*where))


# --- who may see the pages ------------------------------------------------------------


def test_admin_sees_every_page(as_admin, make) -> None:
    establishment = make.establishment()
    equipment = make.equipment(establishment=establishment)
    user = make.user(Role.TRAINER)
    pages = [*PAGES, f"/admin/establishments/{establishment.id}/edit",
             f"/admin/equipment/new?establishment={establishment.id}",
             f"/admin/equipment/{equipment.id}/edit", f"/admin/accounts/{user.id}/deactivate",
             f"/admin/accounts/{user.id}/password", f"/admin/accounts/{user.id}/reactivate"]
    for url in pages:
        assert as_admin.get(url).status_code == 200, url


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.COMPANY])
def test_others_are_refused(client, make, login, role) -> None:
    login(make.user(role))
    target = make.user(Role.TRAINER)
    for url in [*PAGES, f"/admin/accounts/{target.id}/deactivate"]:
        assert client.get(url).status_code == 403, url


def test_anonymous_goes_to_login(client) -> None:
    for url in PAGES:
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert "/auth/login" in answer.headers["Location"]


def test_unknown_rows_are_404(as_admin) -> None:
    for url in ["/admin/establishments/999999/edit", "/admin/equipment/999999/edit",
                "/admin/accounts/999999/deactivate", "/admin/accounts/999999/password"]:
        assert as_admin.get(url).status_code == 404, url


def test_menu_shows_administration_to_admins_only(app, as_admin, make) -> None:
    assert 'href="/admin"' in as_admin.get("/dashboard").get_data(as_text=True)
    coordinator = _other_client(app, make.user(Role.COORDINATOR))
    assert 'href="/admin"' not in coordinator.get("/dashboard").get_data(as_text=True)


def test_post_without_csrf_token_is_refused(as_admin, db) -> None:
    answer = as_admin.post("/admin/establishments/new", data={
        "code": "NO-CSRF", "name": "Sans jeton", "city": "Blois", "department": "41",
        "kind": "lycee", "timezone": "Europe/Paris"})
    assert answer.status_code == 400
    assert _count(db, Establishment, Establishment.code == "NO-CSRF") == 0


# --- establishments ----------------------------------------------------------------------


ESTABLISHMENT = {"code": "BLO-LYC", "name": "Lycée Augustin Thierry", "city": "Blois",
                 "department": "41", "kind": "lycee", "timezone": "Europe/Paris"}


def test_create_establishment(as_admin, admin, db, now) -> None:
    answer = _post(as_admin, "/admin/establishments/new", ESTABLISHMENT)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/admin/establishments")
    row = db.scalar(select(Establishment).where(Establishment.code == "BLO-LYC"))
    assert (row.name, row.city, row.department, row.kind, row.timezone) == (
        "Lycée Augustin Thierry", "Blois", "41", EstablishmentKind.LYCEE, "Europe/Paris")
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "establishment.create"))
    assert entry.actor_id == admin.id
    assert entry.object_id == row.id
    assert "Lycée Augustin Thierry" in as_admin.get("/admin/establishments").get_data(
        as_text=True)


def test_establishment_refusals_write_nothing(as_admin, make, db) -> None:
    make.establishment(code="TAKEN")
    answer = _post(as_admin, "/admin/establishments/new", {**ESTABLISHMENT, "code": "TAKEN"})
    assert answer.status_code == 200
    assert 'id="code-error"' in answer.get_data(as_text=True)
    answer = _post(as_admin, "/admin/establishments/new",
                   {**ESTABLISHMENT, "timezone": "Mars/Olympus"})
    assert answer.status_code == 200
    assert 'id="timezone-error"' in answer.get_data(as_text=True)
    assert _count(db, Establishment, Establishment.code == "BLO-LYC") == 0


def test_edit_establishment(as_admin, make, db) -> None:
    establishment = make.establishment(code="DRX", city="Dreux", department="28")
    url = f"/admin/establishments/{establishment.id}/edit"
    page = as_admin.get(url).get_data(as_text=True)
    assert 'value="DRX"' in page
    answer = _post(as_admin, url, {"code": "DRX-LYC", "name": "Lycée Rotrou", "city": "Dreux",
                                   "department": "28", "kind": "lycee",
                                   "timezone": "Europe/Paris"})
    assert answer.status_code == 302
    db.expire_all()
    assert (establishment.code, establishment.name) == ("DRX-LYC", "Lycée Rotrou")


# --- certification types -------------------------------------------------------------------


def test_certification_types_list_and_create(as_admin, make, db) -> None:
    make.certification_type(code="GMP", name="Salle blanche")
    assert "Salle blanche" in as_admin.get("/admin/certification-types").get_data(as_text=True)
    answer = _post(as_admin, "/admin/certification-types/new",
                   {"code": "COBOT", "name": "Sécurité cobot", "validity_months": "24",
                    "description": "Cellules robotisées"})
    assert answer.status_code == 302
    answer = _post(as_admin, "/admin/certification-types/new",
                   {"code": "COBOT", "name": "Doublon", "validity_months": "12"})
    assert answer.status_code == 200
    assert 'id="code-error"' in answer.get_data(as_text=True)
    rows = db.scalars(select(CertificationType).where(CertificationType.code == "COBOT")).all()
    assert [(t.name, t.validity_months) for t in rows] == [("Sécurité cobot", 24)]


# --- equipment -----------------------------------------------------------------------------


def _equipment_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "TRS-FILL-02", "name": "Remplisseuse", "description": "", "location": "Hall B",
        "category": "training_equipment", "status": "active", "status_reason": "",
        "parent": "0", "capacity": "8", "slot_minutes": "30", "min_minutes": "60",
        "max_minutes": "240", "changeover_minutes": "15", "approval_deadline_hours": "48",
        "requires_approval": "y",
    }
    for day in range(7):
        for key in ("opens", "closes", "opens2", "closes2"):
            data[f"d{day}_{key}"] = ""
    data.update({"d0_opens": "08:00", "d0_closes": "12:00", "d0_opens2": "13:30",
                 "d0_closes2": "17:00", "d2_opens": "09:00", "d2_closes": "18:00"})
    data.update(overrides)
    return data


def test_new_equipment_starts_with_the_establishment(as_admin, make) -> None:
    make.establishment(name="Faculté de pharmacie")
    page = as_admin.get("/admin/equipment/new").get_data(as_text=True)
    assert 'id="choose-establishment"' in page
    assert "Faculté de pharmacie" in page


def test_create_equipment_with_line_certifications_and_hours(as_admin, admin, make, db) -> None:
    tours = make.establishment()
    line = make.equipment(establishment=tours, category=EquipmentCategory.PILOT_LINE,
                          name="Ligne de conditionnement")
    elsewhere = make.equipment(establishment=make.establishment(),
                               category=EquipmentCategory.PILOT_LINE, name="Ligne d'ailleurs")
    gmp = make.certification_type(name="BPF")
    url = f"/admin/equipment/new?establishment={tours.id}"
    page = as_admin.get(url).get_data(as_text=True)
    assert f'value="{line.id}"' in page
    assert "Ligne d&#39;ailleurs" not in page
    assert f'<option value="{elsewhere.id}"' not in page

    answer = _post(as_admin, url, _equipment_form(parent=str(line.id),
                                                  certification_types=[str(gmp.id)]))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    equipment = db.scalar(select(Equipment).where(Equipment.code == "TRS-FILL-02"))
    assert equipment.establishment_id == tours.id
    assert equipment.parent_id == line.id
    assert [t.id for t in equipment.required_certification_types] == [gmp.id]
    assert (equipment.min_minutes, equipment.max_minutes, equipment.changeover_minutes,
            equipment.capacity, equipment.requires_approval, equipment.open_on_holidays,
            equipment.approval_deadline_hours) == (60, 240, 15, 8, True, False, 48)
    assert [(h.weekday, h.opens, h.closes) for h in equipment.opening_hours] == [
        (0, time(8), time(12)), (0, time(13, 30), time(17)), (2, time(9), time(18))]
    assert db.scalar(select(AuditEntry.actor_id).where(
        AuditEntry.action == "equipment.create")) == admin.id


def test_parent_of_another_establishment_is_refused(as_admin, make, db) -> None:
    tours = make.establishment()
    foreign = make.equipment(establishment=make.establishment(),
                             category=EquipmentCategory.PILOT_LINE)
    answer = _post(as_admin, f"/admin/equipment/new?establishment={tours.id}",
                   _equipment_form(parent=str(foreign.id)))
    assert answer.status_code == 200
    assert 'id="parent-error"' in answer.get_data(as_text=True)
    assert _count(db, Equipment, Equipment.code == "TRS-FILL-02") == 0


@pytest.mark.parametrize(("overrides", "field"), [
    ({"d1_opens": "08:00"}, "d1_closes"),                          # half an interval
    ({"d1_opens": "18:00", "d1_closes": "08:00"}, "d1_closes"),    # closes before it opens
    ({"d0_opens2": "11:00"}, "d0_opens2"),                         # overlaps the first
    ({"d3_opens2": "14:00", "d3_closes2": "16:00"}, "d3_opens2"),  # second without first
    ({"min_minutes": "45"}, "slot_minutes"),                       # off the slot grid
    ({"status": "maintenance"}, "status_reason"),                  # no reason given
])
def test_equipment_form_refusals(as_admin, make, db, overrides, field) -> None:
    establishment = make.establishment()
    answer = _post(as_admin, f"/admin/equipment/new?establishment={establishment.id}",
                   _equipment_form(**overrides))
    assert answer.status_code == 200
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert _count(db, Equipment, Equipment.code == "TRS-FILL-02") == 0


def test_edit_equipment_rules_and_hours(as_admin, make, db) -> None:
    equipment = make.equipment(code="ORL-COBOT-01", name="Cellule cobot")
    url = f"/admin/equipment/{equipment.id}/edit"
    page = as_admin.get(url).get_data(as_text=True)
    assert 'name="d0_opens"' in page
    assert 'value="08:00"' in page
    answer = _post(as_admin, url, _equipment_form(
        code="ORL-COBOT-01", name="Cellule cobot", status="maintenance",
        status_reason="Révision annuelle", open_on_holidays="y",
        d0_opens2="", d0_closes2=""))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    db.expire_all()
    assert equipment.status is EquipmentStatus.MAINTENANCE
    assert equipment.status_reason == "Révision annuelle"
    assert equipment.open_on_holidays
    assert [(h.weekday, h.opens, h.closes) for h in equipment.opening_hours] == [
        (0, time(8), time(12)), (2, time(9), time(18))]


def test_equipment_list_filters_by_establishment_and_paginates(as_admin, make) -> None:
    here, there = make.establishment(), make.establishment()
    for n in range(22):
        make.equipment(establishment=here, code=f"HERE-{n:02d}")
    make.equipment(establishment=there, code="THERE-01")
    page = as_admin.get(f"/admin/equipment?establishment={here.id}").get_data(as_text=True)
    assert "HERE-00" in page
    assert "THERE-01" not in page
    assert "HERE-21" not in page
    second = as_admin.get(f"/admin/equipment?establishment={here.id}&page=2")
    assert "HERE-21" in second.get_data(as_text=True)


# --- accounts --------------------------------------------------------------------------------


def test_accounts_filter_by_role_and_paginate(as_admin, make) -> None:
    for n in range(21):
        make.user(Role.TRAINER, name=f"Formateur {n:02d}")
    make.user(Role.COORDINATOR, name="Zoé Coordinatrice")
    page = as_admin.get("/admin/accounts?role=trainer").get_data(as_text=True)
    assert "Formateur 00" in page
    assert "Zoé Coordinatrice" not in page
    assert "Formateur 20" in as_admin.get("/admin/accounts?role=trainer&page=2").get_data(
        as_text=True)
    assert "Zoé Coordinatrice" in as_admin.get("/admin/accounts?role=coordinator").get_data(
        as_text=True)


def test_create_accounts(app, as_admin, make, db) -> None:
    establishment = make.establishment()
    answer = _post(as_admin, "/admin/accounts/new", {
        "name": "Claire Dubois", "email": "Claire.Dubois@Example.org", "role": "coordinator",
        "establishment": str(establishment.id), "company": "0", "new_company": "",
        "password": "assez-long-secret"})
    assert answer.status_code == 302
    claire = db.scalar(select(User).where(User.email == "claire.dubois@example.org"))
    assert claire.role is Role.COORDINATOR
    assert claire.establishment_id == establishment.id
    with app.app_context():
        assert verify_password(claire.password_hash, "assez-long-secret")

    answer = _post(as_admin, "/admin/accounts/new", {
        "name": "Contact", "email": "contact@cosmetiques.example", "role": "company",
        "establishment": "0", "company": "0", "new_company": "Cosmétiques du Val",
        "password": "assez-long-secret"})
    assert answer.status_code == 302
    contact = db.scalar(select(User).where(User.email == "contact@cosmetiques.example"))
    assert contact.company.name == "Cosmétiques du Val"


def test_account_refusals_write_nothing(as_admin, make, db) -> None:
    taken = make.user(Role.TRAINER)
    base = {"name": "X", "role": "trainer", "establishment": "0", "company": "0",
            "new_company": "", "password": "assez-long-secret"}
    answer = _post(as_admin, "/admin/accounts/new", {**base, "email": taken.email})
    assert 'id="email-error"' in answer.get_data(as_text=True)
    answer = _post(as_admin, "/admin/accounts/new",
                   {**base, "email": "coord@example.org", "role": "coordinator"})
    assert 'id="establishment-error"' in answer.get_data(as_text=True)
    answer = _post(as_admin, "/admin/accounts/new",
                   {**base, "email": "co@example.org", "role": "company"})
    assert 'id="company-error"' in answer.get_data(as_text=True)
    answer = _post(as_admin, "/admin/accounts/new",
                   {**base, "email": "tr@example.org", "new_company": "Orpheline"})
    assert 'id="new_company-error"' in answer.get_data(as_text=True)
    assert _count(db, User, User.email.in_(["coord@example.org", "co@example.org",
                                            "tr@example.org"])) == 0
    assert _count(db, Company, Company.name == "Orpheline") == 0


def test_deactivation_ends_the_users_sessions(app, as_admin, admin, make, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    other = _other_client(app, trainer)
    url = f"/admin/accounts/{trainer.id}/deactivate"
    page = as_admin.get(url)
    assert page.status_code == 200
    assert 'id="confirm-form"' in page.get_data(as_text=True)
    db.expire_all()
    assert trainer.active  # asking to confirm changes nothing

    answer = _post(as_admin, url, {"reason": "A quitté le campus"})
    assert answer.status_code == 302
    db.expire_all()
    assert not trainer.active
    assert _count(db, LoginSession, LoginSession.user_id == trainer.id,
                  LoginSession.revoked_at.is_(None)) == 0
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivate"))
    assert (entry.actor_id, entry.object_id, entry.reason) == (
        admin.id, trainer.id, "A quitté le campus")
    # The trainer's browser is logged out at its next click, and cannot log in again.
    answer = other.get("/dashboard")
    assert answer.status_code == 302
    assert "/auth/login" in answer.headers["Location"]
    token = csrf_token_of(other.get("/auth/login").get_data(as_text=True))
    assert other.post("/auth/login", data={"email": trainer.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 200
    assert as_admin.get("/dashboard").status_code == 200  # the admin's own session stays

    answer = _post(as_admin, f"/admin/accounts/{trainer.id}/reactivate", {})
    assert answer.status_code == 302
    db.expire_all()
    assert trainer.active
    _other_client(app, trainer)


def test_admin_cannot_deactivate_themselves(as_admin, admin, db) -> None:
    answer = _post(as_admin, f"/admin/accounts/{admin.id}/deactivate", {})
    assert answer.status_code == 200
    assert 'id="form-errors"' in answer.get_data(as_text=True)
    db.expire_all()
    assert admin.active
    assert as_admin.get("/admin").status_code == 200


def test_reset_password_ends_the_users_sessions(app, as_admin, make, db, now) -> None:
    company = make.user(Role.COMPANY)
    other = _other_client(app, company)
    url = f"/admin/accounts/{company.id}/password"
    answer = _post(as_admin, url, {"password": "nouveau-secret-1", "confirm": "autre-chose-1"})
    assert answer.status_code == 200
    assert 'id="confirm-error"' in answer.get_data(as_text=True)
    answer = _post(as_admin, url, {"password": "nouveau-secret-1",
                                   "confirm": "nouveau-secret-1"})
    assert answer.status_code == 302
    assert other.get("/dashboard").status_code == 302
    db.expire_all()
    with app.app_context():
        assert verify_password(company.password_hash, "nouveau-secret-1")
    assert db.scalar(select(AuditEntry.object_id).where(
        AuditEntry.action == "user.password_reset")) == company.id
    token = csrf_token_of(other.get("/auth/login").get_data(as_text=True))
    assert other.post("/auth/login", data={"email": company.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 200
    assert other.post("/auth/login", data={"email": company.email,
                                           "password": "nouveau-secret-1",
                                           "csrf_token": token}).status_code == 302
