"""/api/v1 quotes: list and read what the caller may see, draft from a
project, change a draft's lines with PUT, issue, revise, accept, decline;
the error codes (409 invalid_state, quote_expired, quote_already_accepted,
422 validation) and another company's 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.timeutil import frozen
from models import AuditEntry, Quote, QuoteStatus
from tests.api_helpers import Callers, assert_error
from tests.test_quotes import BROWSER, build_scene, draft, issue

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def s(make: Any, db: Any) -> Any:
    return build_scene(make, db)


def test_draft_edit_issue_and_read(callers, db, s, now) -> None:
    staff = callers(s.coordinator)
    answer = staff.post(f"/api/v1/projects/{s.project.id}/quotes", json={})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.json
    assert (body["status"], body["number"], body["reference"], body["total_incl_cents"]) == (
        "draft", None, "", 214200)
    assert [line["kind"] for line in body["lines"]] == ["machine_hour", "trainer_hour"]
    quote_id = body["id"]
    answer = staff.put(f"/api/v1/quotes/{quote_id}", json={
        "lines": [{"price_id": s.prices.machine.id, "quantity_cents": 1050,
                   "discount_bp": 1000},
                  {"label": "Déplacement", "unit": "forfait", "quantity_cents": 100,
                   "unit_price_cents": 12050, "vat_rate_bp": 2000}],
        "discount_bp": 500, "valid_until": "2027-03-01", "notes": "Tarif partenaire"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.json
    # 10.5 h × 180 € − 10 % − 5 % = 1 615.95 €; 120.50 € − 5 % = 114.47 €
    assert [line["total_excl_cents"] for line in body["lines"]] == [161595, 11447]
    assert body["total_excl_cents"] == 173042
    assert body["vat"] == [{"rate_bp": 2000, "base_cents": 173042, "vat_cents": 34608}]
    assert (body["valid_until"], body["discount_bp"]) == ("2027-03-01", 500)
    answer = staff.post(f"/api/v1/quotes/{quote_id}/issue")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["status"], answer.json["reference"]) == ("issued", "DEV-LYC-2027-0001")
    assert answer.json["issued_at"] == "2027-01-12T09:00:00+01:00"
    assert_error(staff.put(f"/api/v1/quotes/{quote_id}", json={"notes": "x"}), 409,
                 "invalid_state")
    company = callers(s.company)
    listed = company.get(f"/api/v1/quotes?project_id={s.project.id}").json
    assert [q["id"] for q in listed["items"]] == [quote_id]
    assert listed["total"] == 1
    assert company.get(f"/api/v1/quotes/{quote_id}").json["total_incl_cents"] == 207650


def test_validation_errors_name_the_field(callers, db, s, now) -> None:
    staff = callers(s.coordinator)
    quote_id = staff.post(f"/api/v1/projects/{s.project.id}/quotes", json={}).json["id"]
    answer = staff.put(f"/api/v1/quotes/{quote_id}", json={"lines": [{"quantity_cents": 0}]})
    assert_error(answer, 422, "validation")
    answer = staff.put(f"/api/v1/quotes/{quote_id}", json={"lines": [{"quantity_cents": 100}]})
    assert assert_error(answer, 422, "validation")["details"]["field"] == "label"
    staff.put(f"/api/v1/quotes/{quote_id}", json={"lines": []})
    answer = staff.post(f"/api/v1/quotes/{quote_id}/issue")
    assert assert_error(answer, 422, "validation")["details"]["field"] == "lines"
    assert db.get(Quote, quote_id).number is None


def test_accept_records_the_address_and_browser(app, callers, db, s, now) -> None:
    quote = issue(app, db, draft(app, db, s), s.coordinator)
    company = callers(s.company)
    assert_error(callers(s.other_company).post(f"/api/v1/quotes/{quote.id}/accept"), 404,
                 "not_found")
    assert_error(callers(s.coordinator).post(f"/api/v1/quotes/{quote.id}/accept"), 403,
                 "forbidden")
    answer = company.client.post(f"/api/v1/quotes/{quote.id}/accept", headers={
        **company.headers, "User-Agent": BROWSER}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == "accepted"
    assert answer.json["decided_by_id"] == s.company.id
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "quote.accept"))
    assert (entry.details["address"], entry.details["user_agent"]) == ("192.0.2.9", BROWSER)
    assert_error(company.post(f"/api/v1/quotes/{quote.id}/accept"), 409, "invalid_state")


def test_another_accepted_quote_and_expiry(app, callers, db, s, now) -> None:
    first = issue(app, db, draft(app, db, s), s.coordinator)
    second = issue(app, db, draft(app, db, s), s.coordinator)
    company = callers(s.company)
    assert company.post(f"/api/v1/quotes/{first.id}/accept").status_code == 200
    assert_error(company.post(f"/api/v1/quotes/{second.id}/accept"), 409,
                 "quote_already_accepted")
    assert_error(callers(s.coordinator).post(f"/api/v1/projects/{s.project.id}/quotes",
                                             json={}), 409, "quote_already_accepted")


def test_an_expired_quote_is_409(app, callers, db, s) -> None:
    with frozen(datetime(2027, 1, 12, 9, tzinfo=PARIS)):
        quote = issue(app, db, draft(app, db, s), s.coordinator)
    with frozen(datetime(2027, 2, 12, 9, tzinfo=PARIS)):
        company = callers(s.company)
        body = assert_error(company.post(f"/api/v1/quotes/{quote.id}/accept"), 409,
                            "quote_expired")
        assert body["details"] == {"valid_until": "2027-02-11"}
        assert "11 février 2027" in body["message"]
    assert db.get(Quote, quote.id).status is QuoteStatus.ISSUED


def test_decline_and_revise(app, callers, db, s, now) -> None:
    quote = issue(app, db, draft(app, db, s), s.coordinator)
    company = callers(s.company)
    assert_error(company.post(f"/api/v1/quotes/{quote.id}/decline", json={}), 422,
                 "validation")
    answer = company.post(f"/api/v1/quotes/{quote.id}/decline", json={"reason": "Trop cher."})
    assert (answer.status_code, answer.json["decline_reason"]) == (200, "Trop cher.")
    staff = callers(s.coordinator)
    answer = staff.post(f"/api/v1/quotes/{quote.id}/revise")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    revision = answer.json
    assert (revision["status"], revision["version"], revision["revises_id"]) == (
        "draft", 2, quote.id)
    # The company does not see the draft revision.
    assert_error(company.get(f"/api/v1/quotes/{revision['id']}"), 404, "not_found")
    assert company.get("/api/v1/quotes?status=draft").json["total"] == 0
    issued = staff.post(f"/api/v1/quotes/{revision['id']}/issue").json
    assert issued["reference"] == "DEV-LYC-2027-0001-v2"


def test_who_sees_what(app, callers, db, s, now) -> None:
    quote = issue(app, db, draft(app, db, s), s.coordinator)
    for person, total in ((s.admin, 1), (s.coordinator, 1), (s.company, 1),
                          (s.other_company, 0), (s.trainer, 0), (s.other_coordinator, 0)):
        assert callers(person).get("/api/v1/quotes").json["total"] == total
    for person in (s.other_company, s.trainer, s.other_coordinator):
        assert_error(callers(person).get(f"/api/v1/quotes/{quote.id}"), 404, "not_found")
    assert_error(callers(s.company).post(f"/api/v1/projects/{s.project.id}/quotes", json={}),
                 403, "forbidden")
    assert_error(callers(s.other_company).post(f"/api/v1/projects/{s.project.id}/quotes",
                                               json={}), 404, "not_found")
    assert_error(callers(s.company).post(f"/api/v1/quotes/{quote.id}/revise"), 403,
                 "forbidden")
