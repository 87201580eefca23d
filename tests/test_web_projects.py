"""Industrial teaching projects through the pages: a company requests and
follows its own projects only; coordinators and admins review them, approve
with a trainer certified for every machine over the whole period, or reject
with a reason."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    Booking,
    BookingPurpose,
    BookingStatus,
    EquipmentCategory,
    Project,
    ProjectStatus,
    Role,
)
from tests.conftest import PASSWORD, csrf_token_of


@pytest.fixture
def campus(make) -> dict[str, Any]:
    """A cleanroom (GMP) and a packaging line whose filler needs line operation;
    trainers with every, some, or none of the certifications."""
    gmp = make.certification_type(code="GMP", name="Salle blanche BPF")
    line_op = make.certification_type(code="LINE", name="Conduite de ligne")
    tours = make.establishment(name="Faculté de pharmacie", city="Tours")
    cleanroom = make.equipment(establishment=tours, name="Salle blanche")
    cleanroom.required_certification_types = [gmp]
    line = make.equipment(establishment=tours, name="Ligne de conditionnement",
                          category=EquipmentCategory.PILOT_LINE)
    filler = make.equipment(establishment=tours, name="Remplisseuse", parent=line)
    filler.required_certification_types = [line_op]
    people = {
        "company": make.user(Role.COMPANY, locale="en"),
        "rival": make.user(Role.COMPANY, locale="en"),
        "coordinator": make.user(Role.COORDINATOR, establishment=tours, locale="en"),
        "admin": make.user(Role.ADMIN, locale="en"),
        "anne": make.user(Role.TRAINER, name="Anne Certifiée", locale="en"),
        "bruno": make.user(Role.TRAINER, name="Bruno Expire", locale="en"),
        "chloe": make.user(Role.TRAINER, name="Chloé Sans", locale="en"),
        "denis": make.user(Role.TRAINER, name="Denis Inactif", active=False),
    }
    for ctype in (gmp, line_op):
        make.certification(people["anne"], ctype)
        make.certification(people["denis"], ctype)
    make.certification(people["bruno"], line_op)
    make.certification(people["bruno"], gmp, valid_until=date(2027, 3, 31))
    return {**people, "cleanroom": cleanroom, "line": line, "gmp": gmp}


@pytest.fixture
def add_project(db, campus):
    def add(requester=None, **kw) -> Project:
        requester = requester or campus["company"]
        project = Project(company_id=requester.company_id, requested_by_id=requester.id,
                          title=kw.pop("title", "Conditionnement stérile"),
                          learners=kw.pop("learners", 12), wanted_from=date(2027, 3, 1),
                          wanted_to=date(2027, 4, 30),
                          equipment=kw.pop("equipment", [campus["cleanroom"], campus["line"]]),
                          **kw)
        db.add(project)
        db.flush()
        return project

    return add


@pytest.fixture
def ours(add_project) -> Project:
    return add_project()


@pytest.fixture
def theirs(add_project, campus) -> Project:
    return add_project(campus["rival"], title="Projet concurrent")


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


def _options(html: str, select_id: str) -> list[str]:
    match = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert match, f"no select {select_id}"
    return re.findall(r"<option[^>]*>([^<]*)</option>", match.group(1))


# --- who sees what ----------------------------------------------------------------------


def test_company_sees_its_own_projects_only(app, campus, ours, theirs) -> None:
    company = _as(app, campus["company"])
    page = company.get("/projects").get_data(as_text=True)
    assert f'data-project="{ours.id}"' in page
    assert f'data-project="{theirs.id}"' not in page
    assert company.get(f"/projects/{ours.id}").status_code == 200
    assert company.get(f"/projects/{theirs.id}").status_code == 404
    assert company.get("/projects/999999").status_code == 404
    assert company.get("/projects/new").status_code == 200
    assert company.get("/projects/review").status_code == 403


def test_trainer_sees_the_projects_they_run(app, campus, add_project, theirs) -> None:
    mine = add_project(trainer_id=campus["anne"].id, status=ProjectStatus.APPROVED)
    trainer = _as(app, campus["anne"])
    page = trainer.get("/projects").get_data(as_text=True)
    assert f'data-project="{mine.id}"' in page
    assert f'data-project="{theirs.id}"' not in page
    assert trainer.get(f"/projects/{mine.id}").status_code == 200
    assert trainer.get(f"/projects/{theirs.id}").status_code == 404
    assert trainer.get("/projects/new").status_code == 403
    assert trainer.get("/projects/review").status_code == 403


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_staff_review_every_project(app, campus, ours, theirs, role) -> None:
    staff = _as(app, campus[role])
    answer = staff.get("/projects")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/projects/review")
    page = staff.get("/projects/review").get_data(as_text=True)
    assert f'data-project="{ours.id}"' in page
    assert f'data-project="{theirs.id}"' in page
    assert staff.get(f"/projects/{theirs.id}").status_code == 200
    assert staff.get("/projects/new").status_code == 403


def test_anonymous_goes_to_login(client, ours) -> None:
    for url in ["/projects", "/projects/new", "/projects/review", f"/projects/{ours.id}",
                f"/projects/{ours.id}/reject"]:
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert "/auth/login" in answer.headers["Location"]


def test_review_lists_requests_first_and_paginates(app, campus, add_project, now) -> None:
    for n in range(21):
        add_project(title=f"Décidé {n:02d}", status=ProjectStatus.APPROVED,
                    trainer_id=campus["anne"].id,
                    created_at=datetime(2026, 12, 1, tzinfo=UTC))
    waiting = add_project(title="En attente", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    staff = _as(app, campus["coordinator"])
    page = staff.get("/projects/review").get_data(as_text=True)
    assert re.findall(r'data-project="(\d+)"', page)[0] == str(waiting.id)
    second = staff.get("/projects/review?page=2").get_data(as_text=True)
    assert len(re.findall(r'data-project="(\d+)"', second)) == 2
    only = staff.get("/projects/review?status=requested").get_data(as_text=True)
    assert re.findall(r'data-project="(\d+)"', only) == [str(waiting.id)]


# --- requesting ------------------------------------------------------------------------------


REQUEST = {"title": "Conduite de ligne pour nos opérateurs", "description": "Nouvelle équipe",
           "objectives": "Réglages, changement de format", "learners": "10",
           "wanted_from": "2027-03-01", "wanted_to": "2027-03-31",
           "contact_name": "Marie Lenoir", "contact_email": "marie@labo.example",
           "contact_phone": "02 47 00 00 00", "sector": "pharmaceutical"}


def test_company_requests_a_project(app, campus, db, now) -> None:
    company = _as(app, campus["company"])
    answer = _post(company, "/projects/new", "/projects/new",
                   {**REQUEST, "equipment": [str(campus["cleanroom"].id),
                                             str(campus["line"].id)]})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    project = db.scalar(select(Project).where(Project.title == REQUEST["title"]))
    assert answer.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.status is ProjectStatus.REQUESTED
    assert project.company_id == campus["company"].company_id
    assert project.requested_by_id == campus["company"].id
    assert (project.objectives, project.learners, project.wanted_from, project.wanted_to) == (
        "Réglages, changement de format", 10, date(2027, 3, 1), date(2027, 3, 31))
    assert (project.contact_name, project.contact_email, project.contact_phone) == (
        "Marie Lenoir", "marie@labo.example", "02 47 00 00 00")
    assert project.sector.value == "pharmaceutical"
    assert "Pharmaceutical" in company.get(f"/projects/{project.id}").get_data(as_text=True)
    assert sorted(e.id for e in project.equipment) == sorted(
        [campus["cleanroom"].id, campus["line"].id])
    assert db.scalar(select(AuditEntry.object_id).where(
        AuditEntry.action == "project.request")) == project.id
    assert company.get(f"/projects/{project.id}").status_code == 200


@pytest.mark.parametrize(("overrides", "field"), [
    ({"wanted_to": "2027-02-01"}, "wanted_to"),
    ({"title": ""}, "title"),
    ({"learners": "0"}, "learners"),
    ({"contact_email": "not-an-address"}, "contact_email"),
])
def test_request_refusals_write_nothing(app, campus, db, overrides, field) -> None:
    company = _as(app, campus["company"])
    answer = _post(company, "/projects/new", "/projects/new", {**REQUEST, **overrides})
    assert answer.status_code == 200
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Project)) == 0


def test_post_without_csrf_token_is_refused(app, campus, ours, db) -> None:
    company = _as(app, campus["company"])
    assert company.post("/projects/new", data=REQUEST).status_code == 400
    staff = _as(app, campus["coordinator"])
    answer = staff.post(f"/projects/{ours.id}/approve", data={"trainer": campus["anne"].id})
    assert answer.status_code == 400
    db.expire_all()
    assert ours.status is ProjectStatus.REQUESTED


# --- deciding --------------------------------------------------------------------------------


def test_trainer_choice_lists_only_the_certified(app, campus, ours) -> None:
    staff = _as(app, campus["coordinator"])
    page = staff.get(f"/projects/{ours.id}").get_data(as_text=True)
    assert _options(page, "trainer") == ["Anne Certifiée"]
    lacking = page.split('id="other-trainers"')[1]
    assert "Bruno Expire" in lacking
    assert "Chloé Sans" in lacking
    assert "Salle blanche BPF" in lacking  # what Bruno and Chloé lack
    assert "Conduite de ligne" in lacking  # the filler's, a component of the line
    assert "Denis Inactif" not in page


def test_approve_with_a_certified_trainer(app, campus, ours, db, now) -> None:
    staff = _as(app, campus["coordinator"])
    url = f"/projects/{ours.id}"
    answer = _post(staff, url, f"{url}/approve",
                   {"trainer": campus["anne"].id, "reason": "Bienvenue"})
    assert answer.status_code == 302
    db.expire_all()
    assert ours.status is ProjectStatus.APPROVED
    assert ours.trainer_id == campus["anne"].id
    assert ours.decided_by_id == campus["coordinator"].id
    assert db.scalar(select(AuditEntry.object_id).where(
        AuditEntry.action == "project.approve")) == ours.id
    page = staff.get(url).get_data(as_text=True)
    link = re.search(r'id="schedule-session" href="([^"]+)"', page).group(1)
    assert link.startswith("/bookings/new?")
    assert f"project={ours.id}" in link
    assert f"equipment={min(e.id for e in ours.equipment)}" in link
    assert 'id="approve-form"' not in page  # decided: nothing left to decide
    # The assigned trainer may schedule too; the company may not.
    assert 'id="schedule-session"' in _as(app, campus["anne"]).get(url).get_data(as_text=True)
    company_page = _as(app, campus["company"]).get(url).get_data(as_text=True)
    assert 'id="schedule-session"' not in company_page
    assert "Anne Certifiée" in company_page


def test_approve_refuses_a_trainer_who_lacks_a_certification(app, campus, ours, db) -> None:
    staff = _as(app, campus["admin"])
    url = f"/projects/{ours.id}"
    answer = _post(staff, url, f"{url}/approve", {"trainer": campus["bruno"].id})
    assert answer.status_code == 200
    assert 'id="trainer-error"' in answer.get_data(as_text=True)
    db.expire_all()
    assert ours.status is ProjectStatus.REQUESTED
    assert ours.trainer_id is None


def test_reject_asks_to_confirm_and_needs_a_reason(app, campus, ours, db, now) -> None:
    staff = _as(app, campus["coordinator"])
    url = f"/projects/{ours.id}/reject"
    page = staff.get(url)
    assert page.status_code == 200
    assert 'id="reject-form"' in page.get_data(as_text=True)
    answer = _post(staff, url, url, {"reason": ""})
    assert answer.status_code == 200
    assert 'id="reason-error"' in answer.get_data(as_text=True)
    db.expire_all()
    assert ours.status is ProjectStatus.REQUESTED
    answer = _post(staff, url, url, {"reason": "Salle blanche indisponible au printemps"})
    assert answer.status_code == 302
    db.expire_all()
    assert ours.status is ProjectStatus.REJECTED
    assert ours.decision_reason == "Salle blanche indisponible au printemps"
    company_page = _as(app, campus["company"]).get(f"/projects/{ours.id}").get_data(
        as_text=True)
    assert "Salle blanche indisponible au printemps" in company_page
    # Decided once: a second decision is refused and changes nothing.
    answer = _post(staff, f"/projects/{ours.id}", f"/projects/{ours.id}/approve",
                   {"trainer": campus["anne"].id})
    assert answer.status_code == 302
    assert "no longer awaiting a decision" in staff.get(f"/projects/{ours.id}").get_data(
        as_text=True)
    db.expire_all()
    assert ours.status is ProjectStatus.REJECTED


def test_company_and_trainer_cannot_decide(app, campus, ours, theirs, db) -> None:
    company = _as(app, campus["company"])
    token = csrf_token_of(company.get(f"/projects/{ours.id}").get_data(as_text=True))
    data = {"trainer": campus["anne"].id, "csrf_token": token}
    assert company.post(f"/projects/{ours.id}/approve", data=data).status_code == 403
    assert company.post(f"/projects/{theirs.id}/approve", data=data).status_code == 404
    assert company.get(f"/projects/{ours.id}/reject").status_code == 403
    assert company.get(f"/projects/{theirs.id}/reject").status_code == 404
    trainer = _as(app, campus["anne"])
    assert trainer.get(f"/projects/{ours.id}/reject").status_code == 404
    db.expire_all()
    assert ours.status is ProjectStatus.REQUESTED


# --- sessions ----------------------------------------------------------------------------------


def test_sessions_are_listed_with_the_project(app, campus, add_project, db) -> None:
    project = add_project(status=ProjectStatus.SCHEDULED, trainer_id=campus["anne"].id)
    booking = Booking(uid="session-1@test", equipment=campus["cleanroom"],
                      start_at=datetime(2027, 3, 2, 8, tzinfo=UTC),
                      end_at=datetime(2027, 3, 2, 11, tzinfo=UTC), title="Séance 1",
                      purpose=BookingPurpose.INDUSTRIAL_PROJECT,
                      status=BookingStatus.CONFIRMED, booked_by=campus["coordinator"],
                      trainer=campus["anne"], project=project)
    db.add(booking)
    db.flush()
    company = _as(app, campus["company"])
    page = company.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'data-booking="{booking.id}"' in page
    assert "Séance 1" in page
    listing = company.get("/projects").get_data(as_text=True)
    assert "1 session" in listing
    if "calendars.feeds" in app.view_functions:
        assert f"/calendars?follow=project:{project.id}" in page
