"""Closures imported from an .ics file: the service and /coordination/import."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from booking.services.closures.imports import ImportSummary, import_closures
from booking.services.errors import Forbidden, ValidationError
from models import AuditEntry, Closure, ClosureKind, Role
from tests.conftest import NOW, PASSWORD, csrf_token_of

DATA = Path(__file__).parent / "data"


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _closures(db, **scope) -> list[Closure]:
    return list(db.scalars(select(Closure).filter_by(**scope).order_by(Closure.start_at)))


def _imports(db) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "closure.import"))


@pytest.fixture
def site(make):
    est = make.establishment(code="TOURS", name="Lycée Grandmont", city="Tours")
    return est, make.user(Role.COORDINATOR, establishment=est)


def _import(db, actor, name: str, **target) -> ImportSummary:
    return import_closures(db, actor=actor, data=_read(name), now=NOW, **target)


def test_zone_b_all_day_events_close_whole_local_days(db, site) -> None:
    est, coordinator = site
    summary = _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    # Christmas 2026 is over on 2027-01-12: skipped.
    assert summary == ImportSummary(created=3, updated=0, unchanged=0, removed=0, skipped=1)
    winter, spring, ascension = _closures(db, establishment_id=est.id)
    # 13 Feb 00:00 Paris (UTC+1) to 1 Mar 00:00 Paris: DTEND is excluded.
    assert (winter.start_at, winter.end_at) == (datetime(2027, 2, 12, 23, tzinfo=UTC),
                                                datetime(2027, 2, 28, 23, tzinfo=UTC))
    # After the change to summer time the local midnight is 22:00 UTC.
    assert (spring.start_at, spring.end_at) == (datetime(2027, 4, 9, 22, tzinfo=UTC),
                                                datetime(2027, 4, 25, 22, tzinfo=UTC))
    assert [c.kind for c in (winter, spring, ascension)] == [
        ClosureKind.HOLIDAYS, ClosureKind.HOLIDAYS, ClosureKind.OTHER]
    assert winter.reason == "Vacances d'Hiver - Zone B"
    assert winter.source_uid == "hiver-2027-zone-b@calendrier.test"
    assert winter.created_by_id == coordinator.id
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "closure.import"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        coordinator.id, "establishment", est.id)
    assert entry.details["created"] == 3


def test_imported_holidays_refuse_bookings(client, db, make, site, now) -> None:
    est, coordinator = site
    _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    trainer = make.user(Role.TRAINER, establishment=est)
    machine = make.equipment(establishment=est)
    token = client.post("/api/v1/auth/tokens",
                        json={"email": trainer.email, "password": PASSWORD}).json["token"]
    answer = client.post("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"},
                         json={"equipment_id": machine.id, "title": "TP",
                               "start": "2027-02-16T09:00:00+01:00",
                               "end": "2027-02-16T11:00:00+01:00"})
    assert answer.status_code == 422
    assert answer.json["error"] == "closed"


def test_timed_events_with_tzid_or_utc_close_a_machine(db, make, site) -> None:
    est, coordinator = site
    machine = make.equipment(establishment=est)
    summary = _import(db, coordinator, "maintenance.ics", equipment_id=machine.id)
    assert summary.created == 2
    calibration, audit = _closures(db, equipment_id=machine.id)
    assert (calibration.start_at, calibration.end_at) == (
        datetime(2027, 3, 2, 7, tzinfo=UTC), datetime(2027, 3, 2, 11, tzinfo=UTC))
    assert calibration.kind is ClosureKind.MAINTENANCE
    assert (audit.start_at, audit.end_at) == (datetime(2027, 4, 6, 7, tzinfo=UTC),
                                              datetime(2027, 4, 6, 10, tzinfo=UTC))
    assert calibration.establishment_id is None


def test_reimport_changes_nothing(db, site) -> None:
    est, coordinator = site
    _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    before = [(c.id, c.start_at, c.end_at, c.reason) for c in _closures(db)]
    again = _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    assert again == ImportSummary(created=0, updated=0, unchanged=3, removed=0, skipped=1)
    db.expire_all()
    assert [(c.id, c.start_at, c.end_at, c.reason) for c in _closures(db)] == before


def test_changed_event_updates_and_cancelled_event_removes(db, site) -> None:
    est, coordinator = site
    _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    spring_id = _closures(db)[1].id
    summary = _import(db, coordinator, "zone-b-changed.ics", establishment_id=est.id)
    assert summary == ImportSummary(created=0, updated=1, unchanged=1, removed=1, skipped=1)
    db.expire_all()
    _winter, spring = _closures(db, establishment_id=est.id)
    assert spring.id == spring_id
    assert (spring.start_at, spring.end_at) == (datetime(2027, 4, 16, 22, tzinfo=UTC),
                                                datetime(2027, 5, 2, 22, tzinfo=UTC))


def test_same_uid_in_another_target_is_another_closure(db, make, site) -> None:
    est, coordinator = site
    machine = make.equipment(establishment=est)
    _import(db, coordinator, "zone-b.ics", establishment_id=est.id)
    assert _import(db, coordinator, "zone-b.ics", equipment_id=machine.id).created == 3
    assert len(_closures(db)) == 6


def _broken(text: str, before: str, inserted: str) -> bytes:
    assert before in text
    return text.replace(before, inserted + "\r\n" + before, 1).encode()


ZONE_B = _read("zone-b.ics").decode("utf-8")
UTF8_BAD = ZONE_B.encode().replace(b"Printemps", b"Printemps \xe9t\xe9")


@pytest.mark.parametrize(("data", "line"), [
    # After a DESCRIPTION folded over three lines: the physical line is named.
    (_read("zone-b-broken.ics"), 24),
    (_broken(ZONE_B, "END:VCALENDAR", "X-BAD;PARAM:value"), 39),
    (_broken(ZONE_B, "SUMMARY:Pont", "LAST-MODIFIED:yesterday"), 37),
    (ZONE_B.replace("DTSTART;VALUE=DATE:20270410", "DTSTART;VALUE=DATE:2027XX10").encode(), 28),
    (ZONE_B.replace("DTEND;VALUE=DATE:20270426", "DTEND;VALUE=DATE:20270401").encode(), 29),
    (ZONE_B.replace("UID:ascension-2027", "UID:hiver-2027-zone-b").encode(), 33),
    (ZONE_B.replace("END:VCALENDAR\r\n", "").encode(), 1),
    (ZONE_B.replace("END:VEVENT\r\nEND:VCALENDAR", "END:VCALENDAR").encode(), 38),
    (_broken(ZONE_B, "SUMMARY:Pont", "RRULE:FREQ=YEARLY"), 37),
    (ZONE_B.replace("DTSTART;VALUE=DATE:20270410",
                    "DTSTART;TZID=Mars/Olympus:20270410T080000").replace(
                    "DTEND;VALUE=DATE:20270426", "DTEND;TZID=Europe/Paris:20270426T080000")
     .encode(), 28),
    (UTF8_BAD, 30),
])
def test_broken_file_is_refused_with_its_line_and_nothing_written(db, site, data,
                                                                   line) -> None:
    est, coordinator = site
    assert data != _read("zone-b.ics")
    with pytest.raises(ValidationError) as refused:
        import_closures(db, actor=coordinator, data=data, establishment_id=est.id, now=NOW)
    assert refused.value.details["line"] == line, refused.value.message
    assert f"Line {line}" in str(refused.value)
    assert _closures(db) == []
    assert _imports(db) == 0


def test_coordinator_of_another_establishment_is_refused(db, make, site) -> None:
    est, _coordinator = site
    other = make.user(Role.COORDINATOR)
    with pytest.raises(Forbidden):
        _import(db, other, "zone-b.ics", establishment_id=est.id)
    machine = make.equipment(establishment=est)
    with pytest.raises(Forbidden):
        _import(db, other, "zone-b.ics", equipment_id=machine.id)
    admin = make.user(Role.ADMIN)
    assert _import(db, admin, "zone-b.ics", equipment_id=machine.id).created == 3


# --- the page ---------------------------------------------------------------------


def _upload(client, data: bytes, target: str, token: str | None):
    form = {"target": target, "file": (io.BytesIO(data), "zone-b.ics")}
    if token is not None:
        form["csrf_token"] = token
    return client.post("/coordination/import", data=form, content_type="multipart/form-data")


def test_upload_page_imports_with_csrf(client, db, login, site, now) -> None:
    est, coordinator = site
    login(coordinator)
    page = client.get("/coordination/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert f'value="establishment-{est.id}"' in html
    answer = _upload(client, _read("zone-b.ics"), f"establishment-{est.id}", csrf_token_of(html))
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert len(_closures(db, establishment_id=est.id)) == 3
    done = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-success"' in done
    # Each count agrees with its number in French (ngettext), never « fermeture(s) ».
    assert ("Import terminé\u00a0: 3 fermetures créées, 0 mise à jour, 0 inchangée, "
            "0 supprimée, 1 ignorée.") in done


def test_upload_without_csrf_is_refused(client, db, login, site) -> None:
    est, coordinator = site
    login(coordinator)
    assert _upload(client, _read("zone-b.ics"), f"establishment-{est.id}", None).status_code \
        == 400
    assert _closures(db) == []


def test_upload_of_a_broken_file_shows_the_line(client, db, login, site, now) -> None:
    est, coordinator = site
    login(coordinator)
    token = csrf_token_of(client.get("/coordination/import").get_data(as_text=True))
    answer = _upload(client, _read("zone-b-broken.ics"), f"establishment-{est.id}", token)
    assert answer.status_code == 200
    assert re.search(r'class="field-error".*\b24\b', answer.get_data(as_text=True))
    assert _closures(db) == []
    assert _imports(db) == 0


def test_upload_for_another_establishment_is_403(client, db, login, make, site, now) -> None:
    est, _coordinator = site
    other = make.user(Role.COORDINATOR)
    login(other)
    html = client.get("/coordination/import").get_data(as_text=True)
    assert f'value="establishment-{est.id}"' not in html
    answer = _upload(client, _read("zone-b.ics"), f"establishment-{est.id}", csrf_token_of(html))
    assert answer.status_code == 403
    assert _closures(db) == []


def test_trainers_may_not_open_the_page(client, login, make) -> None:
    login(make.user(Role.TRAINER))
    assert client.get("/coordination/import").status_code == 403


def test_upload_for_an_unknown_target_is_a_form_error(client, db, login, make) -> None:
    login(make.user(Role.ADMIN))
    token = csrf_token_of(client.get("/coordination/import").get_data(as_text=True))
    answer = _upload(client, _read("zone-b.ics"), "equipment-999999", token)
    assert answer.status_code == 200
    assert re.search(r'id="target-error"', answer.get_data(as_text=True))
    assert _closures(db) == []
