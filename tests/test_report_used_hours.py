"""Used against booked hours, no-shows and late cancellations (issue 14): the
figures of the reports' « Utilisation réelle », counted by hand below from the
bookings each test makes, on the service, the page, its CSV and the API.

March 2027 in Tours: machine M requires check-in, machine N does not.
M: b1 09:00–12:00 checked in 09:10, out 11:40 (2.5 h of 3); b3 14:00–16:00
checked in, never out (counts to its end: 2 h); b10 09:00–10:00 fully used;
b4 31 March 22:00 to 1 April 02:00 checked in 22:30, out 01:30 (1.5 h in
March, 1.5 h in April); b2 a no-show; b7 cancelled late, b8 cancelled in time.
N: b5 never checked in (no check-in there); b6 checked in anyway 10:30, out
13:00 after its 12:00 end (1.5 h: only the booked slot counts).
"""

from __future__ import annotations

import codecs
import csv
import html as html_lib
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.reports.access import PeopleScope, people_scope
from booking.services.reports.utilisation import report, utilisation
from booking.timeutil import frozen
from models import Booking, BookingPurpose, BookingStatus, Role
from tests.conftest import PASSWORD
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
S = BookingStatus
MARCH = {"first": date(2027, 3, 1), "last_excluded": date(2027, 4, 1)}
APRIL = {"first": date(2027, 4, 1), "last_excluded": date(2027, 5, 1)}
AFTER = datetime(2027, 4, 10, 10, tzinfo=UTC)  # every booking of the module is past
EVERYONE = PeopleScope(everyone=True)
PAGE = "from=2027-03-01&until=2027-03-31"


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=PARIS)


@dataclass
class Campus:
    trs: Any
    orl: Any
    coordinator: Any
    admin: Any
    t1: Any
    t2: Any
    m: Any
    n: Any
    bookings: dict[str, Booking]


def _book(make, equipment, booker, start, end, status=S.CONFIRMED, *, checked_in=None,
          checked_out=None, late=False) -> Booking:
    booking = Booking(uid=f"used-{make._n()}@t", equipment=equipment, start_at=start,
                      end_at=end, title="Séance", purpose=BookingPurpose.TRAINING,
                      status=status, booked_by=booker, trainer=booker,
                      cancelled_at=start if status is S.CANCELLED else None,
                      cancelled_late=late, checked_in_at=checked_in, checked_out_at=checked_out)
    booking.occupancies = occupancy_rows(booking, equipment)
    make.session.add(booking)
    make.session.flush()
    return booking


@pytest.fixture
def campus(make) -> Campus:
    trs = make.establishment(code="TRS", name="Faculté de pharmacie", city="Tours")
    orl = make.establishment(code="ORL", name="Lycée Val de Loire", city="Orléans")
    coordinator = make.user(Role.COORDINATOR, establishment=trs)
    admin = make.user(Role.ADMIN)
    t1 = make.user(Role.TRAINER, establishment=trs, name="Claire Dubois")
    t2 = make.user(Role.TRAINER, establishment=orl, name="Julien Moreau")
    m = make.equipment(establishment=trs, code="TRS-M", name="Ligne pilote",
                       check_in_required=True)
    n = make.equipment(establishment=trs, code="TRS-N", name="Banc libre")
    b = {
        "b1": _book(make, m, t1, paris(2, 9), paris(2, 12), S.COMPLETED,
                    checked_in=paris(2, 9, 10), checked_out=paris(2, 11, 40)),
        "b2": _book(make, m, t2, paris(3, 9), paris(3, 11), S.NO_SHOW),
        "b3": _book(make, m, t1, paris(4, 14), paris(4, 16), checked_in=paris(4, 14)),
        "b10": _book(make, m, t2, paris(9, 9), paris(9, 10), S.COMPLETED,
                     checked_in=paris(9, 9), checked_out=paris(9, 10)),
        "b4": _book(make, m, t1, paris(31, 22), paris(1, 2, month=4), S.COMPLETED,
                    checked_in=paris(31, 22, 30), checked_out=paris(1, 1, 30, month=4)),
        "b7": _book(make, m, t2, paris(10, 9), paris(10, 10), S.CANCELLED, late=True),
        "b8": _book(make, m, t1, paris(11, 9), paris(11, 10), S.CANCELLED),
        "b5": _book(make, n, t1, paris(5, 9), paris(5, 10)),
        "b6": _book(make, n, t1, paris(8, 10), paris(8, 12), S.COMPLETED,
                    checked_in=paris(8, 10, 30), checked_out=paris(8, 13)),
    }
    return Campus(trs, orl, coordinator, admin, t1, t2, m, n, b)


