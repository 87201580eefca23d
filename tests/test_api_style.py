"""One API style (issue 9, point 3): every value a client sends is bounded by
the field types of booking.api.fields (hostile text is a 422 naming the field,
never a 5xx), ids in URLs go through one converter, lists answer one page
schema, and the error body the OpenAPI document describes is the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, url_for

from models import Booking, Equipment
from tests.api_helpers import Callers, Campus, assert_error, body, book, count, rows

MAX_ID = 2**31 - 1
NUL, LONE_SURROGATE = "a\x00b", "a\ud800b"


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


@pytest.fixture
def eq(make, campus):
    return make.equipment(code="EMUL-1", establishment=campus.home)


@pytest.fixture
def spec(client) -> dict[str, Any]:
    answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    return answer.json


def raw_json(value: Any) -> bytes:
    """JSON with ASCII escapes, so that ``\\ud800`` reaches the server's parser
    as written and comes out of it as a lone surrogate."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def send(caller: Any, method: str, path: str, payload: Any) -> Any:
    return getattr(caller, method)(path, data=raw_json(payload), content_type="application/json")


def field_errors(answer: Any, location: str = "json") -> dict[str, Any]:
    """The field errors of a refused request: 422 ``validation``, in ``details``."""
    return assert_error(answer, 422, "validation")["details"]["errors"][location]


# --- the defects of the issue: hostile text was a 500 on PostgreSQL -----------------------


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE])
def test_hostile_booking_title_is_422_naming_the_field(as_, campus, eq, db, text) -> None:
    payload = body(eq, title=text)
    assert (b"\\u0000" if "\x00" in text else b"\\ud800") in raw_json(payload)
    before = rows(db)
    answer = send(as_(campus["trainer"]), "post", "/api/v1/bookings", payload)
    assert list(field_errors(answer)) == ["title"]
    assert rows(db) == before


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE])
@pytest.mark.parametrize(("where", "change"), [
    ("recurrence", lambda t: {"recurrence": {"rrule": f"FREQ=WEEKLY;COUNT=2;X={t}"}}),
    ("override_reason", lambda t: {"override_reason": t}),
])
def test_hostile_text_elsewhere_in_a_booking_is_422(as_, campus, eq, db, text, where,
                                                    change) -> None:
    before = rows(db)
    answer = send(as_(campus["coordinator"]), "post", "/api/v1/bookings",
                  body(eq, **change(text)))
    assert list(field_errors(answer)) == [where]
    assert rows(db) == before


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE])
@pytest.mark.parametrize(("suffix", "method", "payload"), [
    ("", "patch", {"title": "{}"}),
    ("/cancel", "post", {"reason": "{}"}),
    ("/reject", "post", {"reason": "{}"}),
])
def test_hostile_text_on_a_booking_is_422(as_, campus, eq, db, text, suffix, method,
                                          payload) -> None:
    booking = book(as_(campus["trainer"]), eq)
    before = rows(db)
    filled = {k: v.format(text) for k, v in payload.items()}
    answer = send(as_(campus["admin"]), method, f"/api/v1/bookings/{booking['id']}{suffix}",
                  filled)
    assert list(field_errors(answer)) == list(payload)
    assert rows(db) == before
    assert db.get(Booking, booking["id"]).title == "Émulsion"


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE])
@pytest.mark.parametrize("name", ["description", "name", "code", "location", "status_reason"])
def test_hostile_equipment_text_is_422(as_, campus, make, db, text, name) -> None:
    coordinator, before = as_(campus["coordinator"]), count(db, Equipment)
    created = {"code": "LYO-1", "name": "Lyophilisateur", "establishment_id": campus.home.id,
               "category": "analysis_instrument"}
    answer = send(coordinator, "post", "/api/v1/equipment", {**created, name: text})
    assert list(field_errors(answer)) == [name]
    assert count(db, Equipment) == before
    eq = make.equipment(establishment=campus.home, description="Avant")
    answer = send(coordinator, "patch", f"/api/v1/equipment/{eq.id}", {name: text})
    assert list(field_errors(answer)) == [name]
    db.refresh(eq)
    assert eq.description == "Avant"


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE])
def test_hostile_login_is_422_not_a_database_error(client, campus, text) -> None:
    answer = send(client, "post", "/api/v1/auth/tokens",
                  {"email": f"{text}@example.org", "password": "x"})
    assert list(field_errors(answer)) == ["email"]


