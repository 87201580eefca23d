"""Certification requests: a trainer asks for the types an equipment requires,
a coordinator grants (through :func:`certifications.grant`) or declines.

At most one open request per trainer and type: asking twice is not an error,
it simply finds the open one (a partial unique index settles double clicks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.bookings.rules import required_types
from booking.services.certifications import operations as certifications
from booking.services.certifications.held import types_held_on
from booking.services.errors import N_, InvalidState
from booking.services.messaging.requests import certification_declined, certification_requested
from booking.services.policy import CAMPUS_ZONE
from models import (
    Certification,
    CertificationRequest,
    CertificationRequestStatus,
    CertificationType,
    Equipment,
    User,
)

OPEN = CertificationRequestStatus.REQUESTED


@dataclass
class Requested:
    """What asking did: the requests filed now, and the types already asked for."""

    created: list[CertificationRequest] = field(default_factory=list)
    already_open: list[CertificationType] = field(default_factory=list)


def request_certification(session: Session, *, actor: User, equipment: Equipment,
                          now: datetime) -> Requested:
    """One request per type ``equipment`` (and its components) requires that the
    trainer does not hold today. Idempotent: open requests are not repeated."""
    require(actor, "request_certification", equipment,
            N_("Only a trainer asks for a certification."))
    today = now.astimezone(CAMPUS_ZONE).date()
    held = types_held_on(session, actor, today)
    missing = [t for t in required_types(equipment) if t.id not in held]
    open_types = set(session.scalars(select(CertificationRequest.certification_type_id).where(
        CertificationRequest.user_id == actor.id, CertificationRequest.status == OPEN)))
    result = Requested()
    for ctype in missing:
        if ctype.id in open_types:
            result.already_open.append(ctype)
            continue
        request = CertificationRequest(user_id=actor.id, certification_type_id=ctype.id,
                                       equipment_id=equipment.id, status=OPEN, created_at=now)
        try:
            with session.begin_nested():
                session.add(request)
        except IntegrityError:
            # A concurrent click filed the same request first: that one stands.
            result.already_open.append(ctype)
            continue
        audit.record(session, actor=actor, action="certification_request.create",
                     object_type="certification_request", object_id=request.id, now=now,
                     certification_type=ctype.code, equipment_id=equipment.id)
        result.created.append(request)
    certification_requested(session, result.created, now=now)
    return result


def decide(session: Session, request: CertificationRequest, *, actor: User, grant: bool,
           now: datetime, valid_from: date | None = None, valid_until: date | None = None,
           reason: str | None = None) -> Certification | None:
    """Grant (the certification runs from ``valid_from``, default today, to
    ``valid_until``, default the type's validity) or decline an open request.
    Returns the new certification when granted."""
    holder = request.user
    require(actor, "decide", request, certifications.SELF_GRANT if actor.id == holder.id else
            N_("Only a coordinator or an admin decides certification requests."))
    # Lock the row (PostgreSQL): of two concurrent decisions, the second sees the first.
    session.refresh(request, with_for_update=True)
    if request.status is not OPEN:
        raise InvalidState(N_("This request has already been answered (%(status)s)."),
                           {"status": request.status.value}, status=request.status)
    certification = None
    if grant:
        certification = certifications.grant(
            session, holder, actor=actor, now=now,
            certification_type_id=request.certification_type_id, valid_from=valid_from,
            valid_until=valid_until)
    request.status = CertificationRequestStatus.GRANTED if grant else \
        CertificationRequestStatus.DECLINED
    request.decided_by_id = actor.id
    request.decided_at = now
    request.reason = (reason or "").strip() or None
    session.flush()
    audit.record(session, actor=actor,
                 action="certification_request.grant" if grant else
                 "certification_request.decline",
                 object_type="certification_request", object_id=request.id, now=now,
                 reason=request.reason, user_id=holder.id,
                 certification_type_id=request.certification_type_id,
                 certification_id=certification.id if certification else None)
    if not grant:
        certification_declined(session, request, now=now)
    return certification


def settle_open_requests(session: Session, certification: Certification, *, actor: User,
                         now: datetime) -> list[CertificationRequest]:
    """A certification granted directly answers the holder's open request for
    that type, if any: it is marked granted rather than left waiting."""
    settled = list(session.scalars(select(CertificationRequest).where(
        CertificationRequest.user_id == certification.user_id,
        CertificationRequest.certification_type_id == certification.certification_type_id,
        CertificationRequest.status == OPEN)))
    for request in settled:
        request.status = CertificationRequestStatus.GRANTED
        request.decided_by_id = actor.id
        request.decided_at = now
        audit.record(session, actor=actor, action="certification_request.grant",
                     object_type="certification_request", object_id=request.id, now=now,
                     user_id=certification.user_id,
                     certification_type_id=certification.certification_type_id,
                     certification_id=certification.id)
    session.flush()
    return settled
