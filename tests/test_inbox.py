"""The coordinator's inbox: what waits on each coordinator (and only on them),
its badge in the menu, its page, and its place in the daily digest."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.certifications.requests import request_certification
from booking.services.inbox.summary import count, inbox
from booking.services.messaging.reminders import send_digests
from booking.services.policy import Policy
from models import (
    BookingStatus,
    Closure,
    ClosureKind,
    OutboxMessage,
    Project,
    ProjectStatus,
    Role,
)
from tests.conftest import NOW, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")


def paris(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=PARIS)


def outbox(db: Any, to: str | None = None) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        stmt = stmt.where(OutboxMessage.to_addr == to)
    return list(db.scalars(stmt))


@pytest.fixture
def w(app: Any, make: Any, db: Any) -> SimpleNamespace:
    """Two sites. At home: a booking to approve, a project asking for a home
    machine, a certification request, a confirmed booking under a closure, a
    flagged booking. Away: a project asking for an away machine only."""
    home = make.establishment(code="HOME", name="Faculté", city="Tours")
    away = make.establishment(code="AWAY", name="Lycée", city="Dreux")
    ctype = make.certification_type(code="GMP", name="Salle propre")
    trainer = make.user(Role.TRAINER, establishment=home, name="Claire Formatrice")
    make.certification(trainer, ctype)
    newcomer = make.user(Role.TRAINER, establishment=home, name="Noé Nouveau")
    stranger = make.user(Role.TRAINER, establishment=away, name="Théo Ailleurs")
    make.certification(stranger, ctype)
    machine = make.equipment(establishment=home, name="Ligne de conditionnement",
                             requires_approval=True)
    machine.required_certification_types = [ctype]
    press = make.equipment(establishment=home, name="Presse")
    away_machine = make.equipment(establishment=away, name="Cellule cobot")
    company = make.user(Role.COMPANY, name="Laboratoire A")
    db.flush()
    with app.app_context():
        pending = create_booking(db, actor=stranger, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(machine.id, paris("2027-01-19", "09:00"),
                                                        paris("2027-01-19", "11:00"),
                                                        "TP remplissage",
                                                        trainer_id=None))
        hit = create_booking(db, actor=trainer, now=NOW, policy=Policy(), notify=False,
                             request=BookingRequest(press.id, paris("2027-01-20", "09:00"),
                                                    paris("2027-01-20", "11:00"),
                                                    "TP emboutissage"))
        flagged = create_booking(db, actor=trainer, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(press.id, paris("2027-01-21", "09:00"),
                                                        paris("2027-01-21", "11:00"),
                                                        "TP pliage"))
        requested = request_certification(db, actor=newcomer, equipment=machine, now=NOW)
    flagged.certification_flag = True
    closure = Closure(equipment_id=press.id, start_at=paris("2027-01-20", "10:00"),
                      end_at=paris("2027-01-20", "18:00"), reason="Révision annuelle",
                      kind=ClosureKind.MAINTENANCE, created_at=NOW)
    db.add(closure)
    projects = {}
    for name, machines in (("here", [machine]), ("there", [away_machine]), ("any", [])):
        projects[name] = Project(company_id=company.company_id, requested_by=company,
                                 title=f"Projet {name}", learners=8,
                                 wanted_from=date(2027, 2, 1), wanted_to=date(2027, 3, 1),
                                 status=ProjectStatus.REQUESTED, equipment=machines)
        db.add(projects[name])
    db.flush()
    assert pending.status is BookingStatus.PENDING
    assert hit.status is BookingStatus.CONFIRMED
    return SimpleNamespace(
        home=home, away=away, ctype=ctype, trainer=trainer, newcomer=newcomer,
        stranger=stranger, machine=machine, press=press, away_machine=away_machine,
        company=company, pending=pending, hit=hit, flagged=flagged, closure=closure,
        request=requested.created[0], projects=projects,
        coordinator=make.user(Role.COORDINATOR, establishment=home, name="Coord Tours"),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away, name="Coord Dreux"),
        admin=make.user(Role.ADMIN, name="Admin"))


# --- the service --------------------------------------------------------------------


def test_a_coordinator_sees_what_waits_in_their_establishment(db, w) -> None:
    box = inbox(db, w.coordinator, now=NOW)
    assert [b.id for b in box.approvals] == [w.pending.id]
    assert {p.title for p in box.projects} == {"Projet here", "Projet any"}
    assert [r.id for r in box.certifications] == [w.request.id]
    assert [(h.booking.id, [c.id for c in h.closures]) for h in box.closures] == [
        (w.hit.id, [w.closure.id])]
    assert [b.id for b in box.flagged] == [w.flagged.id]
    assert (box.counts.approvals, box.counts.projects, box.counts.certifications,
            box.counts.closures, box.counts.flagged, box.counts.total) == (1, 2, 1, 1, 1, 6)


def test_another_establishments_coordinator_sees_only_theirs(db, w) -> None:
    box = inbox(db, w.other_coordinator, now=NOW)
    assert {p.title for p in box.projects} == {"Projet there", "Projet any"}
    assert (box.approvals, box.certifications, box.closures, box.flagged) == ([], [], [], [])
    assert count(db, w.other_coordinator, now=NOW).total == 2


def test_an_admin_sees_everything_and_a_trainer_nothing(db, w) -> None:
    assert count(db, w.admin, now=NOW).total == 7
    assert count(db, w.trainer, now=NOW).total == 0
    assert count(db, w.company, now=NOW).total == 0


def test_items_leave_the_inbox_once_settled(db, w) -> None:
    w.pending.status = BookingStatus.CONFIRMED
    w.hit.status, w.hit.cancelled_at = BookingStatus.CANCELLED, NOW
    w.projects["here"].status = ProjectStatus.APPROVED
    w.flagged.certification_flag = False
    db.flush()
    counts = count(db, w.coordinator, now=NOW)
    assert (counts.approvals, counts.projects, counts.closures, counts.flagged) == (0, 1, 0, 0)


def test_a_closure_of_a_line_hits_its_components_bookings_and_past_ones_do_not(
        app, db, make, w) -> None:
    line = make.equipment(establishment=w.home, name="Ligne")
    part = make.equipment(establishment=w.home, name="Doseuse", parent=line)
    db.flush()
    with app.app_context():
        booking = create_booking(db, actor=w.trainer, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(part.id, paris("2027-01-22", "09:00"),
                                                        paris("2027-01-22", "10:00"), "Dosage"))
    db.add(Closure(equipment_id=line.id, start_at=paris("2027-01-22", "08:00"),
                   end_at=paris("2027-01-22", "12:00"), reason="Arrêt ligne", created_at=NOW))
    db.flush()
    hits = inbox(db, w.coordinator, now=NOW).closures
    assert booking.id in [h.booking.id for h in hits]
    later = datetime(2027, 1, 22, 12, tzinfo=UTC)  # both bookings are over
    assert count(db, w.coordinator, now=later).closures == 0


# --- the daily digest ---------------------------------------------------------------


def test_the_digest_lists_every_kind_once_a_day(app, db, w) -> None:
    eight = datetime(2027, 1, 12, 7, tzinfo=UTC)
    with app.app_context():
        assert send_digests(db, now=eight) == 2  # both coordinators have items
        assert send_digests(db, now=eight + timedelta(hours=2)) == 0
        (mail,) = outbox(db, w.coordinator.email)
    body = mail.body_text
    for text in ("TP remplissage", "Projet here", "Projet any", "Salle propre", "Noé Nouveau",
                 "TP emboutissage", "Révision annuelle", "TP pliage", "/coordination/inbox"):
        assert text in body, text
    assert "Projet there" not in body
    assert "6" in mail.subject
    (other,) = outbox(db, w.other_coordinator.email)
    assert "Projet there" in other.body_text
    assert "TP remplissage" not in other.body_text


def test_no_digest_when_nothing_waits(app, db, make) -> None:
    make.user(Role.COORDINATOR)
    with app.app_context():
        assert send_digests(db, now=datetime(2027, 1, 12, 7, tzinfo=UTC)) == 0


# --- the pages -----------------------------------------------------------------------


def token(client: Any) -> str:
    return csrf_token_of(client.get("/dashboard").get_data(as_text=True))


def test_the_menu_counts_what_waits_for_coordinators_only(client, login, w, now) -> None:
    login(w.coordinator)
    html = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/coordination/inbox"' in html
    assert 'data-inbox-count="6"' in html
    client.post("/auth/logout", data={"csrf_token": token(client)})
    login(w.trainer)
    html = client.get("/dashboard").get_data(as_text=True)
    assert "/coordination/inbox" not in html
    assert "data-inbox-count" not in html


def test_the_badge_and_the_page_do_not_grow_with_the_items(client, login, w, db, app,
                                                          now) -> None:
    from tests.query_count import count_statements

    login(w.coordinator)
    client.get("/dashboard")
    with count_statements(db) as few:
        client.get("/coordination/inbox")
    for day in (25, 26, 27):
        start = paris(f"2027-01-{day}", "09:00")
        booking = create_booking(db, actor=w.trainer, now=NOW, policy=Policy(), notify=False,
                                 request=BookingRequest(w.press.id, start,
                                                        start + timedelta(hours=2), "TP"))
        booking.certification_flag = True
        db.add(Closure(equipment_id=w.press.id, start_at=paris(f"2027-01-{day}", "08:00"),
                       end_at=paris(f"2027-01-{day}", "10:00"), reason="Panne", created_at=NOW))
    db.flush()
    with count_statements(db) as many:
        html = client.get("/coordination/inbox").get_data(as_text=True)
    assert 'data-inbox-count="12"' in html
    assert len(many) == len(few), f"{few}\n---\n{many}"


def test_the_inbox_page_lists_each_kind(client, login, w, now) -> None:
    login(w.coordinator)
    page = client.get("/coordination/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("TP remplissage", "Projet here", "Projet any", "Noé Nouveau", "Salle propre",
                 "TP emboutissage", "Révision annuelle", "TP pliage",
                 f"/bookings/{w.hit.id}/move",
                 f"/closures/{w.closure.id}/bookings/{w.hit.id}/notify",
                 f"/closures/{w.closure.id}/bookings/{w.hit.id}/cancel"):
        assert text in html, text
    assert "Projet there" not in html


def test_another_coordinators_inbox_holds_only_theirs(client, login, w, now) -> None:
    login(w.other_coordinator)
    html = client.get("/coordination/inbox").get_data(as_text=True)
    assert "Projet there" in html
    assert "TP remplissage" not in html
    assert "TP emboutissage" not in html


def test_an_empty_inbox_says_so(client, login, make, now) -> None:
    login(make.user(Role.COORDINATOR, locale="en"))
    html = client.get("/coordination/inbox").get_data(as_text=True)
    assert "Nothing waits on you" in html
    assert "data-inbox-count" not in html


def test_declaring_a_closure_over_bookings_lists_them(client, login, w, db, now) -> None:
    login(w.coordinator)
    answer = client.post("/coordination/closures", data={
        "csrf_token": token(client), "target": f"establishment-{w.home.id}",
        "kind": "maintenance", "start": "2027-01-21T08:00", "end": "2027-01-21T18:00",
        "reason": "Coupure électrique"}, follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert "Elle tombe sur 1 réservation" in html
    assert 'id="closure-hits"' in html
    assert f'data-booking="{w.flagged.id}"' in html
    assert "Coupure électrique" in html
    assert f"/bookings/{w.flagged.id}/move" in html


def test_notify_tells_the_booker_and_the_trainer_once(client, login, w, db, now) -> None:
    login(w.coordinator)
    url = f"/coordination/closures/{w.closure.id}/bookings/{w.hit.id}/notify?back=closures"
    answer = client.post(url, data={"csrf_token": token(client)})
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/coordination/closures")
    (mail,) = outbox(db)  # the trainer booked it: one person
    assert mail.to_addr == w.trainer.email
    assert "Révision annuelle" in mail.body_text
    assert "TP emboutissage" in mail.subject
    client.post(url, data={"csrf_token": token(client)})
    assert len(outbox(db)) == 1


def test_cancel_gives_the_closure_as_the_reason(client, login, w, db, now) -> None:
    login(w.coordinator)
    answer = client.post(f"/coordination/closures/{w.closure.id}/bookings/{w.hit.id}/cancel",
                         data={"csrf_token": token(client)})
    assert answer.headers["Location"].endswith("/coordination/inbox")
    db.expire_all()
    assert w.hit.status is BookingStatus.CANCELLED
    assert "Révision annuelle" in w.hit.cancel_reason
    assert any("Révision annuelle" in m.body_text for m in outbox(db, w.trainer.email))


def test_a_closure_that_does_not_fall_on_the_booking_changes_nothing(client, login, w, db,
                                                                     now) -> None:
    login(w.coordinator)
    client.post(f"/coordination/closures/{w.closure.id}/bookings/{w.flagged.id}/cancel",
                data={"csrf_token": token(client)})
    db.expire_all()
    assert w.flagged.status is BookingStatus.CONFIRMED


@pytest.mark.parametrize("role", ["other_coordinator"])
def test_another_coordinator_may_not_act(client, login, w, db, now, role) -> None:
    login(getattr(w, role))
    for action in ("notify", "cancel"):
        answer = client.post(
            f"/coordination/closures/{w.closure.id}/bookings/{w.hit.id}/{action}",
            data={"csrf_token": token(client)})
        assert answer.status_code == 403
    db.expire_all()
    assert w.hit.status is BookingStatus.CONFIRMED
    assert outbox(db) == []


def test_importing_closures_over_bookings_lists_them(client, login, w, db, now) -> None:
    login(w.coordinator)
    ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\n"
           "UID:panne-1@test\r\nDTSTART;VALUE=DATE:20270121\r\nDTEND;VALUE=DATE:20270122\r\n"
           "SUMMARY:Panne générale\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()
    answer = client.post("/coordination/import", data={
        "csrf_token": token(client), "target": f"equipment-{w.press.id}",
        "file": (io.BytesIO(ics), "panne.ics")}, content_type="multipart/form-data",
        follow_redirects=True)
    html = answer.get_data(as_text=True)
    assert "Les fermetures importées tombent sur 1 réservation" in html
    assert f'data-booking="{w.flagged.id}"' in html
    assert "Panne générale" in html


def test_the_digest_job_queues_once_however_often_it_runs(app, db, w, now) -> None:
    from scheduler.jobs import job_by_id, run_job
    from scheduler.lease import acquire

    db.commit()
    first = run_job(app, job_by_id("approval_digest"), holder=None)
    second = run_job(app, job_by_id("approval_digest"), holder=None)
    assert first.summary == "2 digest(s) queued"
    assert second.summary == "0 digest(s) queued"
    # A second scheduler, without the lease, runs nothing at all.
    acquire(db, "first", now=NOW, ttl=timedelta(minutes=1))
    db.commit()
    assert run_job(app, job_by_id("approval_digest"), holder="second") is None
    db.expire_all()
    assert [m.to_addr for m in outbox(db)].count(w.coordinator.email) == 1


def test_bookings_whose_trainer_was_booked_twice_wait_for_their_coordinator(
        client, login, db, w, now) -> None:
    """Migration 0010 flags old double bookings of a trainer: the owner's
    coordinators find them in the inbox until one is moved."""
    w.hit.trainer_clash = True
    db.flush()
    box = inbox(db, w.coordinator, now=NOW)
    assert ([b.id for b in box.clashes], box.counts.clashes) == ([w.hit.id], 1)
    assert inbox(db, w.other_coordinator, now=NOW).clashes == []
    login(w.coordinator)
    html = client.get("/coordination/inbox").get_data(as_text=True)
    assert 'id="clashes"' in html
    assert f"/bookings/{w.hit.id}/move" in html