def test_hostile_search_words_are_422(as_, campus, eq) -> None:
    answer = as_(campus["trainer"]).get("/api/v1/equipment", query_string={"q": NUL})
    assert list(field_errors(answer, "query")) == ["q"]


# --- every input of the OpenAPI document is bounded -------------------------------------


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The schema or response a ``$ref`` names."""
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/")
        kind, _, key = name.partition("/")
        node = spec["components"][kind][key]
    return node


def leaves(spec: dict[str, Any], schema: dict[str, Any],
           pointer: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every scalar a client may write in a body, with its place in the body."""
    schema = resolve(spec, schema)
    if schema.get("readOnly"):
        return
    if "anyOf" in schema:  # a nullable nested schema: null, or the schema
        for alternative in schema["anyOf"]:
            yield from leaves(spec, alternative, pointer)
    elif schema.get("type") == "object" and "properties" in schema:
        for name, prop in schema["properties"].items():
            yield from leaves(spec, prop, (*pointer, name))
    elif schema.get("type") == "array":
        yield from leaves(spec, schema["items"], (*pointer, 0))
    else:
        yield pointer, schema


def hostile_values(schema: dict[str, Any], name: str) -> list[Any]:
    """Values every input of this type must refuse with a 422 naming it."""
    kind = schema.get("type")
    if kind == "string":
        values = [NUL, LONE_SURROGATE]
        if schema.get("format") == "date-time":
            values += ["2027-01-13T09:00:00", "0001-01-01T00:30:00+01:00",
                       "9999-12-31T23:30:00-01:00"]
        if schema.get("format") == "date":
            values += ["2027-02-30", "0001-01-01"]
        return values
    if kind == "integer":
        # ``limit`` above 500 is read as 500 (API.md); every other int is bounded.
        return [-1] if name == "limit" else [-1, MAX_ID + 1, 2**63]
    return []


def nest(pointer: tuple[Any, ...], value: Any) -> Any:
    for key in reversed(pointer):
        value = [value] if key == 0 else {key: value}
    return value


def named(errors: Any, pointer: tuple[Any, ...]) -> bool:
    for key in pointer:
        if not isinstance(errors, dict) or str(key) not in errors:
            return False
        errors = errors[str(key)]
    return True


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for template, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield method, template, operation


def answer_as_someone_allowed(callers: list[Any], method: str, path: str, **kw: Any) -> Any:
    """Some endpoints refuse a role before reading the body: ask the next one."""
    for caller in callers:
        answer = getattr(caller, method)(path, **kw)
        if answer.status_code != 403:
            return answer
    return answer


def test_every_input_refuses_hostile_values_with_422_naming_it(as_, campus, spec) -> None:
    callers = [as_(campus["admin"]), as_(campus["company"])]
    tried: set[tuple[Any, ...]] = set()
    accepted = []
    for method, template, operation in operations(spec):
        path = "".join("1" if i % 2 else part for i, part in enumerate(_split_path(template)))
        body_schema = (operation.get("requestBody", {}).get("content", {})
                       .get("application/json", {}).get("schema"))
        inputs = [("json", pointer, schema) for pointer, schema in
                  (leaves(spec, body_schema) if body_schema else ())]
        inputs += [("query", (p["name"],), p["schema"]) for p in operation.get("parameters", [])
                   if p["in"] == "query"]
        for location, pointer, schema in inputs:
            for value in hostile_values(schema, pointer[-1]):
                if location == "query" and value == LONE_SURROGATE:
                    continue  # a URL carries UTF-8 bytes: no way to spell one
                tried.add((method, template, *pointer))
                if location == "json":
                    answer = answer_as_someone_allowed(
                        callers, method, path, data=raw_json(nest(pointer, value)),
                        content_type="application/json")
                else:
                    answer = answer_as_someone_allowed(
                        callers, method, path, query_string={pointer[0]: value})
                details = answer.json.get("details", {}) if answer.is_json else {}
                if answer.status_code != 422 or not named(
                        details.get("errors", {}).get(location), pointer):
                    accepted.append((method, template, pointer, value, answer.status_code))
    assert accepted == []
    # The walk reached the fields of the issue, and ids in bodies and queries.
    assert {("post", "/api/v1/bookings", "title"), ("post", "/api/v1/equipment", "description"),
            ("patch", "/api/v1/equipment/{equipment_id}", "description"),
            ("post", "/api/v1/bookings", "recurrence", "rrule"),
            ("post", "/api/v1/projects", "equipment_ids", 0),
            ("get", "/api/v1/bookings", "from"), ("post", "/api/v1/auth/tokens", "password"),
            ("delete", "/api/v1/certifications/{certification_id}", "reason"),
            } <= tried


