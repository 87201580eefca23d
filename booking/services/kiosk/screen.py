"""What a kiosk screen shows: the bookings of one machine, or of every machine
of a site, today and tomorrow (in the site's time zone), with what runs now,
what comes next, and where the check-in stands.

A kiosk is public (whoever stands by the screen reads it): each booking is
shown with the feeds' visibility rule for readers outside its company
(booking.services.feeds.ical.Audience): its title and trainer's name when it
is not a company's, « Réservé » alone when it is (booking.services.bookings.
access.company_of), without even its id (the API hides it from other
companies too); no participants, no project, no company name, ever.

A booking shows on every machine it holds, as the occupancy has it: its own;
for a component, its line's; for a line, its components'. The whole screen
takes a constant number of statements, however many machines it shows: the
machines, then every booking of all of them in one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

from booking.services.bookings.access import company_of
from booking.services.feeds.ical import Audience
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    BookingStatus,
    Equipment,
    EquipmentStatus,
    Establishment,
    KioskLink,
    KioskScope,
)


class CheckIn(StrEnum):
    """Where a booking's check-in stands, as the screen tells it."""

    NONE = "none"  # a machine without check-in, or a booking already over
    WAITING = "waiting"  # « En attente de démarrage »
    STARTED = "started"  # « Commencé à 9:05 »
    FINISHED = "finished"  # « Terminé à 11:02 »
    NO_SHOW = "no_show"  # « Non présenté »


@dataclass(frozen=True)
class Shown:
    """One booking as a public screen may show it."""

    id: int
    start: datetime
    end: datetime
    title: str | None  # None: a company's booking, shown as « Réservé »
    trainer: str | None
    status: BookingStatus
    check_in: CheckIn
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    over: bool

    @property
    def masked(self) -> bool:
        return self.title is None


@dataclass
class Board:
    """One machine's part of the screen."""

    equipment: Equipment
    current: Shown | None = None
    following: Shown | None = None
    today: list[Shown] = field(default_factory=list)
    tomorrow: list[Shown] = field(default_factory=list)

    @property
    def in_maintenance(self) -> bool:
        return self.equipment.status is not EquipmentStatus.ACTIVE


@dataclass(frozen=True)
class Screen:
    scope: KioskScope
    establishment: Establishment
    equipment: Equipment | None  # the machine of a machine's screen
    now: datetime
    today: date
    tomorrow: date
    boards: list[Board]


def _audience(booking: Booking) -> Audience:
    """The feeds' rule: details only for a booking of no company."""
    return Audience(details=company_of(booking) is None)


def _check_in(booking: Booking, now: datetime) -> CheckIn:
    if booking.status is BookingStatus.NO_SHOW:
        return CheckIn.NO_SHOW
    if booking.checked_out_at is not None:
        return CheckIn.FINISHED
    if booking.checked_in_at is not None:
        return CheckIn.STARTED
    if booking.equipment.check_in_required and booking.end_at > now:
        return CheckIn.WAITING
    return CheckIn.NONE


def shown(booking: Booking, now: datetime) -> Shown:
    details = _audience(booking).details
    trainer = booking.trainer.name if details and booking.trainer is not None else None
    return Shown(id=booking.id, start=booking.start_at, end=booking.end_at,
                 title=booking.title if details else None, trainer=trainer,
                 status=booking.status, check_in=_check_in(booking, now),
                 checked_in_at=booking.checked_in_at, checked_out_at=booking.checked_out_at,
                 over=booking.end_at <= now)


def _machines(session: Session, link: KioskLink) -> tuple[Establishment | None,
                                                           list[Equipment]]:
    stmt = select(Equipment).options(joinedload(Equipment.establishment))
    if link.scope is KioskScope.EQUIPMENT:
        machine = session.scalar(stmt.where(Equipment.id == link.equipment_id))
        return (machine.establishment if machine else None), [machine] if machine else []
    establishment = session.get(Establishment, link.establishment_id)
    machines = list(session.scalars(stmt.where(
        Equipment.establishment_id == link.establishment_id,
        Equipment.status != EquipmentStatus.RETIRED).order_by(Equipment.name, Equipment.code)))
    return establishment, machines


def _holds(booking: Booking, machine: Equipment) -> bool:
    """Whether ``booking`` occupies ``machine`` (booking.services.bookings.occupancy)."""
    return (booking.equipment_id == machine.id
            or (machine.parent_id is not None and booking.equipment_id == machine.parent_id)
            or booking.equipment.parent_id == machine.id)


def _bookings(session: Session, machines: list[Equipment], start: datetime,
              middle: datetime, end: datetime) -> list[Booking]:
    """Every booking of the machines (their lines', their components') from
    ``start`` to ``end``: those holding their slot, and today's no-shows."""
    ids = [m.id for m in machines]
    related = set(ids) | {m.parent_id for m in machines if m.parent_id is not None}
    stmt = (select(Booking)
            .join(Equipment, Equipment.id == Booking.equipment_id)
            .options(joinedload(Booking.equipment), joinedload(Booking.trainer),
                     joinedload(Booking.project), joinedload(Booking.booked_by))
            .where(or_(Booking.equipment_id.in_(related), Equipment.parent_id.in_(ids)),
                   Booking.end_at > start, Booking.start_at < end,
                   or_(Booking.status.in_(SLOT_HOLDING_STATUSES),
                       and_(Booking.status == BookingStatus.NO_SHOW,
                            Booking.start_at < middle)))
            .order_by(Booking.start_at, Booking.id))
    return list(session.scalars(stmt).unique())


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def screen_of(session: Session, link: KioskLink, now: datetime) -> Screen | None:
    """The screen of a live link at ``now``, or None when its machine or site is
    gone (the caller answers 404). Reads only."""
    establishment, machines = _machines(session, link)
    if establishment is None:
        return None
    zone = ZoneInfo(establishment.timezone)
    today = now.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    start, middle = _midnight(today, zone), _midnight(tomorrow, zone)
    end = _midnight(tomorrow + timedelta(days=1), zone)
    bookings = _bookings(session, machines, start, middle, end) if machines else []
    boards = []
    for machine in machines:
        board = Board(machine)
        for booking in (b for b in bookings if _holds(b, machine)):
            item = shown(booking, now)
            (board.today if booking.start_at < middle else board.tomorrow).append(item)
            if booking.status not in SLOT_HOLDING_STATUSES:
                continue
            if booking.start_at <= now < booking.end_at and board.current is None:
                board.current = item
            elif booking.start_at >= now and board.following is None:
                board.following = item
        boards.append(board)
    machine = machines[0] if link.scope is KioskScope.EQUIPMENT and machines else None
    return Screen(link.scope, establishment, machine, now, today, tomorrow, boards)
