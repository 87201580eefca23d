"""Accounts from a file: each line an e-mail, a name, a role and its place.

A new address is invited (booking.services.accounts.invitations): the account
exists at once and its owner receives a single-use link to choose a password,
so nobody types or mails passwords. An address already in use is matched:
its name may change; its role, establishment or company never do here (an
account moved by a file would silently gain or lose rights), and its
invitation is not sent again, so importing the same file twice changes
nothing. A company named for a company contact is created when it is new.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.permissions import belongs_to_company, is_coordinator, require
from booking.services import audit
from booking.services.accounts.directory import create_company
from booking.services.accounts.invitations import invite_user
from booking.services.accounts.operations import normalise_email
from booking.services.errors import N_, Forbidden, ValidationError
from booking.services.onboarding import values
from booking.services.onboarding.access import may_import_into
from booking.services.onboarding.plan import CREATED, UNCHANGED, UPDATED, Change, Kind
from booking.services.onboarding.reading import Column, Row
from models import Company, Establishment, Role, User

EMAIL = Column("email", N_("E-mail"), required=True, example="camille.martin@example.org")
NAME = Column("name", N_("Name"), required=True, example="Camille Martin")
ROLE = Column("role", N_("Role"), required=True, example=Role.TRAINER)
ESTABLISHMENT = Column("establishment", N_("Establishment (code)"))
COMPANY = Column("company", N_("Company"))
COLUMNS = (EMAIL, NAME, ROLE, ESTABLISHMENT, COMPANY)


def rename_user(session: Session, user: User, name: str, *, actor: User,
                now: datetime) -> None:
    require(actor, "rename", user)
    before, user.name = user.name, name
    session.flush()
    audit.record(session, actor=actor, action="user.rename", object_type="user",
                 object_id=user.id, now=now, before=before, after=name)


def _establishment(session: Session, actor: User, code: str | None) -> Establishment | None:
    if code is None:
        return actor.establishment if is_coordinator(actor) else None
    establishment = session.scalar(select(Establishment).where(Establishment.code == code))
    if establishment is None:
        raise ValidationError(N_("No establishment has the code “%(value)s”."),
                              {"field": "establishment"}, value=code)
    if not may_import_into(actor, establishment.id):
        raise Forbidden(N_("You may import accounts only into your own establishment."))
    return establishment


def _company(session: Session, actor: User, name: str, now: datetime
             ) -> tuple[Company, bool]:
    company = session.scalar(select(Company).where(func.lower(Company.name) == name.lower()))
    if company is not None:
        return company, False
    return create_company(session, actor=actor, now=now, name=name), True


def apply(session: Session, actor: User, row: Row, now: datetime
          ) -> tuple[str, list[Change]]:
    email = values.text(row, EMAIL, 254)
    name = values.text(row, NAME, 255)
    role = values.choice(row, ROLE, Role)
    code = values.text(row, ESTABLISHMENT, 32)
    company_name = values.text(row, COMPANY, 255)
    for column, value in ((EMAIL, email), (NAME, name), (ROLE, role)):
        values.required(row, column, value)
    values.checked(row)
    if email is None or name is None or role is None:  # noted by required()
        raise values.CellError
    address = normalise_email(email)
    if belongs_to_company(role) and not company_name:
        raise ValidationError(N_("A company account needs its company."), {"field": "company"})
    if not belongs_to_company(role) and company_name:
        raise ValidationError(N_("Only company accounts belong to a company."),
                              {"field": "company"})
    if belongs_to_company(role) and code:
        raise ValidationError(N_("A company account belongs to its company, not to an "
                                 "establishment: leave the establishment empty."),
                              {"field": "establishment"})
    establishment = _establishment(session, actor, code)
    user = session.scalar(select(User).where(User.email == address))
    if user is not None:
        return _matched(session, actor, user, name=name, role=role,
                        establishment=establishment if code else None,
                        company_name=company_name, now=now)
    changes: list[Change] = []
    company = None
    if company_name:
        company, new = _company(session, actor, company_name, now)
        if new:
            changes.append(Change(COMPANY.title, None, company.name))
    invite_user(session, actor=actor, email=address, name=name, role=role, now=now,
                establishment_id=establishment.id if establishment else None,
                company_id=company.id if company else None)
    return CREATED, changes


def _matched(session: Session, actor: User, user: User, *, name: str, role: Role,
             establishment: Establishment | None, company_name: str | None,
             now: datetime) -> tuple[str, list[Change]]:
    moved = user.role is not role or (
        establishment is not None and user.establishment_id != establishment.id) or (
        company_name is not None and (user.company is None
                                      or user.company.name.lower() != company_name.lower()))
    if moved:
        raise ValidationError(N_("%(email)s already has an account with another role or "
                                 "place; an import does not move accounts: change it on "
                                 "its page."), {"field": "email"}, email=user.email)
    if user.name == name:
        return UNCHANGED, []
    before = user.name
    rename_user(session, user, name, actor=actor, now=now)
    return UPDATED, [Change(NAME.title, before, name)]


def _key(row: Row) -> str:
    return row.values.get(EMAIL.key, "").lower()


KIND = Kind(name="accounts", title=N_("Accounts"), columns=COLUMNS, key=_key, apply=apply)
