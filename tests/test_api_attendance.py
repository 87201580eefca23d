"""The learners and attendance API (issue 15, part 4): a project's learners,
a session's sheets, the trainer's marks and signature, the company's
countersignature; who may, and the refusals in the API's error body."""

from __future__ import annotations

from typing import Any

import pytest

from booking.timeutil import frozen
from models import AttendanceMark, Learner
from tests.api_helpers import Callers, assert_error, count
from tests.attendance_world import AFTERNOON, MORNING, PATH, attendance_world
from tests.world import fingerprint


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def w(make: Any, db: Any) -> Any:
    return attendance_world(make, db)


def learner_body(**kw: Any) -> dict[str, Any]:
    return {"first_name": "Lina", "last_name": "Morel", "public": "student",
            "email": "lina@example.org"} | kw


def test_learners_are_listed_added_replaced_and_erased(callers, db, w) -> None:
    company = callers(w.company)
    url = f"/api/v1/projects/{w.project.id}/learners"
    listed = company.get(url)
    assert listed.status_code == 200
    assert listed.json["total"] == 2
    assert {i["last_name"] for i in listed.json["items"]} == {"Dupuis", "Benali"}
    added = company.post(url, json=learner_body())
    assert added.status_code == 201, added.json
    lina = added.json
    assert (lina["project_id"], lina["public"], lina["erased"]) == (w.project.id, "student",
                                                                    False)
    replaced = company.put(f"/api/v1/learners/{lina['id']}",
                           json=learner_body(last_name="Morel-Petit", email=None))
    assert replaced.status_code == 200
    assert (replaced.json["last_name"], replaced.json["email"]) == ("Morel-Petit", None)
    erased = company.delete(f"/api/v1/learners/{lina['id']}")
    assert erased.status_code == 200
    assert erased.json["erased"] is True
    assert (erased.json["first_name"], erased.json["last_name"], erased.json["email"]) == \
        ("", "", None)
    assert erased.json["erased_at"] is not None
    assert count(db, Learner) == 3


@pytest.mark.parametrize(("who", "status", "code"), [
    ("trainer", 403, "forbidden"), ("other_trainer", 404, "not_found"),
    ("other_company", 404, "not_found")])
def test_others_may_not_add_learners(callers, db, w, who, status, code) -> None:
    before = fingerprint(db, ["learner", "audit_entry"])
    answer = callers(getattr(w, who)).post(f"/api/v1/projects/{w.project.id}/learners",
                                           json=learner_body())
    assert_error(answer, status, code)
    assert fingerprint(db, ["learner", "audit_entry"]) == before


def test_another_company_sees_no_learner(callers, w) -> None:
    caller = callers(w.other_company)
    assert_error(caller.get(f"/api/v1/projects/{w.project.id}/learners"), 404, "not_found")
    assert_error(caller.delete(f"/api/v1/learners/{w.jeanne.id}"), 404, "not_found")
    assert_error(caller.put(f"/api/v1/learners/{w.jeanne.id}", json=learner_body()), 404,
                 "not_found")


def test_a_bad_email_is_a_422_naming_it(callers, db, w) -> None:
    answer = callers(w.company).post(f"/api/v1/projects/{w.project.id}/learners",
                                     json=learner_body(email="pas-une-adresse"))
    body = assert_error(answer, 422, "validation")
    assert body["details"]["field"] == "email"
    assert count(db, Learner) == 2


