"""/api/v1/prices and /api/v1/establishments/{id}/billing-profile (issue 15):
the list in force on a day, adding and withdrawing a price, the billing
profile; who may, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from booking.services.pricing import operations as pricing
from models import AuditEntry, BillingProfile, Price, PriceKind, Public, Role
from tests.api_helpers import Callers, assert_error, count
from tests.conftest import NOW

FIELDS = {"id", "establishment_id", "equipment_id", "kind", "public", "label", "unit",
          "unit_price_cents", "vat_rate_bp", "valid_from", "created_at"}


@pytest.fixture
def as_(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def c(make: Any, db: Any) -> SimpleNamespace:
    home = make.establishment(code="HOME", name="Lycée du Parc")
    away = make.establishment(code="AWAY", name="IUT de Tours")
    return SimpleNamespace(
        home=home, away=away, mixer=make.equipment(establishment=home, name="Mélangeur"),
        oven=make.equipment(establishment=away, name="Étuve"),
        admin=make.user(Role.ADMIN),
        coordinator=make.user(Role.COORDINATOR, establishment=home),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away),
        trainer=make.user(Role.TRAINER, establishment=home),
        company=make.user(Role.COMPANY))


def body(c: SimpleNamespace, **kw: Any) -> dict[str, Any]:
    return {"establishment_id": c.home.id, "equipment_id": c.mixer.id, "kind": "machine_hour",
            "public": "company", "unit_price_cents": 12050, "vat_rate_bp": 2000,
            "valid_from": "2027-01-12", "unit": "heure", **kw}


def written(db: Any) -> tuple[int, ...]:
    return (count(db, Price), count(db, AuditEntry), count(db, BillingProfile))


def seed(db: Any, c: SimpleNamespace, **kw: Any) -> Price:
    values: dict[str, Any] = {
        "establishment": c.home, "kind": PriceKind.MACHINE_HOUR, "public": Public.COMPANY,
        "equipment_id": c.mixer.id, "unit_price_cents": 10000, "vat_rate_bp": 2000,
        "valid_from": date(2027, 1, 12), **kw}
    return pricing.add_price(db, actor=c.admin, now=NOW, **values)


def test_post_then_get_the_list_in_force(as_, db, c, now) -> None:
    answer = as_(c.coordinator).post("/api/v1/prices", json=body(c))
    assert answer.status_code == 201, answer.json
    assert set(answer.json) == FIELDS
    assert answer.json["unit_price_cents"] == 12050
    later = as_(c.admin).post("/api/v1/prices", json=body(c, unit_price_cents=15000,
                                                          valid_from="2027-09-01"))
    assert later.status_code == 201
    today = as_(c.other_coordinator).get(f"/api/v1/prices?establishment_id={c.home.id}")
    assert today.status_code == 200
    assert today.json["total"] == 1
    assert today.json["items"][0]["unit_price_cents"] == 12050
    autumn = as_(c.coordinator).get(
        f"/api/v1/prices?establishment_id={c.home.id}&on=2027-10-01").json
    assert [p["unit_price_cents"] for p in autumn["items"]] == [15000]
    before = as_(c.coordinator).get(
        f"/api/v1/prices?establishment_id={c.home.id}&on=2027-01-11").json
    assert before == {"items": [], "total": 0}


def test_the_list_is_paginated(as_, db, c, now) -> None:
    for public in Public:
        seed(db, c, public=public)
    page = as_(c.admin).get(f"/api/v1/prices?establishment_id={c.home.id}&limit=2&offset=4")
    assert page.json["total"] == len(Public)
    assert len(page.json["items"]) == 1


@pytest.mark.parametrize("who", ["trainer", "company"])
def test_companies_and_trainers_never_see_prices(as_, db, c, now, who) -> None:
    price = seed(db, c, valid_from=date(2027, 2, 1))
    caller = as_(getattr(c, who))
    before = written(db)
    assert_error(caller.get(f"/api/v1/prices?establishment_id={c.home.id}"), 403, "forbidden")
    assert_error(caller.post("/api/v1/prices", json=body(c)), 403, "forbidden")
    assert_error(caller.delete(f"/api/v1/prices/{price.id}"), 404, "not_found")
    assert_error(caller.get(f"/api/v1/establishments/{c.home.id}/billing-profile"), 403,
                 "forbidden")
    assert written(db) == before


def test_another_establishments_coordinator_is_refused(as_, db, c, now) -> None:
    price = seed(db, c, valid_from=date(2027, 2, 1))
    caller = as_(c.other_coordinator)
    before = written(db)
    assert_error(caller.post("/api/v1/prices", json=body(c)), 403, "forbidden")
    assert_error(caller.delete(f"/api/v1/prices/{price.id}"), 403, "forbidden")
    assert_error(caller.get(f"/api/v1/establishments/{c.home.id}/billing-profile"), 403,
                 "forbidden")
    assert written(db) == before


@pytest.mark.parametrize(("overrides", "field"), [
    ({"equipment_id": None}, "equipment_id"),
    ({"kind": "consumable", "equipment_id": None}, "label"),
    ({"valid_from": "2027-01-11"}, "valid_from"),
])
def test_service_refusals_name_the_field(as_, db, c, now, overrides, field) -> None:
    before = written(db)
    answer = as_(c.coordinator).post("/api/v1/prices", json=body(c, **overrides))
    assert assert_error(answer, 422, "validation")["details"]["field"] == field
    assert written(db) == before


@pytest.mark.parametrize(("overrides", "field"), [
    ({"unit_price_cents": -1}, "unit_price_cents"),
    ({"unit_price_cents": 10_000_001}, "unit_price_cents"),
    ({"vat_rate_bp": 10_001}, "vat_rate_bp"), ({"kind": "hour"}, "kind"),
    ({"public": "everyone"}, "public"), ({"label": "x" * 201}, "label"),
    ({"valid_from": "2027-02-30"}, "valid_from"),
])
def test_schema_refusals_name_the_field(as_, db, c, now, overrides, field) -> None:
    before = written(db)
    answer = as_(c.admin).post("/api/v1/prices", json=body(c, **overrides))
    assert field in assert_error(answer, 422, "validation")["details"]["errors"]["json"]
    assert written(db) == before


def test_a_duplicate_is_a_conflict(as_, db, c, now) -> None:
    seed(db, c)
    answer = as_(c.coordinator).post("/api/v1/prices", json=body(c))
    assert_error(answer, 409, "price_exists")


def test_delete_a_future_price_then_refusals(as_, db, c, now) -> None:
    future = seed(db, c, valid_from=date(2027, 2, 1))
    answer = as_(c.coordinator).delete(f"/api/v1/prices/{future.id}")
    assert answer.status_code == 204
    assert count(db, Price) == 0
    db.expunge(future)  # deleted by the request's session; SQLite reuses its id
    in_force = seed(db, c)
    before = written(db)
    assert_error(as_(c.admin).delete(f"/api/v1/prices/{in_force.id}"), 409, "price_in_force")
    assert_error(as_(c.admin).delete("/api/v1/prices/999999"), 404, "not_found")
    assert written(db) == before


def test_billing_profile_get_and_put(as_, db, c, now) -> None:
    url = f"/api/v1/establishments/{c.home.id}/billing-profile"
    empty = as_(c.coordinator).get(url)
    assert empty.status_code == 200
    assert (empty.json["legal_name"], empty.json["quote_validity_days"],
            empty.json["updated_at"]) == ("", 30, None)
    put = as_(c.admin).put(url, json={"legal_name": "Lycée du Parc", "siret": "12345678900012",
                                      "quote_validity_days": 45, "analytic_code": "PARC"})
    assert put.status_code == 200, put.json
    assert put.json["siret"] == "12345678900012"
    assert put.json["updated_at"]
    assert as_(c.coordinator).get(url).json["legal_name"] == "Lycée du Parc"
    before = written(db)
    assert_error(as_(c.coordinator).put(url, json={"legal_name": "X"}), 403, "forbidden")
    refused = as_(c.admin).put(url, json={"siret": "123"})
    assert assert_error(refused, 422, "validation")["details"]["field"] == "siret"
    too_long = as_(c.admin).put(url, json={"quote_validity_days": 400})
    assert "quote_validity_days" in assert_error(too_long, 422, "validation")[
        "details"]["errors"]["json"]
    assert written(db) == before
    assert db.get(BillingProfile, c.home.id).legal_name == "Lycée du Parc"
