"""The directory API of API.md: establishments, companies, certification types,
accounts, certifications and closures, for every role."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select

from models import (
    AuditEntry,
    Certification,
    CertificationType,
    Company,
    Establishment,
    Role,
    User,
)
from tests.api_helpers import Callers, assert_error, count

ROLES = ("admin", "coordinator", "trainer", "company")
STAFF = ("admin", "coordinator")


@pytest.fixture
def home(make):
    return make.establishment(code="HOME", timezone="Europe/Paris")


@pytest.fixture
def people(make, home):
    return {"admin": make.user(Role.ADMIN), "coordinator": make.user(Role.COORDINATOR,
                                                                     establishment=home),
            "trainer": make.user(Role.TRAINER), "company": make.user(Role.COMPANY)}


@pytest.fixture
def as_(client, people):
    """``as_("trainer")`` or ``as_(user)``: a Caller with that user's token."""
    callers = Callers(client)
    return lambda who: callers(people[who] if isinstance(who, str) else who)


ESTABLISHMENT = {"code": "TRS-PHA", "name": "Faculté de pharmacie", "city": "Tours",
                 "department": "37", "kind": "universite", "timezone": "Europe/Paris"}


# --- authentication and malformed requests ------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/establishments", "/api/v1/companies",
                                  "/api/v1/users", "/api/v1/closures"])
@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc", "Bearer "])
def test_no_or_bad_token_is_401(client, path, header) -> None:
    headers = {"Authorization": header} if header else {}
    assert_error(client.get(path, headers=headers), 401, "unauthorized")
    assert_error(client.post(path, json={}, headers=headers), 401, "unauthorized")


def test_malformed_json_is_400(as_, db) -> None:
    before = count(db, Establishment)
    answer = as_("admin").post("/api/v1/establishments", data='{"code": ',
                               content_type="application/json")
    assert_error(answer, 400, "bad_request")
    assert count(db, Establishment) == before


# --- establishments ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_everyone_reads_establishments(as_, home, role) -> None:
    answer = as_(role).get("/api/v1/establishments")
    assert answer.status_code == 200
    assert answer.json["total"] == len(answer.json["items"]) >= 1
    one = as_(role).get(f"/api/v1/establishments/{home.id}")
    assert one.status_code == 200
    assert one.json == {"id": home.id, "code": "HOME", "name": home.name, "city": home.city,
                        "department": "45", "kind": "lycee", "timezone": "Europe/Paris",
                        # Issue 12: whether its people may sign in with a password.
                        "local_passwords": True}
    assert_error(as_(role).get("/api/v1/establishments/999999"), 404, "not_found")


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("coordinator", 403),
                                              ("trainer", 403), ("company", 403)])
def test_only_admins_create_establishments(as_, db, role, status) -> None:
    before = (count(db, Establishment), count(db, AuditEntry))
    answer = as_(role).post("/api/v1/establishments", json=ESTABLISHMENT)
    assert answer.status_code == status
    if status == 201:
        assert answer.json == {"id": answer.json["id"], **ESTABLISHMENT, "local_passwords": True}
        assert db.get(Establishment, answer.json["id"]).code == "TRS-PHA"
        assert db.scalar(select(AuditEntry.action).where(
            AuditEntry.object_id == answer.json["id"])) == "establishment.create"
    else:
        assert_error(answer, 403, "forbidden")
        assert (count(db, Establishment), count(db, AuditEntry)) == before


def test_establishment_time_zone_defaults_to_paris(as_) -> None:
    body = {k: v for k, v in ESTABLISHMENT.items() if k != "timezone"}
    assert as_("admin").post("/api/v1/establishments", json=body).json["timezone"] == \
        "Europe/Paris"