def _split_path(template: str) -> list[str]:
    """``/a/{x_id}/b`` as ``["/a/", "x_id", "/b"]``."""
    parts, rest = [], template
    while "{" in rest:
        before, _, rest = rest.partition("{")
        name, _, rest = rest.partition("}")
        parts += [before, name]
    return [*parts, rest]


def test_every_text_input_has_a_maximum_length(spec) -> None:
    unbounded = []
    for method, template, operation in operations(spec):
        body_schema = (operation.get("requestBody", {}).get("content", {})
                       .get("application/json", {}).get("schema"))
        inputs = list(leaves(spec, body_schema)) if body_schema else []
        inputs += [((p["name"],), p["schema"]) for p in operation.get("parameters", [])
                   if p["in"] == "query"]
        for pointer, schema in inputs:
            if schema.get("type") == "string" and not (
                    "maxLength" in schema or "enum" in schema or "pattern" in schema
                    or schema.get("format") in ("date", "date-time")):
                unbounded.append((method, template, pointer))
            if schema.get("type") == "integer" and pointer[-1] != "limit" and not (
                    schema.get("minimum", -1) >= 0 and schema.get("maximum", 2**63) <= MAX_ID):
                unbounded.append((method, template, pointer))
    assert unbounded == []


# --- one id converter ---------------------------------------------------------------------


def test_every_api_route_takes_its_ids_through_the_id_converter(app, spec) -> None:
    converter = app.url_map.converters["id"]
    api_rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    with_ids = [r for r in api_rules if r.arguments]
    assert len(with_ids) >= 10  # the {id} rows of API.md
    assert {(r.rule, name): type(c) for r in with_ids for name, c in r._converters.items()} \
        == {(r.rule, name): converter for r in with_ids for name in r.arguments}
    documented = [p["schema"] for _, _, op in operations(spec)
                  for p in op.get("parameters", []) if p["in"] == "path"]
    documented += [p["schema"] for item in spec["paths"].values()
                   for p in item.get("parameters", []) if p["in"] == "path"]
    assert documented
    assert all(s == {"type": "integer", "minimum": 1, "maximum": MAX_ID} for s in documented)


@pytest.mark.parametrize(("segment", "found"), [
    ("7", 7), (str(MAX_ID), MAX_ID), ("0", None), ("-1", None), (str(MAX_ID + 1), None),
    ("99999999999999999999", None), ("7.0", None), ("x", None),
])
def test_id_converter_bounds(segment, found) -> None:
    from booking.converters import register_converters

    app = Flask(__name__)
    register_converters(app)

    @app.route("/things/<id:thing_id>")
    def thing(thing_id: int) -> str:
        return repr(thing_id)

    answer = app.test_client().get(f"/things/{segment}")
    if found is None:
        assert answer.status_code == 404
        return
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, repr(found))
    with app.test_request_context():
        assert url_for("thing", thing_id=found) == f"/things/{found}"


@pytest.mark.parametrize("n", ["0", str(MAX_ID + 1), "99999999999999999999"])
def test_out_of_range_ids_are_404_on_every_route(as_, campus, spec, n) -> None:
    caller, checked = as_(campus["admin"]), 0
    for method, template, _ in operations(spec):
        parts = _split_path(template)
        if len(parts) == 1:
            continue
        path = "".join(n if i % 2 else part for i, part in enumerate(parts))
        kwargs = {"json": {}} if method in ("post", "patch") else {}
        assert_error(getattr(caller, method)(path, **kwargs), 404, "not_found")
        checked += 1
    assert checked >= 15


# --- one page schema ----------------------------------------------------------------------


def test_every_list_answers_the_one_page_schema(spec) -> None:
    lists = 0
    for method, template, operation in operations(spec):
        ok = operation["responses"].get("200", {})
        ref = ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        if ref is None or not ref.endswith("Page"):
            continue
        lists += 1
        page = resolve(spec, {"$ref": ref})
        assert page["required"] == ["items", "total"], template
        assert page["properties"]["total"]["type"] == "integer"
        item = page["properties"]["items"]["items"]["$ref"]
        assert ref == item + "Page", template
        queries = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "offset"} <= queries, template
        assert method == "get"
    assert lists >= 10


