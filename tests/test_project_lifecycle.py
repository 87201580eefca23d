"""An industrial teaching project from request to completed sessions, role by
role, through the pages and the services: a company requests, a coordinator
approves with a certified trainer, sessions are booked (scheduled), the first
one starts (in progress), the last one ends (completed); every refusal on the
way, cancelling and its rules, the audit rows and the messages to the company
contact. Messages are checked by recipient, dedupe key and title: their French
is the translators' business.

The clock: Tuesday 12 January 2027, 09:00 in Paris (tests.conftest.NOW).
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.agreements.operations import waive_agreement
from booking.services.bookings.lifecycle import advance_projects
from booking.services.bookings.operations import (
    BookingRequest,
    cancel_booking,
    create_booking,
    decide_booking,
)
from booking.services.errors import Forbidden, InvalidState
from booking.services.policy import Policy
from booking.services.projects import operations as projects
from booking.timeutil import frozen
from models import (
    AgreementWaiver,
    AuditEntry,
    Booking,
    BookingPurpose,
    BookingStatus,
    OutboxMessage,
    Project,
    ProjectStatus,
    Role,
)
from scheduler.jobs import job_by_id, run_job
from tests.api_helpers import Callers, assert_error
from tests.conftest import NOW, PASSWORD, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
TITLE = "Cobots pour nos opérateurs"
_uids = itertools.count(1)


def paris(day: int, hour: int, minute: int = 0) -> datetime:
    """A day of January 2027, at a Paris wall-clock time."""
    return datetime(2027, 1, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def campus(make) -> dict[str, Any]:
    """A cobot cell at Tours needing the cobot safety certification, which Anne
    holds and Bruno does not; two companies; a coordinator at Tours and one at
    Orléans."""
    cobot = make.certification_type(code="COBOT", name="Sécurité cobot")
    tours = make.establishment(name="Polytech Tours", city="Tours", department="37")
    orleans = make.establishment(name="Lycée d'Orléans")
    cell = make.equipment(establishment=tours, name="Cellule cobot")
    cell.required_certification_types = [cobot]
    people = {
        "company": make.user(Role.COMPANY, name="Marie Lenoir"),
        "rival": make.user(Role.COMPANY),
        "coordinator": make.user(Role.COORDINATOR, establishment=tours),
        "far_coordinator": make.user(Role.COORDINATOR, establishment=orleans),
        "admin": make.user(Role.ADMIN),
        "anne": make.user(Role.TRAINER, name="Anne Certifiée", establishment=tours),
        "bruno": make.user(Role.TRAINER, name="Bruno Sans", establishment=tours),
    }
    make.certification(people["anne"], cobot)
    return {**people, "cell": cell}


@pytest.fixture
def add_project(db, campus):
    """A project of ``requester``'s company (Marie's by default), trained by Anne
    once approved."""

    def add(status: ProjectStatus = ProjectStatus.REQUESTED, requester=None, **kw) -> Project:
        requester = requester or campus["company"]
        if status is not ProjectStatus.REQUESTED:
            kw.setdefault("trainer_id", campus["anne"].id)
        project = Project(company_id=requester.company_id, requested_by_id=requester.id,
                          title=kw.pop("title", TITLE), learners=8, status=status,
                          wanted_from=date(2027, 1, 1), wanted_to=date(2027, 3, 31),
                          equipment=[campus["cell"]], **kw)
        db.add(project)
        db.flush()
        if status is not ProjectStatus.REQUESTED:
            # Past its decision: it needs no training agreement to get sessions
            # (the scheduling gate of issue 15), like those migration 0013 found.
            db.add(AgreementWaiver(project_id=project.id, waived_at=NOW, reason="Existant"))
            db.flush()
        return project

    return add


@pytest.fixture
def add_session(db, campus):
    """A session row as it stands, past ones included (the services refuse those)."""

    def add(project: Project, start: datetime, end: datetime,
            status: BookingStatus = BookingStatus.CONFIRMED, booked_by=None, **kw) -> Booking:
        booking = Booking(uid=f"lifecycle-{next(_uids)}@test", equipment=campus["cell"],
                          start_at=start, end_at=end, title="Séance",
                          purpose=BookingPurpose.INDUSTRIAL_PROJECT, status=status,
                          booked_by=booked_by or campus["coordinator"], trainer=campus["anne"],
                          project=project, **kw)
        db.add(booking)
        db.flush()
        return booking

    return add


@pytest.fixture
def api(client, campus):
    callers = Callers(client)
    return lambda who: callers(campus[who])


def _as(app, user):
    client = app.test_client()
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    answer = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": token})
    assert answer.status_code == 302
    return client


def _post(client, page_url: str, url: str, data: dict[str, Any]):
    token = csrf_token_of(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def messages(db, project: Project) -> dict[str, OutboxMessage]:
    """The project's messages to its company, by status."""
    prefix = f"project:{project.id}:"
    return {m.dedupe_key.removeprefix(prefix): m for m in db.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix)))}