@pytest.mark.parametrize("change", [
    {"code": None}, {"code": ""}, {"code": "   "}, {"code": "X" * 33}, {"name": 5},
    {"kind": "castle"}, {"kind": "Lycee"}, {"timezone": "Mars/Olympus"},
    {"timezone": "localtime"}, {"timezone": "../etc/passwd"}, {"timezone": ""},
    {"department": "4"}, {"department": "4567"}, {"department": 45},
    {"city": "Tours\x00"}, {"id": 7}, {"unknown": 1},
])
def test_bad_establishment_is_422_and_writes_nothing(as_, db, change) -> None:
    before = count(db, Establishment)
    body = {**ESTABLISHMENT, **change}
    assert_error(as_("admin").post("/api/v1/establishments", json=body), 422, "validation")
    assert count(db, Establishment) == before


@pytest.mark.parametrize("missing", ["code", "name", "city", "department", "kind"])
def test_missing_establishment_field_is_422(as_, missing) -> None:
    body = {k: v for k, v in ESTABLISHMENT.items() if k != missing}
    answer = as_("admin").post("/api/v1/establishments", json=body)
    assert_error(answer, 422, "validation")


def test_duplicate_establishment_code_is_409(as_, db, home) -> None:
    before = count(db, Establishment)
    answer = as_("admin").post("/api/v1/establishments", json={**ESTABLISHMENT, "code": "HOME"})
    assert_error(answer, 409, "conflict")
    assert count(db, Establishment) == before


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("coordinator", 403),
                                              ("trainer", 403), ("company", 403)])
def test_only_admins_patch_establishments(as_, db, home, role, status) -> None:
    answer = as_(role).patch(f"/api/v1/establishments/{home.id}",
                             json={"city": "Chartres", "department": "28"})
    assert answer.status_code == status
    db.expire_all()
    assert home.city == ("Chartres" if status == 200 else "Orléans")
    if status == 200:
        assert answer.json["city"] == "Chartres"
        assert answer.json["code"] == "HOME"


def test_patch_establishment_refusals(as_, db, make, home) -> None:
    make.establishment(code="OTHER")
    admin = as_("admin")
    assert_error(admin.patch(f"/api/v1/establishments/{home.id}", json={"code": "OTHER"}),
                 409, "conflict")
    assert_error(admin.patch(f"/api/v1/establishments/{home.id}",
                             json={"timezone": "Europe/Nowhere"}), 422, "validation")
    assert_error(admin.patch(f"/api/v1/establishments/{home.id}", json={"kind": None}),
                 422, "validation")
    assert_error(admin.patch("/api/v1/establishments/999999", json={"city": "Dreux"}),
                 404, "not_found")
    db.expire_all()
    assert (home.code, home.timezone) == ("HOME", "Europe/Paris")
    same = admin.patch(f"/api/v1/establishments/{home.id}", json={"code": "HOME"})
    assert same.status_code == 200


def test_pagination_clamps_limit_and_counts_all(as_, db) -> None:
    db.execute(insert(Company), [{"name": f"Société {n:04d}"} for n in range(503)])
    admin = as_("admin")
    everything = admin.get("/api/v1/companies?limit=1000")
    assert everything.status_code == 200
    assert len(everything.json["items"]) == 500
    total = everything.json["total"]
    assert total >= 503
    window = admin.get("/api/v1/companies?limit=2&offset=1").json
    assert window["total"] == total
    assert [c["name"] for c in window["items"]] == [
        c["name"] for c in everything.json["items"][1:3]]
    assert len(admin.get("/api/v1/companies").json["items"]) == 50
    for bad in ("limit=0", "limit=-1", "offset=-1", "limit=many"):
        assert_error(admin.get(f"/api/v1/companies?{bad}"), 422, "validation")


# --- companies and certification types -------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_companies_are_for_staff(as_, db, role) -> None:
    before = count(db, Company)
    listed = as_(role).get("/api/v1/companies")
    created = as_(role).post("/api/v1/companies", json={"name": f"Laboratoires {role}"})
    if role in STAFF:
        assert listed.status_code == 200
        assert created.status_code == 201
        assert created.json == {"id": created.json["id"], "name": f"Laboratoires {role}"}
    else:
        assert_error(listed, 403, "forbidden")
        assert_error(created, 403, "forbidden")
        assert count(db, Company) == before


