"""/api/v1/quotas (API.md) and a booking past a quota through the API: 422
quota_exceeded with its figures and nothing written, or pending."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from models import Booking, EquipmentCategory, Quota, Role
from tests.api_helpers import Callers, assert_error, count, rows


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def c(make: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    iut = make.establishment(code="IUT", name="IUT de Tours")
    return SimpleNamespace(
        owner=owner, iut=iut,
        line=make.equipment(establishment=owner, name="Ligne A",
                            category=EquipmentCategory.PILOT_LINE),
        coordinator=make.user(Role.COORDINATOR, establishment=owner),
        other_coordinator=make.user(Role.COORDINATOR, establishment=iut),
        admin=make.user(Role.ADMIN),
        home_trainer=make.user(Role.TRAINER, establishment=owner),
        iut_trainer=make.user(Role.TRAINER, establishment=iut),
        company=make.user(Role.COMPANY),
        other_company=make.user(Role.COMPANY),
    )


def post_quota(callers: Callers, actor: Any, **body: Any) -> Any:
    return callers(actor).post("/api/v1/quotas", json={
        "applies_to": "establishment", "period": "month", "over": "refuse", **body})


def post_booking(callers: Callers, actor: Any, machine: Any, day: str, start: str,
                 end: str) -> Any:
    return callers(actor).post("/api/v1/bookings", json={
        "equipment_id": machine.id, "title": "Séance",
        "start": f"{day}T{start}:00+01:00", "end": f"{day}T{end}:00+01:00"})


def test_a_coordinator_creates_reads_changes_and_deletes_a_quota(db, callers, c, now):
    answer = post_quota(callers, c.coordinator, equipment_id=c.line.id, max_hours=7.5)
    assert answer.status_code == 201, answer.json
    quota = answer.json
    assert {k: quota[k] for k in ("equipment_id", "category", "establishment_id", "applies_to",
                                  "beneficiary_establishment_id", "period", "max_hours",
                                  "max_future_bookings", "over")} == {
        "equipment_id": c.line.id, "category": None, "establishment_id": c.owner.id,
        "applies_to": "establishment", "beneficiary_establishment_id": None, "period": "month",
        "max_hours": 7.5, "max_future_bookings": None, "over": "refuse"}
    path = f"/api/v1/quotas/{quota['id']}"
    assert callers(c.coordinator).get(path).json["id"] == quota["id"]
    changed = callers(c.coordinator).patch(path, json={"max_future_bookings": 4,
                                                       "over": "approval"})
    assert changed.status_code == 200, changed.json
    assert (changed.json["max_future_bookings"], changed.json["over"]) == (4, "approval")
    assert callers(c.coordinator).delete(path).status_code == 204
    assert_error(callers(c.coordinator).get(path), 404, "not_found")


def test_a_category_quota_names_its_establishment(callers, c, now):
    answer = post_quota(callers, c.coordinator, category="pilot_line",
                        establishment_id=c.owner.id, max_hours=20,
                        beneficiary_establishment_id=c.iut.id)
    assert answer.status_code == 201, answer.json
    assert answer.json["category"] == "pilot_line"
    assert answer.json["beneficiary_establishment_id"] == c.iut.id


@pytest.mark.parametrize("body", [
    {"max_hours": "7"}, {"max_hours": True}, {"max_hours": -1}, {"max_hours": 1e9},
    {"max_future_bookings": 1.5}, {"period": "year"}, {"over": "warn"},
    {"equipment_id": 2**31}, {},
])
def test_a_bad_value_is_a_422_and_writes_nothing(db, callers, c, now, body):
    values = {"equipment_id": c.line.id, "max_hours": 4} | body
    if body == {}:
        values.pop("max_hours")
    before = count(db, Quota)
    assert_error(post_quota(callers, c.coordinator, **values), 422, "validation")
    assert count(db, Quota) == before


def test_another_establishments_coordinator_may_not_write(db, callers, c, now):
    assert_error(post_quota(callers, c.other_coordinator, equipment_id=c.line.id, max_hours=4),
                 403, "forbidden")
    quota = post_quota(callers, c.coordinator, equipment_id=c.line.id, max_hours=4).json
    path = f"/api/v1/quotas/{quota['id']}"
    assert_error(callers(c.other_coordinator).patch(path, json={"max_hours": 40}),
                 403, "forbidden")
    assert_error(callers(c.other_coordinator).delete(path), 403, "forbidden")
    assert_error(callers(c.iut_trainer).delete(path), 403, "forbidden")
    assert_error(post_quota(callers, c.iut_trainer, equipment_id=c.line.id, max_hours=4),
                 403, "forbidden")


def test_each_reader_sees_the_quotas_that_apply_with_their_use(db, callers, c, now):
    per_establishment = post_quota(callers, c.coordinator, equipment_id=c.line.id,
                                   max_hours=10).json
    per_user = post_quota(callers, c.admin, equipment_id=c.line.id, max_hours=3,
                          applies_to="user", max_future_bookings=2).json
    assert post_booking(callers, c.iut_trainer, c.line, "2027-01-14", "09:00",
                        "11:30").status_code == 201
    trainer = callers(c.iut_trainer).get("/api/v1/quotas").json
    assert trainer["total"] == 2
    used = {q["id"]: q["used"] for q in trainer["items"]}
    assert used[per_establishment["id"]] == {"hours": 2.5, "bookings": 1, "from": "2027-01-01",
                                             "to": "2027-02-01"}
    assert used[per_user["id"]]["hours"] == 2.5
    company = callers(c.company).get("/api/v1/quotas").json  # only the per-user quota
    assert [q["id"] for q in company["items"]] == [per_user["id"]]
    assert company["items"][0]["used"]["hours"] == 0
    assert_error(callers(c.company).get(f"/api/v1/quotas/{per_establishment['id']}"),
                 404, "not_found")
    home = callers(c.home_trainer).get("/api/v1/quotas").json  # the owner's: none applies
    assert home["total"] == 0
    coordinator = callers(c.coordinator).get("/api/v1/quotas?limit=1").json
    assert coordinator["total"] == 2
    assert len(coordinator["items"]) == 1


def test_a_booking_past_a_quota_is_refused_with_its_figures_and_writes_nothing(
        db, callers, c, now):
    quota = post_quota(callers, c.coordinator, equipment_id=c.line.id, max_hours=3).json
    assert post_booking(callers, c.iut_trainer, c.line, "2027-01-14", "09:00",
                        "11:00").status_code == 201
    before = rows(db)
    body = assert_error(post_booking(callers, c.iut_trainer, c.line, "2027-01-21", "09:00",
                                     "11:00"), 422, "quota_exceeded")
    assert body["details"] == {"quota_id": quota["id"], "applies_to": "establishment",
                               "period": "month", "limit_hours": 3, "used_hours": 2,
                               "requested_hours": 2}
    assert "Ligne A" in body["message"]
    assert "2027-01" not in body["message"]
    assert rows(db) == before


def test_a_quota_that_sends_to_approval_leaves_the_booking_pending(db, callers, c, now):
    post_quota(callers, c.coordinator, equipment_id=c.line.id, max_hours=1, over="approval",
               beneficiary_establishment_id=c.owner.id)
    first = post_booking(callers, c.home_trainer, c.line, "2027-01-14", "09:00", "10:00")
    assert first.json["status"] == "confirmed"
    second = post_booking(callers, c.home_trainer, c.line, "2027-01-21", "09:00", "10:00")
    assert second.status_code == 201, second.json
    assert second.json["status"] == "pending"
    assert db.get(Booking, second.json["id"]).decision_deadline is not None
