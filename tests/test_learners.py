"""A project's learners (issue 15, part 4): entered by its company or staff,
refused once the project is over, erased on request and after the retention
period (GDPR) with their counts and hours kept, never in the audit trail."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.services.attendance import learners as ops
from booking.services.attendance import sheets as sheet_ops
from booking.services.attendance.documents import certificate_of
from booking.services.attendance.retention import erase_all_expired, erase_expired
from booking.services.attendance.sheets import MarkInput
from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from booking.timeutil import frozen
from models import AuditEntry, Learner, Presence, ProjectStatus
from scheduler.jobs import JOBS
from tests.attendance_world import END, MORNING, attendance_world
from tests.conftest import NOW, csrf_token_of
from tests.world import fingerprint, logged_in

RETENTION = 1095


@pytest.fixture
def w(make: Any, db: Any) -> Any:
    return attendance_world(make, db)


def add(db: Any, w: Any, actor: Any = None, **kw: Any) -> Learner:
    values = {"first_name": "Lina", "last_name": "Morel", "public": "student"} | kw
    return ops.add_learner(db, actor=actor or w.company, project=w.project, now=NOW, **values)


def count(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(Learner))


def test_the_company_and_staff_add_learners(db, w) -> None:
    lina = add(db, w, email=" Lina.Morel@Example.org ")
    assert (lina.first_name, lina.last_name, lina.email) == ("Lina", "Morel",
                                                            "lina.morel@example.org")
    add(db, w, actor=w.coordinator, first_name="Omar", email="")
    assert count(db) == 4
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "learner.add",
                                                AuditEntry.object_id == lina.id)).one()
    assert "Morel" not in json.dumps(entry.details)
    assert entry.details["public"] == "student"


@pytest.mark.parametrize(("who", "error"), [
    ("trainer", Forbidden), ("other_trainer", NotFound), ("other_company", NotFound)])
def test_others_may_not_add_learners(db, w, who, error) -> None:
    with pytest.raises(error):
        add(db, w, actor=getattr(w, who))
    assert count(db) == 2


@pytest.mark.parametrize(("values", "field"), [
    ({"first_name": "  "}, "first_name"), ({"last_name": ""}, "last_name"),
    ({"last_name": "x" * 121}, "last_name"), ({"email": "pas-une-adresse"}, "email"),
    ({"email": "a@" + "b" * 260 + ".fr"}, "email"), ({"public": "retired"}, "public"),
    ({"first_name": "Li\x07na"}, "first_name"),
])
def test_bad_learners_are_refused_naming_the_field(db, w, values, field) -> None:
    with pytest.raises(ValidationError) as refused:
        add(db, w, **values)
    assert refused.value.details["field"] == field
    assert count(db) == 2


@pytest.mark.parametrize("status", [ProjectStatus.COMPLETED, ProjectStatus.CANCELLED,
                                    ProjectStatus.REJECTED])
def test_a_project_over_takes_no_change_but_erasure(db, w, status) -> None:
    w.project.status = status
    with pytest.raises(Forbidden, match="over"):
        add(db, w)
    with pytest.raises(Forbidden):
        ops.update_learner(db, actor=w.company, learner=w.jeanne, now=NOW,
                           first_name="J", last_name="D", public="employee")
    with pytest.raises(Forbidden):
        ops.remove_learner(db, actor=w.company, learner=w.karim, now=NOW)
    ops.erase_learner(db, actor=w.company, learner=w.jeanne, now=NOW)
    assert w.jeanne.erased_at == NOW
    assert w.jeanne.last_name == ""


def test_more_learners_than_announced_are_taken_and_flagged(db, w) -> None:
    assert not ops.over_announced(db, w.project)
    add(db, w)
    assert ops.over_announced(db, w.project)


def test_update_audits_which_fields_not_their_values(db, w) -> None:
    ops.update_learner(db, actor=w.company, learner=w.karim, now=NOW, first_name="Karim",
                       last_name="Benali-Roy", public="employee", email="k@example.org")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "learner.update")).one()
    assert entry.details["fields"] == ["last_name", "email", "public"]
    assert "Benali" not in json.dumps(entry.details)


def test_a_learner_with_marks_is_erased_not_removed(db, w) -> None:
    sheet = sheet_ops.ensure_sheets(db, w.booking)[0]
    sheet_ops.record_marks(db, actor=w.trainer, sheet=sheet, now=MORNING,
                           marks=[MarkInput(w.jeanne.id, Presence.PRESENT)])
    with pytest.raises(InvalidState, match="erase"):
        ops.remove_learner(db, actor=w.company, learner=w.jeanne, now=NOW)
    ops.remove_learner(db, actor=w.company, learner=w.karim, now=NOW)
    assert count(db) == 1


def test_erasure_keeps_counts_and_hours_and_names_nowhere(db, w) -> None:
    morning, afternoon = sheet_ops.ensure_sheets(db, w.booking)
    for sheet, at in ((morning, MORNING), (afternoon, END)):
        sheet_ops.record_marks(db, actor=w.trainer, sheet=sheet, now=at, marks=[
            MarkInput(w.jeanne.id, Presence.PRESENT), MarkInput(w.karim.id, Presence.ABSENT)])
        sheet_ops.sign(db, actor=w.trainer, sheet=sheet, now=at, typed="Alice Martin")
    before = certificate_of(db, w.jeanne).attended_cents
    assert before == 800
    ops.erase_learner(db, actor=w.company, learner=w.jeanne, now=NOW)
    db.flush()
    db.expire_all()
    assert (w.jeanne.first_name, w.jeanne.last_name, w.jeanne.email) == ("", "", None)
    assert certificate_of(db, w.jeanne).attended_cents == before
    assert len(morning.marks) == 2
    assert count(db) == 2
    entries = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "learner",
                                                  AuditEntry.object_id == w.jeanne.id)).all()
    assert [e.action for e in entries] == ["learner.add", "learner.erase"]
    assert all("Dupuis" not in json.dumps(e.details) and "jeanne@" not in json.dumps(e.details)
               for e in entries)
    # Again: nothing more to erase, no second entry.
    ops.erase_learner(db, actor=w.coordinator, learner=w.jeanne, now=NOW)
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "learner.erase")) == 1


@pytest.mark.parametrize(("who", "error"), [
    ("trainer", Forbidden), ("other_company", NotFound)])
def test_others_may_not_erase(db, w, who, error) -> None:
    with pytest.raises(error):
        ops.erase_learner(db, actor=getattr(w, who), learner=w.jeanne, now=NOW)
    assert w.jeanne.erased_at is None


# --- retention ---------------------------------------------------------------------------


def test_retention_erases_learners_of_projects_over_long_ago(db, w, make) -> None:
    w.project.status = ProjectStatus.COMPLETED
    db.flush()
    last_end = w.booking.end_at
    assert erase_expired(db, now=last_end + timedelta(days=RETENTION - 1), days=RETENTION) == 0
    assert w.jeanne.erased_at is None
    at = last_end + timedelta(days=RETENTION + 1)
    assert erase_all_expired(db, now=at, days=RETENTION) == 2
    assert w.jeanne.erased_at == at
    assert w.karim.last_name == ""
    # Idempotent: a second run erases nothing and audits nothing.
    assert erase_all_expired(db, now=at + timedelta(days=1), days=RETENTION) == 0
    assert w.jeanne.erased_at == at
    reasons = db.scalars(select(AuditEntry.reason).where(AuditEntry.action == "learner.erase"))
    assert list(reasons) == ["retention", "retention"]


def test_retention_spares_running_projects_and_works_in_batches(db, w, make) -> None:
    far = w.booking.end_at + timedelta(days=RETENTION + 10)
    assert erase_all_expired(db, now=far, days=RETENTION) == 0  # still scheduled
    for n in range(3):
        add(db, w, first_name=f"N{n}")
    w.project.status = ProjectStatus.CANCELLED
    db.flush()
    assert erase_expired(db, now=far, days=RETENTION, batch=2) == 2
    assert erase_all_expired(db, now=far, days=RETENTION, batch=2) == 3
    assert db.scalar(select(func.count()).select_from(Learner)
                     .where(Learner.erased_at.is_(None))) == 0


def test_a_project_without_sessions_counts_from_its_last_change(db, w, make) -> None:
    w.booking.project_id = None
    w.project.status = ProjectStatus.REJECTED
    w.project.updated_at = datetime(2027, 2, 1, tzinfo=NOW.tzinfo)
    db.flush()
    edge = w.project.updated_at + timedelta(days=RETENTION)
    assert erase_all_expired(db, now=edge, days=RETENTION) == 0
    assert erase_all_expired(db, now=edge + timedelta(seconds=1), days=RETENTION) == 2


def test_the_scheduler_runs_retention_daily(app, db, w) -> None:
    [spec] = [s for s in JOBS if s.id == "learner_retention"]
    assert spec.trigger_args == {"days": 1}
    w.project.status = ProjectStatus.COMPLETED
    db.flush()
    with app.app_context():
        message = spec.run(db, w.booking.end_at + timedelta(days=RETENTION + 1))
    assert message == "2 learner(s) erased"


# --- pages --------------------------------------------------------------------------------


def test_the_company_adds_edits_and_erases_on_the_pages(app, db, w) -> None:
    browser = logged_in(app, w.company)
    with frozen(NOW):
        html = browser.get(f"/projects/{w.project.id}").get_data(as_text=True)
        assert "Apprenants et émargement" in html
        assert "Dupuis Jeanne" in html
        token = csrf_token_of(html)
        answer = browser.post(f"/attendance/projects/{w.project.id}/learners", data={
            "csrf_token": token, "first_name": "Lina", "last_name": "Morel",
            "email": "", "public": "job_seeker"})
        assert answer.status_code == 302
        lina = db.scalars(select(Learner).where(Learner.last_name == "Morel")).one()
        answer = browser.post(f"/attendance/learners/{lina.id}", data={
            "csrf_token": token, "first_name": "Lina", "last_name": "Morel-Petit",
            "email": "lina@example.org", "public": "job_seeker"})
        assert answer.status_code == 302
        page = browser.get(f"/attendance/learners/{lina.id}").get_data(as_text=True)
        assert "Effacer les données personnelles" in page
        assert browser.post(f"/attendance/learners/{lina.id}/erase",
                            data={"csrf_token": token}).status_code == 302
        html = browser.get(f"/projects/{w.project.id}").get_data(as_text=True)
    db.expire_all()
    assert lina.erased_at is not None
    assert "Morel" not in html
    assert "lina@example.org" not in html
    assert f"Apprenant {lina.id} (données personnelles effacées)" in html
    assert "3 apprenants inscrits" not in html
    assert "2 apprenants inscrits" in html


def test_a_refused_learner_form_shows_its_error_and_writes_nothing(app, db, w) -> None:
    browser = logged_in(app, w.company)
    html = browser.get(f"/projects/{w.project.id}").get_data(as_text=True)
    before = fingerprint(db, ["learner"])
    answer = browser.post(f"/attendance/projects/{w.project.id}/learners", data={
        "csrf_token": csrf_token_of(html), "first_name": "Lina", "last_name": "Morel",
        "email": "pas-une-adresse", "public": "student"})
    assert answer.status_code == 200
    assert "adresse e-mail valide" in answer.get_data(as_text=True)
    assert fingerprint(db, ["learner"]) == before


@pytest.mark.parametrize(("who", "status"), [
    ("company", 302), ("coordinator", 302), ("trainer", 403), ("other_company", 404)])
def test_who_adds_learners_on_the_page(app, db, w, who, status) -> None:
    browser = logged_in(app, getattr(w, who))
    token = csrf_token_of(browser.get("/auth/password").get_data(as_text=True))
    answer = browser.post(f"/attendance/projects/{w.project.id}/learners", data={
        "csrf_token": token, "first_name": "Lina", "last_name": "Morel", "public": "student"})
    assert answer.status_code == status
