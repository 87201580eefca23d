"""« Trouver N h libres » on a site's calendar, and the site day's starts.

The clock is frozen on Tuesday 12 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import Closure, ClosureKind, EquipmentStatus, Role
from tests.conftest import NOW
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
WED = date(2027, 1, 13)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def book(db, actor, machine, start, end):
    return create_booking(db, actor=actor, request=BookingRequest(machine.id, start, end, "Séance"),
                          now=NOW, policy=Policy())


def found(html: str) -> list[tuple[str, str, str]]:
    """(machine id, date, start) of each range offered."""
    results = html.split('id="free-results"')[-1].split("</form>")[0]
    return re.findall(r'/bookings/new\?equipment=(\d+)&amp;date=([\d-]+)&amp;start=(\d\d:\d\d)'
                      r'&amp;end=\d\d:\d\d', results)


def test_the_first_free_ranges_across_the_machines(client, make, login, db, now) -> None:
    site = make.establishment()
    busy = make.equipment(establishment=site, name="Presse", max_minutes=600)
    free = make.equipment(establishment=site, name="Mélangeur")
    make.equipment(establishment=site, name="En panne", status=EquipmentStatus.MAINTENANCE)
    trainer = make.user(Role.TRAINER)
    book(db, trainer, busy, at(WED, 8), at(WED, 18))
    book(db, make.user(Role.TRAINER), free, at(WED, 10), at(WED, 12))  # not in two places
    html = login(trainer).get(f"/sites/{site.id}?hours=4&free_from=2027-01-13"
                              "&free_to=2027-01-14").get_data(as_text=True)
    ranges = found(html)
    assert (str(free.id), "2027-01-13", "12:00") in ranges  # after its 10:00–12:00 booking
    assert (str(free.id), "2027-01-13", "08:00") not in ranges  # only 2 h before it
    assert (str(busy.id), "2027-01-14", "08:00") in ranges  # booked all Wednesday
    assert not any(machine == str(busy.id) and day == "2027-01-13" for machine, day, _ in ranges)
    assert "En panne" not in html.split('id="free-results"')[-1].split("</form>")[0]


def test_the_search_starts_now_and_is_bounded(client, make, login, db, now) -> None:
    site = make.establishment()
    machine = make.equipment(establishment=site)
    client = login(make.user(Role.TRAINER, locale="en"))
    html = client.get(f"/sites/{site.id}?hours=2&free_from=2027-01-12").get_data(as_text=True)
    assert (str(machine.id), "2027-01-12", "09:00") in found(html)  # not 08:00: past
    too_long = client.get(f"/sites/{site.id}?hours=2&free_from=2027-01-12&free_to=2027-06-12")
    assert "Search at most 31 days at a time." in too_long.get_data(as_text=True)
    for odd in ("hours=0", "hours=99", "hours=x", "hours=2&free_from=2027-02-30",
                "hours=2&free_from=2027-01-20&free_to=2027-01-10"):
        assert client.get(f"/sites/{site.id}?{odd}").status_code == 200


def test_the_search_does_not_load_per_machine(client, make, login, db) -> None:
    site = make.establishment()
    client = login(make.user(Role.TRAINER))
    counts = []
    for n in (2, 10):
        for _ in range(n):
            make.equipment(establishment=site)
        db.flush()
        with count_statements(db) as statements:
            assert client.get(f"/sites/{site.id}?hours=3").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_site_day_offers_only_starts_that_hold_the_minimum(client, make, login, now) -> None:
    site = make.establishment()
    machine = make.equipment(establishment=site, min_minutes=60)
    html = login(make.user(Role.TRAINER)).get(f"/sites/{site.id}?date=2027-01-13").get_data(
        as_text=True)
    assert f"equipment={machine.id}&amp;date=2027-01-13&amp;start=17:00" in html
    assert f"equipment={machine.id}&amp;date=2027-01-13&amp;start=17:30" not in html
    assert re.search(r'class="cal-slot is-short[^"]*"[^>]*data-from="17:30"', html)


def test_the_site_day_draws_a_closure_beside_the_booking_it_meets(client, make, login, db,
                                                                 now) -> None:
    site = make.establishment()
    machine = make.equipment(establishment=site)
    trainer = make.user(Role.TRAINER)
    booking = book(db, trainer, machine, at(WED, 9), at(WED, 12))
    db.add(Closure(equipment_id=machine.id, start_at=at(WED, 10), end_at=at(WED, 11),
                   reason="Fuite d'air", kind=ClosureKind.MAINTENANCE))
    db.flush()
    html = login(trainer).get(f"/sites/{site.id}?date=2027-01-13").get_data(as_text=True)
    link = re.search(rf'<a class="cal-booking[^"]*"[^>]*href="/bookings/{booking.id}"[^>]*>',
                     html).group(0)
    assert "is-clash" in link
    assert f'data-move="/bookings/{booking.id}/move"' in link
    assert re.search(r'class="cal-closure is-clash', html)
    assert 'id="booking-panel"' in html