def usage(rows) -> list[tuple]:
    return [(r.key, r.booked_hours, r.check_in_booked_hours, r.used_hours, r.usage_rate,
             r.due_count, r.no_show_count, r.no_show_rate, r.bookings_count,
             r.late_cancellation_count, r.late_cancellation_rate) for r in rows]


# --- the service ------------------------------------------------------------------------


def test_used_against_booked_per_machine(db, campus) -> None:
    rows = utilisation(db, **MARCH, group_by="equipment", establishment_id=campus.trs.id,
                       now=AFTER, counts=True)
    # M: booked b1 3 + b3 2 + b10 1 + b4 2 (to midnight) = 8, all on check-in;
    # used 2.5 + 2 (never checked out: to its end) + 1 + 1.5 = 7. Due: b1, b2,
    # b3, b4, b10 (the no-show too), one no-show; made: those and b7, b8.
    # N: booked b5 1 + b6 2; only b6 was checked in (2 h concerned, 1.5 used,
    # due), b5 is not concerned by check-in.
    assert usage(rows) == [
        (str(campus.m.id), 8.0, 8.0, 7.0, 0.875, 5, 1, 0.2, 7, 1, round(1 / 7, 4)),
        (str(campus.n.id), 3.0, 2.0, 1.5, 0.75, 1, 0, 0.0, 2, 0, 0.0),
    ]
    # The fields of before are those of the report without counts.
    plain = utilisation(db, **MARCH, group_by="equipment", establishment_id=campus.trs.id)
    assert [(r.key, r.booked_hours, r.open_hours, r.rate) for r in plain] == [
        (r.key, r.booked_hours, r.open_hours, r.rate) for r in rows]


def test_the_brief_example_one_booking(db, make) -> None:
    """09:00–12:00 checked in at 09:10 and out at 11:40: 2.5 h used of 3 booked;
    one no-show and one completed booking due: 50 %."""
    machine = make.equipment(check_in_required=True)
    trainer = make.user(Role.TRAINER, establishment=machine.establishment)
    _book(make, machine, trainer, paris(16, 9), paris(16, 12), S.COMPLETED,
          checked_in=paris(16, 9, 10), checked_out=paris(16, 11, 40))
    _book(make, machine, trainer, paris(17, 9), paris(17, 12), S.NO_SHOW)
    (row,) = utilisation(db, **MARCH, group_by="equipment",
                         establishment_id=machine.establishment_id, now=AFTER, counts=True)
    assert (row.booked_hours, row.used_hours, row.usage_rate) == (3.0, 2.5, round(2.5 / 3, 4))
    assert (row.due_count, row.no_show_count, row.no_show_rate) == (2, 1, 0.5)


def test_per_establishment_and_per_month_clip_to_the_period(db, campus) -> None:
    spring = {"first": date(2027, 3, 1), "last_excluded": date(2027, 5, 1)}
    rows = report(db, **spring, groups=["establishment", "month"], now=AFTER, counts=True)
    trs = [r for r in rows["establishment"] if r.key == str(campus.trs.id)]
    # March and April: b4's other half (00:00–02:00, used to 01:30) adds 2 and 1.5.
    assert usage(trs) == [(str(campus.trs.id), 13.0, 12.0, 10.0, round(10 / 12, 4), 6, 1,
                           round(1 / 6, 4), 9, 1, round(1 / 9, 4))]
    # b4 is split at local midnight; its counts stay in March, where it starts.
    assert usage(rows["month"]) == [
        ("2027-03", 11.0, 10.0, 8.5, 0.85, 6, 1, round(1 / 6, 4), 9, 1, round(1 / 9, 4)),
        ("2027-04", 2.0, 2.0, 1.5, 0.75, 0, 0, None, 0, 0, None),
    ]
    april = utilisation(db, **APRIL, group_by="equipment", establishment_id=campus.trs.id,
                        now=AFTER, counts=True)
    assert usage(april) == [
        (str(campus.m.id), 2.0, 2.0, 1.5, 0.75, 0, 0, None, 0, 0, None),
        (str(campus.n.id), 0.0, 0.0, 0.0, None, 0, 0, None, 0, 0, None),
    ]


