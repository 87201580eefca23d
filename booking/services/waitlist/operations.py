"""Joining the waiting list of a taken slot, offering freed slots, claiming.

An entry is checked like a booking request when it is made (who may book,
the machine, the times, the trainer's certifications): only the slot being
taken keeps it from being booked, else joining is refused. The scheduler's
job (:func:`run`) then finds freed slots itself, whatever freed them
(cancellation, rejection, expiry, a shortened move): it offers each to the
first entry in line whose request now passes every rule, for a time to
claim it. A claim books through booking.services.bookings.operations, the
same rules and the database's overlap guard deciding; an offer left
unclaimed expires and the next in line gets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.labels import Span
from booking.permissions import require
from booking.services import audit
from booking.services.bookings.operations import (
    BookingRequest,
    Resolved,
    create_booking,
    resolve,
)
from booking.services.bookings.rules import Slot, check_all
from booking.services.equipment.hours import zone_of
from booking.services.errors import (
    N_,
    Conflict,
    DomainError,
    InvalidState,
    TrainerBusy,
    ValidationError,
)
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from booking.services.policy import Policy
from booking.services.sharing.quotas import check_quotas
from models import Booking, User, WaitlistEntry, WaitlistStatus
from models.waitlist import OPEN_STATUSES

DEFAULT_CLAIM_HOURS = 2

# Why an entry out of line can no longer change.
CLOSED = {
    WaitlistStatus.CLAIMED: N_("You already claimed this offer: cancel its booking if you no "
                               "longer need it."),
    WaitlistStatus.EXPIRED: N_("This waiting list entry has expired."),
    WaitlistStatus.CANCELLED: N_("You left this waiting list."),
}
NOT_OFFERED = {
    WaitlistStatus.WAITING: N_("This slot has not been offered to you: it is still taken, "
                               "or you are not first in line."),
}


def request_of(entry: WaitlistEntry) -> BookingRequest:
    return BookingRequest(equipment_id=entry.equipment_id, start=entry.start_at,
                          end=entry.end_at, title=entry.title, purpose=entry.purpose,
                          trainer_id=entry.trainer_id, project_id=entry.project_id)


def join(session: Session, *, actor: User, request: BookingRequest, now: datetime,
         policy: Policy) -> WaitlistEntry:
    """Put ``actor`` in line for a taken slot. Refused as a booking would be
    for any other reason; refused (422) when the slot is free: book it."""
    begin_write(session)
    require(actor, "join", WaitlistEntry)
    resolved = resolve(session, actor, request)
    try:
        _check(session, actor, request, resolved, now=now, policy=policy)
    except TrainerBusy:
        raise  # the trainer, not the machine: waiting for the machine would not help
    except Conflict:
        pass  # taken: what the waiting list is for
    else:
        raise ValidationError(N_("This slot is free: book it instead of joining its waiting "
                                 "list."), {"field": "start"})
    duplicate = session.scalar(select(WaitlistEntry.id).where(
        WaitlistEntry.user_id == actor.id,
        WaitlistEntry.equipment_id == request.equipment_id,
        WaitlistEntry.start_at == request.start, WaitlistEntry.end_at == request.end,
        WaitlistEntry.status.in_(OPEN_STATUSES)))
    if duplicate is not None:
        raise InvalidState(N_("You are already on the waiting list for this slot."),
                           {"entry_id": duplicate})
    entry = WaitlistEntry(
        user_id=actor.id, equipment_id=request.equipment_id, start_at=request.start,
        end_at=request.end, title=request.title.strip(), purpose=request.purpose,
        # As asked: resolved again at each check (a project's trainer may change).
        trainer_id=request.trainer_id,
        project_id=request.project_id, status=WaitlistStatus.WAITING,
        created_at=now, updated_at=now)
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="waitlist.join", object_type="waitlist_entry",
                 object_id=entry.id, now=now, equipment_id=entry.equipment_id,
                 start=request.start.isoformat(), end=request.end.isoformat())
    return entry


def _check(session: Session, actor: User, request: BookingRequest, resolved: Resolved, *,
           now: datetime, policy: Policy) -> None:
    """Every rule a booking of the request would meet, writing nothing."""
    slot = Slot(resolved.equipment, request.start, request.end)
    check_all(session, slot, trainer=resolved.trainer, now=now, policy=policy, actor=actor)
    check_quotas(session, actor=actor, equipment=resolved.equipment, start=request.start,
                 end=request.end, now=now)


def leave(session: Session, *, actor: User, entry: WaitlistEntry,
          now: datetime) -> WaitlistEntry:
    """The owner leaves the line (an offer they hold passes to the next)."""
    begin_write(session)
    require(actor, "leave", entry)
    _lock(session, entry)
    if entry.status not in OPEN_STATUSES:
        raise InvalidState(CLOSED[entry.status], {"status": entry.status.value})
    entry.status = WaitlistStatus.CANCELLED
    entry.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="waitlist.leave", object_type="waitlist_entry",
                 object_id=entry.id, now=now)
    return entry


def claim(session: Session, *, actor: User, entry: WaitlistEntry, now: datetime,
          policy: Policy) -> Booking:
    """Book the offered slot, as the owner would book it; the entry is then
    claimed. Only an offer still open may be claimed (409 ``invalid_state``)."""
    begin_write(session)
    require(actor, "claim", entry)
    _lock(session, entry)
    if entry.status is not WaitlistStatus.OFFERED:
        raise InvalidState(NOT_OFFERED.get(entry.status) or CLOSED[entry.status],
                           {"status": entry.status.value})
    if entry.offer_expires_at is not None and entry.offer_expires_at <= now:
        raise InvalidState(N_("This offer expired on %(when)s."),
                           {"status": WaitlistStatus.EXPIRED.value},
                           when=entry.offer_expires_at.astimezone(zone_of(entry.equipment)))
    booking = create_booking(session, actor=actor, request=request_of(entry), now=now,
                             policy=policy)
    entry.status = WaitlistStatus.CLAIMED
    entry.claimed_at = now
    entry.booking_id = booking.id
    entry.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="waitlist.claim", object_type="waitlist_entry",
                 object_id=entry.id, now=now, booking_id=booking.id)
    return booking


def _lock(session: Session, entry: WaitlistEntry) -> None:
    """Reread the entry under a row lock (PostgreSQL): two claims of one offer
    run one after the other, the second seeing the first's claim."""
    session.refresh(entry, with_for_update=True)


