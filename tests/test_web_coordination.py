"""The coordinator pages through the test client: who reaches them, the
approval queue and its decisions, closures, the establishment's equipment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Closure,
    ClosureKind,
    EquipmentStatus,
    OpeningHours,
    Role,
)
from tests.conftest import csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
PAGES = ["/coordination/approvals", "/coordination/closures", "/coordination/equipment"]


def paris(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=PARIS)


@pytest.fixture
def w(make: Any, db: Any, now: datetime) -> SimpleNamespace:
    """Two establishments; a trainer of the second books a machine of the
    first that needs approval: a pending booking on Tuesday 19 January."""
    home = make.establishment(code="HOME", name="Faculté", city="Tours", department="37")
    away = make.establishment(code="AWAY", name="Lycée", city="Dreux", department="28")
    ctype = make.certification_type(code="GMP", name="Salle propre")
    trainer = make.user(Role.TRAINER, establishment=away, name="Claire Formatrice",
                        locale="en")
    certification = make.certification(trainer, ctype)
    machine = make.equipment(establishment=home, name="Ligne de conditionnement",
                             requires_approval=True)
    machine.required_certification_types = [ctype]
    other_machine = make.equipment(establishment=away, name="Cellule cobot")
    db.flush()
    booking = create_booking(db, actor=trainer, now=now, policy=Policy(), request=BookingRequest(
        equipment_id=machine.id, start=paris("2027-01-19", "09:00"),
        end=paris("2027-01-19", "11:00"), title="TP remplissage"))
    assert booking.status is BookingStatus.PENDING
    return SimpleNamespace(
        home=home, away=away, ctype=ctype, trainer=trainer, certification=certification,
        machine=machine, other_machine=other_machine, booking=booking,
        admin=make.user(Role.ADMIN, locale="en"),
        coordinator=make.user(Role.COORDINATOR, establishment=home, name="Coord Tours",
                              locale="en"),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away, locale="en"),
        company=make.user(Role.COMPANY, locale="en"))


def token(client: Any) -> str:
    return csrf_token_of(client.get("/dashboard").get_data(as_text=True))


def status_of(db: Any, booking: Booking) -> BookingStatus:
    db.expire_all()
    return db.get(Booking, booking.id).status


# --- who reaches the pages ---------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("other_coordinator", 200), ("trainer", 403),
    ("company", 403),
])
def test_pages_per_role(client, login, w, path, role, status) -> None:
    login(getattr(w, role))
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", [*PAGES, "/coordination/approvals/1/reject",
                                  "/coordination/equipment/1/edit"])
def test_pages_need_a_login(client, w, path) -> None:
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/auth/login")


def test_approvals_is_in_the_menu_of_coordinators_only(client, login, w) -> None:
    login(w.coordinator)
    assert 'href="/coordination/approvals"' in client.get("/dashboard").get_data(as_text=True)


# --- the queue -----------------------------------------------------------------------


@pytest.mark.parametrize(("role", "listed"), [
    ("coordinator", True), ("admin", True), ("other_coordinator", False)])
def test_queue_lists_what_the_user_may_decide(client, login, w, role, listed) -> None:
    login(getattr(w, role))
    html = client.get("/coordination/approvals").get_data(as_text=True)
    assert ("TP remplissage" in html) is listed
    assert (f'data-booking="{w.booking.id}"' in html) is listed
    if listed:
        assert "Claire Formatrice" in html
        assert "Trainer certified" in html
        assert "No conflict" in html


def test_queue_shows_what_changed_since_the_request(client, login, w, db) -> None:
    """A revoked certification and a closure declared afterwards are flagged."""
    w.certification.revoked_at = datetime(2027, 1, 12, 7, tzinfo=UTC)
    db.add(Closure(equipment_id=w.machine.id, start_at=paris("2027-01-19", "10:00"),
                   end_at=paris("2027-01-19", "18:00"), reason="Qualification IQ/OQ",
                   kind=ClosureKind.MAINTENANCE))
    db.flush()
    login(w.coordinator)
    html = client.get("/coordination/approvals").get_data(as_text=True)
    assert "Not certified" in html
    assert "Salle propre" in html
    assert "Qualification IQ/OQ" in html


def test_queue_is_ordered_by_deadline_and_paginated(client, login, w, make, db, now) -> None:
    for n in range(21):  # one page is 20 rows; the fixture's booking makes 22
        start = paris(f"2027-01-{20 + n // 10}", "08:00") + timedelta(minutes=30 * (n % 10))
        create_booking(db, actor=w.trainer, now=now, policy=Policy(), request=BookingRequest(
            equipment_id=w.machine.id, start=start, end=start + timedelta(minutes=30),
            title=f"Séance {n:02d}"))
    login(w.coordinator)
    first = client.get("/coordination/approvals").get_data(as_text=True)
    assert "22 bookings await a decision" in first
    # Tuesday's booking must be decided first (its deadline is the earliest).
    assert first.index("TP remplissage") < first.index("Séance 00")
    second = client.get("/coordination/approvals?page=2").get_data(as_text=True)
    assert second.count("data-booking=") == 2


# --- decisions -----------------------------------------------------------------------


def test_coordinator_approves(client, login, w, db) -> None:
    login(w.coordinator)
    answer = client.post(f"/coordination/approvals/{w.booking.id}/approve",
                         data={"csrf_token": token(client)}, follow_redirects=True)
    assert answer.status_code == 200
    assert "Approved: TP remplissage" in answer.get_data(as_text=True)
    assert status_of(db, w.booking) is BookingStatus.CONFIRMED
    assert db.scalar(select(AuditEntry.actor_id).where(
        AuditEntry.action == "booking.approve")) == w.coordinator.id


def test_approving_twice_says_so(client, login, w, db) -> None:
    login(w.admin)
    url = f"/coordination/approvals/{w.booking.id}/approve"
    client.post(url, data={"csrf_token": token(client)})
    answer = client.post(url, data={"csrf_token": token(client)}, follow_redirects=True)
    assert "Only a pending booking can be approved or rejected" in answer.get_data(as_text=True)
    assert status_of(db, w.booking) is BookingStatus.CONFIRMED


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_other_establishment_may_not_decide(client, login, w, db, action) -> None:
    login(w.other_coordinator)
    answer = client.post(f"/coordination/approvals/{w.booking.id}/{action}",
                         data={"csrf_token": token(client), "reason": "Non"})
    assert answer.status_code == 403
    assert status_of(db, w.booking) is BookingStatus.PENDING


def test_unknown_booking_is_404(client, login, w) -> None:
    login(w.coordinator)
    answer = client.post("/coordination/approvals/999999/approve",
                         data={"csrf_token": token(client)})
    assert answer.status_code == 404
    # Beyond the database integer: not found either, never a 500.
    assert client.get(f"/coordination/approvals/{2**40}/reject").status_code == 404
    assert client.get(f"/coordination/equipment/{2**63}/edit").status_code == 404


def test_reject_asks_for_a_reason_first(client, login, w, db) -> None:
    login(w.coordinator)
    url = f"/coordination/approvals/{w.booking.id}/reject"
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="reason"' in page.get_data(as_text=True)
    assert status_of(db, w.booking) is BookingStatus.PENDING
    refused = client.post(url, data={"csrf_token": token(client), "reason": "  "})
    assert refused.status_code == 200
    assert "error-summary" in refused.get_data(as_text=True)
    assert status_of(db, w.booking) is BookingStatus.PENDING
    done = client.post(url, data={"csrf_token": token(client),
                                  "reason": "La ligne est réservée aux BTS ce jour-là."})
    assert done.status_code == 302
    assert status_of(db, w.booking) is BookingStatus.REJECTED
    assert db.get(Booking, w.booking.id).decision_reason == \
        "La ligne est réservée aux BTS ce jour-là."
    # The queue is empty now, and the reject page of a decided booking goes back to it.
    assert "Nothing to decide for now." in client.get("/coordination/approvals").get_data(
        as_text=True)
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("path", ["approve", "reject"])
def test_decisions_without_csrf_are_refused(client, login, w, db, path) -> None:
    login(w.coordinator)
    answer = client.post(f"/coordination/approvals/{w.booking.id}/{path}",
                         data={"reason": "Non"})
    assert answer.status_code == 400
    assert status_of(db, w.booking) is BookingStatus.PENDING


# --- closures ------------------------------------------------------------------------


def closure_form(client: Any, target: str, **fields: str) -> dict[str, str]:
    return {"csrf_token": token(client), "target": target, "kind": "maintenance",
            "start": "2027-02-01T08:00", "end": "2027-02-03T18:00",
            "reason": "Maintenance préventive", **fields}


@pytest.mark.parametrize("scope", ["establishment", "equipment"])
def test_coordinator_declares_a_closure(client, login, w, db, scope) -> None:
    login(w.coordinator)
    target_id = w.home.id if scope == "establishment" else w.machine.id
    answer = client.post("/coordination/closures",
                         data=closure_form(client, f"{scope}-{target_id}"))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    closure = db.scalar(select(Closure).where(Closure.reason == "Maintenance préventive"))
    assert getattr(closure, f"{scope}_id") == target_id
    # Read in Paris time: 08:00 in February is 07:00 UTC.
    assert closure.start_at == datetime(2027, 2, 1, 7, tzinfo=UTC)
    assert closure.end_at == datetime(2027, 2, 3, 17, tzinfo=UTC)
    assert closure.kind is ClosureKind.MAINTENANCE
    assert closure.created_by_id == w.coordinator.id
    html = client.get("/coordination/closures").get_data(as_text=True)
    assert f'data-closure="{closure.id}"' in html


def test_closure_errors_are_shown_and_write_nothing(client, login, w, db) -> None:
    login(w.coordinator)
    answer = client.post("/coordination/closures", data=closure_form(
        client, f"equipment-{w.machine.id}", end="2027-02-01T07:00"))
    assert answer.status_code == 200
    assert "The closure must end after it starts." in answer.get_data(as_text=True)
    # Another establishment's machine is not a choice of this coordinator.
    answer = client.post("/coordination/closures",
                         data=closure_form(client, f"equipment-{w.other_machine.id}"))
    assert answer.status_code == 200
    assert "Not a valid choice" in answer.get_data(as_text=True)
    assert db.scalar(select(Closure.id)) is None


def test_closure_needs_csrf(client, login, w, db) -> None:
    login(w.coordinator)
    data = closure_form(client, f"establishment-{w.home.id}")
    del data["csrf_token"]
    assert client.post("/coordination/closures", data=data).status_code == 400
    assert db.scalar(select(Closure.id)) is None


def test_closures_list_upcoming_first_and_only_own(client, login, w, db) -> None:
    def add(target: dict[str, int], start: str, end: str, reason: str) -> None:
        db.add(Closure(**target, start_at=paris(start, "08:00"), end_at=paris(end, "18:00"),
                       reason=reason, kind=ClosureKind.OTHER))

    add({"establishment_id": w.home.id}, "2026-12-21", "2027-01-01", "Vacances de Noël")
    add({"equipment_id": w.machine.id}, "2027-03-01", "2027-03-02", "Audit qualité")
    add({"establishment_id": w.home.id}, "2027-02-15", "2027-02-26", "Vacances d'hiver")
    add({"establishment_id": w.away.id}, "2027-02-01", "2027-02-02", "Ailleurs")
    db.flush()
    login(w.coordinator)
    html = client.get("/coordination/closures").get_data(as_text=True)
    assert "Ailleurs" not in html
    assert html.index("Vacances d&#39;hiver") < html.index("Audit qualité") < html.index(
        "Vacances de Noël")


def test_delete_closure_with_a_confirm_step(client, login, w, db) -> None:
    closure = Closure(equipment_id=w.machine.id, start_at=paris("2027-03-01", "08:00"),
                      end_at=paris("2027-03-02", "18:00"), reason="Audit qualité")
    db.add(closure)
    db.flush()
    closure_id = closure.id
    login(w.coordinator)
    url = f"/coordination/closures/{closure_id}/delete"
    page = client.get(url)
    assert page.status_code == 200
    assert "Audit qualité" in page.get_data(as_text=True)
    assert client.post(url, data={}).status_code == 400  # no CSRF token
    assert client.post(url, data={"csrf_token": token(client)}).status_code == 302
    db.expire_all()
    assert db.get(Closure, closure_id) is None
    assert db.scalar(select(AuditEntry.action).where(AuditEntry.object_id == closure_id,
                                                     AuditEntry.object_type == "closure")) \
        == "closure.delete"


def test_other_coordinator_may_not_delete_a_closure(client, login, w, db) -> None:
    closure = Closure(establishment_id=w.home.id, start_at=paris("2027-03-01", "08:00"),
                      end_at=paris("2027-03-02", "18:00"), reason="Audit qualité")
    db.add(closure)
    db.flush()
    login(w.other_coordinator)
    url = f"/coordination/closures/{closure.id}/delete"
    assert client.get(url).status_code == 403
    assert client.post(url, data={"csrf_token": token(client)}).status_code == 403
    assert client.get("/coordination/closures/999999/delete").status_code == 404
    db.expire_all()
    assert db.get(Closure, closure.id) is not None


# --- equipment and accounts ------------------------------------------------------------


def test_equipment_and_accounts_of_the_establishment(client, login, w) -> None:
    login(w.coordinator)
    html = client.get("/coordination/equipment").get_data(as_text=True)
    assert "Ligne de conditionnement" in html
    assert "Cellule cobot" not in html
    assert "Mon–Fri 08:00–18:00" in html
    assert "Coord Tours" in html
    assert "Claire Formatrice" not in html  # she belongs to the other establishment


def test_admin_chooses_the_establishment(client, login, w) -> None:
    login(w.admin)
    html = client.get(f"/coordination/equipment?establishment={w.away.id}").get_data(
        as_text=True)
    assert "Cellule cobot" in html
    assert "Claire Formatrice" in html
    assert "Ligne de conditionnement" not in html


def edit_form(client: Any, **fields: str) -> dict[str, str]:
    hours = {f"hours_{d}": "08:00–18:00" for d in range(5)}
    return {"csrf_token": token(client), "status": "active", "status_reason": "", **hours,
            **fields}


def test_edit_status_and_opening_hours(client, login, w, db) -> None:
    login(w.coordinator)
    url = f"/coordination/equipment/{w.machine.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="08:00–18:00"' in page
    answer = client.post(url, data=edit_form(
        client, status="maintenance", status_reason="Remplacement de la pompe",
        hours_0="8h-12h, 13:30-17:00", hours_4="", hours_5="09:00 à 12:00"))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    db.expire_all()
    machine = db.get(type(w.machine), w.machine.id)
    assert machine.status is EquipmentStatus.MAINTENANCE
    assert machine.status_reason == "Remplacement de la pompe"
    hours = [(h.weekday, h.opens, h.closes) for h in db.scalars(
        select(OpeningHours).where(OpeningHours.equipment_id == machine.id)
        .order_by(OpeningHours.weekday, OpeningHours.opens))]
    assert hours == [(0, time(8), time(12)), (0, time(13, 30), time(17)),
                     (1, time(8), time(18)), (2, time(8), time(18)), (3, time(8), time(18)),
                     (5, time(9), time(12))]


@pytest.mark.parametrize(("fields", "message"), [
    ({"status": "maintenance"}, "Say why the equipment is not active."),
    ({"hours_0": "8 heures"}, "is not read as hours"),
    ({"hours_0": "12:00-08:00"}, "opens before closes"),
    ({"hours_0": "08:00-12:00, 11:00-14:00"}, "Opening hours of one day overlap."),
])
def test_edit_refusals_change_nothing(client, login, w, db, fields, message) -> None:
    login(w.coordinator)
    answer = client.post(f"/coordination/equipment/{w.machine.id}/edit",
                         data=edit_form(client, **fields))
    assert answer.status_code == 200
    assert message in answer.get_data(as_text=True)
    db.expire_all()
    machine = db.get(type(w.machine), w.machine.id)
    assert machine.status is EquipmentStatus.ACTIVE
    assert len(machine.opening_hours) == 5


def test_other_coordinator_may_not_edit(client, login, w) -> None:
    login(w.other_coordinator)
    url = f"/coordination/equipment/{w.machine.id}/edit"
    assert client.get(url).status_code == 403
    assert client.post(url, data=edit_form(client)).status_code == 403
    assert client.get("/coordination/equipment/999999/edit").status_code == 404
