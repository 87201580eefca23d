"""API.md's token, equipment, availability and OpenAPI rows, for every role."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from booking.timeutil import frozen
from models import (
    AuditEntry,
    Closure,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
)
from tests.api_helpers import (
    ROLES,
    Callers,
    Campus,
    assert_error,
    assert_unauthorized,
    at,
    book,
    rows,
    span,
)
from tests.conftest import NOW, PASSWORD

STAFF = ("admin", "coordinator")


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


# --- tokens -------------------------------------------------------------------------------


def test_token_is_issued_revoked_and_expires(client, campus, now) -> None:
    user = campus["trainer"]
    answer = client.post("/api/v1/auth/tokens", json={"email": user.email.upper(),
                                                      "password": PASSWORD})
    assert answer.status_code == 201
    assert set(answer.json) == {"token", "expires_at"}
    assert datetime.fromisoformat(answer.json["expires_at"]) == NOW + timedelta(hours=24)
    headers = {"Authorization": f"Bearer {answer.json['token']}"}
    assert client.get("/api/v1/equipment", headers=headers).status_code == 200
    other = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/equipment", headers=headers), 401, "unauthorized")
    assert_error(client.delete("/api/v1/auth/tokens/current", headers=headers), 401,
                 "unauthorized")
    still = {"Authorization": f"Bearer {other.json['token']}"}
    assert client.get("/api/v1/equipment", headers=still).status_code == 200
    with frozen(NOW + timedelta(hours=24)):  # expired
        assert_error(client.get("/api/v1/equipment", headers=still), 401, "unauthorized")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"email": "{email}", "password": "wrong"}, 401, "unauthorized"),
    ({"email": "nobody@example.org", "password": PASSWORD}, 401, "unauthorized"),
    ({"email": "{email}"}, 422, "validation"),
    ({"email": "{email}", "password": 5}, 422, "validation"),
    ('{"email": ', 400, "bad_request"),
])
def test_token_refusals(client, campus, body, status, code) -> None:
    if isinstance(body, str):
        answer = client.post("/api/v1/auth/tokens", data=body, content_type="application/json")
    else:
        answer = client.post("/api/v1/auth/tokens", json={
            k: v.format(email=campus["trainer"].email) if isinstance(v, str) else v
            for k, v in body.items()})
    assert_error(answer, status, code)


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/equipment"), ("post", "/api/v1/equipment"), ("get", "/api/v1/equipment/1"),
    ("patch", "/api/v1/equipment/1"), ("get", "/api/v1/equipment/1/availability"),
    ("delete", "/api/v1/auth/tokens/current")])
def test_no_or_bad_token_is_401(client, db, method, path) -> None:
    assert_unauthorized(client, db, method, path)


# --- the catalogue ------------------------------------------------------------------------


@pytest.fixture
def catalogue(make, campus):
    home, away, cat = campus.home, campus.away, EquipmentCategory
    return [make.equipment(code=code, name=name, establishment=where, category=kind,
                           description=text) for code, name, where, kind, text in (
        ("LYO-1", "Lyophilisateur", home, cat.ANALYSIS_INSTRUMENT, ""),
        ("MIX-1", "Mélangeur", home, cat.TRAINING_EQUIPMENT, "Cuve inox 50 L"),
        ("ROOM-1", "Salle blanche", home, cat.ROOM, ""),
        ("ROOM-2", "Salle grise", away, cat.ROOM, ""))]


@pytest.mark.parametrize(("query", "codes"), [
    ("", ["LYO-1", "MIX-1", "ROOM-1", "ROOM-2"]), ("establishment_id={away}", ["ROOM-2"]),
    ("category=room", ["ROOM-1", "ROOM-2"]), ("category=room&establishment_id={home}", ["ROOM-1"]),
    ("q=LYOPHIL", ["LYO-1"]), ("q=inox", ["MIX-1"]), ("q=room-", ["ROOM-1", "ROOM-2"]),
    ("q=mélangeur", ["MIX-1"]), ("q=nothing-like-it", []),
])
@pytest.mark.parametrize("role", ["trainer", "company"])
def test_list_filters(as_, campus, catalogue, role, query, codes) -> None:
    query = query.format(home=campus.home.id, away=campus.away.id)
    answer = as_(campus[role]).get(f"/api/v1/equipment?{query}")
    assert answer.status_code == 200
    assert [e["code"] for e in answer.json["items"]] == codes
    assert answer.json["total"] == len(codes)


def test_search_ignores_case_of_accented_letters(as_, campus, make) -> None:
    make.equipment(code="ETV-1", name="Étuve", establishment=campus.home)
    answer = as_(campus["trainer"]).get("/api/v1/equipment?q=étuve")
    assert [e["code"] for e in answer.json["items"]] == ["ETV-1"]


@pytest.mark.parametrize("q", ["%", "_", "LYO_1"])
def test_search_takes_wildcards_literally(as_, campus, catalogue, q) -> None:
    answer = as_(campus["trainer"]).get("/api/v1/equipment", query_string={"q": q})
    assert answer.json == {"items": [], "total": 0}


def test_list_pagination_and_limit_clamp(as_, campus, catalogue, db) -> None:
    caller = as_(campus["trainer"])
    window = caller.get("/api/v1/equipment?limit=2&offset=1").json
    assert (window["total"], [e["code"] for e in window["items"]]) == (4, ["MIX-1", "ROOM-1"])
    assert caller.get("/api/v1/equipment?offset=4").json == {"items": [], "total": 4}
    db.execute(insert(Equipment), [
        {"code": f"BULK-{n:03d}", "name": f"Poste {n}", "establishment_id": campus.away.id,
         "category": EquipmentCategory.OTHER} for n in range(501)])
    everything = caller.get(f"/api/v1/equipment?establishment_id={campus.away.id}&limit=1000")
    assert everything.status_code == 200
    assert (len(everything.json["items"]), everything.json["total"]) == (500, 502)
    assert len(caller.get("/api/v1/equipment").json["items"]) == 50
    for bad in ("limit=0", "limit=-1", "offset=-1", "limit=many", "category=castle",
                "establishment_id=x"):
        assert_error(caller.get(f"/api/v1/equipment?{bad}"), 422, "validation")


# --- create, read, change -----------------------------------------------------------------


def line_body(campus, make, **changes):
    ctype = make.certification_type(code="BPF")
    return {"code": "LIGNE-1", "name": "Ligne de remplissage", "establishment_id": campus.home.id,
            "category": "pilot_line", "status": "active", "capacity": 8, "slot_minutes": 30,
            "min_minutes": 60, "max_minutes": 240, "changeover_minutes": 30,
            "requires_approval": True, "open_on_holidays": False,
            "required_certification_type_ids": [ctype.id],
            "opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "12:00"},
                              {"weekday": 0, "opens": "13:30", "closes": "17:00"},
                              {"weekday": 4, "opens": "09:00", "closes": "16:00"}],
            **changes}


@pytest.mark.parametrize("role", ROLES)
def test_staff_of_the_establishment_create_equipment(as_, campus, make, db, role) -> None:
    caller, body = as_(campus[role]), line_body(campus, make)
    before = rows(db)
    answer = caller.post("/api/v1/equipment", json=body)
    if role not in STAFF:
        assert_error(answer, 403, "forbidden")
        assert rows(db) == before
        return
    assert answer.status_code == 201, answer.json
    line = answer.json
    assert {k: line[k] for k in body} == body
    assert (line["component_ids"], line["parent_id"], line["status"]) == ([], None, "active")
    part = caller.post("/api/v1/equipment", json={
        "code": "LIGNE-1-DOS", "name": "Doseuse", "establishment_id": campus.home.id,
        "category": "training_equipment", "status": "active", "parent_id": line["id"]})
    assert part.status_code == 201, part.json
    assert part.json["parent_id"] == line["id"]
    again = as_(campus["trainer"]).get(f"/api/v1/equipment/{line['id']}")
    assert again.status_code == 200
    assert again.json["component_ids"] == [part.json["id"]]
    assert again.json["opening_hours"] == body["opening_hours"]
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_id == line["id"], AuditEntry.object_type == "equipment")) == \
        "equipment.create"


def test_status_may_be_left_out(as_, campus, make) -> None:
    body = {k: v for k, v in line_body(campus, make).items() if k != "status"}
    answer = as_(campus["admin"]).post("/api/v1/equipment", json=body)
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "active"


@pytest.mark.parametrize("change", [
    {"category": "castle"}, {"category": None}, {"code": None}, {"name": 5}, {"code": ""},
    {"establishment_id": 999999}, {"status": "maintenance"}, {"min_minutes": 45},
    {"max_minutes": 30}, {"required_certification_type_ids": [999999]}, {"parent_id": "mix"},
    *[{"opening_hours": [{"weekday": day, "opens": opens, "closes": "18:00"}]}
      for day, opens in ((7, "08:00"), (1, "19:00"), (1, "8h"))],
])
def test_create_refusals(as_, campus, catalogue, make, db, change) -> None:
    change = {k: catalogue[1].id if v == "mix" else v for k, v in change.items()}
    body = {k: v for k, v in line_body(campus, make, **change).items() if v is not None}
    caller = as_(campus["coordinator"])
    before = rows(db)
    assert_error(caller.post("/api/v1/equipment", json=body), 422, "validation")
    assert rows(db) == before


@pytest.mark.parametrize("method", ["post", "patch"])
def test_duplicate_code_is_409_conflict(as_, campus, catalogue, make, db, method) -> None:
    caller = as_(campus["coordinator"])
    before = rows(db)
    if method == "post":
        answer = caller.post("/api/v1/equipment", json=line_body(campus, make, code="MIX-1"))
    else:
        answer = caller.patch(f"/api/v1/equipment/{catalogue[0].id}", json={"code": "MIX-1"})
    body = assert_error(answer, 409, "conflict")
    assert "MIX-1" in body["message"]
    assert body["details"] == {"field": "code"}
    assert rows(db) == before


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_staff_of_the_establishment_change(as_, campus, catalogue, db,
                                                          role) -> None:
    caller, eq = as_(campus[role]), catalogue[0]
    read = caller.get(f"/api/v1/equipment/{eq.id}")
    assert (read.json["code"], read.json["category"]) == ("LYO-1", "analysis_instrument")
    assert read.json["opening_hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "18:00"}
    assert_error(caller.get("/api/v1/equipment/999999"), 404, "not_found")
    before = rows(db)
    answer = caller.patch(f"/api/v1/equipment/{eq.id}", json={"name": "Lyophilisateur 2"})
    if role in STAFF:
        assert answer.status_code == 200
        assert answer.json["name"] == "Lyophilisateur 2"
    else:
        assert_error(answer, 403, "forbidden")
        assert rows(db) == before
        assert caller.get(f"/api/v1/equipment/{eq.id}").json["name"] == "Lyophilisateur"
    assert_error(caller.patch("/api/v1/equipment/999999", json={"name": "X"}), 404, "not_found")


def test_maintenance_needs_a_reason_and_establishment_is_kept(as_, campus, catalogue, db) -> None:
    caller, eq = as_(campus["coordinator"]), catalogue[0]
    before = rows(db)
    assert_error(caller.patch(f"/api/v1/equipment/{eq.id}", json={"status": "maintenance"}),
                 422, "validation")
    assert_error(caller.patch(f"/api/v1/equipment/{eq.id}",
                              json={"status": "maintenance", "status_reason": "  "}),
                 422, "validation")
    assert_error(caller.patch(f"/api/v1/equipment/{eq.id}", json={"status": "broken"}),
                 422, "validation")
    assert rows(db) == before
    assert caller.get(f"/api/v1/equipment/{eq.id}").json["status"] == "active"
    answer = caller.patch(f"/api/v1/equipment/{eq.id}",
                          json={"status": "maintenance", "status_reason": "Pompe à vide"})
    assert answer.status_code == 200
    assert (answer.json["status"], answer.json["status_reason"]) == ("maintenance",
                                                                     "Pompe à vide")
    listed = caller.get("/api/v1/equipment?status=maintenance").json["items"]
    assert [e["id"] for e in listed] == [eq.id]
    db.expire_all()
    assert db.get(Equipment, eq.id).status is EquipmentStatus.MAINTENANCE
    before = rows(db)
    assert_error(caller.patch(f"/api/v1/equipment/{eq.id}",
                              json={"establishment_id": campus.away.id}), 422, "validation")
    assert rows(db) == before
    hours = [{"weekday": 5, "opens": "09:00", "closes": "12:00"}]
    answer = caller.patch(f"/api/v1/equipment/{eq.id}", json={"opening_hours": hours})
    assert answer.json["opening_hours"] == hours


# --- availability -------------------------------------------------------------------------


@pytest.fixture
def busy_machine(as_, campus, make, db):
    """Company A's booking on Wed 13th 09:00–10:00 + 30 min; closed all Thu 14th."""
    eq = make.equipment(code="EMUL-1", establishment=campus.home, changeover_minutes=30)
    db.add(Closure(establishment_id=campus.home.id, reason="Inventaire",
                   start_at=datetime(2027, 1, 14, tzinfo=UTC),
                   end_at=datetime(2027, 1, 15, tzinfo=UTC)))
    db.flush()
    return eq, book(as_(campus["company"]), eq, project_id=campus.project.id)["id"]


