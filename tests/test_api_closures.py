"""Closures through the API: who declares and lifts them, validation, times."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, Closure, ClosureKind, Role
from tests.api_helpers import Callers, assert_error, count

PERIOD = {"start": "2027-03-01T08:00:00+01:00", "end": "2027-03-05T18:00:00+01:00"}


@pytest.fixture
def home(make):
    return make.establishment(code="HOME")


@pytest.fixture
def people(make, home):
    return {"admin": make.user(Role.ADMIN),
            "coordinator": make.user(Role.COORDINATOR, establishment=home),
            "other_coordinator": make.user(Role.COORDINATOR),
            "trainer": make.user(Role.TRAINER), "company": make.user(Role.COMPANY)}


@pytest.fixture
def as_(client, people):
    callers = Callers(client)
    return lambda role: callers(people[role])


@pytest.fixture
def machine(make, home):
    return make.equipment(establishment=home)


def _post(as_, role, **body):
    return as_(role).post("/api/v1/closures", json={**PERIOD, "reason": "Inventaire", **body})


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 201), ("coordinator", 201), ("other_coordinator", 403), ("trainer", 403),
    ("company", 403),
])
@pytest.mark.parametrize("scope", ["establishment", "equipment"])
def test_who_closes(as_, db, home, machine, role, status, scope) -> None:
    target = {"establishment_id": home.id} if scope == "establishment" else \
        {"equipment_id": machine.id}
    before = (count(db, Closure), count(db, AuditEntry))
    answer = _post(as_, role, kind="maintenance", **target)
    assert answer.status_code == status, answer.json
    if status != 201:
        assert answer.json["error"] == "forbidden"
        assert (count(db, Closure), count(db, AuditEntry)) == before
        return
    assert answer.json == {
        "id": answer.json["id"], "establishment_id": target.get("establishment_id"),
        "equipment_id": target.get("equipment_id"), **PERIOD, "reason": "Inventaire",
        "kind": "maintenance"}
    closure = db.get(Closure, answer.json["id"])
    assert closure.kind is ClosureKind.MAINTENANCE
    assert closure.start_at.utcoffset().total_seconds() == 0
    assert closure.start_at.hour == 7  # stored in UTC
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_type == "closure")) == "closure.create"


def test_times_are_given_in_the_establishments_zone(as_, make) -> None:
    reunion = make.establishment(code="RUN", timezone="Indian/Reunion")
    answer = _post(as_, "admin", establishment_id=reunion.id,
                   start="2027-07-01T06:00:00Z", end="2027-07-01T10:00:00+00:00")
    assert answer.status_code == 201
    assert (answer.json["start"], answer.json["end"]) == (
        "2027-07-01T10:00:00+04:00", "2027-07-01T14:00:00+04:00")
    assert answer.json["kind"] == "other"
    equipment = make.equipment(establishment=reunion)
    on_machine = _post(as_, "admin", equipment_id=equipment.id, start="2027-07-01T06:00:00Z",
                       end="2027-07-01T07:00:00Z")
    assert on_machine.json["start"] == "2027-07-01T10:00:00+04:00"
    listed = as_("admin").get(f"/api/v1/closures?equipment_id={equipment.id}").json
    assert [c["start"] for c in listed["items"]] == ["2027-07-01T10:00:00+04:00"]


@pytest.mark.parametrize("body", [
    {"start": "2027-03-01T08:00:00"}, {"end": "2027-03-05 18:00"},
    {"start": "2027-03-05T18:00:00+01:00", "end": "2027-03-01T08:00:00+01:00"},
    {"end": PERIOD["start"]}, {"reason": ""}, {"reason": "   "}, {"reason": None},
    {"kind": "party"}, {"start": "0001-01-01T00:00:00+01:00"}, {"start": 1700000000},
    {"establishment_id": "HOME"}, {"establishment_id": 1.5},
])
def test_bad_closures_are_422(as_, db, home, body) -> None:
    before = count(db, Closure)
    body = {"establishment_id": home.id, **body}
    assert_error(_post(as_, "coordinator", **body), 422, "validation")
    assert count(db, Closure) == before


@pytest.mark.parametrize("target", [
    {}, {"establishment_id": None, "equipment_id": None}, "both",
    {"establishment_id": 999999}, {"equipment_id": 999999},
])
def test_closure_needs_exactly_one_existing_scope(as_, db, home, machine, target) -> None:
    if target == "both":
        target = {"establishment_id": home.id, "equipment_id": machine.id}
    before = count(db, Closure)
    assert_error(_post(as_, "admin", **target), 422, "validation")
    assert count(db, Closure) == before


@pytest.mark.parametrize("missing", ["start", "end", "reason"])
def test_missing_closure_field_is_422(as_, home, missing) -> None:
    body = {**PERIOD, "reason": "Inventaire", "establishment_id": home.id}
    del body[missing]
    assert_error(as_("admin").post("/api/v1/closures", json=body), 422, "validation")


def test_malformed_json_is_400(as_) -> None:
    answer = as_("admin").post("/api/v1/closures", data="{nope",
                               content_type="application/json")
    assert_error(answer, 400, "bad_request")


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("other_coordinator", 200), ("trainer", 403),
    ("company", 403),
])
def test_who_lists_closures(as_, home, role, status) -> None:
    assert _post(as_, "admin", establishment_id=home.id).status_code == 201
    answer = as_(role).get("/api/v1/closures")
    assert answer.status_code == status
    if status == 200:
        assert answer.json["total"] == 1


def test_list_filters_and_pages(as_, make, home, machine) -> None:
    other = make.establishment()
    weeks = [("2027-03-01", "2027-03-05"), ("2027-03-08", "2027-03-12"),
             ("2027-03-15", "2027-03-19")]
    for first, last in weeks:
        assert _post(as_, "admin", establishment_id=home.id, start=f"{first}T08:00:00+01:00",
                     end=f"{last}T18:00:00+01:00").status_code == 201
    _post(as_, "admin", establishment_id=other.id)
    _post(as_, "admin", equipment_id=machine.id)
    admin = as_("admin")

    def starts(query: str) -> list[str]:
        answer = admin.get(f"/api/v1/closures?{query}")
        assert answer.status_code == 200, answer.json
        return [c["start"][:10] for c in answer.json["items"]]

    assert starts(f"establishment_id={home.id}") == ["2027-03-01", "2027-03-08", "2027-03-15"]
    assert starts(f"equipment_id={machine.id}") == ["2027-03-01"]
    window = "from=2027-03-06T00:00:00%2B01:00&to=2027-03-15T08:00:00%2B01:00"
    assert starts(f"establishment_id={home.id}&{window}") == ["2027-03-08"]
    page = admin.get(f"/api/v1/closures?establishment_id={home.id}&limit=2&offset=2").json
    assert page["total"] == 3
    assert len(page["items"]) == 1
    assert len(admin.get("/api/v1/closures?limit=501").json["items"]) == 5
    for bad in ("from=2027-03-06T00:00:00", "from=2027-03-10T00:00:00Z&to=2027-03-01T00:00:00Z",
                "equipment_id=x", "limit=0"):
        assert_error(admin.get(f"/api/v1/closures?{bad}"), 422, "validation")


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 204), ("coordinator", 204), ("other_coordinator", 403), ("trainer", 403),
    ("company", 403),
])
@pytest.mark.parametrize("scope", ["establishment", "equipment"])
def test_who_lifts_a_closure(as_, db, home, machine, role, status, scope) -> None:
    target = {"establishment_id": home.id} if scope == "establishment" else \
        {"equipment_id": machine.id}
    closure_id = _post(as_, "admin", **target).json["id"]
    audits = count(db, AuditEntry)
    answer = as_(role).delete(f"/api/v1/closures/{closure_id}")
    assert answer.status_code == status
    if status == 204:
        assert db.get(Closure, closure_id) is None
        assert db.scalar(select(AuditEntry.action).where(
            AuditEntry.object_id == closure_id).order_by(AuditEntry.id.desc()).limit(1)) \
            == "closure.delete"
        assert_error(as_(role).delete(f"/api/v1/closures/{closure_id}"), 404, "not_found")
    else:
        assert_error(answer, 403, "forbidden")
        assert db.get(Closure, closure_id) is not None
        assert count(db, AuditEntry) == audits
