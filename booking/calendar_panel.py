"""What a calendar's detail panel says of a booking (the data-* attributes
static/js/calendar.js reads; written by the ``booking_data`` macro of
templates/equipment/_booking.html for every calendar).

A site's day view computes them for its hundreds of bookings at once
(:func:`panels`): each distinct time formatted once per page and each URL
routed once, then completed with the booking's id (in the macro, each booking
cost about as much as the rest of its row). Other calendars ask for one
booking at a time (:func:`panel_of`, the template global ``booking_panel``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_login import current_user

from booking import labels
from booking.i18n import local_date, local_datetime, local_time
from booking.permissions import may
from models import Booking

HOLDING = ("pending", "confirmed")


@dataclass(frozen=True)
class Panel:
    when: str
    status: str
    show: str
    move: str = ""  # empty: the viewer may not move it (nor read day, start, end)
    day: str = ""
    start: str = ""
    end: str = ""
    cancel: str = ""
    waitlist: str = ""


def once(format_: Callable[..., Any]) -> Callable[..., Any]:
    """``format_`` remembering its answers for the page: a site's bookings
    start and end on a few slot times, shared by hundreds of rows."""
    seen: dict[tuple[Any, ...], Any] = {}

    def cached(*args: Any) -> Any:
        if args not in seen:
            seen[args] = format_(*args)
        return seen[args]

    return cached


def url_of(endpoint: str, name: str, **fixed: Any) -> Callable[[Any], str]:
    """The URL of ``endpoint`` with ``name`` given, routed once: a marker
    stands for the value in the routed URL, then each value replaces it."""
    marker = "987654321"  # no id nor value of the page looks like it
    head, tail = url_for(endpoint, **{name: int(marker)}, **fixed).split(marker)
    return lambda value: f"{head}{value}{tail}"


def panels(bookings: Iterable[Booking], user: Any) -> dict[int, Panel]:
    endpoints = current_app.view_functions
    clock, pattern = once(local_time), once(local_datetime)
    date_of = once(local_date)
    show = url_of("bookings.show", "booking_id")
    move = url_of("bookings.move", "booking_id") if "bookings.move" in endpoints else None
    cancel = url_of("bookings.cancel", "booking_id") if "bookings.cancel" in endpoints else None
    # The waiting-list link differs by machine and times: routed once per slot.
    waitlist = once(lambda day, start, end: url_of(
        "bookings.new", "equipment", date=day, start=start, end=end, waitlist=1))
    found = {}
    for b in bookings:
        status = str(b.status)
        facts: dict[str, str] = {}
        if status in HOLDING:
            day = date_of(b.start_at, "yyyy-MM-dd")
            start, end = clock(b.start_at, "HH:mm"), clock(b.end_at, "HH:mm")
            if move and may(user, "change", b):
                facts.update(move=move(b.id), day=day, start=start, end=end)
            if cancel and may(user, "cancel", b):
                facts["cancel"] = cancel(b.id)
            if may(user, "wait_for", b):
                facts["waitlist"] = waitlist(day, start, end)(b.equipment_id)
        found[b.id] = Panel(
            when=f"{pattern(b.start_at, 'EEEE d MMMM y, HH:mm')} – {clock(b.end_at, 'HH:mm')}",
            status=str(labels.BOOKING_STATUS_LABELS.get(status, status)), show=show(b.id),
            **facts)
    return found


def panel_of(booking: Booking) -> Panel:
    """One booking's panel, for the reader of the page."""
    return panels([booking], current_user)[booking.id]
