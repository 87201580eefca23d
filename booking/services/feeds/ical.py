"""iCalendar (RFC 5545) documents of bookings, built with ``icalendar``.

Events carry their local time with a TZID and the matching VTIMEZONE, a
stable UID, SEQUENCE (raised on every change), STATUS (TENTATIVE while
pending, CANCELLED kept so clients remove the event) and no attendee: no
e-mail address leaves through a calendar. Names and titles are written on one
line without control characters (booking.services.inputs.single_line), whatever
the database holds: one bad name must not break every feed that shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone

from booking.services.inputs import single_line
from booking.services.policy import CAMPUS_ZONE
from models import Booking, BookingStatus

PRODID = "-//CosmetoPharma Centre-Val de Loire//Plateforme//FR"
STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.REJECTED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
    BookingStatus.NO_SHOW: "CANCELLED",
}


@dataclass(frozen=True)
class Audience:
    """What the readers of a calendar may see of each booking."""

    details: bool = True  # trainer, project, participants


def event_for(booking: Booking, *, now: datetime, base_url: str,
              audience: Audience = Audience(), stable_stamp: bool = False) -> Event:
    """``stable_stamp``: DTSTAMP is the booking's last change instead of ``now``,
    so unchanged bookings give identical bytes (export files compare them)."""
    equipment = booking.equipment
    zone = ZoneInfo(equipment.establishment.timezone)
    event = Event()
    event.add("uid", booking.uid)
    event.add("dtstamp", booking.updated_at.astimezone(UTC) if stable_stamp else now)
    event.add("last-modified", booking.updated_at)
    event.add("created", booking.created_at)
    event.add("sequence", booking.sequence)
    event.add("dtstart", booking.start_at.astimezone(zone))
    event.add("dtend", booking.end_at.astimezone(zone))
    event.add("summary", single_line(booking.title if audience.details else equipment.name))
    event.add("location", single_line(f"{equipment.name} — {equipment.establishment.name}, "
                                      f"{equipment.establishment.city}"))
    event.add("status", STATUS[booking.status])
    event.add("categories", [booking.purpose.value])
    event.add("url", f"{base_url}/bookings/{booking.id}")
    if audience.details:
        lines = [f"{equipment.code} — {equipment.name}"]
        if booking.trainer is not None:
            lines.append(f"Formateur / Trainer: {booking.trainer.name}")
        if booking.project is not None:
            lines.append(f"Projet / Project: {booking.project.title}")
        if booking.participants:
            lines.append(f"Participants: {booking.participants}")
        event.add("description", "\n".join(single_line(line) for line in lines))
    if booking.status is BookingStatus.PENDING:
        event.add("transp", "TRANSPARENT")
    return event


def calendar_of(bookings: Iterable[Booking], *, name: str, now: datetime, base_url: str,
                method: str | None = "PUBLISH", audience: Audience = Audience(),
                refresh_minutes: int = 15, stable_stamp: bool = False) -> Calendar:
    bookings = list(bookings)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    # Written raw (an X- property): a line break in a name would end the line.
    cal.add("x-wr-calname", single_line(name))
    cal.add("x-wr-timezone", CAMPUS_ZONE.key)
    cal.add("refresh-interval", timedelta(minutes=refresh_minutes),
            parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", f"PT{refresh_minutes}M")
    events = [event_for(b, now=now, base_url=base_url, audience=audience,
                        stable_stamp=stable_stamp) for b in bookings]
    for event in events:
        cal.add_component(event)
    _add_timezones(cal, bookings)
    return cal


def _add_timezones(cal: Calendar, bookings: list[Booking]) -> None:
    """One VTIMEZONE per TZID used, covering the years of the events (give or
    take one) rather than 1970–2038: a fraction of the size, built once."""
    if not bookings:
        return
    first = min(b.start_at for b in bookings).year - 1
    last = max(b.end_at for b in bookings).year + 1
    for tzid in sorted({b.equipment.establishment.timezone for b in bookings}):
        cal.add_component(_timezone(tzid, first, last))


@lru_cache(maxsize=32)
def _timezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    zone = Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1),
                              last_date=date(last_year + 1, 1, 1))
    holder = Calendar()
    holder.add_component(zone)
    _one_rdate_per_line(holder)
    return zone


def _one_rdate_per_line(cal: Calendar) -> None:
    """icalendar lists a zone's transitions as one comma-separated RDATE; RFC 5545
    allows it, but vobject (hence CalDAV servers such as Radicale) reads only the
    first value and shifts every summer-time event by an hour. One RDATE
    property per transition means the same to every reader."""
    for timezone in cal.walk("VTIMEZONE"):
        for observance in timezone.subcomponents:
            if "RDATE" not in observance:
                continue
            found = observance.pop("RDATE")
            for listed in found if isinstance(found, list) else [found]:
                for value in listed.dts:
                    observance.add("RDATE", value.dt)


def to_bytes(cal: Calendar) -> bytes:
    return cal.to_ical()
