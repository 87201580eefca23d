"""GET /api/v1/evaluation: every block of the campus's evaluation, in codes
and integers (hundredths of an hour, euro cents), on the world of
tests/test_evaluation.py; who may read it; the period's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.test_evaluation import Campus, build

URL = "/api/v1/evaluation"
YEAR = "from=2026-09-01&to=2027-09-01"


def _token(client: Any, user: Any) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens",
                        json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def campus(make: Any) -> Campus:
    return build(make)


def keyed(rows: list[dict[str, Any]], key: str = "key") -> dict[str, dict[str, Any]]:
    return {str(r[key]): r for r in rows}


def test_every_block_in_codes_and_integers(client, campus) -> None:
    response = client.get(f"{URL}?{YEAR}", headers=_token(client, campus.coord_b))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"], body["establishment_id"]) == (
        "2026-09-01", "2027-09-01", None)
    a, b = str(campus.alpha.id), str(campus.beta.id)
    training = body["training"]
    assert (training["learners"], training["hours_cents"]) == (3, 1550)
    assert keyed(training["public"])["employee"] == {"key": "employee", "learners": 2,
                                                     "hours_cents": 1150}
    assert keyed(training["public"])["job_seeker"]["hours_cents"] == 400
    assert keyed(training["establishment"])[a]["hours_cents"] == 750
    assert keyed(training["establishment"])[b]["hours_cents"] == 800
    assert keyed(training["sector"])["cosmetics"]["learners"] == 3
    assert keyed(training["month"])["2027-02"]["hours_cents"] == 800
    assert training["school_year"] == [{"key": "2026-2027", "learners": 3, "hours_cents": 1550}]
    machine = keyed(body["machine_hours"], "public")
    assert machine["company"]["booked_hours_cents"] == 800
    assert machine["own"] == {"public": "own", "booked_hours_cents": 300,
                              "used_hours_cents": 200}  # checked in 10:15, out 12:15
    assert machine["campus"]["booked_hours_cents"] == 200
    assert machine["job_seekers"]["booked_hours_cents"] == 100
    revenue = body["revenue"]
    assert (revenue["projects"], revenue["excl_vat_cents"]) == (1, 150_000)
    assert revenue["cells"] == [{"establishment_id": campus.alpha.id, "month": "2027-02",
                                 "projects": 1, "excl_vat_cents": 150_000}]
    satisfaction = body["satisfaction"]
    assert (satisfaction["answered"], satisfaction["contact"], satisfaction["learner"]) == (
        2, 1, 1)
    assert keyed(satisfaction["ratings"], "rating")["overall"]["average"] == 4.0
    assert keyed(satisfaction["ratings"], "rating")["objectives"]["average"] is None
    assert body["sharing"]["shared_hours_cents"] == 200
    assert {(c["booker_establishment_id"], c["machine_establishment_id"]):
            c["booked_hours_cents"] for c in body["sharing"]["cells"]} == {
        (campus.alpha.id, campus.beta.id): 200, (campus.beta.id, campus.beta.id): 300}
    assert {e["code"] for e in body["establishments"]} == {"ALP", "BET"}
    # Aggregates only: nobody's name.
    text = response.get_data(as_text=True)
    for name in ("Martin", "Bernard", "Camille", campus.coord_a.name):
        assert name not in text


def test_one_establishment_and_an_unknown_one(client, campus) -> None:
    headers = _token(client, campus.admin)
    body = client.get(f"{URL}?{YEAR}&establishment_id={campus.beta.id}",
                      headers=headers).get_json()
    assert body["establishment_id"] == campus.beta.id
    assert body["training"]["hours_cents"] == 800
    assert body["revenue"]["excl_vat_cents"] == 0
    response = client.get(f"{URL}?{YEAR}&establishment_id=999999", headers=headers)
    assert response.status_code == 404


def test_the_default_period_is_the_current_school_year(client, campus) -> None:
    body = client.get(URL, headers=_token(client, campus.admin)).get_json()
    assert (body["from"], body["to"]) == ("2026-09-01", "2027-09-01")
    assert body["training"]["hours_cents"] == 1550
    only_from = client.get(f"{URL}?from=2027-01-01", headers=_token(client, campus.admin))
    assert only_from.get_json()["to"] == "2027-09-01"


def test_an_empty_period_gives_zeros(client, campus) -> None:
    body = client.get(f"{URL}?from=2030-09-01&to=2031-09-01",
                      headers=_token(client, campus.admin)).get_json()
    assert body["training"]["learners"] == 0
    assert all(r["booked_hours_cents"] == 0 for r in body["machine_hours"])
    assert body["revenue"]["excl_vat_cents"] == 0
    assert body["satisfaction"]["answered"] == 0
    assert body["sharing"] == {"shared_hours_cents": 0, "cells": []}


@pytest.mark.parametrize("query", ["from=2027-05-01&to=2027-01-01",
                                   "from=2026-01-01&to=2027-09-01"])
def test_a_wrong_period_is_refused(client, campus, query) -> None:
    response = client.get(f"{URL}?{query}", headers=_token(client, campus.admin))
    assert response.status_code == 422
    assert response.get_json()["error"] == "validation"


@pytest.mark.parametrize("role", ["trainer", "company_user"])
def test_trainers_and_companies_are_refused(client, campus, role) -> None:
    response = client.get(f"{URL}?{YEAR}", headers=_token(client, getattr(campus, role)))
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_anonymous_is_401(client) -> None:
    assert client.get(URL).status_code == 401