@pytest.mark.parametrize(("role", "sees_id"), [(r, r != "other_company") for r in ROLES])
def test_availability(as_, campus, busy_machine, role, sees_id) -> None:
    eq, booking_id = busy_machine
    answer = as_(campus[role]).get(
        f"/api/v1/equipment/{eq.id}/availability",
        query_string={"from": "2027-01-12T23:00:00Z", "to": at("01-15", "00:00")})
    assert answer.status_code == 200, answer.json
    shown = booking_id if sees_id else None
    assert answer.json["busy"] == [
        {**span("01-13", "09:00", "10:00"), "reason": "booking", "booking_id": shown},
        {**span("01-13", "10:00", "10:30"), "reason": "changeover", "booking_id": shown},
        {"start": at("01-14", "01:00"), "end": at("01-15", "00:00"), "reason": "closure",
         "booking_id": None}]
    assert answer.json["free"] == [span("01-13", "08:00", "09:00"),
                                   span("01-13", "10:30", "18:00")]


def test_availability_shows_holidays_in_summer_time(as_, campus, make) -> None:
    eq = make.equipment(establishment=campus.home)
    answer = as_(campus["trainer"]).get(
        f"/api/v1/equipment/{eq.id}/availability",
        query_string={"from": at("03-29", "00:00", "+02:00"),
                      "to": at("03-31", "00:00", "+02:00")})
    assert answer.status_code == 200
    assert [(b["start"], b["end"], b["reason"]) for b in answer.json["busy"]] == [
        (at("03-29", "00:00", "+02:00"), at("03-30", "00:00", "+02:00"), "holiday")]
    assert answer.json["free"] == [{"start": at("03-30", "08:00", "+02:00"),
                                    "end": at("03-30", "18:00", "+02:00")}]


