"""A company user never sees another company's project, booking details or feed,
whatever the channel: pages, the API, calendar feeds, exports and the site
calendar (where another's booking is only a busy period).

Two companies, A and B, each with a scheduled project on the same cobot cell
at Tours: a session booked by the coordinator and one the company booked
itself (pending); and a trainer's own class, which belongs to no company.
Every check is made from A's side; B's rows are the ones that must not show.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import NotFound
from booking.services.policy import Policy
from booking.services.projects.operations import cancel_project
from models import (
    AgreementWaiver,
    Booking,
    BookingPurpose,
    BookingStatus,
    Project,
    ProjectStatus,
    Role,
)
from tests.api_helpers import Callers, assert_error
from tests.conftest import NOW, PASSWORD, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
DAY = "2027-01-13"


def at(hour: int) -> datetime:
    return datetime(2027, 1, 13, hour, tzinfo=PARIS)


@pytest.fixture
def world(app, make, db) -> dict[str, Any]:
    tours = make.establishment(name="Polytech Tours", city="Tours", department="37")
    cell = make.equipment(establishment=tours, name="Cellule cobot")
    coordinator = make.user(Role.COORDINATOR, establishment=tours)
    anne = make.user(Role.TRAINER, establishment=tours, name="Anne Formatrice")
    out: dict[str, Any] = {"cell": cell, "site": tours, "anne": anne}
    with app.app_context():
        for n, key in enumerate("ab"):
            user = make.user(Role.COMPANY, name=f"Contact {key.upper()}")
            project = Project(company_id=user.company_id, requested_by_id=user.id,
                              title=f"Projet secret {key.upper()}", learners=6,
                              wanted_from=date(2027, 1, 1), wanted_to=date(2027, 3, 31),
                              status=ProjectStatus.APPROVED, trainer_id=anne.id,
                              equipment=[cell])
            db.add(project)
            db.flush()
            # No training agreement needed (the scheduling gate of issue 15).
            db.add(AgreementWaiver(project_id=project.id, waived_at=NOW, reason="Existant"))
            sessions = [
                _book(db, actor, cell, at(hour), f"Séance {key.upper()}{i}", project)
                for i, (actor, hour) in enumerate([(coordinator, 9 + n), (user, 14 + n)], 1)]
            out[key] = {"user": user, "project": project, "company": user.company_id,
                        "bookings": sessions}
        out["class"] = _book(db, anne, cell, at(11), "Cours interne", None)
    assert [b.status for b in out["a"]["bookings"]] == [BookingStatus.CONFIRMED,
                                                        BookingStatus.PENDING]
    return out


def _book(db, actor, cell, start: datetime, title: str, project: Project | None) -> Booking:
    return create_booking(db, actor=actor, now=NOW, policy=Policy(), request=BookingRequest(
        cell.id, start, start.replace(hour=start.hour + 1), title,
        BookingPurpose.INDUSTRIAL_PROJECT if project else BookingPurpose.TRAINING,
        project_id=project.id if project else None))


def ids(bookings: list[Booking]) -> set[int]:
    return {b.id for b in bookings}


@pytest.fixture
def api_a(client, world, now):
    return Callers(client)(world["a"]["user"])


@pytest.fixture
def page_a(app, world, now):
    client = app.test_client()
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    assert client.post("/auth/login", data={"email": world["a"]["user"].email,
                                            "password": PASSWORD,
                                            "csrf_token": token}).status_code == 302
    return client


# --- pages -------------------------------------------------------------------------------


def test_pages_hide_the_other_companys_project_and_bookings(page_a, world) -> None:
    mine, theirs = world["a"], world["b"]
    assert page_a.get(f"/projects/{mine['project'].id}").status_code == 200
    for url in (f"/projects/{theirs['project'].id}", f"/projects/{theirs['project'].id}/cancel",
                f"/projects/{theirs['project'].id}/reject"):
        assert page_a.get(url).status_code == 404, url
    for booking in [*theirs["bookings"], world["class"]]:
        for url in (f"/bookings/{booking.id}", f"/bookings/{booking.id}.ics",
                    f"/bookings/{booking.id}/cancel"):
            assert page_a.get(url).status_code == 404, url
    for booking in mine["bookings"]:
        assert page_a.get(f"/bookings/{booking.id}").status_code == 200
    for url in ("/projects", "/bookings/mine"):
        html = page_a.get(url).get_data(as_text=True)
        assert "secret B" not in html, url
        assert "Séance B" not in html, url
        assert "Cours interne" not in html, url
    assert "Séance A1" in page_a.get("/bookings/mine").get_data(as_text=True)


def test_the_site_calendar_shows_others_as_busy_only(page_a, world) -> None:
    for view in ("day", "week"):
        html = page_a.get(f"/sites/{world['site'].id}?view={view}&date={DAY}").get_data(
            as_text=True)
        assert "Séance A1" in html, view
        for hidden in ("Séance B1", "Séance B2", "Cours interne", "Projet secret B",
                       f"/bookings/{world['b']['bookings'][0].id}"):
            assert hidden not in html, (view, hidden)
        assert "10:00–11:00" in html, view  # B's session, as a busy period


# --- API ---------------------------------------------------------------------------------


def test_the_api_answers_404_for_the_other_companys_rows(app, db, api_a, world) -> None:
    theirs = world["b"]
    project = theirs["project"]
    assert_error(api_a.get(f"/api/v1/projects/{project.id}"), 404, "not_found")
    for action, body in (("approve", {"trainer_id": world["anne"].id}),
                         ("reject", {"reason": "Non"}), ("cancel", {"reason": "Non"})):
        assert_error(api_a.post(f"/api/v1/projects/{project.id}/{action}", json=body),
                     404, "not_found")
    with app.app_context(), pytest.raises(NotFound):
        cancel_project(db, project, actor=world["a"]["user"], now=NOW, reason="Non")
    db.expire_all()
    assert project.status is ProjectStatus.SCHEDULED
    for booking in [*theirs["bookings"], world["class"]]:
        assert_error(api_a.get(f"/api/v1/bookings/{booking.id}"), 404, "not_found")
        assert_error(api_a.post(f"/api/v1/bookings/{booking.id}/cancel", json={}),
                     404, "not_found")
    own = world["a"]["bookings"][0]
    assert api_a.get(f"/api/v1/bookings/{own.id}").json["title"] == "Séance A1"


def test_api_lists_hold_only_the_companys_own(api_a, world) -> None:
    mine, theirs = world["a"], world["b"]
    listed = api_a.get("/api/v1/projects").json
    assert [p["id"] for p in listed["items"]] == [mine["project"].id]
    assert listed["total"] == 1
    assert api_a.get(f"/api/v1/projects?company_id={theirs['company']}").json["total"] == 0
    bookings = api_a.get("/api/v1/bookings").json
    assert {b["id"] for b in bookings["items"]} == ids(mine["bookings"])
    assert bookings["total"] == 2
    for query in (f"project_id={theirs['project'].id}", f"trainer_id={world['anne'].id}"
                  "&status=pending", f"equipment_id={world['cell'].id}"):
        found = {b["id"] for b in api_a.get(f"/api/v1/bookings?{query}").json["items"]}
        assert found <= ids(mine["bookings"]), query


def test_availability_names_only_the_companys_own_bookings(api_a, world) -> None:
    answer = api_a.get(f"/api/v1/equipment/{world['cell'].id}/availability"
                       f"?from={DAY}T00:00:00%2B01:00&to={DAY}T23:59:00%2B01:00")
    assert answer.status_code == 200, answer.json
    busy = [b for b in answer.json["busy"] if b["reason"] == "booking"]
    assert len(busy) == 5  # every booking holds its slot, whoever's it is
    named = {b["booking_id"] for b in busy if b["booking_id"] is not None}
    assert named == ids(world["a"]["bookings"])
    assert not any("title" in b for b in busy)


def test_no_feed_of_the_other_company_or_its_project(api_a, world) -> None:
    theirs = world["b"]
    for scope, scope_id in (("company", theirs["company"]), ("project", theirs["project"].id),
                            ("equipment", world["cell"].id),
                            ("establishment", world["site"].id),
                            ("trainer", world["anne"].id)):
        answer = api_a.post("/api/v1/feeds", json={"scope": scope, "scope_id": scope_id})
        assert_error(answer, 404, "not_found")
    assert api_a.get("/api/v1/feeds").json["total"] == 0


def _feed_uids(client, api_a, scope: str, scope_id: int) -> set[str]:
    made = api_a.post("/api/v1/feeds", json={"scope": scope, "scope_id": scope_id})
    assert made.status_code == 201, made.json
    token = made.json["url"].rsplit("/", 1)[1].removesuffix(".ics")
    answer = client.get(f"/ical/{token}.ics")
    assert answer.status_code == 200
    cal = Calendar.from_ical(answer.data)
    return {str(event["UID"]) for event in cal.walk("VEVENT")}


def test_the_companys_feeds_hold_only_its_bookings(client, api_a, world) -> None:
    mine = world["a"]
    own_uids = {b.uid for b in mine["bookings"]}
    assert _feed_uids(client, api_a, "company", mine["company"]) == own_uids
    assert _feed_uids(client, api_a, "project", mine["project"].id) == own_uids


# --- exports -----------------------------------------------------------------------------


def test_exports_hold_only_the_companys_own(page_a, world) -> None:
    mine, theirs = world["a"], world["b"]
    for query in ("", f"?project_id={theirs['project'].id}", f"?equipment_id={world['cell'].id}",
                  f"?from={DAY}&to={DAY}"):
        ics = page_a.get(f"/bookings/export.ics{query}")
        assert ics.status_code == 200, query
        uids = {str(e["UID"]) for e in Calendar.from_ical(ics.data).walk("VEVENT")}
        expected = set() if "project_id" in query else {b.uid for b in mine["bookings"]}
        assert uids == expected, query
        rows = list(csv.DictReader(io.StringIO(
            page_a.get(f"/bookings/export.csv{query}").data.decode("utf-8-sig")),
            delimiter=";"))
        titles = {row["Intitulé"] for row in rows}  # the reader's language: French
        assert titles == ({"Séance A1", "Séance A2"} if expected else set()), query