def test_company_refusals(as_, make, db) -> None:
    make.company(name="Cosmétiques du Loiret")
    before = count(db, Company)
    coordinator = as_("coordinator")
    assert_error(coordinator.post("/api/v1/companies", json={"name": "cosmétiques DU LOIRET"}),
                 409, "conflict")
    for body in ({}, {"name": ""}, {"name": 3}, {"name": "x" * 256}):
        assert_error(coordinator.post("/api/v1/companies", json=body), 422, "validation")
    assert count(db, Company) == before


@pytest.mark.parametrize("role", ROLES)
def test_certification_types_read_by_all_written_by_admins(as_, db, make, role) -> None:
    make.certification_type(code="GMP")
    listed = as_(role).get("/api/v1/certification-types")
    assert listed.status_code == 200
    assert "GMP" in [t["code"] for t in listed.json["items"]]
    body = {"code": "COBOT", "name": "Sécurité cobot", "validity_months": 24}
    created = as_(role).post("/api/v1/certification-types", json=body)
    if role == "admin":
        assert created.status_code == 201
        assert created.json == {"id": created.json["id"], "description": "", **body}
    else:
        assert_error(created, 403, "forbidden")
        assert db.scalar(select(CertificationType).where(CertificationType.code == "COBOT")) \
            is None


@pytest.mark.parametrize(("body", "status"), [
    ({"code": "GMP", "name": "Again"}, 409),
    ({"code": "NEW", "name": "New", "validity_months": 0}, 422),
    ({"code": "NEW", "name": "New", "validity_months": "12"}, 422),
    ({"code": "NEW", "name": "New", "validity_months": 10**12}, 422),
    ({"code": "NEW"}, 422),
])
def test_certification_type_refusals(as_, make, db, body, status) -> None:
    make.certification_type(code="GMP")
    before = count(db, CertificationType)
    answer = as_("admin").post("/api/v1/certification-types", json=body)
    assert_error(answer, status, "conflict" if status == 409 else "validation")
    assert count(db, CertificationType) == before


# --- accounts ----------------------------------------------------------------------------


USER_FIELDS = {"id", "email", "name", "role", "establishment_id", "company_id", "active"}


@pytest.mark.parametrize("role", ROLES)
def test_user_list_is_for_staff_and_never_shows_passwords(as_, people, role) -> None:
    answer = as_(role).get("/api/v1/users")
    if role not in STAFF:
        assert_error(answer, 403, "forbidden")
        return
    assert answer.status_code == 200
    assert answer.json["total"] >= 4
    assert all(set(u) == USER_FIELDS for u in answer.json["items"])
    trainers = as_(role).get("/api/v1/users?role=trainer").json["items"]
    assert {u["role"] for u in trainers} == {"trainer"}
    assert people["trainer"].id in [u["id"] for u in trainers]
    company = people["company"].company_id
    of_company = as_(role).get(f"/api/v1/users?company_id={company}").json
    assert [u["id"] for u in of_company["items"]] == [people["company"].id]