def test_the_trainer_marks_and_signs_the_company_countersigns(callers, db, w) -> None:
    with frozen(MORNING):
        trainer, company = callers(w.trainer), callers(w.company)
        sheets = trainer.get(f"/api/v1/bookings/{w.booking.id}/attendance")
        assert sheets.status_code == 200
        assert [(s["half_day"], s["hours_cents"], s["state"]) for s in sheets.json["items"]] \
            == [("morning", 400, "open"), ("afternoon", 400, "early")]
        sheet_id = sheets.json["items"][0]["id"]
        marked = trainer.put(f"/api/v1/attendance-sheets/{sheet_id}/marks", json={"marks": [
            {"learner_id": w.jeanne.id, "presence": "present"},
            {"learner_id": w.karim.id, "presence": "late", "minutes_late": 10}]})
        assert marked.status_code == 200, marked.json
        assert sorted((m["learner_id"], m["presence"], m["minutes_late"])
                      for m in marked.json["marks"]) == sorted(
            [(w.jeanne.id, "present", 0), (w.karim.id, "late", 10)])
        early = company.post(f"/api/v1/attendance-sheets/{sheet_id}/countersign",
                             json={"typed_name": "Denise Laborde"})
        assert_error(early, 409, "invalid_state")
        signed = trainer.post(f"/api/v1/attendance-sheets/{sheet_id}/sign",
                              json={"signature": PATH})
        assert signed.status_code == 200
        assert signed.json["trainer_signature"] == {"kind": "path", "value": PATH}
        assert signed.json["state"] == "signed"
        locked = trainer.put(f"/api/v1/attendance-sheets/{sheet_id}/marks", json={"marks": [
            {"learner_id": w.karim.id, "presence": "absent"}]})
        assert_error(locked, 409, "invalid_state")
    with frozen(AFTERNOON):
        countersigned = company.post(f"/api/v1/attendance-sheets/{sheet_id}/countersign",
                                     json={"typed_name": "Denise Laborde"})
        assert countersigned.status_code == 200
        assert countersigned.json["company_signature"] == {"kind": "name",
                                                           "value": "Denise Laborde"}
        assert countersigned.json["company_signed_by_id"] == w.company.id
        seen = company.get(f"/api/v1/bookings/{w.booking.id}/attendance")
        assert seen.json["items"][0]["state"] == "countersigned"


def test_sheet_permissions(callers, db, w) -> None:
    with frozen(MORNING):
        sheets = callers(w.coordinator).get(f"/api/v1/bookings/{w.booking.id}/attendance")
        sheet_id = sheets.json["items"][0]["id"]
        marks = {"marks": [{"learner_id": w.jeanne.id, "presence": "present"}]}
        assert_error(callers(w.other_company).get(
            f"/api/v1/bookings/{w.booking.id}/attendance"), 404, "not_found")
        assert_error(callers(w.other_trainer).get(
            f"/api/v1/bookings/{w.booking.id}/attendance"), 403, "forbidden")
        assert_error(callers(w.other_trainer).put(
            f"/api/v1/attendance-sheets/{sheet_id}/marks", json=marks), 404, "not_found")
        assert_error(callers(w.company).put(
            f"/api/v1/attendance-sheets/{sheet_id}/marks", json=marks), 403, "forbidden")
        assert_error(callers(w.other_company).post(
            f"/api/v1/attendance-sheets/{sheet_id}/countersign",
            json={"typed_name": "X"}), 404, "not_found")
    assert count(db, AttendanceMark) == 0


@pytest.mark.parametrize("payload", [
    {"signature": "M 1 1 L 2 2 <script>"}, {"signature": "M 1 1"}, {},
    {"signature": "", "typed_name": ""}])
def test_bad_signatures_are_refused(callers, db, w, payload) -> None:
    with frozen(MORNING):
        trainer = callers(w.trainer)
        sheet_id = trainer.get(f"/api/v1/bookings/{w.booking.id}/attendance"
                               ).json["items"][0]["id"]
        trainer.put(f"/api/v1/attendance-sheets/{sheet_id}/marks", json={"marks": [
            {"learner_id": w.jeanne.id, "presence": "present"},
            {"learner_id": w.karim.id, "presence": "absent"}]})
        answer = trainer.post(f"/api/v1/attendance-sheets/{sheet_id}/sign", json=payload)
    assert_error(answer, 422, "validation")
