"""A machine's calendar: day, week and month views, the starts it offers,
bookings as links with their details, closures beside bookings.

The clock is frozen on Tuesday 12 January 2027, 09:00 in Paris; the machines
open Monday to Friday 08:00–18:00.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import DomainError
from booking.services.policy import Policy
from models import Closure, ClosureKind, Role
from tests.conftest import NOW, csrf_token_of
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2027, 1, 18)
TUESDAY = date(2027, 1, 19)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def book(db, actor, machine, start: datetime, end: datetime, title: str = "Séance", **kw):
    return create_booking(db, actor=actor, request=BookingRequest(
        machine.id, start, end, title, **kw), now=NOW, policy=Policy())


def starts(html: str, day: date) -> list[str]:
    """The start times the grid offers on ``day`` (links to the booking form)."""
    return re.findall(rf'href="/bookings/new\?[^"]*date={day.isoformat()}&amp;start=(\d\d%3A\d\d|'
                      rf'\d\d:\d\d)"', html)


def page(client, machine, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    answer = client.get(f"/equipment/{machine.id}?{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_a_free_cell_is_a_start_only_when_the_minimum_duration_fits(client, make, login,
                                                                    db, now) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment(slot_minutes=30, min_minutes=60)
    book(db, trainer, machine, at(TUESDAY, 10), at(TUESDAY, 11))
    html = page(login(trainer), machine, week=MONDAY.isoformat())
    monday = [s.replace("%3A", ":") for s in starts(html, MONDAY)]
    assert "17:00" in monday
    assert "17:30" not in monday  # 17:30–18:30 would end after the 18:00 close
    tuesday = [s.replace("%3A", ":") for s in starts(html, TUESDAY)]
    assert "09:00" in tuesday
    assert "09:30" not in tuesday  # 09:30–10:30 would run into the 10:00 booking
    # The short cell is still drawn, as free but no start.
    assert re.search(r'class="cal-slot is-short[^"]*"[^>]*data-date="2027-01-18" '
                     r'data-from="17:30"', html)


def test_before_another_booking_the_changeover_must_fit_too(client, make, login, db,
                                                           now) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment(slot_minutes=30, min_minutes=60, changeover_minutes=15)
    book(db, trainer, machine, at(TUESDAY, 10), at(TUESDAY, 11))
    html = page(login(trainer), machine, week=MONDAY.isoformat())
    tuesday = [s.replace("%3A", ":") for s in starts(html, TUESDAY)]
    assert "08:30" in tuesday  # 08:30–09:30, changeover until 09:45
    assert "09:00" not in tuesday  # its changeover would run into 10:00
    assert "11:30" in tuesday  # after the booking's own changeover
    monday = [s.replace("%3A", ":") for s in starts(html, MONDAY)]
    assert "17:00" in monday  # at the close, no booking follows
    with pytest.raises(DomainError):  # what the grid no longer offers is refused
        book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10))


def test_bookings_are_links_with_their_full_title_on_hover_and_focus(client, make, login,
                                                                     db) -> None:
    trainer = make.user(Role.TRAINER, name="Julien Moreau")
    machine = make.equipment()
    title = "Initiation très longue au pilotage de la cellule robotisée, groupe B"
    booking = book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10), title,
                   trainer_id=trainer.id)
    html = page(login(trainer), machine, week=MONDAY.isoformat())
    link = re.search(rf'<a class="cal-booking[^"]*"[^>]*href="/bookings/{booking.id}"'
                     r'[^>]*>.*?</a>', html, re.S)
    assert link, "the booking is no link to its page"
    block = html_lib.unescape(link.group(0))
    assert f'title="{title} · 09:00–10:00"' in block
    assert re.search(r'<span class="cal-tip" aria-hidden="true">' + re.escape(title), block)
    assert 'data-trainer="Julien Moreau"' in block
    assert f'data-move="/bookings/{booking.id}/move"' in block
    assert f'data-cancel="/bookings/{booking.id}/cancel"' in block


def test_a_booking_the_reader_may_not_see_is_busy_and_no_link(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment()
    booking = book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10), "Secret industriel")
    html = page(login(make.user(Role.COMPANY)), machine, week=MONDAY.isoformat())
    assert "Secret industriel" not in html
    assert f"/bookings/{booking.id}" not in html
    assert "Busy" in html or "Occupé" in html


def test_another_trainer_may_open_but_not_move_or_cancel(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment()
    booking = book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10))
    html = page(login(make.user(Role.TRAINER)), machine, week=MONDAY.isoformat())
    assert f'href="/bookings/{booking.id}"' in html
    assert f"/bookings/{booking.id}/move" not in html
    assert f"/bookings/{booking.id}/cancel" not in html


def test_a_closure_over_a_booking_is_drawn_beside_it(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment()
    book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 12), "Séance longue")
    db.add(Closure(equipment_id=machine.id, start_at=at(TUESDAY, 10), end_at=at(TUESDAY, 11),
                   reason="Fuite d'air", kind=ClosureKind.MAINTENANCE))
    db.flush()
    html = html_lib.unescape(page(login(trainer), machine, week=MONDAY.isoformat()))
    assert re.search(r'class="cal-booking[^"]*is-clash[^"]*"[^>]*title="Séance longue', html)
    assert re.search(r'class="cal-closure is-clash[^"]*"[^>]*>[^<]*Fuite d\'air', html)
    # A closure on another day stays whole.
    assert html.count("is-clash") == 2


def test_the_day_view_shows_one_day_with_its_neighbours(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment()
    book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10), "Séance du mardi")
    book(db, trainer, machine, at(MONDAY, 9), at(MONDAY, 10), "Séance du lundi")
    html = page(login(trainer), machine, view="day", date=TUESDAY.isoformat())
    assert "cal-days-1" in html
    assert "Séance du mardi" in html
    assert "Séance du lundi" not in html
    assert f"view=day&amp;date={MONDAY.isoformat()}" in html
    assert "view=day&amp;date=2027-01-20" in html
    assert 'aria-current="page">Day<' in html or 'aria-current="page">Jour<' in html


def test_the_week_view_marks_the_chosen_day_for_phones(client, make, login) -> None:
    machine = make.equipment()
    html = page(login(make.user(Role.TRAINER)), machine, view="week", date=TUESDAY.isoformat())
    heads = re.findall(r'class="cal-head cal-day-(\d)[^"]*(cal-focus-day|cal-other-day)"', html)
    assert dict(heads)["2"] == "cal-focus-day"
    assert [n for n, kind in heads if kind == "cal-focus-day"] == ["2"]


def test_the_month_view_lists_bookings_and_what_is_free(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment(max_minutes=600, changeover_minutes=0)
    book(db, trainer, machine, at(TUESDAY, 8), at(TUESDAY, 18), "Journée complète")
    book(db, trainer, machine, at(MONDAY, 9), at(MONDAY, 11), "Matinée")
    db.add(Closure(equipment_id=machine.id, start_at=at(date(2027, 1, 20), 0),
                   end_at=at(date(2027, 1, 21), 0), reason="Inventaire",
                   kind=ClosureKind.MAINTENANCE))
    db.flush()
    html = page(login(make.user(Role.TRAINER, locale="en")), machine, view="month",
                date="2027-01-05")
    assert "January 2027" in html

    def cell(day: str) -> str:
        return re.search(rf'<td class="[^"]*" data-date="{day}">.*?</td>', html, re.S).group(0)

    assert "is-full" in cell("2027-01-19")
    assert "Journée complète" in cell("2027-01-19")
    assert "8 hours free" in cell("2027-01-18")
    assert "Matinée" in cell("2027-01-18")
    assert "is-closed" in cell("2027-01-20")
    assert "Inventaire" in cell("2027-01-20")
    assert "is-closed" in cell("2027-01-23")  # a Saturday: not open
    assert "10 hours free" in cell("2027-01-22")
    assert f'href="/equipment/{machine.id}?view=day&amp;date=2027-01-18"' in cell("2027-01-18")
    assert "view=month&amp;date=2026-12-01" in html
    assert "view=month&amp;date=2027-02-01" in html


@pytest.mark.parametrize("args", ["view=year", "view=day&date=2027-02-30", "date=0001-01-01",
                                  "view=%00", "week=abc"])
def test_odd_parameters_show_a_calendar(client, make, login, args) -> None:
    machine = make.equipment()
    answer = login(make.user(Role.TRAINER)).get(f"/equipment/{machine.id}?{args}")
    assert answer.status_code == 200


@pytest.mark.parametrize("view", ["day", "week", "month"])
def test_the_views_do_not_load_per_booking(client, make, login, db, view) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment()
    viewer = make.user(Role.COORDINATOR, establishment=machine.establishment)
    client = login(viewer)
    counts = []
    for hour in (8, 14):
        for day in (MONDAY, TUESDAY):
            other = make.user(Role.TRAINER)
            book(db, other, machine, at(day, hour), at(day, hour + 1), trainer_id=other.id)
        with count_statements(db) as statements:
            page(client, machine, view=view, date=TUESDAY.isoformat())
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert trainer


def test_another_trainers_booking_offers_its_waiting_list(client, make, login, db) -> None:
    """« Attendre ce créneau » on someone else's booking opens the form on
    that slot with the waiting list offered; on one's own booking it is not."""
    trainer, other = make.user(Role.TRAINER), make.user(Role.TRAINER)
    machine = make.equipment()
    theirs = book(db, trainer, machine, at(TUESDAY, 9), at(TUESDAY, 10))
    browser = login(other)
    html = html_lib.unescape(page(browser, machine, week=MONDAY.isoformat()))
    [link] = re.findall(rf'data-booking="{theirs.id}"[^>]*data-waitlist="([^"]+)"', html)
    assert {"date=2027-01-19", "start=09:00", "end=10:00"} <= set(link.split("?")[1].split("&"))
    form = browser.get(link).get_data(as_text=True)
    assert 'name="join_waitlist"' in form
    assert 'value="09:00"' in form
    browser.post("/auth/logout", data={"csrf_token": csrf_token_of(form)})
    own = html_lib.unescape(page(login(trainer), machine, week=MONDAY.isoformat()))
    assert re.search(rf'data-booking="{theirs.id}"[^>]*data-waitlist=', own) is None
