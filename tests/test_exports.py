"""The scheduler's export files (EXPORT_DIR) and the coordinators' downloads
/bookings/export.ics and /bookings/export.csv."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from booking.services.feeds import exports
from booking.services.feeds.exports import CSV_COLUMNS, ExportSummary, write_exports
from models import Booking, BookingPurpose, BookingStatus, Role
from scheduler.jobs import job_by_id, run_job
from scheduler.runner import _build
from tests.conftest import NOW, PASSWORD

BASE = "https://plateforme.test"


class Campus:
    """Two establishments, three machines, three bookings made through the API."""

    def __init__(self, client, make) -> None:
        self.client = client
        self.tours = make.establishment(code="TOURS", name="Lycée Grandmont", city="Tours")
        self.orleans = make.establishment(code="ORL", name="Polytech Orléans")
        self.cobot = make.equipment(establishment=self.tours, code="COBOT-1",
                                    name="Cellule cobot")
        self.twin = make.equipment(establishment=self.tours, code="TWIN-1",
                                   name="Jumeau numérique")
        self.reactor = make.equipment(establishment=self.orleans, code="REACT-1",
                                      name="Réacteur émulsion")
        self.trainer = make.user(Role.TRAINER, establishment=self.tours, name="Camille Martin")
        token = client.post("/api/v1/auth/tokens", json={
            "email": self.trainer.email, "password": PASSWORD}).json["token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.on_cobot = self.book(self.cobot, "2027-01-19T09:00", "2027-01-19T11:00",
                                  "TP cobotique — sécurité")
        self.on_twin = self.book(self.twin, "2027-01-20T14:00", "2027-01-20T16:00",
                                 "=1+1 jumeau")
        self.on_reactor = self.book(self.reactor, "2027-01-21T09:00", "2027-01-21T12:00",
                                    "Émulsions")

    def book(self, machine, start: str, end: str, title: str) -> dict:
        answer = self.client.post("/api/v1/bookings", headers=self.headers, json={
            "equipment_id": machine.id, "title": title, "participants": 12,
            "start": f"{start}:00+01:00", "end": f"{end}:00+01:00"})
        assert answer.status_code == 201, answer.get_json()
        return answer.json

    def cancel(self, booking: dict) -> None:
        answer = self.client.post(f"/api/v1/bookings/{booking['id']}/cancel",
                                  headers=self.headers, json={})
        assert answer.status_code == 200, answer.get_json()


@pytest.fixture
def campus(client, make, now) -> Campus:
    return Campus(client, make)


NAMES = {"establishment-TOURS.ics", "establishment-TOURS.csv", "establishment-ORL.ics",
         "establishment-ORL.csv", "equipment-COBOT-1.ics", "equipment-TWIN-1.ics",
         "equipment-REACT-1.ics"}


def _stats(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_one_ics_per_establishment_and_equipment_and_one_csv(db, campus, tmp_path) -> None:
    summary = write_exports(db, now=NOW, export_dir=tmp_path / "export", base_url=BASE)
    assert summary.written == len(NAMES)
    assert summary.unchanged == 0
    assert {p.name for p in (tmp_path / "export").iterdir()} == NAMES

    cal = Calendar.from_ical((tmp_path / "export" / "establishment-TOURS.ics").read_bytes())
    assert cal["X-WR-CALNAME"] == "Plateforme — Lycée Grandmont"
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [campus.on_cobot["uid"],
                                                          campus.on_twin["uid"]]
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (event,) = Calendar.from_ical(
        (tmp_path / "export" / "equipment-COBOT-1.ics").read_bytes()).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime(2027, 1, 19, 8, tzinfo=UTC)
    booking = db.get(Booking, campus.on_cobot["id"])
    assert event.decoded("DTSTAMP") == booking.updated_at  # not the clock


def test_csv_opens_with_semicolons_and_a_bom(db, campus, tmp_path) -> None:
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    raw = (tmp_path / "establishment-TOURS.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "establishment-TOURS.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows == [
        list(CSV_COLUMNS),
        ["2027-01-19", "09:00", "11:00", "COBOT-1", "Cellule cobot", "TP cobotique — sécurité",
         "training", "confirmed", "Camille Martin", "12"],
        # A title that a spreadsheet would run as a formula stays text.
        ["2027-01-20", "14:00", "16:00", "TWIN-1", "Jumeau numérique", "'=1+1 jumeau",
         "training", "confirmed", "Camille Martin", "12"],
    ]


def test_csv_covers_the_coming_eight_weeks(db, campus, tmp_path) -> None:
    campus.book(campus.cobot, "2027-03-09T09:00", "2027-03-09T11:00", "In 8 weeks")
    campus.book(campus.cobot, "2027-03-08T09:00", "2027-03-08T11:00", "Within 8 weeks")
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    text = (tmp_path / "establishment-TOURS.csv").read_text(encoding="utf-8-sig")
    assert "Within 8 weeks" in text
    assert "In 8 weeks" not in text
    ics = (tmp_path / "establishment-TOURS.ics").read_text(encoding="utf-8")
    assert "In 8 weeks" in ics  # the calendar keeps the feed's year ahead


def test_unchanged_data_writes_nothing(db, campus, tmp_path) -> None:
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    before = _stats(tmp_path)
    later = NOW + timedelta(minutes=5)  # the next run: another DTSTAMP if it were the clock
    summary = write_exports(db, now=later, export_dir=tmp_path, base_url=BASE)
    assert summary == ExportSummary(written=0, unchanged=len(NAMES))
    assert _stats(tmp_path) == before


def test_a_change_rewrites_only_the_files_it_touches(db, campus, tmp_path) -> None:
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    before = _stats(tmp_path)
    campus.cancel(campus.on_cobot)
    summary = write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    touched = {"establishment-TOURS.ics", "establishment-TOURS.csv", "equipment-COBOT-1.ics"}
    assert set(summary.files) == touched
    after = _stats(tmp_path)
    assert {name for name in NAMES if after[name] != before[name]} == touched
    (event,) = Calendar.from_ical((tmp_path / "equipment-COBOT-1.ics").read_bytes()).walk(
        "VEVENT")
    assert (event["STATUS"], event["SEQUENCE"]) == ("CANCELLED", 1)


def test_atomic_write_leaves_no_temporary_file(db, campus, tmp_path, monkeypatch) -> None:
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    assert {p.name for p in tmp_path.iterdir()} == NAMES  # no .tmp left behind
    assert oct((tmp_path / "establishment-TOURS.ics").stat().st_mode & 0o777) == "0o644"
    old = (tmp_path / "equipment-COBOT-1.ics").read_bytes()
    campus.cancel(campus.on_cobot)

    def crash(src, dst) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(exports.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    # The readers still have the whole old file, and the half-done one is gone.
    assert (tmp_path / "equipment-COBOT-1.ics").read_bytes() == old
    assert {p.name for p in tmp_path.iterdir()} == NAMES


def test_the_job_writes_into_export_dir(app, db, campus, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path / "job"))
    db.commit()
    first = run_job(app, job_by_id("export_calendars"), holder=None)
    second = run_job(app, job_by_id("export_calendars"), holder=None)
    assert first.error is None, first.error
    assert first.summary == f"{len(NAMES)} export file(s) written, 0 unchanged"
    assert second.summary == f"0 export file(s) written, {len(NAMES)} unchanged"
    assert {p.name for p in (tmp_path / "job").iterdir()} == NAMES


def test_the_export_interval_comes_from_the_config(app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SCHEDULER_EXPORT_MINUTES", 7)
    scheduler = _build(app, "holder")
    assert scheduler.get_job("export_calendars").trigger.interval == timedelta(minutes=7)
    assert scheduler.get_job("expire_pending").trigger.interval == timedelta(minutes=5)


# --- downloads --------------------------------------------------------------------


def test_export_routes_are_not_taken_for_a_booking_id(app) -> None:
    urls = app.url_map.bind("localhost")
    assert urls.match("/bookings/export.ics") == ("exports.export_ics", {})
    assert urls.match("/bookings/export.csv") == ("exports.export_csv", {})
    assert urls.match("/bookings/12.ics") == ("bookings.ics", {"booking_id": 12})


def _rows(answer) -> list[list[str]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))[1:]


def test_download_csv_with_filters_in_paris_time(client, login, campus) -> None:
    login(campus.trainer)
    # codes=1: the machine form (English keys, the API's values, ISO dates).
    rows = _rows(client.get(f"/bookings/export.csv?codes=1&establishment_id={campus.tours.id}"
                            "&from=2027-01-19&to=2027-01-19"))
    assert [row[:4] for row in rows] == [["2027-01-19", "09:00", "11:00", "COBOT-1"]]
    rows = _rows(client.get(f"/bookings/export.csv?codes=1&equipment_id={campus.reactor.id}"))
    assert [row[3] for row in rows] == ["REACT-1"]
    assert len(_rows(client.get("/bookings/export.csv?codes=1&from=2027-01-20"))) == 2


def test_download_ics_and_cancelled_only_when_asked(client, login, campus) -> None:
    campus.cancel(campus.on_twin)
    login(campus.trainer)
    answer = client.get("/bookings/export.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="bookings.ics"'
    uids = [str(e["UID"]) for e in Calendar.from_ical(answer.data).walk("VEVENT")]
    assert uids == [campus.on_cobot["uid"], campus.on_reactor["uid"]]
    cancelled = Calendar.from_ical(client.get("/bookings/export.ics?status=cancelled").data)
    assert [str(e["UID"]) for e in cancelled.walk("VEVENT")] == [campus.on_twin["uid"]]


def test_a_company_user_downloads_only_its_company(client, db, login, make, campus) -> None:
    company_user = make.user(Role.COMPANY)
    start = datetime(2027, 1, 22, 8, tzinfo=UTC)
    db.add(Booking(uid="company-session@t", equipment=campus.cobot, title="Session client",
                   purpose=BookingPurpose.INDUSTRIAL_PROJECT, status=BookingStatus.PENDING,
                   booked_by=company_user, start_at=start, end_at=start + timedelta(hours=2)))
    db.flush()
    login(company_user)
    assert [row[7] for row in _rows(client.get("/bookings/export.csv"))] == ["Session client"]
    events = Calendar.from_ical(client.get("/bookings/export.ics").data).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == ["company-session@t"]


@pytest.mark.parametrize("query", ["from=12/01/2027", "equipment_id=abc", "status=lost",
                                   "from=2027-02-01&to=2027-01-01", "trainer_id=99999999999"])
def test_unreadable_filters_are_400(client, login, campus, query) -> None:
    login(campus.trainer)
    assert client.get(f"/bookings/export.csv?{query}").status_code == 400


def test_downloads_need_a_login(client, campus) -> None:
    for path in ("/bookings/export.ics", "/bookings/export.csv"):
        answer = client.get(path)
        assert answer.status_code == 302
        assert "/auth/login" in answer.headers["Location"]


def test_each_establishment_and_machine_has_its_own_file(db, make, tmp_path) -> None:
    """Codes that differed only by characters a file name cannot hold wrote one
    file, the last one over the first (issue 10); a code whose escaped form would
    be too long for a file system is named by its id."""
    slash = make.establishment(code="COLL/1", name="Collège Balzac")
    colon = make.establishment(code="COLL:1", name="Collège Ronsard")
    tilde = make.establishment(code="COLL~3A1", name="Collège Rabelais")
    long = make.equipment(establishment=slash, code="é" * 32, name="Presse")
    write_exports(db, now=NOW, export_dir=tmp_path, base_url=BASE)
    names = {p.name for p in tmp_path.iterdir()}
    calendars = {str(Calendar.from_ical((tmp_path / name).read_bytes())["X-WR-CALNAME"])
                 for name in names if name.startswith("establishment-") and name.endswith(".ics")}
    assert calendars == {f"Plateforme — {e.name}" for e in (slash, colon, tilde)}
    assert len(names) == 2 * 3 + 1
    assert f"equipment-~id{long.id}.ics" in names
    assert {"establishment-COLL~2F1.ics", "establishment-COLL~3A1.ics",
            "establishment-COLL~7E3A1.ics"} <= names
