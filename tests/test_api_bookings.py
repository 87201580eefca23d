"""API.md's booking rows, every role and error code; NOW is Tue 12 Jan 2027 09:00 Paris."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models import Closure, EquipmentStatus, Project, ProjectStatus
from tests.api_helpers import (
    ROLES,
    Callers,
    Campus,
    assert_error,
    assert_unauthorized,
    at,
    body,
    book,
    rows,
    span,
)


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


@pytest.fixture
def eq(make, campus):  # open Monday to Friday 08:00–18:00 in Paris, 30 min changeover
    return make.equipment(code="EMUL-1", establishment=campus.home, changeover_minutes=30)


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/api/v1/bookings"), ("get", "/api/v1/bookings"), ("get", "/api/v1/bookings/1"),
    ("patch", "/api/v1/bookings/1"), *[("post", f"/api/v1/bookings/1/{action}")
                                       for action in ("cancel", "approve", "reject")]])
def test_no_or_bad_token_is_401(client, db, method, path) -> None:
    assert_unauthorized(client, db, method, path)


# --- creating one booking -----------------------------------------------------------------


def test_trainer_books_confirmed(as_, campus, eq, db) -> None:
    trainer, before = campus["trainer"], rows(db)
    caller = as_(trainer)
    answer = caller.post("/api/v1/bookings", json=body(eq, participants=6))
    booking = answer.json
    assert (answer.status_code, bool(booking["uid"])) == (201, True), booking
    expected = {"equipment_id": eq.id, **span("01-13", "09:00", "10:00"), "title": "Émulsion",
                "purpose": "training", "status": "confirmed", "booked_by_id": trainer.id,
                "trainer_id": trainer.id, "project_id": None, "series_id": None,
                "sequence": 0, "participants": 6}
    assert {k: booking[k] for k in expected} == expected
    assert [b - a for a, b in zip(before, rows(db), strict=True)] == [1, 1, 1, 0, 0]
    assert caller.get(f"/api/v1/bookings/{booking['id']}").json == booking


@pytest.mark.parametrize(("start", "end", "shown"), [
    ("2027-01-13T08:00:00Z", "2027-01-13T09:00:00+00:00", "2027-01-13T09:00:00+01:00"),
    ("2027-01-13T03:00:00-05:00", "2027-01-13T10:00:00+01:00", "2027-01-13T09:00:00+01:00"),
    ("2027-06-02T07:00:00Z", "2027-06-02T10:00:00+02:00", "2027-06-02T09:00:00+02:00"),
    ("2028-02-16T08:00:00Z", "2028-02-16T10:00:00+01:00", "2028-02-16T09:00:00+01:00"),
])  # the last: NOW + 400 days, the horizon itself
def test_times_are_answered_in_paris(as_, campus, eq, start, end, shown) -> None:
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json={
        "equipment_id": eq.id, "start": start, "end": end, "title": "Fuseaux"})
    assert answer.status_code == 201, answer.json
    assert answer.json["start"] == shown
    assert answer.json["end"] == shown.replace("T09:", "T10:")


@pytest.mark.parametrize(("role", "project", "status", "result"), [
    ("admin", None, 201, "confirmed"), ("coordinator", None, 201, "confirmed"),
    ("trainer", None, 201, "confirmed"), ("trainer", "approved", 201, "pending"),
    ("company", "approved", 201, "pending"), ("company", None, 422, "validation"),
    ("other_company", "approved", 404, "not_found"), ("company", "requested", 409, "invalid_state"),
    ("other_trainer", "approved", 404, "not_found"),  # not the project's trainer
])
def test_who_books_and_what_status(as_, campus, eq, db, role, project, status, result) -> None:
    campus.project.status = ProjectStatus(project or "approved")
    db.flush()
    caller, before = as_(campus[role]), rows(db)
    extra = {"project_id": campus.project.id} if project else {}
    answer = caller.post("/api/v1/bookings", json=body(eq, **extra))
    if status != 201:
        error = assert_error(answer, status, result)
        assert project or error["details"] == {"field": "project_id"}
        assert rows(db) == before
        return
    assert answer.status_code == 201, answer.json
    assert (answer.json["status"], answer.json["booked_by_id"]) == (result, campus[role].id)
    if project:
        assert answer.json["project_id"] == campus.project.id
        assert answer.json["trainer_id"] == campus["trainer"].id
        db.expire_all()
        assert db.get(Project, campus.project.id).status is ProjectStatus.SCHEDULED


BAD = [  # (change to a good body, status, code); None drops the field
    *[(change, 422, "validation") for change in (
        {"start": "2027-01-13T09:00:00"}, {"end": "2027-01-13T10:00:00"},
        span("01-13", "10:00", "09:00"), span("01-13", "09:00", "09:00"), {"title": None},
        {"start": None}, {"end": None}, {"equipment_id": None}, {"equipment_id": "one"},
        {"participants": "ten"}, {"participants": -1}, {"purpose": "party"}, {"title": "  "},
        {"start": "next tuesday"}, {"recurrence": "weekly"}, {"trainer_id": "me"})],
    ({"equipment_id": 999999}, 404, "not_found"),
    (span("01-13", "09:10", "10:10"), 422, "not_aligned"),
    (span("01-13", "08:00", "17:00"), 422, "duration"),
    (span("01-11", "09:00", "10:00"), 422, "in_past"),
    (span("01-12", "08:30", "09:30"), 422, "in_past"),
    (span("02-17", "09:00", "10:00", year=2028), 422, "horizon"),
    (span("01-13", "17:30", "18:30"), 422, "outside_opening_hours"),
    (span("01-16", "10:00", "11:00"), 422, "outside_opening_hours"),
    (span("03-29", "09:00", "10:00", "+02:00"), 422, "closed"),
    ('{"equipment_id": ', 400, "bad_request"),
]


@pytest.mark.parametrize(("change", "status", "code"), BAD)
def test_refused_bookings_write_nothing(as_, campus, eq, db, change, status, code) -> None:
    caller, before = as_(campus["trainer"]), rows(db)
    if isinstance(change, str):  # not JSON
        answer = caller.post("/api/v1/bookings", data=change, content_type="application/json")
    else:
        answer = caller.post("/api/v1/bookings", json={
            k: v for k, v in {**body(eq), **change}.items() if v is not None})
    assert_error(answer, status, code)
    assert rows(db) == before


def test_closure_and_maintenance(as_, campus, eq, db) -> None:
    caller = as_(campus["trainer"])
    db.add(Closure(equipment_id=eq.id, reason="Nettoyage", start_at=datetime(
        2027, 1, 13, tzinfo=UTC), end_at=datetime(2027, 1, 14, tzinfo=UTC)))
    eq.status, eq.status_reason = EquipmentStatus.MAINTENANCE, "Pompe à vide"
    db.flush()
    before = rows(db)
    unavailable = caller.post("/api/v1/bookings", json=body(eq, day="01-14"))
    assert assert_error(unavailable, 422, "equipment_unavailable")["details"]["status"] == \
        "maintenance"
    eq.status = EquipmentStatus.ACTIVE
    db.flush()
    closed = assert_error(caller.post("/api/v1/bookings", json=body(eq)), 422, "closed")
    assert closed["details"]["conflicts"][0]["reason"] == "Nettoyage"
    assert rows(db) == before


def test_certification_required_and_override(as_, campus, eq, make, db) -> None:
    ctype = make.certification_type(code="BPF", name="Bonnes pratiques de fabrication")
    eq.required_certification_types = [ctype]
    db.flush()
    trainer, before = as_(campus["trainer"]), rows(db)
    refused = assert_error(trainer.post("/api/v1/bookings", json=body(eq)), 403,
                           "certification_required")
    assert [{k: m[k] for k in ("id", "code", "name")} for m in refused["details"]["missing"]] \
        == [{"id": ctype.id, "code": "BPF", "name": "Bonnes pratiques de fabrication"}]
    assert_error(trainer.post("/api/v1/bookings", json=body(eq, override_reason="urgent")),
                 403, "forbidden")
    assert rows(db) == before
    overridden = book(as_(campus["coordinator"]), eq, trainer_id=campus["trainer"].id,
                      override_reason="Formé le 10/01, attestation à venir")
    assert overridden["override_reason"].startswith("Formé")
    make.certification(campus["trainer"], ctype)
    assert book(trainer, eq, start="11:00", end="12:00")["status"] == "confirmed"


def test_conflict_lists_the_bookings_it_meets(as_, campus, eq, make, db) -> None:
    first = book(as_(campus["trainer"]), eq)
    other, before = as_(campus["other_trainer"]), rows(db)
    for start, end in (("09:30", "10:30"), ("10:00", "11:00"), ("08:00", "09:30")):
        answer = other.post("/api/v1/bookings", json=body(eq, start=start, end=end))
        conflicts = assert_error(answer, 409, "conflict")["details"]["conflicts"]
        assert [{k: c[k] for k in ("booking_id", "start", "end")} for c in conflicts] == [
            {"booking_id": first["id"], **span("01-13", "09:00", "10:00")}]
    assert rows(db) == before
    assert book(other, eq, start="10:30", end="11:30")["status"] == "confirmed"
    # Another machine at the same time: free, but its trainer is not (issue 13).
    same_time_elsewhere = make.equipment(establishment=campus.home)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=body(same_time_elsewhere))
    busy = assert_error(answer, 409, "trainer_busy")["details"]["conflicts"]
    assert [c["booking_id"] for c in busy] == [first["id"]]
    assert book(as_(campus["other_trainer"]), same_time_elsewhere)["status"] == "confirmed"


# --- series -------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "day", "starts"), [
    ("RRULE:FREQ=WEEKLY;COUNT=3", "01-13", [at(d, "09:00") for d in ("01-13", "01-20", "01-27")]),
    ("FREQ=WEEKLY;UNTIL=20270331", "03-24", [at("03-24", "09:00"), at("03-31", "09:00", "+02:00")]),
])
def test_series_books_every_occurrence(as_, campus, eq, db, rule, day, starts) -> None:
    before = rows(db)
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=body(
        eq, day=day, recurrence={"rrule": rule}))
    assert answer.status_code == 201, answer.json
    created = answer.json["created"]
    assert answer.json["skipped"] == []
    assert [b["start"] for b in created] == starts
    assert len({b["series_id"] for b in created} - {None}) == 1
    assert {b["status"] for b in created} == {"confirmed"}
    n = len(starts)  # bookings, occupancies, audit entries (one for the series), series
    assert [b - a for a, b in zip(before, rows(db), strict=True)] == [n, n, n + 1, 1, 0]


def test_series_skips_what_does_not_fit(as_, campus, eq) -> None:
    book(as_(campus["other_trainer"]), eq, day="01-20", start="09:30", end="10:30")
    answer = as_(campus["trainer"]).post("/api/v1/bookings", json=body(
        eq, day="01-11", recurrence={"rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8",
                                     "skip_conflicts": True}))
    assert answer.status_code == 201, answer.json
    assert [b["start"][:10] for b in answer.json["created"]] == [
        "2027-01-13", "2027-01-18", "2027-01-25", "2027-01-27", "2027-02-01", "2027-02-03"]
    assert [{k: s[k] for k in ("start", "end", "error")} for s in answer.json["skipped"]] == [
        {**span("01-11", "09:00", "10:00"), "error": "in_past"},
        {**span("01-20", "09:00", "10:00"), "error": "conflict"}]
    over_easter = as_(campus["trainer"]).post("/api/v1/bookings", json=body(
        eq, day="03-22", recurrence={"rrule": "FREQ=WEEKLY;COUNT=2", "skip_conflicts": True}))
    assert over_easter.json["skipped"][0]["error"] == "closed"
    assert over_easter.json["skipped"][0]["start"] == at("03-29", "09:00", "+02:00")


@pytest.mark.parametrize(("recurrence", "status", "code"), [
    ({"rrule": "FREQ=WEEKLY;COUNT=3"}, 409, "conflict"),
    ({"rrule": "FREQ=WEEKLY;COUNT=3", "skip_conflicts": False}, 409, "conflict"),
    *[(bad, 422, "validation") for bad in ({"rrule": "FREQ=WEEKLY"}, {"rrule": ""},
                                           {"rrule": "FREQ=SOMETIMES;COUNT=2"},
                                           {"skip_conflicts": True},
                                           # bounded work (test_bounded_work.py)
                                           {"rrule": "FREQ=SECONDLY;BYMONTH=2;BYMONTHDAY=30;"
                                                     "COUNT=1"},
                                           {"rrule": "FREQ=WEEKLY;UNTIL=00010101T000000"})],
])
def test_series_all_or_nothing(as_, campus, eq, db, recurrence, status, code) -> None:
    book(as_(campus["other_trainer"]), eq, day="01-20")
    caller, before = as_(campus["trainer"]), rows(db)
    assert_error(caller.post("/api/v1/bookings", json=body(eq, recurrence=recurrence)),
                 status, code)
    assert rows(db) == before


# --- listing ------------------------------------------------------------------------------


@pytest.fixture
def four(as_, campus, eq, make):
    """b1, b4 pending (project P), b2 confirmed (other trainer), b3 confirmed (away)."""
    away = make.equipment(code="AWAY-1", establishment=campus.away)
    return {"b1": book(as_(campus["trainer"]), eq, project_id=campus.project.id),
            "b2": book(as_(campus["other_trainer"]), eq, day="01-14"),
            "b3": book(as_(campus["other_coordinator"]), away, day="01-15"),
            "b4": book(as_(campus["company"]), eq, day="01-15", project_id=campus.project.id),
            "away": away}


@pytest.mark.parametrize(("role", "query", "expected"), [
    *[(r, "", ["b1", "b2", "b3", "b4"]) for r in ROLES if "company" not in r],
    ("company", "", ["b1", "b4"]), ("other_company", "", []),
    ("company", "status=confirmed", []), ("company", "equipment_id={eq}", ["b1", "b4"]),
    ("trainer", "equipment_id={away}", ["b3"]),
    ("trainer", "establishment_id={home}", ["b1", "b2", "b4"]),
    ("coordinator", "trainer_id={trainer}", ["b1", "b4"]),
    ("coordinator", "project_id={project}", ["b1", "b4"]),
    ("admin", "status=confirmed", ["b2", "b3"]), ("admin", "status=pending", ["b1", "b4"]),
    ("admin", "from=2027-01-14T00:00:00%2B01:00", ["b2", "b3", "b4"]),
    ("admin", "to=2027-01-14T00:00:00%2B01:00", ["b1"]),
    ("admin", "from=2027-01-14T08:00:00Z&to=2027-01-14T09:00:00Z", ["b2"]),
    ("admin", "limit=2&offset=1", ["b2", "b3"]), ("admin", "limit=1000", ["b1", "b2", "b3", "b4"]),
    *[("trainer", bad, None) for bad in ("status=done", "from=2027-01-14T00:00:00", "limit=0",
                                         "equipment_id=x", "to=soon")],
])
def test_list_scope_and_filters(as_, campus, eq, four, role, query, expected) -> None:
    query = query.format(eq=eq.id, away=four["away"].id, home=campus.home.id,
                         trainer=campus["trainer"].id, project=campus.project.id)
    answer = as_(campus[role]).get(f"/api/v1/bookings?{query}")
    if expected is None:
        assert_error(answer, 422, "validation")
        return
    assert answer.status_code == 200, answer.json
    ids = {four[name]["id"]: name for name in ("b1", "b2", "b3", "b4")}
    assert [ids[b["id"]] for b in answer.json["items"]] == expected
    assert answer.json["total"] == (4 if query.startswith("limit") else len(expected))


# --- reading, moving, cancelling, deciding: the permission matrix ---------------------------

EXPECTED = {  # view, change (move, retitle), cancel, decide (approve, reject)
    "admin": (200, 200, 200, 200), "coordinator": (200, 200, 200, 200),
    "trainer": (200, 200, 200, 403), "other_company": (404, 404, 404, 404),
    **dict.fromkeys(("other_coordinator", "other_trainer", "company"), (200, 403, 403, 403)),
}
ACTIONS = {  # action: (column of EXPECTED, method, suffix, body, answer fields when allowed)
    "view": (0, "get", "", None, {"status": "pending", "sequence": 0}),
    "retitle": (1, "patch", "", {"title": "Fuseaux"}, {"title": "Fuseaux", "sequence": 1}),
    "move": (1, "patch", "", span("01-13", "11:00", "12:00"),
             {**span("01-13", "11:00", "12:00"), "sequence": 1}),
    "cancel": (2, "post", "/cancel", {"reason": "Grève"},
               {"status": "cancelled", "cancel_reason": "Grève", "sequence": 1}),
    "approve": (3, "post", "/approve", {}, {"status": "confirmed", "sequence": 1}),
    "reject": (3, "post", "/reject", {"reason": "Ligne prise"},
               {"status": "rejected", "decision_reason": "Ligne prise", "sequence": 1}),
}


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(as_, campus, eq, db, role, action) -> None:
    target = book(as_(campus["trainer"]), eq, project_id=campus.project.id)
    column, method, suffix, payload, fields = ACTIONS[action]
    status, caller, before = EXPECTED[role][column], as_(campus[role]), rows(db)
    kwargs = {} if payload is None else {"json": payload}
    answer = getattr(caller, method)(f"/api/v1/bookings/{target['id']}{suffix}", **kwargs)
    if status == 200:
        assert answer.status_code == 200, answer.json
        assert {k: answer.json[k] for k in fields} == fields
    else:
        assert_error(answer, status, "forbidden" if status == 403 else "not_found")
        assert rows(db) == before
        assert as_(campus["admin"]).get(f"/api/v1/bookings/{target['id']}").json == target


def test_its_trainer_moves_but_does_not_cancel(as_, campus, eq) -> None:
    booking = book(as_(campus["coordinator"]), eq, trainer_id=campus["trainer"].id)
    trainer, path = as_(campus["trainer"]), f"/api/v1/bookings/{booking['id']}"
    assert trainer.patch(path, json={"title": "Fuseaux"}).json["sequence"] == 1
    moved = trainer.patch(path, json=span("01-13", "14:00", "16:00"))
    assert (moved.status_code, moved.json["sequence"]) == (200, 2)
    assert_error(trainer.post(f"{path}/cancel", json={}), 403, "forbidden")
    assert_error(as_(campus["other_trainer"]).patch(path, json={"title": "X"}), 403, "forbidden")


@pytest.mark.parametrize(("change", "status", "code"), [
    (span("01-13", "10:00", "11:00"), 409, "conflict"),
    ({"start": at("01-13", "09:30")}, 409, "conflict"),
    (span("01-13", "08:00", "09:00"), 409, "conflict"),  # its own changeover meets the first
    ({"start": "2027-01-13T14:00:00"}, 422, "validation"),
    ({"end": at("01-13", "10:00")}, 422, "validation"),
    (span("01-16", "11:00", "12:00"), 422, "outside_opening_hours"),
    (span("01-11", "11:00", "12:00"), 422, "in_past"),
    ({"title": ""}, 422, "validation"),
    ({"title": 5}, 422, "validation"),
])
def test_refused_moves_change_nothing(as_, campus, eq, db, change, status, code) -> None:
    first = book(as_(campus["other_trainer"]), eq)
    caller = as_(campus["trainer"])
    second = book(caller, eq, start="11:00", end="12:00")
    before = rows(db)
    answer = caller.patch(f"/api/v1/bookings/{second['id']}", json=change)
    error = assert_error(answer, status, code)
    if code == "conflict":
        assert [c["booking_id"] for c in error["details"]["conflicts"]] == [first["id"]]
    assert rows(db) == before
    assert caller.get(f"/api/v1/bookings/{second['id']}").json == second
    assert_error(caller.patch("/api/v1/bookings/999999", json={"title": "X"}), 404, "not_found")


def test_cancel_twice_is_invalid_state_and_frees_the_slot(as_, campus, eq, db) -> None:
    caller = as_(campus["trainer"])
    booking = book(caller, eq)
    path = f"/api/v1/bookings/{booking['id']}"
    assert caller.post(f"{path}/cancel", json={"reason": "Malade"}).json["status"] == "cancelled"
    before = rows(db)
    assert_error(caller.post(f"{path}/cancel", json={}), 409, "invalid_state")
    assert_error(caller.patch(path, json={"title": "Encore"}), 409, "invalid_state")
    assert_error(as_(campus["admin"]).post(f"{path}/approve", json={}), 409, "invalid_state")
    assert rows(db) == before
    assert book(as_(campus["other_trainer"]), eq)["status"] == "confirmed"


def test_decisions_need_a_pending_booking(as_, campus, eq, db) -> None:
    coordinator = as_(campus["coordinator"])
    confirmed = book(as_(campus["trainer"]), eq)
    pending = book(as_(campus["company"]), eq, day="01-14", project_id=campus.project.id)
    before = rows(db)
    for booking_id, status, code in ((confirmed["id"], 409, "invalid_state"),
                                     (999999, 404, "not_found")):
        for suffix in ("approve", "reject"):
            answer = coordinator.post(f"/api/v1/bookings/{booking_id}/{suffix}", json={})
            assert_error(answer, status, code)
    assert rows(db) == before
    path = f"/api/v1/bookings/{pending['id']}"
    assert coordinator.post(f"{path}/reject", json={"reason": "Non"}).json["status"] == "rejected"
    assert_error(coordinator.post(f"{path}/approve", json={}), 409, "invalid_state")
    assert_error(coordinator.post(f"{path}/reject", json={"reason": 5}), 422, "validation")


@pytest.mark.parametrize("n", [2**31, 99999999999999999999])  # beyond int4, beyond int8
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/bookings/{n}"), ("post", "/api/v1/bookings/{n}/cancel"),
    ("get", "/api/v1/equipment/{n}"), ("get", "/api/v1/bookings?equipment_id={n}"),
    ("post", "/api/v1/bookings")])
def test_ids_out_of_range_are_not_500(as_, campus, eq, app, monkeypatch, method, path,
                                      n) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    kwargs = {"json": {**body(eq), "equipment_id": n} if path.endswith("s") else {}}
    answer = getattr(as_(campus["admin"]), method)(path.format(n=n), **kwargs)
    assert answer.status_code in (404, 422), answer.json
