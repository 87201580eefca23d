"""Industrial teaching projects through the API: companies request, coordinators
decide; a company never sees another company's project."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models import AuditEntry, Project, ProjectStatus, Role
from tests.api_helpers import Callers, assert_error, count

ROLES = ("admin", "coordinator", "trainer", "company")
PROJECT = {"title": "Ligne de conditionnement", "description": "Remplissage et bouchage",
           "objectives": "Conduite de ligne", "learners": 12,
           "wanted_from": "2027-03-01", "wanted_to": "2027-04-30"}
FIELDS = {"id", "title", "description", "objectives", "learners", "equipment_ids",
          "wanted_from", "wanted_to", "status", "company_id", "trainer_id", "requested_by_id",
          "contact_name", "contact_email", "contact_phone", "decided_by_id", "decided_at",
          "decision_reason", "created_at", "sector"}


@pytest.fixture
def people(make):
    return {"admin": make.user(Role.ADMIN), "coordinator": make.user(Role.COORDINATOR),
            "trainer": make.user(Role.TRAINER), "company": make.user(Role.COMPANY),
            "other_trainer": make.user(Role.TRAINER), "rival": make.user(Role.COMPANY)}


@pytest.fixture
def as_(client, people):
    callers = Callers(client)
    return lambda role: callers(people[role])


@pytest.fixture
def add_project(db):
    def add(requester, **kw) -> Project:
        project = Project(company_id=requester.company_id, requested_by_id=requester.id,
                          title=kw.pop("title", "Projet"), learners=kw.pop("learners", 8),
                          wanted_from=date(2027, 3, 1), wanted_to=date(2027, 4, 30), **kw)
        db.add(project)
        db.flush()
        return project

    return add


@pytest.fixture
def ours(people, add_project):
    """A requested project of "company", whose trainer is "trainer"."""
    return add_project(people["company"], trainer_id=people["trainer"].id)


@pytest.fixture
def theirs(people, add_project):
    return add_project(people["rival"], title="Projet concurrent")


# --- requesting --------------------------------------------------------------------------


def test_company_requests_a_project(as_, db, make, people) -> None:
    machines = [make.equipment(), make.equipment()]
    body = {**PROJECT, "equipment_ids": [machines[1].id, machines[0].id, machines[1].id],
            "contact_email": "rh@lab.example"}
    answer = as_("company").post("/api/v1/projects", json=body)
    assert answer.status_code == 201, answer.json
    got = answer.json
    assert set(got) == FIELDS
    assert got["status"] == "requested"
    assert got["company_id"] == people["company"].company_id
    assert got["requested_by_id"] == people["company"].id
    assert got["trainer_id"] is None
    assert got["equipment_ids"] == sorted(m.id for m in machines)
    assert {k: got[k] for k in PROJECT} == PROJECT
    assert got["contact_email"] == "rh@lab.example"
    assert got["sector"] == "other"  # not given: other
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_id == got["id"], AuditEntry.object_type == "project")) \
        == "project.request"


def test_a_project_names_its_sector_for_the_campus_evaluation(as_, db) -> None:
    answer = as_("company").post("/api/v1/projects", json={**PROJECT, "sector": "cosmetics"})
    assert answer.status_code == 201, answer.json
    assert answer.json["sector"] == "cosmetics"
    assert db.get(Project, answer.json["id"]).sector.value == "cosmetics"
    before = count(db, Project)
    refused = as_("company").post("/api/v1/projects", json={**PROJECT, "sector": "textile"})
    assert refused.status_code == 422
    assert count(db, Project) == before


@pytest.mark.parametrize("role", ["admin", "coordinator", "trainer"])
def test_only_company_accounts_request(as_, db, role) -> None:
    before = count(db, Project)
    assert_error(as_(role).post("/api/v1/projects", json=PROJECT), 403, "forbidden")
    assert count(db, Project) == before


@pytest.mark.parametrize("change", [
    {"learners": 0}, {"learners": -3}, {"learners": "twelve"}, {"learners": 2.5},
    {"learners": None}, {"wanted_from": "2027-05-01"}, {"wanted_to": "2027-02-30"},
    {"wanted_from": "2027-03-01T09:00:00+01:00"}, {"title": ""}, {"title": "   "},
    {"title": ["x"]}, {"equipment_ids": [999999]}, {"equipment_ids": "1,2"},
    {"equipment_ids": [0]}, {"equipment_ids": [True]}, {"status": "approved"},
    {"company_id": 1}, {"description": "\ud800"}, {"contact_email": "not an address"},
])
def test_bad_project_is_422_and_writes_nothing(as_, db, change) -> None:
    before = (count(db, Project), count(db, AuditEntry))
    answer = as_("company").post("/api/v1/projects", json={**PROJECT, **change})
    body = assert_error(answer, 422, "validation")
    if change == {"equipment_ids": [999999]}:
        assert body["details"]["missing"] == [999999]
    assert (count(db, Project), count(db, AuditEntry)) == before


@pytest.mark.parametrize("missing", ["title", "learners", "wanted_from", "wanted_to"])
def test_missing_project_field_is_422(as_, missing) -> None:
    body = {k: v for k, v in PROJECT.items() if k != missing}
    assert_error(as_("company").post("/api/v1/projects", json=body), 422, "validation")


def test_malformed_json_is_400_and_no_token_is_401(client, as_, db) -> None:
    before = count(db, Project)
    answer = as_("company").post("/api/v1/projects", data="[1, 2",
                                 content_type="application/json")
    assert_error(answer, 400, "bad_request")
    assert_error(client.post("/api/v1/projects", json=PROJECT), 401, "unauthorized")
    assert_error(client.get("/api/v1/projects",
                            headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    assert count(db, Project) == before


# --- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees"), [
    ("admin", {"ours", "theirs", "unassigned"}), ("coordinator", {"ours", "theirs", "unassigned"}),
    ("company", {"ours", "unassigned"}), ("rival", {"theirs"}), ("trainer", {"ours"}),
    ("other_trainer", set()),
])
def test_each_role_lists_what_it_may_see(as_, people, add_project, ours, theirs, role,
                                         sees) -> None:
    unassigned = add_project(people["company"], title="Sans formateur")
    ids = {"ours": ours.id, "theirs": theirs.id, "unassigned": unassigned.id}
    answer = as_(role).get("/api/v1/projects")
    assert answer.status_code == 200
    assert {p["id"] for p in answer.json["items"]} == {ids[name] for name in sees}
    assert answer.json["total"] == len(sees)
    for name, project_id in ids.items():
        one = as_(role).get(f"/api/v1/projects/{project_id}")
        if name in sees:
            assert one.status_code == 200
            assert one.json["id"] == project_id
        else:
            assert_error(one, 404, "not_found")


def test_list_filters_newest_first_and_pages(as_, db, people, add_project) -> None:
    made = [add_project(people["company"], title=f"P{n}") for n in range(3)]
    made[0].status = ProjectStatus.REJECTED
    db.flush()
    coordinator = as_("coordinator")
    listed = coordinator.get("/api/v1/projects?limit=2").json
    assert listed["total"] == 3
    assert [p["id"] for p in listed["items"]] == [made[2].id, made[1].id]
    requested = coordinator.get("/api/v1/projects?status=requested").json
    assert {p["id"] for p in requested["items"]} == {made[1].id, made[2].id}
    company_id = people["company"].company_id
    assert coordinator.get(f"/api/v1/projects?company_id={company_id}").json["total"] == 3
    assert coordinator.get("/api/v1/projects?limit=9999").status_code == 200
    assert_error(coordinator.get("/api/v1/projects?status=dreaming"), 422, "validation")
    assert_error(coordinator.get("/api/v1/projects/999999"), 404, "not_found")


# --- deciding -------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("company", 403), ("trainer", 403), ("rival", 404),
    ("other_trainer", 404),
])
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_who_decides(as_, db, people, ours, role, status, action) -> None:
    audits = count(db, AuditEntry)
    body = {"trainer_id": people["other_trainer"].id, "reason": "Bien préparé"} \
        if action == "approve" else {"reason": "Pas de créneau"}
    answer = as_(role).post(f"/api/v1/projects/{ours.id}/{action}", json=body)
    assert answer.status_code == status, answer.json
    db.expire_all()
    if status != 200:
        assert ours.status is ProjectStatus.REQUESTED
        assert count(db, AuditEntry) == audits
        return
    expected = "approved" if action == "approve" else "rejected"
    assert answer.json["status"] == expected
    assert answer.json["decided_by_id"] == people[role].id
    assert answer.json["decision_reason"] == body["reason"]
    if action == "approve":
        assert answer.json["trainer_id"] == people["other_trainer"].id
    assert ours.status.value == expected
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_type == "project", AuditEntry.object_id == ours.id)) \
        == f"project.{action}"


@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("second", ["approve", "reject"])
def test_deciding_twice_is_invalid_state(as_, db, people, ours, first, second) -> None:
    bodies = {"approve": {"trainer_id": people["trainer"].id}, "reject": {"reason": "Non"}}
    coordinator = as_("coordinator")
    assert coordinator.post(f"/api/v1/projects/{ours.id}/{first}",
                            json=bodies[first]).status_code == 200
    audits = count(db, AuditEntry)
    answer = coordinator.post(f"/api/v1/projects/{ours.id}/{second}", json=bodies[second])
    body = assert_error(answer, 409, "invalid_state")
    assert body["details"]["status"] == ("approved" if first == "approve" else "rejected")
    assert count(db, AuditEntry) == audits


@pytest.mark.parametrize(("body", "who"), [
    ({}, None), ({"trainer_id": None}, None), ({"trainer_id": "3"}, None),
    ({"trainer_id": 999999}, None), ({"trainer_id": 0}, None),
    ("user", "company"), ("user", "coordinator"), ("inactive", None),
])
def test_approve_needs_an_active_trainer(as_, db, make, people, ours, body, who) -> None:
    if body == "user":
        body = {"trainer_id": people[who].id}
    elif body == "inactive":
        body = {"trainer_id": make.user(Role.TRAINER, active=False).id}
    assert_error(as_("coordinator").post(f"/api/v1/projects/{ours.id}/approve", json=body),
                 422, "validation")
    db.expire_all()
    assert (ours.status, ours.trainer_id) == (ProjectStatus.REQUESTED, people["trainer"].id)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}, {"reason": 5}])
def test_reject_needs_a_reason(as_, db, ours, body) -> None:
    assert_error(as_("coordinator").post(f"/api/v1/projects/{ours.id}/reject", json=body),
                 422, "validation")
    db.expire_all()
    assert ours.status is ProjectStatus.REQUESTED


def test_unknown_project_decision_is_404(as_) -> None:
    answer = as_("coordinator").post("/api/v1/projects/999999/reject", json={"reason": "x"})
    assert_error(answer, 404, "not_found")