@pytest.mark.parametrize(("window", "status"), [
    ({"from": "2027-01-13T00:00:00+01:00", "to": "2027-04-16T01:00:00+02:00"}, 200),
    ({"from": "2027-01-12T23:00:00Z", "to": "2027-04-15T23:00:00Z"}, 200),
    ({"from": "2027-01-13T00:00:00+01:00", "to": "2027-04-16T01:00:01+02:00"}, 422),
    ({"from": "2027-01-13T00:00:00", "to": "2027-01-14T00:00:00+01:00"}, 422),
    ({"from": "2027-01-13T00:00:00+01:00", "to": "2027-01-14T00:00:00"}, 422),
    ({"from": "2027-01-14T00:00:00+01:00", "to": "2027-01-13T00:00:00+01:00"}, 422),
    ({"from": "2027-01-13T00:00:00+01:00"}, 422),
    ({"from": "tomorrow", "to": "2027-01-14T00:00:00+01:00"}, 422),
])
def test_availability_window(as_, campus, make, window, status) -> None:
    eq, caller = make.equipment(establishment=campus.home), as_(campus["company"])
    answer = caller.get(f"/api/v1/equipment/{eq.id}/availability", query_string=window)
    if status == 200:
        assert answer.status_code == 200, answer.json
        unknown = caller.get("/api/v1/equipment/999999/availability", query_string=window)
        assert_error(unknown, 404, "not_found")
    else:
        assert_error(answer, 422, "validation")