def test_a_booking_still_running_is_used_until_now(db, campus) -> None:
    # 4 March 15:00: b3 (14:00–16:00, checked in, not out) has run an hour;
    # due so far: b1, b2 and b3 (started at 14:00).
    now = paris(4, 15).astimezone(UTC)
    (m, _n) = utilisation(db, first=date(2027, 3, 2), last_excluded=date(2027, 3, 5),
                          group_by="equipment", establishment_id=campus.trs.id, now=now,
                          counts=True)
    assert (m.booked_hours, m.used_hours, m.due_count, m.no_show_count) == (5.0, 3.5, 3, 1)


def test_per_user_the_booker_and_who_may_see_whom(db, campus) -> None:
    # Claire Dubois booked b1, b3, b4, b5, b6, b8; Julien Moreau b2, b7, b10.
    claire = (str(campus.t1.id), 10.0, 9.0, 7.5, round(7.5 / 9, 4), 4, 0, 0.0, 6, 0, 0.0)
    julien = (str(campus.t2.id), 1.0, 1.0, 1.0, 1.0, 2, 1, 0.5, 3, 1, round(1 / 3, 4))
    rows = utilisation(db, **MARCH, group_by="user", establishment_id=campus.trs.id,
                       now=AFTER, people=people_scope(campus.admin))
    assert usage(rows) == [claire, julien]
    assert [r.label for r in rows] == ["Claire Dubois", "Julien Moreau"]
    # A coordinator of Tours sees the users of Tours only.
    rows = utilisation(db, **MARCH, group_by="user", establishment_id=campus.trs.id,
                       now=AFTER, people=people_scope(campus.coordinator))
    assert usage(rows) == [claire]
    # A scope without an establishment (not an admin's) sees nobody.
    assert utilisation(db, **MARCH, group_by="user", now=AFTER,
                       people=PeopleScope(everyone=False)) == []


def test_user_group_needs_a_people_scope(db, campus) -> None:
    from booking.services.errors import ValidationError

    with pytest.raises(ValidationError):
        utilisation(db, **MARCH, group_by="user")


def test_a_line_counts_used_hours_on_each_machine_and_bookings_on_the_line(db, make) -> None:
    line = make.equipment(code="L", check_in_required=True)
    part = make.equipment(code="L-1", establishment=line.establishment, parent=line)
    make.session.refresh(line)
    trainer = make.user(Role.TRAINER, establishment=line.establishment)
    _book(make, line, trainer, paris(15, 9), paris(15, 11), S.COMPLETED,
          checked_in=paris(15, 9), checked_out=paris(15, 10))
    _book(make, line, trainer, paris(16, 9), paris(16, 11), S.NO_SHOW)
    rows = utilisation(db, **MARCH, group_by="equipment", establishment_id=line.establishment_id,
                       now=AFTER, counts=True)
    assert usage(rows) == [
        (str(line.id), 2.0, 2.0, 1.0, 0.5, 2, 1, 0.5, 2, 0, 0.0),
        (str(part.id), 2.0, 2.0, 1.0, 0.5, 0, 0, None, 0, 0, None),
    ]


def test_one_statement_per_table_whatever_the_bookings(db, make, campus) -> None:
    def run():
        with count_statements(db) as seen:
            report(db, **MARCH, groups=["equipment", "establishment", "month", "user"],
                   now=AFTER, people=EVERYONE, counts=True)
        return seen

    before = run()
    for k in range(6):  # more bookers and bookings change no statement count
        booker = make.user(Role.TRAINER, establishment=campus.trs)
        _book(make, campus.m, booker, paris(22 + k % 4, 8 + k), paris(22 + k % 4, 9 + k),
              S.COMPLETED, checked_in=paris(22 + k % 4, 8 + k))
    after = run()
    assert len(after) == len(before), str(after)
    # The occupancy rows (hours) and the bookings' counts: one statement each.
    assert len(after.touching("booking")) == 2, str(after)


