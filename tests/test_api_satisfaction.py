"""The satisfaction API (issue 15, part 5): a project's results, the aggregate,
and « send now »; who may call each, and what a refusal leaves."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from booking.services.satisfaction import surveys
from models import ProjectStatus, Role
from tests.api_helpers import Callers, assert_error
from tests.test_satisfaction import (
    KEY,
    answer,
    completed_project,
    learner,
    mails,
    send,
    surveys_of,
    tokens,
)
from tests.world import fingerprint


@pytest.fixture
def as_(client):
    return Callers(client)


@pytest.fixture
def w(make: Any, db: Any, now: Any) -> dict[str, Any]:
    home = make.establishment(code="HOME", name="Lycée du Parc")
    away = make.establishment(code="AWAY", name="IUT de Tours")
    mixer = make.equipment(establishment=home, code="MEL-1", name="Mélangeur")
    oven = make.equipment(establishment=away, code="ETU-1", name="Étuve")
    company_a, company_b = make.company(), make.company()
    people = {
        "admin": make.user(Role.ADMIN),
        "coordinator": make.user(Role.COORDINATOR, establishment=home),
        "other_coordinator": make.user(Role.COORDINATOR, establishment=away),
        "trainer": make.user(Role.TRAINER, establishment=home, name="Alice Martin"),
        "company": make.user(Role.COMPANY, company=company_a),
        "other_company": make.user(Role.COMPANY, company=company_b),
    }
    project = completed_project(make, db, company=company_a, requester=people["company"],
                                trainer=people["trainer"], machines=[mixer],
                                contact_email="contact@labo-a.fr", wanted_to=date(2027, 1, 10))
    learner(db, project, "Durand", "lea.durand@labo-a.fr")
    learner(db, project, "Petit", "paul.petit@labo-a.fr")
    return {**people, "project": project, "mixer": mixer, "oven": oven, "home": home}


def path(w: dict[str, Any], suffix: str = "") -> str:
    return f"/api/v1/projects/{w['project'].id}/satisfaction{suffix}"


def test_a_coordinator_sends_then_the_company_reads_the_results(app, as_, db, w) -> None:
    sent = as_(w["coordinator"]).post(path(w, "/send"))
    assert sent.status_code == 200, sent.get_data(as_text=True)
    assert sent.json == {"sent": 3}
    assert {m.to_addr for m in mails(db)} == {"contact@labo-a.fr", "lea.durand@labo-a.fr",
                                             "paul.petit@labo-a.fr"}
    again = as_(w["coordinator"]).post(path(w, "/send"))
    assert_error(again, 409, "invalid_state")
    found = tokens(db)
    answer(app, db, found["contact@labo-a.fr"], (5, 5, 5, 4, 4, 5), True, "Parfait.")
    answer(app, db, found["lea.durand@labo-a.fr"], (3, 4, 4, 2, 3, 4), False, "Bruyant.")
    body = as_(w["company"]).get(path(w)).json
    assert body["project_id"] == w["project"].id
    assert body["all"]["sent"] == 3
    assert body["all"]["answered"] == 2
    assert body["all"]["response_rate"] == pytest.approx(0.6667)
    assert body["all"]["averages"] == {"overall": 4.0, "content": 4.5, "trainer": 4.5,
                                       "equipment": 3.0, "organisation": 3.5,
                                       "objectives": 4.5}
    assert body["learners"]["averages"]["overall"] == 3.0
    assert body["learners"]["sent"] == 2
    assert (body["all"]["recommend_yes"], body["all"]["recommend_no"]) == (1, 1)
    assert body["comments"] == [{"respondent": "contact", "text": "Parfait."},
                                {"respondent": "learner", "text": "Bruyant."}]
    # Nothing says which learner answered: no ids, no addresses, no times.
    text = str(body)
    for private in ("lea.durand", "paul.petit", "Durand", "learner_id", "answered_at"):
        assert private not in text


@pytest.mark.parametrize(("who", "status", "code"), [
    ("other_company", 404, "not_found"), ("trainer", 403, "forbidden")])
def test_the_results_are_refused_to_others(as_, db, w, who, status, code) -> None:
    assert_error(as_(w[who]).get(path(w)), status, code)


@pytest.mark.parametrize(("who", "status", "code"), [
    ("company", 403, "forbidden"), ("trainer", 403, "forbidden"),
    ("other_company", 404, "not_found")])
def test_only_staff_send_and_a_refusal_writes_nothing(as_, db, w, who, status, code) -> None:
    before = fingerprint(db, ["satisfaction_survey", "outbox_message", "audit_entry"])
    assert_error(as_(w[who]).post(path(w, "/send")), status, code)
    assert fingerprint(db, ["satisfaction_survey", "outbox_message", "audit_entry"]) == before


def test_a_project_not_completed_is_409_and_nothing_sent(as_, db, w) -> None:
    w["project"].status = ProjectStatus.IN_PROGRESS
    db.flush()
    assert_error(as_(w["admin"]).post(path(w, "/send")), 409, "invalid_state")
    assert surveys_of(db, w["project"]) == []


def test_unknown_project_is_404(as_, w) -> None:
    assert_error(as_(w["admin"]).get("/api/v1/projects/999999/satisfaction"), 404, "not_found")
    assert_error(as_(w["admin"]).post("/api/v1/projects/999999/satisfaction/send"), 404,
                 "not_found")


def test_the_aggregate_per_group_and_period(app, as_, db, w) -> None:
    send(app, db)
    found = tokens(db)
    answer(app, db, found["contact@labo-a.fr"], (4, 4, 4, 4, 4, 4), True)
    items = as_(w["admin"]).get("/api/v1/satisfaction?group_by=equipment").json["items"]
    assert items == [{"group_by": "equipment", "key": w["mixer"].id,
                      "label": "Mélangeur (MEL-1)", "projects": 1, "sent": 3, "answered": 1,
                      "response_rate": 0.3333, "averages": dict.fromkeys(
                          ("overall", "content", "trainer", "equipment", "organisation",
                           "objectives"), 4.0), "recommend_rate": 1.0}]
    trainers = as_(w["coordinator"]).get("/api/v1/satisfaction?group_by=trainer").json
    assert [(r["label"], r["sent"]) for r in trainers["items"]] == [("Alice Martin", 3)]
    # The away coordinator's establishment has no machine of the project.
    assert as_(w["other_coordinator"]).get("/api/v1/satisfaction").json == {"items": []}
    later = as_(w["admin"]).get("/api/v1/satisfaction?group_by=establishment&from=2027-01-11")
    assert later.json == {"items": []}
    within = as_(w["admin"]).get(
        "/api/v1/satisfaction?group_by=establishment&from=2027-01-10&to=2027-01-10").json
    assert [r["label"] for r in within["items"]] == ["Lycée du Parc"]


@pytest.mark.parametrize("query", ["group_by=machine", "from=2027-13-01", "to=yesterday",
                                   "group_by=" + "x" * 100, "from=2027-02-01&to=2027-01-01"])
def test_a_bad_aggregate_query_is_422(as_, w, query) -> None:
    assert_error(as_(w["admin"]).get(f"/api/v1/satisfaction?{query}"), 422, "validation")


@pytest.mark.parametrize("who", ["trainer", "company"])
def test_the_aggregate_is_for_staff(as_, w, who) -> None:
    assert_error(as_(w[who]).get("/api/v1/satisfaction"), 403, "forbidden")


def test_anonymous_calls_are_401(client, w) -> None:
    for method, url in (("get", path(w)), ("post", path(w, "/send")),
                        ("get", "/api/v1/satisfaction")):
        assert getattr(client, method)(url).status_code == 401


def test_the_send_endpoint_and_the_job_share_one_guard(app, as_, db, w) -> None:
    learner(db, w["project"], "Roux", "")  # no address: never asked
    with app.app_context():
        assert len(surveys.send_project_surveys(db, w["project"], actor=w["admin"],
                                                now=w["project"].updated_at, key=KEY)) == 3
    assert send(app, db) == 0
    assert_error(as_(w["admin"]).post(path(w, "/send")), 409, "invalid_state")
