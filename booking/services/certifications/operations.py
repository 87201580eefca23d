"""Certification types (habilitations), and granting and revoking them.

``valid_from`` and ``valid_until`` are days, both inclusive, read in
Europe/Paris. Permissions are checked by the caller (booking.permissions).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.accounts.directory import insert_unique
from booking.services.errors import N_, Conflict, InvalidState, ValidationError
from booking.services.messaging.requests import certification_granted
from booking.services.policy import CAMPUS_ZONE
from models import Certification, CertificationType, User

# Why a coordinator is refused their own certification (access.py, "grant_certification").
SELF_GRANT = N_("A coordinator does not certify themselves: another coordinator or an "
                "admin does.")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        raise ValidationError(N_("The validity runs past the year 9999."),
                              {"field": "valid_until"})
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_until(valid_from: date, validity_months: int) -> date:
    """The last day of a type granted on ``valid_from`` for its usual validity: the
    same day ``validity_months`` later, that day included (« valable jusqu'au 1er
    septembre 2027 » books on 1 September). The page, the API and the demo campus
    use this one convention."""
    return add_months(valid_from, validity_months)


def create_type(session: Session, *, actor: User, now: datetime, code: str, name: str,
                validity_months: int = 12, description: str = "") -> CertificationType:
    require(actor, "create", CertificationType,
            N_("Only an admin creates certification types."))
    conflict = Conflict(N_("A certification type already has the code %(value)s."),
                        {"field": "code"}, value=code)
    if session.scalar(select(CertificationType.id).where(CertificationType.code == code)):
        raise conflict
    ctype = CertificationType(code=code, name=name, validity_months=validity_months,
                              description=description)
    insert_unique(session, ctype, conflict)
    audit.record(session, actor=actor, action="certification_type.create",
                 object_type="certification_type", object_id=ctype.id, now=now, code=code)
    return ctype


def grant(session: Session, holder: User, *, actor: User, now: datetime,
          certification_type_id: int, valid_from: date | None = None,
          valid_until: date | None = None) -> Certification:
    """Grant a type to ``holder``. ``valid_from`` defaults to today (Paris),
    ``valid_until`` to ``valid_from`` plus the type's validity in months."""
    require(actor, "grant_certification", holder, SELF_GRANT if actor.id == holder.id else
            N_("Only a coordinator or an admin grants certifications, and never to a "
               "company account."))
    ctype = session.get(CertificationType, certification_type_id)
    if ctype is None:
        raise ValidationError(N_("No certification type %(id)s."),
                              {"field": "certification_type_id"}, id=certification_type_id)
    if valid_from is None:
        valid_from = now.astimezone(CAMPUS_ZONE).date()
    if valid_until is None:
        valid_until = default_valid_until(valid_from, ctype.validity_months)
    if valid_from > valid_until:
        raise ValidationError(N_("valid_until comes before valid_from."),
                              {"fields": ["valid_from", "valid_until"]})
    certification = Certification(
        user_id=holder.id, certification_type_id=ctype.id, valid_from=valid_from,
        valid_until=valid_until, granted_by_id=actor.id, granted_at=now,
    )
    session.add(certification)
    session.flush()
    audit.record(session, actor=actor, action="certification.grant",
                 object_type="certification", object_id=certification.id, now=now,
                 user_id=holder.id, certification_type=ctype.code,
                 valid_from=valid_from.isoformat(), valid_until=valid_until.isoformat())
    certification_granted(session, certification, now=now)
    return certification


def revoke(session: Session, certification: Certification, *, actor: User, now: datetime,
           reason: str | None = None) -> Certification:
    """Revoke; the row stays, dated and signed, for history. Twice is a 409."""
    require(actor, "revoke", certification)
    # Lock the row (PostgreSQL): of two concurrent revocations, one sees the other's.
    session.refresh(certification, with_for_update=True)
    if certification.revoked_at is not None:
        raise InvalidState(N_("This certification is already revoked."),
                           {"revoked_at": certification.revoked_at.isoformat()})
    certification.revoked_at = now
    certification.revoked_by_id = actor.id
    certification.revoke_reason = reason or None
    session.flush()
    audit.record(session, actor=actor, action="certification.revoke",
                 object_type="certification", object_id=certification.id, now=now,
                 reason=reason or None, user_id=certification.user_id,
                 certification_type_id=certification.certification_type_id)
    return certification


def renewal_start(certification: Certification, *, now: datetime) -> date:
    """A renewal continues the old period the day after it ends; once lapsed,
    it starts today (the days in between stay uncovered: nobody was certified)."""
    today = now.astimezone(CAMPUS_ZONE).date()
    return max(certification.valid_until + timedelta(days=1), today)


def renew(session: Session, certification: Certification, *, actor: User, now: datetime,
          valid_until: date | None = None) -> Certification:
    """Grant the same type again from :func:`renewal_start`, for the type's
    validity unless ``valid_until`` says otherwise. A revoked one is not renewed."""
    require(actor, "renew", certification,
            SELF_GRANT if actor.id == certification.user_id else None)
    if certification.revoked_at is not None:
        raise InvalidState(N_("A revoked certification cannot be renewed: grant a new one."),
                           {"revoked_at": certification.revoked_at.isoformat()})
    renewed = grant(session, certification.user, actor=actor, now=now,
                    certification_type_id=certification.certification_type_id,
                    valid_from=renewal_start(certification, now=now), valid_until=valid_until)
    audit.record(session, actor=actor, action="certification.renew",
                 object_type="certification", object_id=renewed.id, now=now,
                 renews=certification.id, user_id=certification.user_id)
    return renewed
