"""Site calendars: every machine of an establishment by day and by week.

The clock is frozen on Tuesday 12 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import (
    Closure,
    ClosureKind,
    EquipmentCategory,
    EquipmentStatus,
    OpeningHours,
    Role,
)
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
WED = date(2027, 1, 13)


def at(hour: int, minute: int = 0, day: date = WED) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def book(db, actor, machine, start: datetime, end: datetime, title: str = "Séance"):
    return create_booking(db, actor=actor, request=BookingRequest(machine.id, start, end, title),
                          now=NOW, policy=Policy())


def _codes(html: str) -> list[str]:
    return re.findall(r'class="site-machine[^"]*"[^>]*data-code="([^"]+)"', html)


@pytest.fixture
def site(make):
    return make.establishment(name="Faculté de pharmacie", city="Tours", department="37")


def test_pages_need_a_login(client, site) -> None:
    assert client.get("/sites").status_code == 302
    assert client.get(f"/sites/{site.id}").status_code == 302


def test_the_index_lists_establishments_with_their_machines(client, make, login, site) -> None:
    make.equipment(establishment=site)
    make.equipment(establishment=site)
    empty = make.establishment(name="Lycée sans machine")
    html = login(make.user(Role.TRAINER)).get("/sites").get_data(as_text=True)
    assert f'href="/sites/{site.id}"' in html
    assert f'href="/sites/{empty.id}"' in html
    row = re.search(rf'data-code="{site.code}".*?</tr>', html, re.S).group(0)
    assert re.search(r'class="num">2<', row)


def test_an_unknown_establishment_is_not_found(client, make, login) -> None:
    assert login(make.user(Role.TRAINER)).get("/sites/999999").status_code == 404


def test_lines_are_followed_by_their_components(client, make, login, site, now) -> None:
    line = make.equipment(establishment=site, code="LINE", name="Ligne pilote",
                          category=EquipmentCategory.PILOT_LINE)
    make.equipment(establishment=site, code="LINE-B", name="Boucheuse", parent=line)
    make.equipment(establishment=site, code="LINE-A", name="Remplisseuse", parent=line)
    make.equipment(establishment=site, code="HPLC", name="Chaîne HPLC")
    make.equipment(establishment=site, code="ZAC", name="Salle propre")
    make.equipment(code="ELSEWHERE")
    make.equipment(establishment=site, code="OLD", status=EquipmentStatus.RETIRED)
    make.equipment(establishment=site, code="MAINT", name="Rhéomètre",
                   status=EquipmentStatus.MAINTENANCE)
    html = login(make.user(Role.TRAINER)).get(f"/sites/{site.id}").get_data(as_text=True)
    assert _codes(html) == ["HPLC", "LINE", "LINE-A", "LINE-B", "MAINT", "ZAC"]
    assert html.count('class="badge badge-warning"') == 1  # the machine in maintenance
    assert html.count("site-machine is-component") == 2


def test_the_day_view_places_bookings_changeovers_and_closures(client, make, login, db, site,
                                                               now) -> None:
    trainer = make.user(Role.TRAINER, establishment=site)
    machine = make.equipment(establishment=site, changeover_minutes=30)
    book(db, trainer, machine, at(10), at(12), "TP émulsion")
    db.add(Closure(equipment_id=machine.id, start_at=at(15), end_at=at(16),
                   reason="Étalonnage", kind=ClosureKind.MAINTENANCE))
    db.flush()
    html = login(trainer).get(f"/sites/{site.id}?view=day&date=2027-01-13").get_data(
        as_text=True)

    # 08:00 is column 1, steps of 30 minutes: 10:00–12:00 is columns 5 to 8.
    assert re.search(r'class="cal-booking[^"]* cal-day-5 cal-span-4"[^>]*>'
                     r'\s*<span class="cal-title">TP émulsion</span>', html)
    assert 'class="cal-changeover cal-day-9 cal-span-1"' in html
    assert re.search(r'class="cal-closure cal-day-15 cal-span-2"[^>]*>\s*'
                     r'[^<]*Étalonnage', html)
    # 20 columns from 08:00 to 18:00, with one header per hour.
    assert 'class="site-day site-cols-20"' in html
    assert html.count('class="cal-head ') == 10


def test_free_steps_link_to_the_booking_form_from_now_on(client, make, login, site,
                                                          now) -> None:
    machine = make.equipment(establishment=site)
    client = login(make.user(Role.TRAINER))
    today = client.get(f"/sites/{site.id}?date=2027-01-12").get_data(as_text=True)
    # 09:00 in Paris: 08:00 and 08:30 are past, 09:00 is the first bookable step.
    assert f"/bookings/new?equipment={machine.id}&amp;date=2027-01-12&amp;start=08:30" not in today
    assert f"/bookings/new?equipment={machine.id}&amp;date=2027-01-12&amp;start=09:00" in today
    saturday = client.get(f"/sites/{site.id}?date=2027-01-16").get_data(as_text=True)
    assert "/bookings/new" not in saturday
    assert "is-closed-hours" in saturday


def test_a_company_sees_other_bookings_only_as_busy(client, make, login, db, site,
                                                    now) -> None:
    trainer = make.user(Role.TRAINER, establishment=site)
    machine = make.equipment(establishment=site)
    book(db, trainer, machine, at(10), at(12), "Cours confidentiel")
    client = login(make.user(Role.COMPANY))
    for view in ("day", "week"):
        html = client.get(
            f"/sites/{site.id}?view={view}&date=2027-01-13").get_data(as_text=True)
        assert "Cours confidentiel" not in html
        assert "10:00–12:00" in html
        assert re.search(r'<span class="cal-title">\s*(Busy|Occupé)', html)


def test_the_week_view_lists_each_days_bookings(client, make, login, db, site, now) -> None:
    trainer = make.user(Role.TRAINER, establishment=site)
    machine = make.equipment(establishment=site, code="COBOT")
    saturday = make.equipment(establishment=site, code="SAT")
    saturday.opening_hours.append(OpeningHours(weekday=5, opens=time(8), closes=time(12)))
    book(db, trainer, machine, at(9), at(11), "Programmation cobot")
    db.add(Closure(establishment_id=site.id, start_at=at(0, day=WED + timedelta(days=1)),
                   end_at=at(0, day=WED + timedelta(days=2)), reason="Journée pédagogique",
                   kind=ClosureKind.OTHER))
    db.flush()
    html = login(trainer).get(f"/sites/{site.id}?view=week&date=2027-01-14").get_data(
        as_text=True)
    row = re.search(r'<tr data-code="COBOT">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert len(cells) == 6  # Monday to Saturday: nothing opens on Sunday
    assert "Programmation cobot" in cells[2]  # Wednesday
    assert "09:00–11:00" in cells[2]
    assert "Journée pédagogique" in cells[3]  # the whole Thursday
    assert "Journée pédagogique" not in cells[4]
    assert "Programmation cobot" not in "".join(cells[:2] + cells[3:])
    assert any(word in cells[5] for word in ("Not open", "Non ouvert"))  # Saturday
    assert "sam. 16 janv." in html
    assert "dim. 17 janv." not in html
    assert 'class="is-today"' in html  # Tuesday 12
    assert "date=2027-01-04" in html  # previous week
    assert "date=2027-01-18" in html  # next week


def test_choosing_another_establishment_goes_to_its_page(client, make, login, site) -> None:
    other = make.establishment()
    client = login(make.user(Role.TRAINER))
    response = client.get(f"/sites/{site.id}?site={other.id}&view=week&date=2027-02-03")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/sites/{other.id}?view=week&date=2027-02-03")
    assert client.get(f"/sites/{site.id}?site=999999").status_code == 200


@pytest.mark.parametrize("bad", ["2027-13-40", "yesterday", "0001-01-01"])
def test_a_bad_date_is_reported_and_today_shown(client, make, login, site, now, bad) -> None:
    make.equipment(establishment=site)
    response = login(make.user(Role.TRAINER)).get(f"/sites/{site.id}?date={bad}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="date-error"' in html
    assert "2027-01-12" in html  # today, in the date picker and the links


def test_the_day_view_has_previous_and_next_days(client, make, login, site, now) -> None:
    make.equipment(establishment=site)
    html = login(make.user(Role.TRAINER)).get(f"/sites/{site.id}?view=day&date=2027-03-01"
                                              ).get_data(as_text=True)
    assert f'href="/sites/{site.id}?view=day&amp;date=2027-02-28"' in html
    assert f'href="/sites/{site.id}?view=day&amp;date=2027-03-02"' in html


def test_an_establishment_without_equipment_says_so(client, make, login, site) -> None:
    html = login(make.user(Role.TRAINER)).get(f"/sites/{site.id}").get_data(as_text=True)
    assert "empty-state" in html


def test_daylight_saving_day_keeps_its_wall_clock_columns(client, make, login, db, site,
                                                          now) -> None:
    trainer = make.user(Role.TRAINER, establishment=site)
    machine = make.equipment(establishment=site)
    summer = date(2027, 3, 30)  # two days after clocks went forward (Easter Monday between)
    book(db, trainer, machine, at(8, day=summer), at(9, day=summer), "Mardi d'été")
    html = login(trainer).get(f"/sites/{site.id}?date={summer}").get_data(as_text=True)
    assert re.search(r' cal-day-1 cal-span-2"[^>]*>\s*'
                     r'<span class="cal-title">Mardi d&#39;été', html)
    assert at(8, day=summer) == datetime(2027, 3, 30, 6, tzinfo=UTC)


@pytest.mark.parametrize(("locale", "name"), [("fr", "Ascension"), ("en", "Ascension Day")])
def test_a_public_holiday_is_named_in_the_readers_language(client, make, login, site, locale,
                                                           name) -> None:
    make.equipment(establishment=site)
    reader = make.user(Role.TRAINER, establishment=site, locale=locale)
    html = login(reader).get(f"/sites/{site.id}?view=day&date=2027-05-06").get_data(
        as_text=True)
    holiday = "Jour férié" if locale == "fr" else "Public holiday"
    assert f"{holiday}: {name}" in html.replace("\u202f", " ").replace(" :", ":")