@pytest.mark.parametrize(("role", "target", "status"), [
    ("admin", "trainer", 200), ("coordinator", "company", 200), ("trainer", "trainer", 200),
    ("company", "company", 200), ("trainer", "coordinator", 404), ("company", "trainer", 404),
])
def test_user_detail_is_staff_or_self(as_, people, role, target, status) -> None:
    answer = as_(role).get(f"/api/v1/users/{people[target].id}")
    assert answer.status_code == status
    if status == 200:
        assert set(answer.json) == USER_FIELDS
        assert answer.json["email"] == people[target].email
    assert_error(as_("admin").get("/api/v1/users/999999"), 404, "not_found")


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_create_accounts(as_, db, home, people, role) -> None:
    before = count(db, User)
    body = {"email": "New.Coord@Example.org", "name": "Nadia", "role": "coordinator",
            "password": "long enough password", "establishment_id": home.id}
    answer = as_(role).post("/api/v1/users", json=body)
    if role != "admin":
        assert_error(answer, 403, "forbidden")
        assert count(db, User) == before
        return
    assert answer.status_code == 201
    assert answer.json == {"id": answer.json["id"], "email": "new.coord@example.org",
                           "name": "Nadia", "role": "coordinator", "establishment_id": home.id,
                           "company_id": None, "active": True}
    company_user = as_(role).post("/api/v1/users", json={
        "email": "c@lab.example", "name": "Chloé", "role": "company",
        "password": "long enough password", "company_id": people["company"].company_id})
    assert company_user.status_code == 201
    assert company_user.json["company_id"] == people["company"].company_id


@pytest.mark.parametrize(("change", "status"), [
    ({"email": "TRAINER@example.org"}, 409), ({"email": "not-an-email"}, 422),
    ({"role": "superuser"}, 422), ({"password": "short"}, 422), ({"role": "coordinator"}, 422),
    ({"role": "company"}, 422), ({"establishment_id": 999999}, 422), ({"company_id": 1}, 422),
    ({"name": ""}, 422), ({"password": None}, 422), ({"establishment_id": "1"}, 422),
])
def test_account_refusals(as_, db, make, change, status) -> None:
    make.user(Role.TRAINER, email="trainer@example.org")
    before = (count(db, User), count(db, AuditEntry))
    body = {"email": "someone@example.org", "name": "Someone", "role": "trainer",
            "password": "long enough password", **change}
    answer = as_("admin").post("/api/v1/users", json=body)
    assert_error(answer, status, "conflict" if status == 409 else "validation")
    assert (count(db, User), count(db, AuditEntry)) == before


# --- certifications ----------------------------------------------------------------------


@pytest.fixture
def gmp(make):
    return make.certification_type(code="GMP", validity_months=6)


@pytest.mark.parametrize(("role", "holder", "status"), [
    ("admin", "trainer", 200), ("coordinator", "trainer", 200), ("trainer", "trainer", 200),
    ("trainer", "coordinator", 404), ("company", "trainer", 404),
])
def test_who_reads_certifications(as_, make, people, gmp, role, holder, status) -> None:
    make.certification(people[holder], gmp)
    answer = as_(role).get(f"/api/v1/users/{people[holder].id}/certifications")
    assert answer.status_code == status
    if status == 200:
        assert answer.json["total"] == 1
        assert answer.json["items"][0]["certification_type_id"] == gmp.id


@pytest.mark.parametrize(("role", "holder", "status"), [
    ("admin", "trainer", 201), ("coordinator", "trainer", 201),
    ("coordinator", "coordinator", 403),  # themselves (issue 10): another one, or an admin
    ("admin", "admin", 201), ("trainer", "trainer", 403),
    ("trainer", "coordinator", 404), ("company", "trainer", 404),
    ("coordinator", "company", 403),
])
def test_who_grants_certifications(as_, db, people, gmp, role, holder, status) -> None:
    before = count(db, Certification)
    body = {"certification_type_id": gmp.id, "valid_from": "2027-01-31"}
    answer = as_(role).post(f"/api/v1/users/{people[holder].id}/certifications", json=body)
    assert answer.status_code == status, answer.json
    if status != 201:
        assert count(db, Certification) == before
        return
    assert answer.json == {
        "id": answer.json["id"], "user_id": people[holder].id, "certification_type_id": gmp.id,
        "valid_from": "2027-01-31", "valid_until": "2027-07-31",
        "granted_by_id": people[role].id, "revoked_at": None, "revoked_by_id": None}