def audit_of(db, project: Project) -> list[tuple[str, str | None, dict]]:
    return [tuple(row) for row in db.execute(
        select(AuditEntry.action, AuditEntry.reason, AuditEntry.details)
        .where(AuditEntry.object_type == "project", AuditEntry.object_id == project.id)
        .order_by(AuditEntry.id))]


def book(app, db, actor, project: Project, start: datetime, end: datetime) -> Booking:
    with app.app_context():
        return create_booking(db, actor=actor, now=NOW, policy=Policy(), request=BookingRequest(
            project.equipment[0].id, start, end, "Séance", BookingPurpose.INDUSTRIAL_PROJECT,
            project_id=project.id))


# --- the whole workflow ------------------------------------------------------------------


def test_from_request_to_completed_through_the_pages(app, db, campus, now) -> None:
    cell, anne = campus["cell"], campus["anne"]
    company = _as(app, campus["company"])
    answer = _post(company, "/projects/new", "/projects/new", {
        "title": TITLE, "learners": "8", "wanted_from": "2027-01-18", "wanted_to": "2027-02-26",
        "equipment": [str(cell.id)], "contact_name": "Service RH",
        "contact_email": "rh@labo.example"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    project = db.scalar(select(Project).where(Project.title == TITLE))
    url = f"/projects/{project.id}"
    assert project.status is ProjectStatus.REQUESTED
    assert messages(db, project) == {}  # a request is no change of status

    token = csrf_token_of(company.get(url).get_data(as_text=True))
    assert company.post(f"{url}/approve", data={"trainer": anne.id, "csrf_token": token}
                        ).status_code == 403
    coordinator = _as(app, campus["coordinator"])
    answer = _post(coordinator, url, f"{url}/approve", {"trainer": anne.id, "reason": "Bienvenue"})
    assert answer.status_code == 302
    db.expire_all()
    assert (project.status, project.trainer_id) == (ProjectStatus.APPROVED, anne.id)
    approved = messages(db, project)["approved"]
    assert approved.to_addr == "rh@labo.example"
    assert TITLE in approved.subject
    for said in ("Anne Certifiée", "Bienvenue", f"{{site}}/projects/{project.id}"):
        assert said in approved.body_text
    # No training agreement for this one: the coordinator says so (issue 15's gate).
    answer = _post(coordinator, url, f"{url}/agreement/waive",
                   {"reason": "Action de découverte gratuite"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]

    # The first session, with the booking form the project page links to.
    page = coordinator.get(url).get_data(as_text=True)
    link = re.search(r'id="schedule-session" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    form = coordinator.get(link)
    assert form.status_code == 200
    answer = coordinator.post("/bookings/new", data={
        "csrf_token": csrf_token_of(form.get_data(as_text=True)), "equipment": cell.id,
        "day": "2027-01-19", "start": "09:00", "end": "12:00", "title": "Séance 1",
        "purpose": "industrial_project", "trainer": anne.id, "project": project.id,
        "repeat": "none", "submit": "Book"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    db.expire_all()
    first = db.scalar(select(Booking).where(Booking.project_id == project.id))
    assert (first.status, first.trainer_id) == (BookingStatus.CONFIRMED, anne.id)
    assert project.status is ProjectStatus.SCHEDULED
    assert "scheduled" in messages(db, project)
    book(app, db, campus["coordinator"], project, paris(26, 9), paris(26, 12))
    assert project.status is ProjectStatus.SCHEDULED

    with app.app_context():
        assert advance_projects(db, now=NOW) == (0, 0)
        assert advance_projects(db, now=paris(19, 9, 30)) == (1, 0)
        assert project.status is ProjectStatus.IN_PROGRESS
        assert advance_projects(db, now=paris(19, 10)) == (0, 0)  # idempotent
        assert advance_projects(db, now=paris(20, 9)) == (0, 0)  # one session still to come
        assert advance_projects(db, now=paris(26, 12)) == (0, 1)
        assert advance_projects(db, now=paris(27, 12)) == (0, 0)
    assert project.status is ProjectStatus.COMPLETED
    assert [(action, details) for action, _, details in audit_of(db, project)] == [
        ("project.request", {"company_id": project.company_id, "equipment_ids": [cell.id]}),
        ("project.approve", {"trainer_id": anne.id}),
        ("agreement.waive", {}),
        ("project.status", {"before": "approved", "after": "scheduled"}),
        ("project.status", {"before": "scheduled", "after": "in_progress"}),
        ("project.status", {"before": "in_progress", "after": "completed"}),
    ]
    sent = messages(db, project)
    assert sorted(sent) == ["approved", "completed", "in_progress", "scheduled"]
    assert {m.to_addr for m in sent.values()} == {"rh@labo.example"}
    assert all(TITLE in m.subject for m in sent.values())
    with frozen(paris(27, 12)):
        page = company.get(url).get_data(as_text=True)
    assert "badge-completed" in page
    assert page.count("data-booking=") == 2
    assert 'id="cancel-project"' not in page  # over: nothing to cancel


def test_the_workflow_through_the_services_and_the_job(app, db, campus) -> None:
    """No contact e-mail: the requester is told, in their language (English here)."""
    marie, anne = campus["company"], campus["anne"]
    marie.locale = "en"
    with app.app_context():
        project = projects.request_project(
            db, actor=marie, now=NOW, title=TITLE, learners=6, wanted_from=date(2027, 1, 18),
            wanted_to=date(2027, 2, 26), equipment_ids=[campus["cell"].id])
        projects.approve_project(db, project, actor=campus["admin"], now=NOW, trainer_id=anne.id)
        waive_agreement(db, project, actor=campus["admin"], now=NOW, reason="Action interne")
        # The trainer books the session: a project's session awaits approval.
        session = book(app, db, anne, project, paris(19, 9), paris(19, 12))
        assert session.status is BookingStatus.PENDING
        assert project.status is ProjectStatus.SCHEDULED
        decide_booking(db, actor=campus["coordinator"], booking=session, approve=True, now=NOW)
    sent = messages(db, project)
    assert {m.to_addr for m in sent.values()} == {marie.email}
    assert sent["approved"].subject == f"Project approved: {TITLE}"
    assert sent["scheduled"].subject == f"Project scheduled: {TITLE}"
    for later, summary, status in [
            (paris(19, 9, 15), "1 project(s) started, 0 completed", ProjectStatus.IN_PROGRESS),
            (paris(19, 12), "0 project(s) started, 1 completed", ProjectStatus.COMPLETED),
            (paris(19, 12, 15), "0 project(s) started, 0 completed", ProjectStatus.COMPLETED)]:
        with frozen(later):
            run = run_job(app, job_by_id("advance_projects"), holder=None)
        assert (run.summary, run.error) == (summary, None)
        db.expire_all()
        assert project.status is status
    assert messages(db, project)["completed"].subject == f"Project completed: {TITLE}"


def test_status_follows_the_sessions_that_count(app, db, add_project, add_session) -> None:
    """Pending sessions never start a project (they expire unless approved), but
    hold its completion; cancelled ones count for nothing; a scheduled project
    whose sessions are all over goes straight to completed, with one message."""
    waiting = add_project(ProjectStatus.SCHEDULED, title="En attente")
    add_session(waiting, paris(12, 8), paris(12, 9), BookingStatus.PENDING)
    held = add_project(ProjectStatus.IN_PROGRESS, title="Encore une séance")
    add_session(held, paris(11, 9), paris(11, 12), BookingStatus.COMPLETED)
    add_session(held, paris(19, 9), paris(19, 12), BookingStatus.PENDING)
    emptied = add_project(ProjectStatus.SCHEDULED, title="Séances annulées")
    add_session(emptied, paris(11, 9), paris(11, 12), BookingStatus.CANCELLED, cancelled_at=NOW)
    over = add_project(ProjectStatus.SCHEDULED, title="Déjà fini")
    add_session(over, paris(5, 9), paris(5, 12), BookingStatus.COMPLETED)
    # Confirmed, not yet marked completed (the afternoon: Anne trains « held » that morning).
    add_session(over, paris(11, 13), paris(11, 16))
    add_session(over, paris(20, 9), paris(20, 12), BookingStatus.REJECTED)
    with app.app_context():
        assert advance_projects(db, now=NOW) == (0, 1)
    assert [p.status for p in (waiting, held, emptied, over)] == [
        ProjectStatus.SCHEDULED, ProjectStatus.IN_PROGRESS, ProjectStatus.SCHEDULED,
        ProjectStatus.COMPLETED]
    assert sorted(messages(db, over)) == ["completed"]
    assert all(messages(db, p) == {} for p in (waiting, held, emptied))


# --- refusals ----------------------------------------------------------------------------


def test_who_may_decide(app, db, api, campus, add_project) -> None:
    project = add_project()
    theirs = add_project(requester=campus["rival"], title="Projet concurrent")
    anne = {"trainer_id": campus["anne"].id}
    assert_error(api("company").post(f"/api/v1/projects/{project.id}/approve", json=anne),
                 403, "forbidden")
    assert_error(api("company").post(f"/api/v1/projects/{theirs.id}/approve", json=anne),
                 404, "not_found")
    assert_error(api("anne").post(f"/api/v1/projects/{project.id}/reject",
                                  json={"reason": "Non"}), 404, "not_found")
    assert api("coordinator").post(f"/api/v1/projects/{project.id}/approve",
                                   json=anne).status_code == 200
    # Decided: a second decision, by anyone, is refused and changes nothing.
    for who in ("coordinator", "admin"):
        assert_error(api(who).post(f"/api/v1/projects/{project.id}/approve", json=anne),
                     409, "invalid_state")
        assert_error(api(who).post(f"/api/v1/projects/{project.id}/reject",
                                   json={"reason": "Trop tard"}), 409, "invalid_state")
    with app.app_context(), pytest.raises(InvalidState):
        projects.reject_project(db, project, actor=campus["admin"], now=NOW, reason="Non")
    db.expire_all()
    assert project.status is ProjectStatus.APPROVED
    assert list(messages(db, project)) == ["approved"]
    assert [a for a, _, _ in audit_of(db, project)] == ["project.approve"]


def test_rejection_is_told_with_its_reason(app, db, campus, add_project) -> None:
    project = add_project(contact_email="rh@labo.example")
    coordinator = _as(app, campus["coordinator"])
    url = f"/projects/{project.id}/reject"
    assert _post(coordinator, url, url, {"reason": "Cellule en maintenance"}).status_code == 302
    rejected = messages(db, project)["rejected"]
    assert (rejected.to_addr, TITLE in rejected.subject,
            "Cellule en maintenance" in rejected.body_text) == ("rh@labo.example", True, True)
    assert audit_of(db, project) == [("project.reject", "Cellule en maintenance", {})]


# --- cancelling --------------------------------------------------------------------------


def test_company_cancels_its_request_with_a_confirm_step(app, db, campus, add_project,
                                                          now) -> None:
    project = add_project(contact_email="rh@labo.example")
    company = _as(app, campus["company"])
    url = f"/projects/{project.id}"
    assert 'id="cancel-project"' in company.get(url).get_data(as_text=True)
    assert 'id="cancel-form"' in company.get(f"{url}/cancel").get_data(as_text=True)
    answer = _post(company, f"{url}/cancel", f"{url}/cancel", {"reason": ""})
    assert answer.status_code == 200
    assert 'id="reason-error"' in answer.get_data(as_text=True)
    db.expire_all()
    assert project.status is ProjectStatus.REQUESTED
    answer = _post(company, f"{url}/cancel", f"{url}/cancel", {"reason": "Budget gelé"})
    assert answer.status_code == 302
    db.expire_all()
    assert project.status is ProjectStatus.CANCELLED
    assert audit_of(db, project) == [
        ("project.cancel", "Budget gelé", {"before": "requested", "booking_ids": []})]
    cancelled = messages(db, project)["cancelled"]
    assert (cancelled.to_addr, TITLE in cancelled.subject, "Budget gelé" in cancelled.body_text
            ) == ("rh@labo.example", True, True)
    page = company.get(url).get_data(as_text=True)
    assert re.search(r'id="cancel-reason">Budget gelé<', page)
    assert 'id="cancel-project"' not in page
    # Over: the confirm page sends back to the project, and a post changes nothing.
    assert company.get(f"{url}/cancel").status_code == 302
    assert _post(company, url, f"{url}/cancel", {"reason": "Encore"}).status_code == 302
    assert len(audit_of(db, project)) == 1


def test_cancelling_cancels_the_sessions_to_come(app, db, api, campus, add_project,
                                                 add_session, now) -> None:
    """A coordinator cancels a project under way: each session still to come is
    cancelled as a booking is (SEQUENCE raised, audited, its people told); the
    sessions held or under way stay as they are."""
    project = add_project(ProjectStatus.IN_PROGRESS)
    done = add_session(project, paris(11, 9), paris(11, 12), BookingStatus.COMPLETED)
    under_way = add_session(project, paris(12, 8, 30), paris(12, 11))
    coming = [book(app, db, campus["coordinator"], project, paris(day, 9), paris(day, 12))
              for day in (19, 26)]
    answer = api("coordinator").post(f"/api/v1/projects/{project.id}/cancel",
                                     json={"reason": "Entreprise fermée"})
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "cancelled"
    db.expire_all()
    assert (done.status, under_way.status) == (BookingStatus.COMPLETED, BookingStatus.CONFIRMED)
    for booking in coming:
        assert (booking.status, booking.sequence, booking.cancel_reason, booking.cancelled_by_id
                ) == (BookingStatus.CANCELLED, 1, "Entreprise fermée", campus["coordinator"].id)
        assert db.scalar(select(AuditEntry.reason).where(
            AuditEntry.action == "booking.cancel", AuditEntry.object_id == booking.id)) \
            == "Entreprise fermée"
        assert db.scalar(select(OutboxMessage.to_addr).where(OutboxMessage.dedupe_key == (
            f"booking:{booking.id}:1:cancelled:{campus['anne'].id}"))) == campus["anne"].email
    assert audit_of(db, project)[-1] == ("project.cancel", "Entreprise fermée", {
        "before": "in_progress", "booking_ids": [b.id for b in coming]})
    assert messages(db, project)["cancelled"].to_addr == campus["company"].email


@pytest.mark.parametrize(("status", "who", "code"), [
    (ProjectStatus.APPROVED, "company", 200),
    (ProjectStatus.SCHEDULED, "company", 200),
    (ProjectStatus.IN_PROGRESS, "company", 403),
    (ProjectStatus.APPROVED, "anne", 403),
    (ProjectStatus.APPROVED, "bruno", 404),
    (ProjectStatus.APPROVED, "rival", 404),
    (ProjectStatus.IN_PROGRESS, "admin", 200),
    (ProjectStatus.COMPLETED, "coordinator", 409),
    (ProjectStatus.REJECTED, "admin", 409),
    (ProjectStatus.CANCELLED, "company", 409),
])
def test_who_may_cancel_when(app, db, api, campus, add_project, now, status, who,
                            code) -> None:
    """Through the API, and the confirm page (a project over sends back to its page)."""
    project = add_project(status)
    page = _as(app, campus[who]).get(f"/projects/{project.id}/cancel")
    assert page.status_code == {409: 302}.get(code, code)
    answer = api(who).post(f"/api/v1/projects/{project.id}/cancel", json={"reason": "Non"})
    if code != 200:
        assert_error(answer, code, {403: "forbidden", 404: "not_found",
                                    409: "invalid_state"}[code])
        db.expire_all()
        assert project.status is status
        assert audit_of(db, project) == []
        assert messages(db, project) == {}
    else:
        assert answer.json["status"] == "cancelled"
        assert list(messages(db, project)) == ["cancelled"]
    assert_error(api("company").post(f"/api/v1/projects/{project.id}/cancel", json={}),
                 422, "validation")


def test_a_session_the_user_may_not_cancel_refuses_it_all(app, db, api, campus, add_project,
                                                           now) -> None:
    """booking.permissions decides each session: a company cancels only what it
    booked, a coordinator only at their establishment; nothing is written."""
    project = add_project(ProjectStatus.SCHEDULED)
    own = book(app, db, campus["company"], project, paris(19, 9), paris(19, 12))
    assert own.status is BookingStatus.PENDING
    by_staff = book(app, db, campus["coordinator"], project, paris(26, 9), paris(26, 12))
    for who in ("company", "far_coordinator"):
        body = assert_error(api(who).post(f"/api/v1/projects/{project.id}/cancel",
                                          json={"reason": "Non"}), 403, "forbidden")
        assert body["details"]["booking_id"] == (by_staff.id if who == "company" else own.id)
    db.expire_all()
    assert project.status is ProjectStatus.SCHEDULED
    assert (own.status, by_staff.status) == (BookingStatus.PENDING, BookingStatus.CONFIRMED)
    html = _as(app, campus["company"]).get(f"/projects/{project.id}/cancel").get_data(
        as_text=True)
    assert 'id="cancel-blocked"' in html
    assert 'id="cancel-form"' not in html
    with app.app_context(), pytest.raises(Forbidden):
        projects.cancel_project(db, project, actor=campus["company"], now=NOW, reason="Non")
    # Once the staff's session is gone, the company cancels the rest itself.
    with app.app_context():
        cancel_booking(db, actor=campus["coordinator"], booking=by_staff, now=NOW)
    answer = api("company").post(f"/api/v1/projects/{project.id}/cancel",
                                 json={"reason": "Plus de budget"})
    assert answer.status_code == 200, answer.json
    db.expire_all()
    assert own.status is BookingStatus.CANCELLED
    assert own.cancelled_by_id == campus["company"].id