# --- the OpenAPI document -----------------------------------------------------------------

API_MD_PATHS = [
    "/auth/tokens", "/auth/tokens/current", "/establishments", "/establishments/{}",
    "/companies", "/certification-types", "/users", "/users/{}", "/users/{}/certifications",
    "/certifications/{}", "/equipment", "/equipment/{}", "/equipment/{}/availability",
    "/closures", "/closures/{}", "/bookings", "/bookings/{}", "/bookings/{}/cancel",
    "/bookings/{}/approve", "/bookings/{}/reject", "/projects", "/projects/{}",
    "/projects/{}/approve", "/projects/{}/reject", "/feeds", "/feeds/{}",
    "/reports/utilisation",
]


@pytest.mark.parametrize("path", API_MD_PATHS)
def test_openapi_lists_every_path_of_api_md(client, db, path) -> None:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    served = {re.sub(r"\{[^}]+\}", "{}", p) for p in answer.json["paths"]}
    assert "/api/v1" + path in served


ENUMS = {  # API.md's "Values and conventions", written out rather than read from models
    "status": ("pending confirmed cancelled rejected expired completed no_show", ["Booking"]),
    "purpose": ("training industrial_project discovery_workshop maintenance other",
                ["Booking", "BookingIn"]),
    "category": ("pilot_line training_equipment analysis_instrument room other",
                 ["Equipment", "EquipmentIn"]),
    "equipment status": ("active maintenance retired", ["Equipment", "EquipmentIn"]),
}


@pytest.mark.parametrize("name", ENUMS)
def test_openapi_lists_enums(client, db, name) -> None:
    values, schemas = ENUMS[name]
    spec = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    for schema in schemas:
        assert spec[schema]["properties"][name.split()[-1]]["enum"] == values.split()
