"""The campus directory: establishments, companies and accounts.

Permissions are checked by the caller (booking.permissions); these functions
check the data, write, flush and audit.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.permissions import belongs_to_company, require
from booking.services import audit
from booking.services.accounts import operations as accounts
from booking.services.errors import N_, Conflict, ValidationError
from models import Company, Establishment, Role, User

ESTABLISHMENT_FIELDS = ("code", "name", "city", "department", "kind", "timezone")


# System files that are no place's zone: the machine's own setting, tzdata's placeholder.
NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) - NOT_ZONES


def is_time_zone(key: str) -> bool:
    """A key of the IANA database ("Europe/Paris"), not a path or an alias file."""
    return key in _zones()


def insert_unique(session: Session, obj: Any, conflict: Conflict) -> None:
    """Add and flush ``obj``; a unique constraint hit by a concurrent writer
    (the caller checked first) becomes ``conflict``, the session still usable."""
    try:
        with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        raise conflict from None


# --- establishments -----------------------------------------------------------


def _check_establishment(session: Session, values: dict[str, Any],
                         current: Establishment | None = None) -> None:
    if "timezone" in values and not is_time_zone(values["timezone"]):
        raise ValidationError(N_("Unknown time zone %(zone)s."), {"field": "timezone"},
                              zone=values["timezone"])
    code = values.get("code")
    if code is not None and (current is None or code != current.code):
        taken = session.scalar(select(Establishment.id).where(Establishment.code == code))
        if taken is not None:
            raise Conflict(N_("An establishment already has the code %(value)s."),
                           {"field": "code", "id": taken}, value=code)


def create_establishment(session: Session, *, actor: User, now: datetime,
                         **values: Any) -> Establishment:
    require(actor, "create", Establishment)
    _check_establishment(session, values)
    establishment = Establishment(
        created_at=now, **{k: v for k, v in values.items() if k in ESTABLISHMENT_FIELDS}
    )
    insert_unique(session, establishment, Conflict(
        N_("An establishment already has the code %(value)s."), {"field": "code"},
        value=values["code"]))
    audit.record(session, actor=actor, action="establishment.create",
                 object_type="establishment", object_id=establishment.id, now=now,
                 code=establishment.code)
    return establishment


def update_establishment(session: Session, establishment: Establishment, *, actor: User,
                         now: datetime, **values: Any) -> Establishment:
    require(actor, "manage", establishment)
    _check_establishment(session, values, establishment)
    changed = {}
    for name in ESTABLISHMENT_FIELDS:
        if name in values and values[name] != getattr(establishment, name):
            changed[name] = str(values[name])
            setattr(establishment, name, values[name])
    if changed:
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise Conflict(N_("An establishment already has the code %(value)s."),
                           {"field": "code"}, value=establishment.code) from None
        audit.record(session, actor=actor, action="establishment.update",
                     object_type="establishment", object_id=establishment.id, now=now,
                     changed=changed)
    return establishment


# --- companies and accounts ---------------------------------------------------


def create_company(session: Session, *, actor: User, now: datetime, name: str) -> Company:
    require(actor, "create", Company)
    conflict = Conflict(N_("A company is already named %(name)s."), {"field": "name"},
                        name=name)
    # Names are matched without case elsewhere (``users create --company``).
    if session.scalar(select(Company.id).where(func.lower(Company.name) == name.lower())):
        raise conflict
    company = Company(name=name, created_at=now)
    insert_unique(session, company, conflict)
    audit.record(session, actor=actor, action="company.create", object_type="company",
                 object_id=company.id, now=now, name=name)
    return company


def create_account(session: Session, *, actor: User, now: datetime, email: str, name: str,
                   role: str, password: str, establishment_id: int | None = None,
                   company_id: int | None = None, new_company: str | None = None) -> User:
    """accounts.create_user, with a taken e-mail answered as a conflict (409);
    ``new_company`` creates the account's company with it."""
    require(actor, "create", User, N_("Only an admin creates accounts."))
    address = accounts.normalise_email(email)
    if new_company:
        if company_id is not None:
            raise ValidationError(N_("Choose a company or name a new one, not both."),
                                  {"field": "new_company"})
        if role not in {r.value for r in Role} or not belongs_to_company(Role(role)):
            raise ValidationError(N_("Only company accounts belong to a company."),
                                  {"field": "new_company"})
        company_id = create_company(session, actor=actor, now=now, name=new_company).id
    conflict = Conflict(N_("An account already uses %(email)s."), {"field": "email"},
                        email=address)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise conflict
    try:
        with session.begin_nested():
            user = accounts.create_user(
                session, email=address, name=name, role=role, password=password, now=now,
                actor=actor, establishment_id=establishment_id, company_id=company_id,
            )
            # The admin chose the password: the user replaces it at first sign-in.
            user.must_change_password = True
            return user
    except IntegrityError:
        raise conflict from None