def test_coordinator_of_another_establishment_grants(as_, make, people, gmp) -> None:
    elsewhere = make.user(Role.COORDINATOR)
    assert elsewhere.establishment_id != people["trainer"].establishment_id
    answer = as_(elsewhere).post(f"/api/v1/users/{people['trainer'].id}/certifications",
                                 json={"certification_type_id": gmp.id,
                                       "valid_from": "2027-08-31"})
    assert answer.status_code == 201
    assert answer.json["valid_until"] == "2028-02-29"  # six months on, clamped to the month


@pytest.mark.parametrize("body", [
    {"certification_type_id": None}, {}, {"valid_from": None},
    {"valid_from": "2027-02-01", "valid_until": "2027-01-31"},
    {"valid_from": "01/02/2027"}, {"valid_from": "2027-02-01T00:00:00+01:00"},
    {"certification_type_id": 999999}, {"certification_type_id": "GMP"},
])
def test_grant_refusals_are_422(as_, db, people, gmp, body) -> None:
    body = {"certification_type_id": gmp.id, **body} if "certification_type_id" not in body \
        and body else body
    before = (count(db, Certification), count(db, AuditEntry))
    answer = as_("coordinator").post(
        f"/api/v1/users/{people['trainer'].id}/certifications", json=body)
    assert_error(answer, 422, "validation")
    assert (count(db, Certification), count(db, AuditEntry)) == before


@pytest.mark.parametrize(("role", "holder", "status"), [
    ("admin", "trainer", 204), ("coordinator", "trainer", 204), ("trainer", "trainer", 403),
    ("trainer", "coordinator", 404), ("company", "trainer", 404),
])
def test_who_revokes(as_, db, make, people, gmp, role, holder, status) -> None:
    certification = make.certification(people[holder], gmp)
    answer = as_(role).delete(f"/api/v1/certifications/{certification.id}?reason=left")
    assert answer.status_code == status
    db.expire_all()
    if status != 204:
        assert certification.revoked_at is None
        return
    assert answer.get_data() == b""
    assert certification.revoked_at is not None
    assert certification.revoked_by_id == people[role].id
    assert certification.revoke_reason == "left"
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "certification.revoke"))
    assert audit.object_id == certification.id
    assert_error(as_(role).delete(f"/api/v1/certifications/{certification.id}"),
                 409, "invalid_state")
    listed = as_(role).get(f"/api/v1/users/{people[holder].id}/certifications").json
    assert listed["items"][0]["revoked_at"] is not None  # the row is kept
    assert_error(as_(role).delete("/api/v1/certifications/999999"), 404, "not_found")


def test_granted_and_revoked_are_audited(as_, db, people, gmp) -> None:
    coordinator = as_("coordinator")
    granted = coordinator.post(f"/api/v1/users/{people['trainer'].id}/certifications",
                               json={"certification_type_id": gmp.id,
                                     "valid_from": "2027-01-01", "valid_until": "2027-01-01"})
    assert granted.status_code == 201
    assert db.get(Certification, granted.json["id"]).valid_until == date(2027, 1, 1)
    assert coordinator.delete(f"/api/v1/certifications/{granted.json['id']}").status_code == 204
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "certification").order_by(AuditEntry.id)).all()
    assert actions == ["certification.grant", "certification.revoke"]


@pytest.mark.parametrize("path", [
    "/api/v1/establishments/2147483648", "/api/v1/users/99999999999999999999",
    "/api/v1/users/0/certifications", "/api/v1/projects/99999999999999999999",
])
def test_ids_beyond_the_database_are_404(as_, path) -> None:
    assert_error(as_("admin").get(path), 404, "not_found")
    assert_error(as_("admin").delete("/api/v1/closures/99999999999999999999"), 404, "not_found")


@pytest.mark.parametrize("query", ["offset=99999999999999999999", "establishment_id=2147483648"])
def test_huge_query_numbers_are_422(as_, query) -> None:
    assert_error(as_("admin").get(f"/api/v1/closures?{query}"), 422, "validation")
    assert_error(as_("admin").get(f"/api/v1/users?{query}"), 422, "validation")
