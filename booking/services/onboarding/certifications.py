"""Certifications from a file: who holds which type, from when until when.

A line is matched with the holder's latest certification of that type that
is not revoked. None: the type is granted (from today and for the type's
validity when the dates are blank). One with the same dates, or, when the
dates are blank, one still in force: nothing changes. Blank dates on a
lapsed one renew it. Other dates replace it: the old one is revoked (its row
stays, dated and signed) and the new one granted, both through
booking.services.certifications with their rules (no self-certification, no
company account) and their notices. A coordinator imports the types that a
machine of their establishment requires.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.services.accounts.operations import normalise_email
from booking.services.certifications.operations import (
    default_valid_until,
    grant,
    renew,
    revoke,
)
from booking.services.errors import N_, Forbidden, ValidationError
from booking.services.onboarding import values
from booking.services.onboarding.access import may_import_type
from booking.services.onboarding.plan import CREATED, UNCHANGED, UPDATED, Change, Kind
from booking.services.onboarding.reading import Column, Row
from booking.services.policy import CAMPUS_ZONE
from models import Certification, CertificationType, User

EMAIL = Column("email", N_("E-mail"), required=True, example="camille.martin@example.org")
TYPE = Column("certification", N_("Certification (code)"), required=True, example="ROBOT-COBOT")
VALID_FROM = Column("valid_from", N_("Valid from"), example="2026-09-01")
VALID_UNTIL = Column("valid_until", N_("Valid until"), example="2027-08-31")
COLUMNS = (EMAIL, TYPE, VALID_FROM, VALID_UNTIL)
REPLACED = "Replaced by an imported file"  # the revocation's reason, kept in the audit trail


def _holder(session: Session, email: str) -> User:
    address = normalise_email(email)
    holder = session.scalar(select(User).where(User.email == address))
    if holder is None:
        raise ValidationError(N_("No account uses %(email)s: import the accounts first."),
                              {"field": "email"}, email=address)
    return holder


def _type(session: Session, actor: User, code: str) -> CertificationType:
    ctype = session.scalar(select(CertificationType).where(CertificationType.code == code))
    if ctype is None:
        raise ValidationError(N_("No certification type has the code “%(value)s”."),
                              {"field": "certification"}, value=code)
    if not may_import_type(session, actor, ctype):
        raise Forbidden(N_("You may import only the certifications that the machines of "
                           "your establishment require."))
    return ctype


def apply(session: Session, actor: User, row: Row, now: datetime
          ) -> tuple[str, list[Change]]:
    email = values.text(row, EMAIL, 254)
    code = values.text(row, TYPE, 32)
    valid_from = values.day(row, VALID_FROM)
    valid_until = values.day(row, VALID_UNTIL)
    values.required(row, EMAIL, email)
    values.required(row, TYPE, code)
    values.checked(row)
    if email is None or code is None:  # noted by required()
        raise values.CellError
    holder = _holder(session, email)
    ctype = _type(session, actor, code)
    if valid_from and valid_until and valid_from > valid_until:
        raise ValidationError(N_("The certification ends before it starts."),
                              {"field": "valid_until"})
    current = session.scalar(
        select(Certification)
        .where(Certification.user_id == holder.id,
               Certification.certification_type_id == ctype.id,
               Certification.revoked_at.is_(None))
        .order_by(Certification.valid_until.desc(), Certification.id.desc()).limit(1))
    if current is None:
        grant(session, holder, actor=actor, now=now, certification_type_id=ctype.id,
              valid_from=valid_from, valid_until=valid_until)
        return CREATED, []
    if valid_from is None and valid_until is None:
        if current.valid_until >= now.astimezone(CAMPUS_ZONE).date():
            return UNCHANGED, []
        renewed = renew(session, current, actor=actor, now=now)
        return UPDATED, _changes(current, renewed.valid_from, renewed.valid_until)
    new_from = valid_from or current.valid_from
    new_until = valid_until or (current.valid_until if new_from == current.valid_from
                                else default_valid_until(new_from, ctype.validity_months))
    if (new_from, new_until) == (current.valid_from, current.valid_until):
        return UNCHANGED, []
    changes = _changes(current, new_from, new_until)
    revoke(session, current, actor=actor, now=now, reason=REPLACED)
    grant(session, holder, actor=actor, now=now, certification_type_id=ctype.id,
          valid_from=new_from, valid_until=new_until)
    return UPDATED, changes


def _changes(current: Certification, valid_from: date, valid_until: date) -> list[Change]:
    changes = []
    if valid_from != current.valid_from:
        changes.append(Change(VALID_FROM.title, current.valid_from, valid_from))
    if valid_until != current.valid_until:
        changes.append(Change(VALID_UNTIL.title, current.valid_until, valid_until))
    return changes


def _key(row: Row) -> str:
    return f"{row.values.get(EMAIL.key, '').lower()} {row.values.get(TYPE.key, '')}".strip()


KIND = Kind(name="certifications", title=N_("Certifications"), columns=COLUMNS, key=_key,
            apply=apply)
