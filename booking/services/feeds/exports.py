"""The coordinators' export files, written by the scheduler into EXPORT_DIR.

One ``.ics`` per establishment and per piece of equipment (the same bookings
and window as their live feeds) and one CSV per establishment for the coming
eight weeks. Each file is replaced atomically (a temporary file in the same
directory, flushed to disk, then renamed over the old one), so a reader never
sees half a file, and only when its bytes changed, so file watchers and
synchronisation tools see a change only when there is one. DTSTAMP is each
booking's last change rather than the clock, for the same reason.

Files of establishments or equipment that no longer exist are left in place.
"""

from __future__ import annotations

import csv
import io
import os
import string
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services.feeds.content import scope_bookings
from booking.services.feeds.ical import Audience, calendar_of, to_bytes
from booking.services.policy import CAMPUS_ZONE
from models import Booking, Equipment, Establishment, FeedScope

CSV_WEEKS = 8
CSV_COLUMNS = ("date", "start", "end", "equipment_code", "equipment_name", "title",
               "purpose", "status", "trainer", "participants")
# A cell starting with one of these is a formula to a spreadsheet: a title such
# as "=HYPERLINK(...)" must stay text (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FILE_MODE = 0o644  # mkstemp creates 0600; the web server or a share must read the files
# What a code keeps in a file name; the name stays well below the 255 bytes of a
# file system's limit.
PLAIN = frozenset(string.ascii_letters + string.digits + "._-")
MAX_STEM = 100


@dataclass(frozen=True)
class ExportSummary:
    written: int
    unchanged: int
    files: tuple[str, ...] = field(default=())  # the names written

    def __str__(self) -> str:
        return f"{self.written} export file(s) written, {self.unchanged} unchanged"


# --- contents -------------------------------------------------------------------


def _text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_START) else value


def bookings_csv(bookings: Iterable[Booking], zone: ZoneInfo = CAMPUS_ZONE) -> bytes:
    """UTF-8 with a BOM (so spreadsheet programs read the accents) and ``;``
    between fields (what a French spreadsheet expects); times in ``zone``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for booking in bookings:
        start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
        writer.writerow((
            start.date().isoformat(), start.strftime("%H:%M"),
            # A booking that runs past midnight says on which day it ends.
            end.strftime("%H:%M") if end.date() == start.date()
            else end.strftime("%Y-%m-%d %H:%M"),
            _text(booking.equipment.code), _text(booking.equipment.name),
            _text(booking.title), booking.purpose.value, booking.status.value,
            _text(booking.trainer.name if booking.trainer is not None else ""),
            "" if booking.participants is None else booking.participants,
        ))
    return out.getvalue().encode("utf-8-sig")


def calendar_bytes(bookings: Iterable[Booking], *, name: str, now: datetime,
                   base_url: str) -> bytes:
    """An export calendar: the same bytes for the same bookings, whatever ``now``."""
    return to_bytes(calendar_of(bookings, name=name, now=now, base_url=base_url,
                                audience=Audience(details=True), stable_stamp=True))


def csv_window(now: datetime, zone: ZoneInfo = CAMPUS_ZONE) -> tuple[datetime, datetime]:
    """From the start of today (local) for :data:`CSV_WEEKS` weeks: the file
    changes once a day at most by itself, not at every run."""
    today = now.astimezone(zone).date()
    return (datetime.combine(today, time(), tzinfo=zone),
            datetime.combine(today + timedelta(weeks=CSV_WEEKS), time(), tzinfo=zone))


# --- files ----------------------------------------------------------------------


def safe_name(code: str, object_id: int) -> str:
    """A code as a file name, one name per object: letters, digits, ``.``, ``_``
    and ``-`` stay, any other character is written ``~XX`` per byte of its UTF-8
    (``~`` too), so ``COLL/1`` and ``COLL:1`` no longer both write ``COLL_1``. A
    code whose escaped form is too long for a file system is named by its id,
    ``~id7`` (no escape gives ``~i``: ``i`` is not a hex digit)."""
    escaped = "".join(c if c in PLAIN else "".join(
        f"~{byte:02X}" for byte in c.encode("utf-8", "surrogatepass")) for c in code)
    return escaped if len(escaped) <= MAX_STEM else f"~id{object_id}"


def replace_if_changed(path: Path, content: bytes) -> bool:
    """Write ``content`` to ``path`` atomically unless the file already holds
    exactly these bytes; True when it was written."""
    with suppress(FileNotFoundError):
        if path.read_bytes() == content:
            return False
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)
    return True


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX; other systems have no such call)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_exports(session: Session, *, now: datetime, export_dir: Path,
                  base_url: str) -> ExportSummary:
    export_dir.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {}
    start, end = csv_window(now)
    for establishment in session.scalars(select(Establishment).order_by(Establishment.code)):
        bookings = scope_bookings(session, FeedScope.ESTABLISHMENT, establishment.id, now)
        stem = f"establishment-{safe_name(establishment.code, establishment.id)}"
        contents[f"{stem}.ics"] = calendar_bytes(
            bookings, name=f"Plateforme — {establishment.name}", now=now, base_url=base_url)
        contents[f"{stem}.csv"] = bookings_csv(
            b for b in bookings if b.end_at > start and b.start_at < end)
    for equipment in session.scalars(select(Equipment).order_by(Equipment.code)):
        bookings = scope_bookings(session, FeedScope.EQUIPMENT, equipment.id, now)
        contents[f"equipment-{safe_name(equipment.code, equipment.id)}.ics"] = calendar_bytes(
            bookings, name=f"Plateforme — {equipment.name}", now=now, base_url=base_url)
    written = [name for name, content in contents.items()
               if replace_if_changed(export_dir / name, content)]
    return ExportSummary(len(written), len(contents) - len(written), tuple(written))
