"""Check-in at the machine (issue 14, part 2): who checks in and out, when,
with which certifications; incidents reported at check-out, the owners'
mail, maintenance and resolution from the incident; and the pages."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.checkin import operations as checkin
from booking.services.checkin.operations import CHECK_IN_OPENS_MINUTES
from booking.services.errors import (
    CertificationRequired,
    CheckInClosed,
    CheckInNotOpen,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationError,
)
from booking.services.policy import Policy
from booking.timeutil import frozen
from models import (
    AuditEntry,
    BookingStatus,
    EquipmentCategory,
    EquipmentStatus,
    OutboxMessage,
    Role,
)
from models.incident import Incident
from tests.conftest import NOW, csrf_token_of
from tests.world import logged_in

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2027, 1, 14, 10, tzinfo=PARIS)
END = START + timedelta(hours=2)


@pytest.fixture
def w(make: Any, db: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    away = make.establishment(code="IUT", name="IUT de Tours")
    cert = make.certification_type(code="HAB-E", name="Étuve")
    eq = make.equipment(establishment=owner, name="Étuve", check_in_required=True,
                        check_in_grace_minutes=20)
    eq.required_certification_types = [cert]
    trainer = make.user(Role.TRAINER, establishment=owner, name="Alice Martin")
    other_trainer = make.user(Role.TRAINER, establishment=owner, name="Bruno Petit")
    held = {person.id: make.certification(person, cert) for person in (trainer, other_trainer)}
    coordinator = make.user(Role.COORDINATOR, establishment=owner, email="coord@example.org")
    w = SimpleNamespace(
        owner=owner, cert=cert, held=held, eq=eq, trainer=trainer, other_trainer=other_trainer,
        coordinator=coordinator,
        second_coordinator=make.user(Role.COORDINATOR, establishment=owner,
                                     email="coord2@example.org"),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away,
                                    email="away@example.org"),
        admin=make.user(Role.ADMIN), company=make.user(Role.COMPANY))
    with make.app.app_context():
        w.booking = create_booking(db, actor=coordinator, now=NOW, policy=Policy(), notify=False,
                                   request=BookingRequest(eq.id, START, END, "Séchage",
                                                          trainer_id=trainer.id))
    assert w.booking.status is BookingStatus.CONFIRMED
    return w


def audits(db: Any, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def check_in(db: Any, w: SimpleNamespace, actor: Any = None, at: datetime = START) -> Any:
    return checkin.check_in(db, actor=actor or w.trainer, booking=w.booking, now=at)


# --- check-in ----------------------------------------------------------------------------


def test_the_trainer_checks_in_within_the_window(db, w) -> None:
    at = START - timedelta(minutes=CHECK_IN_OPENS_MINUTES)  # the first minute it opens
    check_in(db, w, at=at)
    assert w.booking.checked_in_at == at
    assert w.booking.updated_at == at
    [entry] = audits(db, "booking.check_in")
    assert (entry.actor_id, entry.object_id) == (w.trainer.id, w.booking.id)
    assert entry.details == {"checked_in_at": at.isoformat()}


def test_a_coordinator_of_the_owner_checks_in_on_the_trainers_behalf(db, w) -> None:
    check_in(db, w, actor=w.coordinator, at=START + timedelta(minutes=5))
    assert w.booking.checked_in_at is not None
    [entry] = audits(db, "booking.check_in")
    assert (entry.actor_id, entry.details["trainer_id"]) == (w.coordinator.id, w.trainer.id)


def test_an_admin_checks_in_too(db, w) -> None:
    check_in(db, w, actor=w.admin)
    assert w.booking.checked_in_at == START


def test_another_trainer_or_coordinator_is_refused(db, w) -> None:
    for person in (w.other_trainer, w.other_coordinator):
        with pytest.raises(Forbidden) as refused:
            check_in(db, w, actor=person)
        assert refused.value.code == "forbidden"
    assert w.booking.checked_in_at is None


def test_a_company_that_cannot_see_the_booking_gets_not_found(db, w) -> None:
    with pytest.raises(NotFound):
        check_in(db, w, actor=w.company)


def test_too_early_is_refused_saying_from_when(db, w, app) -> None:
    with app.test_request_context(), pytest.raises(CheckInNotOpen) as refused:
        check_in(db, w, at=START - timedelta(minutes=16))
    assert refused.value.status == 409
    assert refused.value.code == "check_in_not_open"
    assert refused.value.details["opens_at"] == "2027-01-14T09:45:00+01:00"
    assert "09:45" in str(refused.value)
    assert w.booking.checked_in_at is None


def test_too_late_is_refused_saying_until_when(db, w) -> None:
    with pytest.raises(CheckInClosed) as refused:
        check_in(db, w, at=START + timedelta(minutes=20, seconds=1))
    assert (refused.value.status, refused.value.code) == (409, "check_in_closed")
    assert refused.value.details["closed_at"] == "2027-01-14T10:20:00+01:00"
    assert "10:20" in str(refused.value)
    check_in(db, w, at=START + timedelta(minutes=20))  # the last moment still counts


def test_the_window_never_runs_past_the_end(db, w) -> None:
    w.eq.check_in_grace_minutes = 240
    with pytest.raises(CheckInClosed):
        check_in(db, w, at=END + timedelta(minutes=1))


def test_a_machine_without_required_check_in_still_records_the_use(db, w) -> None:
    w.eq.check_in_required = False
    check_in(db, w)
    assert w.booking.checked_in_at == START


def test_only_a_confirmed_booking_is_checked_in(db, w) -> None:
    for status in (BookingStatus.PENDING, BookingStatus.NO_SHOW, BookingStatus.CANCELLED):
        if status is BookingStatus.CANCELLED:
            w.booking.status = BookingStatus.CONFIRMED
            cancel_booking(db, actor=w.coordinator, booking=w.booking, now=NOW)
        else:
            w.booking.status = status
        db.flush()
        with pytest.raises(InvalidState) as refused:
            check_in(db, w)
        assert refused.value.details["status"] == status.value


def test_a_second_check_in_is_refused(db, w) -> None:
    check_in(db, w)
    with pytest.raises(InvalidState) as refused:
        check_in(db, w, actor=w.coordinator, at=START + timedelta(minutes=1))
    assert refused.value.code == "invalid_state"
    assert w.booking.checked_in_at == START


def test_an_expired_certification_is_refused(db, w) -> None:
    held = w.held[w.trainer.id]
    held.valid_until = date(2027, 1, 13)  # expired the day before the session
    db.flush()
    for actor in (w.trainer, w.coordinator):  # the trainer's, whoever checks in
        with pytest.raises(CertificationRequired) as refused:
            check_in(db, w, actor=actor)
        assert refused.value.status == 403
        assert refused.value.details["missing"] == [
            {"id": w.cert.id, "code": "HAB-E", "name": "Étuve", "held_until": "2027-01-13"}]
    assert w.booking.checked_in_at is None


def test_a_revoked_certification_is_refused(db, w) -> None:
    w.held[w.trainer.id].revoked_at = NOW
    db.flush()
    with pytest.raises(CertificationRequired):
        check_in(db, w)


# --- check-out and incidents ----------------------------------------------------------------


def mails_to(db: Any) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).where(
        OutboxMessage.dedupe_key.like("incident:%")).order_by(OutboxMessage.to_addr)))


def test_check_out_records_the_real_end(db, w) -> None:
    check_in(db, w)
    at = END - timedelta(minutes=25)
    checkin.check_out(db, actor=w.trainer, booking=w.booking, now=at)
    assert w.booking.checked_out_at == at
    assert len(audits(db, "booking.check_out")) == 1
    assert db.scalar(select(func.count()).select_from(Incident)) == 0
    assert mails_to(db) == []


def test_check_out_before_check_in_or_twice_is_refused(db, w) -> None:
    with pytest.raises(InvalidState):
        checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END)
    check_in(db, w)
    checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END)
    with pytest.raises(InvalidState):
        checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END)


def test_check_out_of_a_completed_booking_still_works(db, w) -> None:
    check_in(db, w)
    w.booking.status = BookingStatus.COMPLETED  # the complete_past job ran first
    checkin.check_out(db, actor=w.coordinator, booking=w.booking, now=END + timedelta(hours=1))
    assert w.booking.checked_out_at == END + timedelta(hours=1)


def test_check_out_by_someone_else_is_refused(db, w) -> None:
    check_in(db, w)
    with pytest.raises(Forbidden):
        checkin.check_out(db, actor=w.other_trainer, booking=w.booking, now=END)
    assert w.booking.checked_out_at is None


def test_an_incident_tells_the_owners_coordinators_only(db, w) -> None:
    check_in(db, w)
    checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END,
                      incident="  La porte ferme mal.\nJoint à changer.  ")
    [incident] = db.scalars(select(Incident)).all()
    assert (incident.equipment_id, incident.booking_id, incident.reported_by_id) == (
        w.eq.id, w.booking.id, w.trainer.id)
    assert incident.description == "La porte ferme mal.\nJoint à changer."
    assert incident.resolved_at is None
    assert [m.to_addr for m in mails_to(db)] == ["coord2@example.org", "coord@example.org"]
    for mail in mails_to(db):
        assert f"/incidents/{incident.id}" in mail.body_text
        assert "Joint à changer." in mail.body_text
    [entry] = audits(db, "incident.report")
    assert (entry.actor_id, entry.object_id) == (w.trainer.id, incident.id)


def test_a_blank_incident_is_none_and_a_long_one_is_refused(db, w) -> None:
    check_in(db, w)
    with pytest.raises(ValidationError) as refused:
        checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END, incident="x" * 2001)
    assert refused.value.details == {"field": "incident"}
    assert w.booking.checked_out_at is None
    checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END, incident="  \n ")
    assert db.scalar(select(func.count()).select_from(Incident)) == 0


@pytest.fixture
def incident(db: Any, w: SimpleNamespace) -> Incident:
    check_in(db, w)
    checkin.check_out(db, actor=w.trainer, booking=w.booking, now=END, incident="Fuite d'huile")
    return db.scalars(select(Incident)).one()


def test_maintenance_from_the_incident(db, w, incident) -> None:
    checkin.put_in_maintenance(db, actor=w.coordinator, incident=incident, now=END,
                               reason="Fuite d'huile : réparation")
    assert w.eq.status is EquipmentStatus.MAINTENANCE
    assert w.eq.status_reason == "Fuite d'huile : réparation"
    [update] = audits(db, "equipment.update")
    assert update.details["changes"]["status"] == ["active", "maintenance"]
    assert len(audits(db, "incident.maintenance")) == 1
    with pytest.raises(InvalidState):  # already in maintenance
        checkin.put_in_maintenance(db, actor=w.coordinator, incident=incident, now=END,
                                   reason="Encore")


def test_maintenance_needs_a_reason(db, w, incident) -> None:
    with pytest.raises(ValidationError):
        checkin.put_in_maintenance(db, actor=w.coordinator, incident=incident, now=END,
                                   reason="  ")
    assert w.eq.status is EquipmentStatus.ACTIVE


def test_resolve_the_incident(db, w, incident) -> None:
    checkin.resolve(db, actor=w.admin, incident=incident, now=END)
    assert (incident.resolved_at, incident.resolved_by_id) == (END, w.admin.id)
    assert len(audits(db, "incident.resolve")) == 1
    with pytest.raises(InvalidState):
        checkin.resolve(db, actor=w.coordinator, incident=incident, now=END)


def test_only_the_owners_coordinators_act_on_an_incident(db, w, incident) -> None:
    with pytest.raises(Forbidden):  # the reporter sees it, but does not act
        checkin.resolve(db, actor=w.trainer, incident=incident, now=END)
    for stranger in (w.other_coordinator, w.other_trainer, w.company):
        with pytest.raises(NotFound):
            checkin.put_in_maintenance(db, actor=stranger, incident=incident, now=END,
                                       reason="Non")
    assert w.eq.status is EquipmentStatus.ACTIVE
    assert incident.resolved_at is None


# --- pages -----------------------------------------------------------------------------


def post(client: Any, url: str, page: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf_token_of(
        client.get(page).get_data(as_text=True)), **data})


def test_the_machine_page_needs_a_login_and_comes_back(client, w) -> None:
    answer = client.get(f"/check-in/{w.eq.id}")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/auth/login?next=")
    assert answer.headers["Location"].endswith(f"next=%2Fcheck-in%2F{w.eq.id}")


def test_the_trainer_checks_in_and_out_on_the_page(client, login, db, w) -> None:
    login(w.trainer)
    page = f"/check-in/{w.eq.id}"
    with frozen(START - timedelta(minutes=30)):
        html = client.get(page).get_data(as_text=True)
        assert 'data-state="early"' in html
        assert "09:45" in html
    with frozen(START - timedelta(minutes=5)):
        html = client.get(page).get_data(as_text=True)
        assert 'data-state="open"' in html
        assert f'id="check-in-{w.booking.id}"' in html
        answer = post(client, f"/check-in/bookings/{w.booking.id}/in", page)
        assert answer.status_code == 302
        assert answer.headers["Location"].endswith(page)
    db.expire_all()  # the requests wrote through their own sessions
    assert w.booking.checked_in_at == START - timedelta(minutes=5)
    with frozen(END - timedelta(minutes=10)):
        html = client.get(page).get_data(as_text=True)
        assert 'data-state="in"' in html
        assert f'id="incident-{w.booking.id}"' in html
        answer = post(client, f"/check-in/bookings/{w.booking.id}/out", page,
                      incident="Capteur de température HS")
        assert answer.status_code == 302
    db.expire_all()
    assert w.booking.checked_out_at == END - timedelta(minutes=10)
    incident = db.scalars(select(Incident)).one()
    assert incident.description == "Capteur de température HS"
    with frozen(END - timedelta(minutes=5)):
        html = client.get(page).get_data(as_text=True)
        assert 'data-state="done"' in html
        show = client.get(f"/bookings/{w.booking.id}").get_data(as_text=True)
        assert 'id="checked-in-at"' in show
        assert 'id="checked-out-at"' in show
        # The reporter reads the incident, without its buttons.
        html = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
        assert "Capteur de température HS" in html
        assert "/maintenance" not in html
        assert "/resolve" not in html


def test_a_refusal_is_flashed_on_the_page(client, login, db, w) -> None:
    login(w.trainer)
    page = f"/check-in/{w.eq.id}"
    with frozen(START - timedelta(minutes=30)):
        answer = post(client, f"/check-in/bookings/{w.booking.id}/in", page)
        assert answer.status_code == 302
        html = client.get(page).get_data(as_text=True)
    assert 'class="flash flash-error"' in html
    assert "09:45" in html
    db.expire_all()
    assert w.booking.checked_in_at is None


def test_a_too_long_problem_stays_in_the_form(client, login, db, w) -> None:
    check_in(db, w)
    login(w.trainer)
    page = f"/check-in/{w.eq.id}"
    with frozen(END - timedelta(minutes=10)):
        answer = post(client, f"/check-in/bookings/{w.booking.id}/out", page,
                      incident="x" * 2001)
    assert answer.status_code == 200
    assert 'aria-invalid="true"' in answer.get_data(as_text=True)
    db.expire_all()
    assert w.booking.checked_out_at is None


def test_others_see_only_their_bookings_coordinators_all(app, db, w) -> None:
    with frozen(START):
        other = logged_in(app, w.other_trainer)
        html = other.get(f"/check-in/{w.eq.id}").get_data(as_text=True)
        assert f'id="booking-{w.booking.id}"' not in html
        assert 'id="no-booking"' in html
        assert post(other, f"/check-in/bookings/{w.booking.id}/in",
                    f"/check-in/{w.eq.id}").status_code == 403
        coordinator = logged_in(app, w.coordinator)
        html = coordinator.get(f"/check-in/{w.eq.id}").get_data(as_text=True)
        assert f'id="booking-{w.booking.id}"' in html
        assert "Alice Martin" in html
        post(coordinator, f"/check-in/bookings/{w.booking.id}/in", f"/check-in/{w.eq.id}")
    db.expire_all()
    assert w.booking.checked_in_at == START


def test_the_coordinator_acts_from_the_incident_page(client, login, db, w, incident) -> None:
    login(w.coordinator)
    url = f"/incidents/{incident.id}"
    html = client.get(url).get_data(as_text=True)
    assert "Fuite d&#39;huile" in html
    assert f"{url}/maintenance" in html
    answer = post(client, f"{url}/maintenance", url, reason="Fuite : joint commandé")
    assert answer.status_code == 302
    db.expire_all()
    assert (w.eq.status, w.eq.status_reason) == (EquipmentStatus.MAINTENANCE,
                                                 "Fuite : joint commandé")
    answer = post(client, f"{url}/resolve", url)
    assert answer.status_code == 302
    db.expire_all()
    assert incident.resolved_by_id == w.coordinator.id
    assert 'data-resolved="true"' in client.get(url).get_data(as_text=True)


def test_strangers_do_not_see_the_incident(client, login, db, w, incident) -> None:
    login(w.other_coordinator)
    assert client.get(f"/incidents/{incident.id}").status_code == 404
    assert post(client, f"/incidents/{incident.id}/resolve",
                "/bookings/mine").status_code == 404


# --- the equipment forms' check-in settings ------------------------------------------------


def _admin_form(machine: Any, **fields: str) -> dict[str, str]:
    data = {"code": machine.code, "name": machine.name, "category": "training_equipment",
            "status": "active", "parent": "0", "slot_minutes": "30", "min_minutes": "30",
            "max_minutes": "480", "changeover_minutes": "0", "approval_deadline_hours": "72",
            "d0_opens": "08:00", "d0_closes": "18:00"}
    return {**data, **fields}


def test_the_admin_form_writes_the_check_in_settings(client, login, db, w) -> None:
    login(w.admin)
    url = f"/admin/equipment/{w.eq.id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert 'id="check_in_required" name="check_in_required" type="checkbox" value="y"' in html
    assert post(client, url, url, **_admin_form(w.eq, check_in_grace_minutes="45")
                ).status_code == 302
    db.expire_all()
    assert (w.eq.check_in_required, w.eq.check_in_grace_minutes) == (False, 45)
    answer = post(client, url, url, **_admin_form(w.eq, check_in_required="y",
                                                  check_in_grace_minutes="241"))
    assert answer.status_code == 200
    assert 'id="check_in_grace_minutes-error"' in answer.get_data(as_text=True)
    db.expire_all()
    assert w.eq.check_in_grace_minutes == 45


def test_the_coordinator_form_writes_the_check_in_settings(client, login, db, w) -> None:
    login(w.coordinator)
    url = f"/coordination/equipment/{w.eq.id}/edit"
    html = client.get(url).get_data(as_text=True)
    assert 'value="20"' in html.split('id="check-in-fields"')[1]
    answer = post(client, url, url, status="active", hours_0="08:00–18:00",
                  check_in_grace_minutes="")
    assert answer.status_code == 302
    db.expire_all()
    assert (w.eq.check_in_required, w.eq.check_in_grace_minutes) == (False, 15)


def test_a_components_page_lists_its_lines_bookings(client, login, db, make, w) -> None:
    line = make.equipment(establishment=w.owner, name="Ligne de remplissage",
                          category=EquipmentCategory.PILOT_LINE)
    part = make.equipment(establishment=w.owner, name="Doseuse", parent=line)
    with make.app.app_context():
        booking = create_booking(db, actor=w.coordinator, now=NOW, policy=Policy(),
                                 notify=False, request=BookingRequest(
                                     line.id, START + timedelta(days=1),
                                     END + timedelta(days=1), "Remplissage",
                                     trainer_id=w.trainer.id))
    login(w.trainer)
    with frozen(START + timedelta(days=1)):
        html = client.get(f"/check-in/{part.id}").get_data(as_text=True)
    assert f'id="booking-{booking.id}"' in html


def test_the_machines_page_says_check_in_is_required(client, login, db, make, w) -> None:
    login(w.trainer)
    html = client.get(f"/equipment/{w.eq.id}").get_data(as_text=True)
    [item] = re.findall(r'<li id="window-check-in">(.*?)</li>', html, re.S)
    assert "20 minutes" in item
    assert f'href="/check-in/{w.eq.id}"' in item
    elsewhere = make.equipment(establishment=w.owner, name="Balance")
    assert 'id="window-check-in"' not in client.get(
        f"/equipment/{elsewhere.id}").get_data(as_text=True)