# --- the page, its CSV and workbook -----------------------------------------------------


def _spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _row(html: str, table_id: str, key: str) -> list[str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    row = table.split(f'data-key="{key}"', 1)[1].split("</tr>", 1)[0]
    return [_spaces(html_lib.unescape(re.sub(r"<[^>]+>", "", cell))).strip()
            for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]


def _keys(html: str, table_id: str) -> list[str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-key="([^"]+)"', table)


def test_the_page_shows_used_hours_rates_and_charts(client, login, campus) -> None:
    login(campus.coordinator)
    with frozen(AFTER):
        html = client.get(f"/reports?{PAGE}").get_data(as_text=True)
    assert 'id="section-usage"' in html
    assert 'id="usage-note"' in html  # where used hours come from
    assert _row(html, "table-usage-equipment", str(campus.m.id)) == [
        "TRS-M — Ligne pilote", "8", "8", "7", "87,5 %", "1", "5", "20 %", "1", "7",
        "14,3 %"]
    assert _row(html, "table-usage-equipment", str(campus.n.id))[1:5] == [
        "3", "2", "1,5", "75 %"]
    # The coordinator's establishment's users only; no establishment table for one.
    assert _keys(html, "table-usage-user") == [str(campus.t1.id)]
    assert 'id="table-usage-establishment"' not in html
    for chart in ("chart-usage-hours", "chart-usage-rates"):
        svg = re.search(rf'<svg\b[^>]*id="{chart}".*?</svg>', html, re.S).group(0)
        assert 'role="img"' in svg
    hours_chart = re.search(r'<svg\b[^>]*id="chart-usage-hours".*?</svg>', html, re.S).group(0)
    # M's booked then used hours, as text beside the bars; N's too (b6).
    values = [_spaces(t) for t in re.findall(r'font-weight="600">([^<]*)</text>', hours_chart)]
    assert values[-4:] == ["8 h", "7 h", "2 h", "1,5 h"]
    assert "url(#chart-usage-hours-p1)" in hours_chart  # booked hours hatched, used solid
    assert "usage.csv?from=2027-03-01&amp;until=2027-03-31&amp;group_by=user" in html


def test_an_admin_sees_every_user_and_the_establishments(client, login, campus) -> None:
    login(campus.admin)
    with frozen(AFTER):
        html = client.get(f"/reports?{PAGE}").get_data(as_text=True)
    assert _keys(html, "table-usage-user") == [str(campus.t1.id), str(campus.t2.id)]
    assert _row(html, "table-usage-user", str(campus.t2.id))[5:8] == ["1", "2", "50 %"]
    assert _row(html, "table-usage-establishment", str(campus.trs.id))[1:5] == [
        "11", "10", "8,5", "85 %"]


def test_usage_csv_machine_form(client, login, campus) -> None:
    login(campus.coordinator)
    with frozen(AFTER):
        response = client.get(f"/reports/usage.csv?{PAGE}&group_by=equipment&codes=1")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith(codecs.BOM_UTF8)
    assert body.decode("utf-8-sig").splitlines() == [
        "key;label;booked_hours;check_in_booked_hours;used_hours;usage_rate;due_count;"
        "no_show_count;no_show_rate;bookings_count;late_cancellation_count;"
        "late_cancellation_rate",
        f"{campus.m.id};TRS-M — Ligne pilote;8,00;8,00;7,00;0,8750;5;1;0,2000;7;1;0,1429",
        f"{campus.n.id};TRS-N — Banc libre;3,00;2,00;1,50;0,7500;1;0;0,0000;2;0;0,0000",
    ]
    with frozen(AFTER):
        text = client.get(f"/reports/usage.csv?{PAGE}&group_by=user&codes=1&sep=,"
                          ).get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1:] == [
        [str(campus.t1.id), "Claire Dubois", "10.00", "9.00", "7.50", "0.8333", "4", "0",
         "0.0000", "6", "0", "0.0000"]]