@dataclass(frozen=True)
class RunResult:
    offers_expired: int
    entries_expired: int
    offered: list[WaitlistEntry]


def expire(session: Session, *, now: datetime) -> tuple[int, int]:
    """Offers past their time, and open entries whose slot has started, expire.
    The numbers of each."""
    offers = list(session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.status == WaitlistStatus.OFFERED,
        WaitlistEntry.offer_expires_at <= now, WaitlistEntry.start_at > now)))
    started = list(session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.status.in_(OPEN_STATUSES), WaitlistEntry.start_at <= now)))
    for entry in offers + started:
        entry.status = WaitlistStatus.EXPIRED
        entry.updated_at = now
    session.flush()
    return len(offers), len(started)


def offer_freed(session: Session, *, now: datetime, policy: Policy,
                claim_hours: float = DEFAULT_CLAIM_HOURS) -> list[WaitlistEntry]:
    """Offer each freed slot to the first entry in line that now passes every
    rule. A period already offered to an earlier entry of the machine is not
    offered again until that offer is claimed or expires."""
    waiting = list(session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.status == WaitlistStatus.WAITING, WaitlistEntry.start_at > now)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)))
    offered: list[WaitlistEntry] = []
    for entry in waiting:
        if not entry.user.active or _held_by_an_offer(session, entry):
            continue
        try:
            request = request_of(entry)
            _check(session, entry.user, request, resolve(session, entry.user, request),
                   now=now, policy=policy)
        except DomainError:
            continue  # still taken, or no longer fits a rule: it keeps its place
        offer(session, entry, now=now, claim_hours=claim_hours)
        offered.append(entry)
    return offered


def offer(session: Session, entry: WaitlistEntry, *, now: datetime,
          claim_hours: float = DEFAULT_CLAIM_HOURS, notify: bool = True) -> WaitlistEntry:
    """Offer ``entry`` its slot, found free by the caller, for ``claim_hours``
    (never past its start). ``notify=False``: no mail (the demo campus)."""
    entry.status = WaitlistStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = min(now + timedelta(hours=claim_hours), entry.start_at)
    entry.updated_at = now
    session.flush()
    audit.record(session, actor=None, action="waitlist.offer",
                 object_type="waitlist_entry", object_id=entry.id, now=now,
                 expires=entry.offer_expires_at.isoformat())
    if notify:
        _tell(session, entry, now=now)
    return entry


def _held_by_an_offer(session: Session, entry: WaitlistEntry) -> bool:
    return session.scalar(select(WaitlistEntry.id).where(
        WaitlistEntry.equipment_id == entry.equipment_id,
        WaitlistEntry.status == WaitlistStatus.OFFERED,
        WaitlistEntry.start_at < entry.end_at, entry.start_at < WaitlistEntry.end_at)
        .limit(1)) is not None


def _tell(session: Session, entry: WaitlistEntry, *, now: datetime) -> None:
    """One mail per offer, whatever the number of runs."""
    user = entry.user
    zone = zone_of(entry.equipment)
    params = {"equipment": entry.equipment.name, "title": entry.title,
              "when": Span(entry.start_at.astimezone(zone), entry.end_at.astimezone(zone)),
              "deadline": entry.offer_expires_at.astimezone(zone)}
    body = render(user, N_("%(equipment)s is free on %(when)s, the slot you were waiting for "
                           "(“%(title)s”). Claim it on your dashboard before %(deadline)s; "
                           "after that it passes to the next in line."), **params)
    mail = Mail(user.email, render(user, N_("A slot is free for you: %(equipment)s"), **params),
                body + "\n\n" + f"{SITE}/")
    enqueue(session, mail, now=now, dedupe_key=f"waitlist-offer:{entry.id}")


def run(session: Session, *, now: datetime, policy: Policy,
        claim_hours: float = DEFAULT_CLAIM_HOURS) -> RunResult:
    """The scheduler's pass: expire, then offer what is free."""
    offers_expired, entries_expired = expire(session, now=now)
    offered = offer_freed(session, now=now, policy=policy, claim_hours=claim_hours)
    return RunResult(offers_expired, entries_expired, offered)


def offered_entries(session: Session, user: User, *, now: datetime) -> list[WaitlistEntry]:
    """``user``'s offers still open, the soonest to expire first (the dashboard)."""
    return list(session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.user_id == user.id,
               WaitlistEntry.status == WaitlistStatus.OFFERED,
               WaitlistEntry.offer_expires_at > now)
        .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)))
