"""Price lists, billing profiles and analytic codes (issue 15): who sets them,
what is refused (and that a refusal writes nothing), the history of a price
and the list in force on a date; the pages, in French."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from booking.services.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationError
from booking.services.pricing import operations as pricing
from booking.services.pricing.lookup import price_for, price_list
from models import (
    AnalyticCode,
    AuditEntry,
    BillingProfile,
    Price,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    QuoteLine,
    Role,
)
from tests.api_helpers import count
from tests.conftest import NOW, csrf_token_of
from tests.world import logged_in

TODAY = date(2027, 1, 12)  # NOW in Paris


@pytest.fixture
def w(make, db) -> dict[str, Any]:
    home = make.establishment(code="HOME", name="Lycée du Parc")
    away = make.establishment(code="AWAY", name="IUT de Tours")
    return {
        "home": home, "away": away,
        "mixer": make.equipment(establishment=home, name="Mélangeur"),
        "filler": make.equipment(establishment=home, name="Remplisseuse"),
        "oven": make.equipment(establishment=away, name="Étuve"),
        "admin": make.user(Role.ADMIN),
        "coordinator": make.user(Role.COORDINATOR, establishment=home),
        "other_coordinator": make.user(Role.COORDINATOR, establishment=away),
        "trainer": make.user(Role.TRAINER, establishment=home),
        "company": make.user(Role.COMPANY),
    }


def add(db, w, actor: str = "coordinator", **kw: Any) -> Price:
    values: dict[str, Any] = {
        "establishment": w["home"], "kind": PriceKind.MACHINE_HOUR, "public": Public.COMPANY,
        "equipment_id": w["mixer"].id, "unit_price_cents": 12050, "vat_rate_bp": 2000,
        "valid_from": TODAY, "unit": "heure"}
    values.update(kw)
    return pricing.add_price(db, actor=w[actor], now=NOW, **values)


def audits(db, action: str) -> int:
    return len(db.scalars(select(AuditEntry).where(AuditEntry.action == action)).all())


def written(db) -> tuple[int, ...]:
    return tuple(count(db, m) for m in (Price, AuditEntry, BillingProfile, AnalyticCode))


# --- who sets prices ------------------------------------------------------------------------


def test_a_coordinator_adds_a_price_of_their_establishment(db, w) -> None:
    price = add(db, w)
    assert (price.establishment_id, price.unit_price_cents, price.created_by_id) == (
        w["home"].id, 12050, w["coordinator"].id)
    assert audits(db, "price.add") == 1


def test_an_admin_adds_a_price_of_any_establishment(db, w) -> None:
    price = add(db, w, "admin", establishment=w["away"], equipment_id=w["oven"].id)
    assert price.establishment_id == w["away"].id


@pytest.mark.parametrize("actor", ["other_coordinator", "trainer", "company"])
def test_others_may_not_set_the_prices(db, w, actor) -> None:
    before = written(db)
    with pytest.raises(Forbidden):
        add(db, w, actor)
    assert written(db) == before


def test_a_company_does_not_even_see_a_price(db, w) -> None:
    price = add(db, w, valid_from=date(2027, 2, 1))
    with pytest.raises(NotFound):
        pricing.withdraw_price(db, actor=w["company"], now=NOW, price=price)
    with pytest.raises(Forbidden):
        pricing.withdraw_price(db, actor=w["other_coordinator"], now=NOW, price=price)
    assert db.get(Price, price.id) is not None


# --- validations: each names its field, and nothing is written -------------------------------


@pytest.mark.parametrize(("overrides", "field"), [
    ({"equipment_id": None}, "equipment_id"),
    ({"equipment_id": 10**6}, "equipment_id"),
    ({"kind": PriceKind.TRAINER_HOUR}, "equipment_id"),  # a trainer hour names no machine
    ({"kind": PriceKind.CONSUMABLE, "equipment_id": None}, "label"),
    ({"kind": PriceKind.FLAT_FEE, "equipment_id": None, "label": "   "}, "label"),
    ({"label": "x" * 201}, "label"),
    ({"unit": "ligne\ncoupée"}, "unit"),
    ({"unit_price_cents": -1}, "unit_price_cents"),
    ({"unit_price_cents": 10_000_001}, "unit_price_cents"),
    ({"unit_price_cents": True}, "unit_price_cents"),
    ({"vat_rate_bp": 10_001}, "vat_rate_bp"),
    ({"vat_rate_bp": -5}, "vat_rate_bp"),
    ({"valid_from": date(2027, 1, 11)}, "valid_from"),  # yesterday: history stays
    ({"valid_from": date(2201, 1, 1)}, "valid_from"),
])
def test_refused_prices_name_the_field_and_write_nothing(db, w, overrides, field) -> None:
    before = written(db)
    with pytest.raises(ValidationError) as refused:
        add(db, w, **overrides)
    assert refused.value.details["field"] == field
    assert written(db) == before


def test_a_machine_of_another_establishment_is_refused(db, w) -> None:
    with pytest.raises(ValidationError) as refused:
        add(db, w, equipment_id=w["oven"].id)
    assert refused.value.details["field"] == "equipment_id"
    assert "Lycée du Parc" in str(refused.value)


def test_a_second_price_on_the_same_day_is_a_conflict(db, w) -> None:
    add(db, w)
    before = written(db)
    with pytest.raises(Conflict) as refused:
        add(db, w, unit_price_cents=9900)
    assert refused.value.code == "price_exists"
    assert written(db) == before
    # Another public, or another day, is another row.
    add(db, w, public=Public.OWN, unit_price_cents=0)
    add(db, w, valid_from=date(2027, 3, 1), unit_price_cents=13000)


def test_consumables_and_flat_fees_with_a_label(db, w) -> None:
    bottles = add(db, w, kind=PriceKind.CONSUMABLE, equipment_id=None,
                  label="Flacons 50 ml, le cent", unit="cent", unit_price_cents=3500,
                  vat_rate_bp=550)
    fee = add(db, w, kind=PriceKind.FLAT_FEE, equipment_id=None, label="Mise en route",
              unit_price_cents=15000, vat_rate_bp=0)
    assert (bottles.label, bottles.vat_rate_bp, fee.vat_rate_bp) == (
        "Flacons 50 ml, le cent", 550, 0)


# --- history and the list in force on a date ---------------------------------------------------


def test_a_later_price_does_not_change_an_earlier_day(db, w) -> None:
    first = add(db, w, unit_price_cents=10000)
    later = add(db, w, valid_from=date(2027, 9, 1), unit_price_cents=12500)
    other = add(db, w, equipment_id=w["filler"].id, unit_price_cents=5000)
    find = {"establishment_id": w["home"].id, "kind": PriceKind.MACHINE_HOUR,
            "public": Public.COMPANY, "equipment_id": w["mixer"].id}
    assert price_for(db, on=date(2027, 8, 31), **find) == first
    assert price_for(db, on=date(2027, 9, 1), **find) == later
    assert price_for(db, on=date(2027, 1, 11), **find) is None
    assert {p.id for p in price_list(db, establishment_id=w["home"].id, on=TODAY)} == {
        first.id, other.id}
    assert {p.id for p in price_list(db, establishment_id=w["home"].id,
                                     on=date(2027, 12, 1))} == {later.id, other.id}
    history = pricing.price_history(db, establishment_id=w["home"].id,
                                    equipment_id=w["mixer"].id)
    assert [p.id for p in history] == [later.id, first.id]


def test_a_future_price_not_quoted_is_withdrawn(db, w) -> None:
    price = add(db, w, valid_from=date(2027, 2, 1))
    pricing.withdraw_price(db, actor=w["coordinator"], now=NOW, price=price)
    assert db.get(Price, price.id) is None
    assert audits(db, "price.withdraw") == 1


def test_a_price_in_force_is_kept(db, w) -> None:
    price = add(db, w)
    before = written(db)
    with pytest.raises(InvalidState) as refused:
        pricing.withdraw_price(db, actor=w["admin"], now=NOW, price=price)
    assert refused.value.code == "price_in_force"
    assert written(db) == before


def test_a_quoted_price_is_kept(db, w, make) -> None:
    price = add(db, w, valid_from=date(2027, 2, 1))
    company = make.company()
    project = Project(company=company, title="Crèmes", learners=4,
                      wanted_from=date(2027, 3, 1), wanted_to=date(2027, 3, 31),
                      status=ProjectStatus.APPROVED)
    db.add(project)
    db.flush()
    quote = Quote(project_id=project.id, establishment_id=w["home"].id, version=1,
                  public=Public.COMPANY, price_date=TODAY, created_at=NOW, updated_at=NOW)
    db.add(quote)
    db.flush()
    db.add(QuoteLine(quote_id=quote.id, position=1, kind=PriceKind.MACHINE_HOUR,
                     equipment_id=w["mixer"].id, price_id=price.id, label="Mélangeur",
                     quantity_cents=100,
                     unit_price_cents=price.unit_price_cents, vat_rate_bp=2000))
    db.flush()
    before = written(db)
    with pytest.raises(Conflict) as refused:
        pricing.withdraw_price(db, actor=w["coordinator"], now=NOW, price=price)
    assert refused.value.code == "price_in_use"
    assert written(db) == before


# --- billing profile and analytic codes ---------------------------------------------------------


def test_an_admin_creates_then_updates_the_billing_profile(db, w) -> None:
    profile = pricing.update_billing_profile(
        db, actor=w["admin"], now=NOW, establishment=w["home"], legal_name="Lycée du Parc",
        siret="123 456 789 00012", quote_validity_days=45)
    assert (profile.siret, profile.quote_validity_days, profile.address) == (
        "12345678900012", 45, "")
    pricing.update_billing_profile(db, actor=w["admin"], now=NOW, establishment=w["home"],
                                   siret="")
    assert (profile.siret, profile.legal_name) == ("", "Lycée du Parc")
    assert audits(db, "billing_profile.update") == 2


@pytest.mark.parametrize(("changes", "field"), [
    ({"siret": "1234"}, "siret"), ({"siret": "1234567890123A"}, "siret"),
    ({"quote_validity_days": 0}, "quote_validity_days"),
    ({"quote_validity_days": 366}, "quote_validity_days"),
    ({"legal_name": "x" * 201}, "legal_name"), ({"email": "pas-une-adresse"}, "email"),
    ({"phone": "01\x0702"}, "phone"), ({"colour": "bleu"}, "colour"),
])
def test_refused_profiles_name_the_field_and_write_nothing(db, w, changes, field) -> None:
    before = written(db)
    with pytest.raises(ValidationError) as refused:
        pricing.update_billing_profile(db, actor=w["admin"], now=NOW, establishment=w["home"],
                                       **changes)
    assert refused.value.details["field"] == field
    assert written(db) == before


@pytest.mark.parametrize("actor", ["coordinator", "other_coordinator", "company"])
def test_only_an_admin_edits_billing_details(db, w, actor) -> None:
    before = written(db)
    with pytest.raises(Forbidden):
        pricing.update_billing_profile(db, actor=w[actor], now=NOW, establishment=w["home"],
                                       legal_name="X")
    with pytest.raises(Forbidden):
        pricing.set_analytic_code(db, actor=w[actor], now=NOW, equipment=w["mixer"],
                                  code="AX-1")
    assert written(db) == before


def test_analytic_code_set_changed_and_removed(db, w) -> None:
    row = pricing.set_analytic_code(db, actor=w["admin"], now=NOW, equipment=w["mixer"],
                                    code=" 62-MEL ")
    assert row is not None
    assert row.code == "62-MEL"
    pricing.set_analytic_code(db, actor=w["admin"], now=NOW, equipment=w["mixer"], code="63")
    assert pricing.analytic_codes(db, w["home"]) == {w["mixer"].id: "63"}
    assert pricing.set_analytic_code(db, actor=w["admin"], now=NOW, equipment=w["mixer"],
                                     code="") is None
    assert db.get(AnalyticCode, w["mixer"].id) is None
    assert audits(db, "equipment.analytic_code") == 3


# --- pages ---------------------------------------------------------------------------------------


def post(client, page: str, url: str, data: dict[str, Any]):
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_page_shows_the_list_in_force_in_french(app, db, w, now) -> None:
    add(db, w, unit_price_cents=123450)
    add(db, w, valid_from=date(2027, 9, 1), unit_price_cents=150000)
    add(db, w, kind=PriceKind.CONSUMABLE, equipment_id=None, label="Flacons", unit="cent",
        unit_price_cents=3500, vat_rate_bp=550)
    client = logged_in(app, w["coordinator"])
    html = client.get("/pricing/").get_data(as_text=True)
    assert "Tarifs en vigueur le mardi 12 janvier 2027" in html
    assert "1\u202f234,50\xa0€" in html or "1\xa0234,50\xa0€" in html
    assert "1\u202f500,00" not in html
    assert "1\xa0500,00" not in html
    assert "5,5\xa0%" in html
    assert "Flacons" in html
    assert "Mélangeur" in html
    assert 'href="/pricing/"' in client.get("/dashboard").get_data(as_text=True)
    later = client.get(f"/pricing/?establishment={w['home'].id}&on=2027-09-01")
    assert re.search(r"1.500,00", later.get_data(as_text=True))


def test_the_page_shows_a_machines_history(app, db, w, now) -> None:
    add(db, w, unit_price_cents=10000)
    add(db, w, valid_from=date(2027, 9, 1), unit_price_cents=12500)
    client = logged_in(app, w["admin"])
    html = client.get(f"/pricing/?establishment={w['home'].id}&machine={w['mixer'].id}"
                      ).get_data(as_text=True)
    history = html[html.index('id="price-history"'):]
    assert "100,00" in history
    assert "125,00" in history
    assert history.count("Retirer") == 1  # the future one only


def test_a_coordinator_adds_a_price_through_the_page(app, db, w, now) -> None:
    client = logged_in(app, w["coordinator"])
    answer = post(client, "/pricing/", f"/pricing/{w['home'].id}/prices", {
        "kind": "machine_hour", "machine": w["filler"].id, "public": "campus",
        "unit_price": "12,50", "vat_rate": "2000", "valid_from": "2027-02-01", "unit": "h"})
    assert answer.status_code == 302
    price = db.scalars(select(Price)).one()
    assert (price.unit_price_cents, price.public, price.equipment_id) == (
        1250, Public.CAMPUS, w["filler"].id)


@pytest.mark.parametrize(("data", "error"), [
    ({"unit_price": "douze"}, "Saisissez un montant en euros"),
    ({"unit_price": "12,505"}, "Saisissez un montant en euros"),
    ({"machine": "0"}, "Choisissez la machine"),
    ({"valid_from": "2026-12-01"}, "prend effet aujourd"),
])
def test_a_refused_price_form_says_why_in_french(app, db, w, now, data, error) -> None:
    client = logged_in(app, w["coordinator"])
    before = written(db)
    form = {"kind": "machine_hour", "machine": w["mixer"].id, "public": "company",
            "unit_price": "10", "vat_rate": "2000", "valid_from": "2027-02-01", **data}
    answer = post(client, "/pricing/", f"/pricing/{w['home'].id}/prices", form)
    assert answer.status_code == 200
    assert error in answer.get_data(as_text=True).replace("\u2019", "'")
    assert written(db) == before


def test_the_pages_refuse_others(app, db, w, now) -> None:
    price = add(db, w, valid_from=date(2027, 2, 1))
    for role in ("company", "trainer"):
        client = logged_in(app, w[role])
        assert client.get("/pricing/").status_code == 403
        assert client.get(f"/pricing/profile/{w['home'].id}").status_code == 403
        assert 'href="/pricing/"' not in client.get("/dashboard").get_data(as_text=True)
    other = logged_in(app, w["other_coordinator"])
    assert other.get(f"/pricing/?establishment={w['home'].id}").status_code == 200
    assert other.get(f"/pricing/profile/{w['home'].id}").status_code == 403
    token = csrf_token_of(other.get("/pricing/").get_data(as_text=True))
    assert other.post(f"/pricing/{w['home'].id}/prices",
                      data={"csrf_token": token}).status_code == 403
    assert other.post(f"/pricing/prices/{price.id}/withdraw",
                      data={"csrf_token": token}).status_code == 403
    assert db.get(Price, price.id) is not None


def test_withdraw_through_the_page(app, db, w, now) -> None:
    price = add(db, w, valid_from=date(2027, 2, 1))
    client = logged_in(app, w["coordinator"])
    answer = post(client, "/pricing/", f"/pricing/prices/{price.id}/withdraw", {})
    assert answer.status_code == 302
    assert db.scalars(select(Price.id)).all() == []


def test_billing_profile_page_admin_edits_coordinator_reads(app, db, w, now) -> None:
    url = f"/pricing/profile/{w['home'].id}"
    admin = logged_in(app, w["admin"])
    page = admin.get(url).get_data(as_text=True)
    assert "Informations de facturation" in page
    assert "Mélangeur" in page
    answer = post(admin, url, url, {"legal_name": "Lycée du Parc", "siret": "12345678900012",
                                    "quote_validity_days": "60", "address": "1 rue\nOrléans"})
    assert answer.status_code == 302
    profile = db.get(BillingProfile, w["home"].id)
    assert (profile.legal_name, profile.quote_validity_days) == ("Lycée du Parc", 60)
    refused = post(admin, url, url, {"siret": "123", "quote_validity_days": "30"})
    assert "14 chiffres" in refused.get_data(as_text=True)
    assert db.get(BillingProfile, w["home"].id).siret == "12345678900012"
    code_page = f"/pricing/machines/{w['mixer'].id}/analytic-code"
    assert "Code analytique — Mélangeur" in admin.get(code_page).get_data(as_text=True)
    code = post(admin, code_page, code_page, {"code": "62-MEL"})
    assert code.status_code == 302
    assert db.get(AnalyticCode, w["mixer"].id).code == "62-MEL"

    coordinator = logged_in(app, w["coordinator"])
    read = coordinator.get(url).get_data(as_text=True)
    assert "Lycée du Parc" in read
    assert "62-MEL" in read
    assert "60 jours" in read
    assert 'name="legal_name"' not in read
    token = csrf_token_of(read)
    assert coordinator.post(url, data={"csrf_token": token, "legal_name": "X",
                                       "quote_validity_days": "30"}).status_code == 403
    assert coordinator.get(code_page).status_code == 403
    assert coordinator.post(code_page, data={"csrf_token": token, "code": "X"}).status_code == 403
    assert db.get(BillingProfile, w["home"].id).legal_name == "Lycée du Parc"
