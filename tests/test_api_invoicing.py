"""GET /api/v1/projects/{id}/invoice-lines and GET /api/v1/invoice-lines (issue
15): rows in integer cents, refusals in the API's error body, nothing written."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.api_helpers import Callers, assert_error
from tests.test_invoicing import build_invoicing
from tests.world import fingerprint


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def inv(make, db) -> SimpleNamespace:
    return build_invoicing(make, db)


def lines_url(project_id: int) -> str:
    return f"/api/v1/projects/{project_id}/invoice-lines"


def period_url(establishment_id: int, first: str = "2026-12-01", last: str = "2026-12-31") -> str:
    return f"/api/v1/invoice-lines?establishment_id={establishment_id}&from={first}&to={last}"


def test_a_projects_lines_in_cents(callers, db, inv) -> None:
    caller = callers(inv.coordinator)
    before = fingerprint(db)
    answer = caller.get(lines_url(inv.project.id))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    items = answer.json["items"]
    assert [i["label"] for i in items] == ["Mélangeur", "Formateur", "=1+2 Flacons", "Étuve"]
    first = items[0]
    assert first["quote_reference"] == "DEV-2026-0007-v2"
    assert first["kind"] == "machine_hour"
    assert first["quote_date"] == "2026-11-21"
    assert first["last_session"] == "2026-12-09"
    assert first["customer"] == "Laboratoire Rose"
    assert (first["establishment_code"], first["analytic_code"], first["revenue_account"]) == (
        "LYC", "AN-MEL", "706100")
    # 3.5 h × 45.67 € → 159.85 − 15.99 − 7.19 = 136.67 excl., 27.33 VAT.
    assert (first["quantity_cents"], first["unit_price_cents"], first["gross_cents"],
            first["excl_cents"], first["vat_cents"], first["incl_cents"]) == (
        350, 4567, 15985, 13667, 2733, 16400)
    assert (first["discount_bp"], first["quote_discount_bp"], first["vat_rate_bp"]) == (
        1000, 500, 2000)
    assert (first["learners_attended"], first["attended_hours_cents"]) == (3, 1878)
    assert items[3]["analytic_code"] == "SEC-LYC"
    assert answer.json["totals"] == {"lines": 4, "projects": 1, "excl_cents": 51983,
                                     "vat_cents": 10282, "incl_cents": 62265}
    assert fingerprint(db) == before


@pytest.mark.parametrize(("who", "status", "code"), [
    ("company", 403, "forbidden"), ("trainer", 403, "forbidden"),
    ("other_coordinator", 403, "forbidden"), ("other_company", 404, "not_found"),
    ("other_trainer", 404, "not_found")])
def test_a_projects_lines_are_refused(callers, inv, who, status, code) -> None:
    assert_error(callers(getattr(inv, who)).get(lines_url(inv.project.id)), status, code)


def test_a_project_not_completed_or_without_accepted_quote(callers, inv) -> None:
    caller = callers(inv.admin)
    body = assert_error(caller.get(lines_url(inv.projects.running.id)), 409, "invalid_state")
    assert body["details"] == {"status": "in_progress"}
    assert "«\u00a0En cours\u00a0»" in body["message"]
    body = assert_error(caller.get(lines_url(inv.projects.issued.id)), 409, "no_accepted_quote")
    assert "devis accepté" in body["message"]
    assert_error(caller.get(lines_url(2**31 - 1)), 404, "not_found")


def test_a_period(callers, inv) -> None:
    answer = callers(inv.coordinator).get(period_url(inv.home.id))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert [i["project_id"] for i in answer.json["items"]] == [
        inv.projects.early.id] + [inv.project.id] * 4
    assert answer.json["totals"]["projects"] == 2
    assert answer.json["totals"]["excl_cents"] == 10000 + 51983
    # The last day is included, in Europe/Paris: 1 January 00:30.
    answer = callers(inv.admin).get(period_url(inv.home.id, "2027-01-01", "2027-01-01"))
    assert [i["project_id"] for i in answer.json["items"]] == [inv.projects.late.id]


def test_a_period_refused(callers, inv) -> None:
    assert_error(callers(inv.other_coordinator).get(period_url(inv.home.id)), 403, "forbidden")
    assert_error(callers(inv.company).get(period_url(inv.home.id)), 403, "forbidden")
    # Companies and trainers are refused before their query is read.
    assert_error(callers(inv.trainer).get("/api/v1/invoice-lines"), 403, "forbidden")
    assert_error(callers(inv.admin).get(period_url(2**31 - 1)), 404, "not_found")
    body = assert_error(callers(inv.admin).get(period_url(inv.home.id, "2026-12-31",
                                                          "2026-12-01")), 422, "validation")
    assert body["details"]["field"] == "to"
    assert_error(callers(inv.admin).get(period_url(inv.home.id, "2025-01-01", "2026-12-31")),
                 422, "validation")
    assert_error(callers(inv.admin).get("/api/v1/invoice-lines?from=2026-12-01&to=2026-12-31"),
                 422, "validation")
