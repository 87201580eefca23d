"""iCalendar (RFC 5545) documents of bookings, built with ``icalendar``.

Events carry their local time with a TZID and the matching VTIMEZONE, a
stable UID, SEQUENCE (raised on every change), STATUS (TENTATIVE while
pending, CANCELLED kept so clients remove the event) and no attendee: no
e-mail address leaves through a calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from models import Booking, BookingStatus

PRODID = "-//CosmetoPharma Centre-Val de Loire//Plateforme//FR"
STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.REJECTED: "CANCELLED",
    BookingStatus.EXPIRED: "CANCELLED",
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
    event.add("summary", booking.title if audience.details else equipment.name)
    event.add("location", f"{equipment.name} — {equipment.establishment.name}, "
                          f"{equipment.establishment.city}")
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
        event.add("description", "\n".join(lines))
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
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Paris")
    cal.add("refresh-interval", timedelta(minutes=refresh_minutes),
            parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", f"PT{refresh_minutes}M")
    events = [event_for(b, now=now, base_url=base_url, audience=audience,
                        stable_stamp=stable_stamp) for b in bookings]
    for event in events:
        cal.add_component(event)
    cal.add_missing_timezones()  # one VTIMEZONE per TZID used
    _one_rdate_per_line(cal)
    return cal


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
