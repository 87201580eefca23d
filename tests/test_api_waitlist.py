"""/api/v1/waitlist (API.md): join, list, leave, claim an offer."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from booking.services.policy import Policy
from booking.services.waitlist import operations as waitlist
from models import Booking, BookingPurpose, Role, WaitlistEntry, WaitlistStatus
from tests.api_helpers import Callers, assert_error, count
from tests.conftest import NOW

DAY = "2027-01-14"
START, END = f"{DAY}T10:00:00+01:00", f"{DAY}T12:00:00+01:00"


@pytest.fixture
def callers(client: Any) -> Callers:
    return Callers(client)


@pytest.fixture
def c(make: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    iut = make.establishment(code="IUT", name="IUT de Tours")
    return SimpleNamespace(
        owner=owner, eq=make.equipment(establishment=owner, name="Mélangeur"),
        coordinator=make.user(Role.COORDINATOR, establishment=owner),
        other_coordinator=make.user(Role.COORDINATOR, establishment=iut),
        holder=make.user(Role.TRAINER, establishment=owner),
        trainer=make.user(Role.TRAINER, establishment=owner),
        colleague=make.user(Role.TRAINER, establishment=iut),
        company=make.user(Role.COMPANY), other_company=make.user(Role.COMPANY),
    )


def post_booking(callers: Callers, actor: Any, c: SimpleNamespace) -> Any:
    return callers(actor).post("/api/v1/bookings", json={
        "equipment_id": c.eq.id, "title": "Séance", "start": START, "end": END})


def join(callers: Callers, actor: Any, c: SimpleNamespace, **extra: Any) -> Any:
    return callers(actor).post("/api/v1/waitlist", json={
        "equipment_id": c.eq.id, "title": "En attente", "start": START, "end": END, **extra})


def entry_of(db: Any, user: Any, c: SimpleNamespace) -> WaitlistEntry:
    """An entry written directly (a company's, whose booking needs a project)."""
    row = WaitlistEntry(user_id=user.id, equipment_id=c.eq.id, start_at=NOW + timedelta(days=2),
                        end_at=NOW + timedelta(days=2, hours=2), title="Essai",
                        purpose=BookingPurpose.INDUSTRIAL_PROJECT,
                        status=WaitlistStatus.WAITING, created_at=NOW, updated_at=NOW)
    db.add(row)
    db.flush()
    return row


def test_join_list_claim_and_claim_again(db, callers, c, now) -> None:
    booked = post_booking(callers, c.holder, c)
    assert booked.status_code == 201, booked.json
    answer = join(callers, c.trainer, c)
    assert answer.status_code == 201, answer.json
    entry = answer.json
    assert (entry["status"], entry["offer_expires_at"], entry["booking_id"]) == (
        "waiting", None, None)
    assert entry["start"] == START
    assert entry["trainer_id"] is None
    listed = callers(c.trainer).get("/api/v1/waitlist").json
    assert [e["id"] for e in listed["items"]] == [entry["id"]]
    assert listed["total"] == 1
    # Not offered yet: nothing to claim.
    assert_error(callers(c.trainer).post(f"/api/v1/waitlist/{entry['id']}/claim"),
                 409, "invalid_state")
    cancelled = callers(c.holder).post(f"/api/v1/bookings/{booked.json['id']}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.json
    waitlist.run(db, now=NOW, policy=Policy())
    offered = callers(c.trainer).get("/api/v1/waitlist").json["items"][0]
    assert offered["status"] == "offered"
    assert offered["offer_expires_at"].startswith(DAY[:8])
    before = count(db, Booking)
    claimed = callers(c.trainer).post(f"/api/v1/waitlist/{entry['id']}/claim")
    assert claimed.status_code == 201, claimed.json
    assert claimed.json["trainer_id"] == c.trainer.id
    assert claimed.json["start"] == START
    assert count(db, Booking) == before + 1
    assert_error(callers(c.trainer).post(f"/api/v1/waitlist/{entry['id']}/claim"),
                 409, "invalid_state")
    assert callers(c.trainer).get("/api/v1/waitlist").json["items"][0] | {} == {
        **offered, "status": "claimed", "booking_id": claimed.json["id"]}


def test_joining_a_free_slot_is_422(db, callers, c, now) -> None:
    assert_error(join(callers, c.trainer, c), 422, "validation")
    assert count(db, WaitlistEntry) == 0


def test_a_bad_request_is_refused_as_a_booking_would_be(db, callers, c, now) -> None:
    assert post_booking(callers, c.holder, c).status_code == 201
    assert_error(join(callers, c.trainer, c, end=START), 422, "validation")
    assert_error(callers(c.trainer).post("/api/v1/waitlist", json={
        "equipment_id": 999999, "title": "x", "start": START, "end": END}), 404, "not_found")
    # A trainer may not name another trainer.
    assert_error(join(callers, c.trainer, c, trainer_id=c.colleague.id), 403, "forbidden")
    assert count(db, WaitlistEntry) == 0


def test_leave_and_who_may(db, callers, c, now, client) -> None:
    assert post_booking(callers, c.holder, c).status_code == 201
    entry = join(callers, c.trainer, c).json
    path = f"/api/v1/waitlist/{entry['id']}"
    assert client.get("/api/v1/waitlist").status_code == 401
    # The machine's coordinator sees it but may not leave or claim it for them.
    assert [e["id"] for e in callers(c.coordinator).get("/api/v1/waitlist").json["items"]] == [
        entry["id"]]
    assert_error(callers(c.coordinator).delete(path), 403, "forbidden")
    assert_error(callers(c.coordinator).post(f"{path}/claim"), 403, "forbidden")
    # Others do not see it at all.
    assert callers(c.other_coordinator).get("/api/v1/waitlist").json["total"] == 0
    assert_error(callers(c.colleague).delete(path), 404, "not_found")
    assert_error(callers(c.colleague).post(f"{path}/claim"), 404, "not_found")
    assert callers(c.trainer).delete(path).status_code == 204
    assert callers(c.trainer).get("/api/v1/waitlist").json["items"][0]["status"] == "cancelled"
    assert_error(callers(c.trainer).delete(path), 409, "invalid_state")
    assert_error(callers(c.trainer).delete("/api/v1/waitlist/999999"), 404, "not_found")


def test_a_company_sees_only_its_own_entries(db, callers, c, now) -> None:
    mine, theirs = entry_of(db, c.company, c), entry_of(db, c.other_company, c)
    listed = callers(c.company).get("/api/v1/waitlist").json
    assert [e["id"] for e in listed["items"]] == [mine.id]
    assert_error(callers(c.company).delete(f"/api/v1/waitlist/{theirs.id}"), 404, "not_found")
    assert_error(callers(c.company).post(f"/api/v1/waitlist/{theirs.id}/claim"),
                 404, "not_found")
    assert theirs.status is WaitlistStatus.WAITING
