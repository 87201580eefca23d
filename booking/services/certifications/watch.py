"""Certification expiry: warnings at 30 and 7 days (policy.CERTIFICATION_WARNING_DAYS),
and a flag on future bookings, up to the booking horizon, whose trainer will not be
certified on the day.

Idempotent: warnings are deduplicated in the outbox; the flag is set or
cleared to match the certifications of today, and coordinators are told once
per state of the booking.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.services.bookings.rules import missing_from, required_types
from booking.services.errors import N_, Nn_
from booking.services.messaging.notifications import (
    SITE,
    coordinators_by_establishment,
    render,
)
from booking.services.messaging.outbox import Mail, enqueue
from booking.services.policy import (
    CAMPUS_ZONE,
    CERTIFICATION_WARNING_DAYS,
    EXPIRING_WITHIN,
    Policy,
)
from models import Booking, BookingStatus, Certification, Equipment, User


def warn_expiring(session: Session, *, now: datetime) -> int:
    """Tell the holder and their coordinators 30 and 7 days before the end."""
    today = now.astimezone(CAMPUS_ZONE).date()
    expiring = session.scalars(
        select(Certification)
        .where(Certification.revoked_at.is_(None), Certification.valid_until >= today,
               Certification.valid_until <= today + EXPIRING_WITHIN)
        .options(joinedload(Certification.user), joinedload(Certification.certification_type))
    ).all()
    # The coordinators of every holder's establishment in one query, not one per certificate.
    coordinators = coordinators_by_establishment(
        session, {c.user.establishment_id for c in expiring if c.user.establishment_id})
    queued = 0
    for cert in expiring:
        days_left = (cert.valid_until - today).days
        threshold = min(d for d in CERTIFICATION_WARNING_DAYS if days_left <= d)
        holder = cert.user
        recipients = [holder, *coordinators.get(holder.establishment_id, [])]
        for person in recipients:
            if not person.active:
                continue
            params = {"type": cert.certification_type.name, "holder": holder.name,
                      "date": cert.valid_until, "days": days_left}
            mail = Mail(person.email,
                        render(person, N_("Certification expiring: %(type)s (%(holder)s)"),
                               **params),
                        render(person, Nn_("The certification %(type)s of %(holder)s ends on "
                                           "%(date)s, in %(days)d day.",
                                           "The certification %(type)s of %(holder)s ends on "
                                           "%(date)s, in %(days)d days.", count="days"),
                               **params)
                        + f"\n\n{SITE}/certifications")
            key = f"cert-expiry:{cert.id}:{threshold}:{person.id}"
            if enqueue(session, mail, now=now, dedupe_key=key) is not None:
                queued += 1
    return queued


def flag_uncertified_bookings(session: Session, *, now: datetime,
                              policy: Policy | None = None) -> tuple[int, int]:
    """Flag future bookings, up to the policy's horizon (no booking starts later),
    whose trainer lacks a required certification on the day (unless a coordinator
    overrode it); clear flags that no longer apply. Returns (flagged, cleared)."""
    horizon = (policy or Policy()).horizon
    bookings = session.scalars(
        select(Booking)
        .where(Booking.status.in_((BookingStatus.PENDING, BookingStatus.CONFIRMED)),
               Booking.start_at > now, Booking.start_at < now + horizon,
               Booking.override_reason.is_(None))
        .options(joinedload(Booking.trainer),
                 joinedload(Booking.equipment).selectinload(
                     Equipment.required_certification_types),
                 joinedload(Booking.equipment).selectinload(Equipment.components)
                 .selectinload(Equipment.required_certification_types))
        .order_by(Booking.start_at)).unique()
    bookings = list(bookings)
    # Every trainer's certifications in one query, not one per booking.
    held: dict[int, list[Certification]] = defaultdict(list)
    trainer_ids = {b.trainer_id for b in bookings if b.trainer_id is not None}
    if trainer_ids:
        for cert in session.scalars(select(Certification).where(
                Certification.user_id.in_(trainer_ids))):
            held[cert.user_id].append(cert)
    flagged = cleared = 0
    to_tell: list[tuple[Booking, list]] = []
    for booking in bookings:
        types = required_types(booking.equipment)
        lacking = missing_from(held[booking.trainer_id] if booking.trainer_id else [], types,
                               booking.start_at, booking.end_at) if types else []
        if lacking and not booking.certification_flag:
            booking.certification_flag = True
            flagged += 1
            to_tell.append((booking, lacking))
        elif not lacking and booking.certification_flag:
            booking.certification_flag = False
            cleared += 1
    # The coordinators of every establishment concerned in one query, not one per booking.
    coordinators = coordinators_by_establishment(
        session, {b.equipment.establishment_id for b, _ in to_tell})
    for booking, lacking in to_tell:
        _tell_coordinators(session, booking, lacking,
                           coordinators[booking.equipment.establishment_id], now)
    session.flush()
    return flagged, cleared


def _tell_coordinators(session: Session, booking: Booking, lacking: list,
                       coordinators: list[User], now: datetime) -> None:
    trainer: User | None = booking.trainer
    names = ", ".join(t.name for t, _ in lacking)
    for person in coordinators:
        params = {"title": booking.title, "trainer": trainer.name if trainer else "-",
                  "missing": names, "equipment": booking.equipment.name}
        mail = Mail(person.email,
                    render(person, N_("Trainer not certified on the day: %(title)s"), **params),
                    render(person, N_("%(trainer)s will not hold %(missing)s for %(title)s on "
                                      "%(equipment)s: assign another trainer, renew the "
                                      "certification or cancel."), **params)
                    + f"\n\n{SITE}/bookings/{booking.id}")
        enqueue(session, mail, now=now,
                dedupe_key=f"cert-flag:{booking.id}:{booking.sequence}:{person.id}")