def test_page_of_makes_one_schema_per_item() -> None:
    from booking.api.bookings import BookingSchema
    from booking.api.fields import page_of

    assert page_of(BookingSchema) is page_of(BookingSchema)
    assert page_of(BookingSchema).__name__ == "BookingPageSchema"


# --- the error body of the OpenAPI document is the real one -----------------------------


def problems(spec: dict[str, Any], schema: dict[str, Any], value: Any,
             where: str = "body") -> list[str]:
    """What in ``value`` the schema does not allow (the parts of JSON Schema the
    document uses: type, required, properties, additionalProperties, items)."""
    schema = resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null"]
    types = {"object": dict, "array": list, "string": str, "boolean": bool,
             "integer": int, "number": (int, float)}
    kind = schema.get("type")
    if kind and not isinstance(value, types[kind]):
        return [f"{where}: not {kind}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: not one of {schema['enum']}")
    if kind == "array":
        for i, item in enumerate(value):
            found += problems(spec, schema.get("items", {}), item, f"{where}[{i}]")
    if kind == "object":
        properties = schema.get("properties", {})
        found += [f"{where}: {name} missing" for name in schema.get("required", [])
                  if name not in value]
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += problems(spec, properties[name], item, f"{where}.{name}")
            elif extra is False:
                found.append(f"{where}: {name} not allowed")
            elif isinstance(extra, dict):
                found += problems(spec, extra, item, f"{where}.{name}")
    return found


def documented_error(spec: dict[str, Any], method: str, template: str,
                     status: int) -> dict[str, Any]:
    responses = spec["paths"][template][method]["responses"]
    response = resolve(spec, responses.get(str(status), responses["default"]))
    return response["content"]["application/json"]["schema"]


def real_errors(as_: Any, client: Any, campus: Campus, eq: Equipment) -> list[tuple]:
    """(method, path template, answer, status, code) of real refusals."""
    trainer, other = as_(campus["trainer"]), as_(campus["other_trainer"])
    booking = book(trainer, eq)
    one = "/api/v1/bookings/{booking_id}"
    path = f"/api/v1/bookings/{booking['id']}"
    return [
        ("get", one, trainer.get("/api/v1/bookings/999999"), 404, "not_found"),
        ("post", "/api/v1/bookings", trainer.post("/api/v1/bookings", json={}), 422,
         "validation"),
        ("post", "/api/v1/bookings", trainer.post("/api/v1/bookings", json=body(
            eq, day="01-17")), 422, "outside_opening_hours"),
        ("post", "/api/v1/bookings", other.post("/api/v1/bookings", json=body(eq)), 409,
         "conflict"),
        ("post", one + "/cancel", other.post(path + "/cancel", json={}), 403, "forbidden"),
        ("post", "/api/v1/bookings", trainer.post(
            "/api/v1/bookings", data="[1, 2", content_type="application/json"), 400,
         "bad_request"),
        ("get", "/api/v1/bookings", client.get("/api/v1/bookings"), 401, "unauthorized"),
        ("post", one + "/approve", as_(campus["admin"]).post(path + "/approve", json={}), 409,
         "invalid_state"),
    ]


def test_real_error_answers_match_the_openapi_document(as_, client, campus, eq, spec) -> None:
    seen = set()
    for method, template, answer, status, code in real_errors(as_, client, campus, eq):
        error = assert_error(answer, status, code)
        schema = documented_error(spec, method, template, status)
        assert problems(spec, schema, error) == [], (method, template, status)
        assert problems(spec, schema, {"code": status, "status": code, "message": "x",
                                       "errors": {}}) != [], "the document accepts anything"
        seen.add(status)
    assert seen == {400, 401, 403, 404, 409, 422}


def test_every_documented_error_is_the_error_body(spec) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert sorted(error["required"]) == ["details", "error", "message"]
    assert {name: p["type"] for name, p in error["properties"].items()} == {
        "error": "string", "message": "string", "details": "object"}
    documented = 0
    for _, template, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("2"):
                continue
            schema = resolve(spec, response)["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (template, status)
            documented += 1
    assert documented >= 40
