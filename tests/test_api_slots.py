"""GET /api/v1/slots (API.md): the planning search through the API."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from models import Role
from tests.api_helpers import ROLES, Callers, Campus, assert_error, assert_unauthorized

MONDAY = {"from": "2027-01-18T00:00:00+01:00", "to": "2027-01-19T00:00:00+01:00"}


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def campus(make, db, now):
    campus = Campus(make, db)
    ctype = make.certification_type(code="HAB-S", name="Sertisseuse")
    campus.machine = make.equipment(establishment=campus.home, code="SER-1", name="Sertisseuse")
    campus.machine.required_certification_types = [ctype]
    make.certification(campus["trainer"], ctype)
    db.flush()
    return campus


def slots(caller, **args) -> object:
    return caller.get("/api/v1/slots?" + urlencode(args, doseq=True))


def test_the_answer_lists_ranges_in_the_machines_zone(as_, campus) -> None:
    answer = slots(as_(campus["coordinator"]), **MONDAY, minutes=60,
                   equipment_id=campus.machine.id)
    assert answer.status_code == 200, answer.json
    assert answer.json == {"total": 1, "items": [{
        "equipment_id": campus.machine.id, "start": "2027-01-18T08:00:00+01:00",
        "end": "2027-01-18T18:00:00+01:00", "trainer_ids": [campus["trainer"].id]}]}


def test_several_machines_category_and_site(as_, campus, make) -> None:
    second = make.equipment(establishment=campus.home, code="SER-2")
    coordinator = as_(campus["coordinator"])
    answer = slots(coordinator, **MONDAY, minutes=60,
                   equipment_id=[campus.machine.id, second.id])
    assert [i["equipment_id"] for i in answer.json["items"]] == [campus.machine.id, second.id]
    answer = slots(coordinator, **MONDAY, minutes=60, establishment_id=campus.home.id,
                   category="training_equipment", limit=1)
    assert answer.json["total"] == 2
    assert len(answer.json["items"]) == 1


def test_with_trainer_and_a_named_trainer(as_, campus) -> None:
    coordinator = as_(campus["coordinator"])
    named = slots(coordinator, **MONDAY, minutes=60, equipment_id=campus.machine.id,
                  trainer_id=campus["other_trainer"].id)
    assert named.json["items"] == []
    wanted = slots(coordinator, **MONDAY, minutes=60, equipment_id=campus.machine.id,
                   with_trainer="true")
    assert [i["trainer_ids"] for i in wanted.json["items"]] == [[campus["trainer"].id]]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_and_a_company_sees_no_trainer(as_, campus, role) -> None:
    answer = slots(as_(campus[role]), **MONDAY, minutes=60, equipment_id=campus.machine.id,
                   with_trainer="true")
    assert answer.status_code == 200, answer.json
    (item,) = answer.json["items"]
    if campus[role].role is Role.COMPANY:
        assert item["trainer_ids"] == []
    else:
        assert item["trainer_ids"] == [campus["trainer"].id]


def test_a_company_may_not_name_a_trainer(as_, campus) -> None:
    assert_error(slots(as_(campus["company"]), **MONDAY, minutes=60,
                       equipment_id=campus.machine.id, trainer_id=campus["trainer"].id),
                 403, "forbidden")


def test_no_token_is_401(client, db, campus) -> None:
    assert_unauthorized(client, db, "get", "/api/v1/slots?" + urlencode(
        {**MONDAY, "minutes": 60, "equipment_id": campus.machine.id}))


@pytest.mark.parametrize(("args", "field"), [
    ({"minutes": 60}, "from"),
    ({**MONDAY}, "minutes"),
    ({**MONDAY, "minutes": 0}, "minutes"),
    ({**MONDAY, "minutes": "une heure"}, "minutes"),
    ({"from": "2027-01-18T00:00:00", "to": MONDAY["to"], "minutes": 60}, "from"),
    ({**MONDAY, "minutes": 60, "category": "boat"}, "category"),
    ({**MONDAY, "minutes": 60, "with_trainer": "peut-être"}, "with_trainer"),
    ({**MONDAY, "minutes": 60, "equipment_id": 2**31}, "equipment_id"),
    ({**MONDAY, "minutes": 60, "equipment_id": list(range(1, 62))}, "equipment_id"),
])
def test_bad_query_is_422_naming_the_field(as_, campus, args, field) -> None:
    args.setdefault("equipment_id", campus.machine.id)
    body = assert_error(slots(as_(campus["trainer"]), **args), 422, "validation")
    assert field in body["details"]["errors"]["query"]


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2027-01-18T00:00:00+01:00", "to": "2027-04-22T00:00:00+02:00"}, "to"),
    ({"from": "2027-01-19T00:00:00+01:00", "to": "2027-01-18T00:00:00+01:00"}, "to"),
    ({**MONDAY, "minutes": 900}, "minutes"),
    ({**MONDAY, "minutes": 45}, "minutes"),
])
def test_bad_search_is_422_naming_the_field(as_, campus, args, field) -> None:
    args.setdefault("minutes", 60)
    body = assert_error(slots(as_(campus["trainer"]), equipment_id=campus.machine.id, **args),
                        422, "validation")
    assert body["details"]["field"] == field


def test_nothing_to_search_is_422(as_, campus) -> None:
    body = assert_error(slots(as_(campus["trainer"]), **MONDAY, minutes=60), 422,
                        "validation")
    assert body["details"]["field"] == "equipment_id"


def test_an_unknown_machine_is_404(as_, campus) -> None:
    assert_error(slots(as_(campus["trainer"]), **MONDAY, minutes=60, equipment_id=999999),
                 404, "not_found")


def test_the_openapi_document_lists_it(client) -> None:
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/slots"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "minutes", "equipment_id", "category", "establishment_id",
            "trainer_id", "with_trainer", "limit", "offset"} <= names