def test_usage_csv_and_workbook_in_the_readers_language(client, db, login, campus) -> None:
    campus.admin.locale = "en"
    db.flush()
    login(campus.admin)
    with frozen(AFTER):
        text = client.get(f"/reports/usage.csv?{PAGE}&group_by=user").get_data().decode(
            "utf-8-sig")
        book = client.get(f"/reports/utilisation.xlsx?{PAGE}&establishment_id=all")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Booked by", "Booked hours", "Booked hours on check-in", "Used hours",
                       "Real usage rate", "Bookings due", "No-shows", "No-show rate",
                       "Bookings made", "Late cancellations", "Late cancellation rate"]
    assert rows[2] == ["Julien Moreau", "1.00", "1.00", "1.00", "1.0000", "2", "1", "0.5000",
                       "3", "1", "0.3333"]
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(book.data))["Real use per machine"]
    values = [tuple(c.value for c in r) for r in sheet.iter_rows()]
    assert ("TRS-M — Ligne pilote", 8.0, 8.0, 7.0, 0.875, 5, 1, 0.2, 7, 1, 0.1429) in values


@pytest.mark.parametrize("query", ["group_by=month", "group_by=colour", "sep=|",
                                   "from=2027-03-05&until=2027-03-01", "establishment_id=abc"])
def test_usage_csv_refuses_bad_parameters(client, login, campus, query) -> None:
    login(campus.coordinator)
    assert client.get(f"/reports/usage.csv?{query}").status_code == 400


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_usage_csv_is_refused_to_trainers_and_companies(client, login, make, role) -> None:
    login(make.user(role))
    assert client.get("/reports/usage.csv?group_by=user").status_code == 403


# --- the API --------------------------------------------------------------------------


def _token(client, user) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens",
                        json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


NEW_FIELDS = ("used_hours", "check_in_booked_hours", "usage_rate", "due_count",
              "no_show_count", "no_show_rate", "bookings_count", "late_cancellation_count",
              "late_cancellation_rate")


def test_api_rows_carry_the_new_fields(client, campus) -> None:
    with frozen(AFTER):
        headers = _token(client, campus.coordinator)
        response = client.get("/api/v1/reports/utilisation?from=2027-03-01&to=2027-04-01"
                              f"&establishment_id={campus.trs.id}", headers=headers)
    assert response.status_code == 200
    m = response.get_json()["items"][0]
    assert {k: m[k] for k in ("key", "booked_hours")} == {"key": str(campus.m.id),
                                                           "booked_hours": 8.0}
    assert {k: m[k] for k in NEW_FIELDS} == {
        "used_hours": 7.0, "check_in_booked_hours": 8.0, "usage_rate": 0.875, "due_count": 5,
        "no_show_count": 1, "no_show_rate": 0.2, "bookings_count": 7,
        "late_cancellation_count": 1, "late_cancellation_rate": 0.1429}


def test_api_group_by_user_follows_the_readers_scope(client, campus) -> None:
    url = ("/api/v1/reports/utilisation?from=2027-03-01&to=2027-04-01&group_by=user"
           f"&establishment_id={campus.trs.id}")
    with frozen(AFTER):
        mine = client.get(url, headers=_token(client, campus.coordinator)).get_json()["items"]
        every = client.get(url, headers=_token(client, campus.admin)).get_json()["items"]
    assert [(r["key"], r["label"]) for r in mine] == [(str(campus.t1.id), "Claire Dubois")]
    assert [(r["key"], r["no_show_count"], r["no_show_rate"], r["late_cancellation_count"],
             r["late_cancellation_rate"]) for r in every] == [
        (str(campus.t1.id), 0, 0.0, 0, 0.0), (str(campus.t2.id), 1, 0.5, 1, 0.3333)]


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_api_user_group_is_refused_to_trainers_and_companies(client, make, role) -> None:
    response = client.get("/api/v1/reports/utilisation?from=2027-03-01&to=2027-04-01"
                          "&group_by=user", headers=_token(client, make.user(role)))
    assert response.status_code == 403


def test_openapi_documents_the_new_fields(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    row = next(s for name, s in schemas.items() if name.startswith("Row"))
    assert set(NEW_FIELDS) <= set(row["properties"])
    params = spec["paths"]["/api/v1/reports/utilisation"]["get"]["parameters"]
    group_by = next(p for p in params if p["name"] == "group_by")
    assert "user" in group_by["schema"]["enum"]
