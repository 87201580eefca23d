"""Invitations: a coordinator, a company contact or an admin opens an account
for someone, who sets its password through a link valid 7 days.

The account exists from the invitation (active, so it can be booked for),
with a password no one can type until the link sets one. Who may invite
whom: an admin anyone; a coordinator a trainer into their establishment or a
company contact into a company; a company contact colleagues into their own
company only.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import is_admin, is_company, is_coordinator, require
from booking.services import audit
from booking.services.accounts.links import issue_link, link_path
from booking.services.accounts.operations import normalise_email
from booking.services.errors import N_, Forbidden, ValidationError
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from models import Company, Establishment, LinkPurpose, Role, User

# Not an argon2 hash: verify_password refuses every password against it.
UNUSABLE_PREFIX = "!invited:"


def invitable_roles(actor: User) -> list[Role]:
    if is_admin(actor):
        return list(Role)
    if is_coordinator(actor):
        return [Role.TRAINER, Role.COMPANY]
    if is_company(actor):
        return [Role.COMPANY]
    return []


def is_pending(user: User) -> bool:
    """Invited, and no password chosen yet."""
    return user.password_hash.startswith(UNUSABLE_PREFIX)


def invite_user(session: Session, *, actor: User, email: str, name: str, role: Role,
                now: datetime, establishment_id: int | None = None,
                company_id: int | None = None) -> User:
    """Create the account (or, for a pending invitee, keep it) and mail a fresh
    link; the older link stops working."""
    require(actor, "invite", User)
    if role not in invitable_roles(actor):
        raise Forbidden(N_("You may not invite an account of this role."), {"field": "role"})
    address = normalise_email(email)
    if not name.strip():
        raise ValidationError(N_("The name is empty."), {"field": "name"})
    establishment, company = _placement(session, actor, role, establishment_id, company_id)

    user = session.scalar(select(User).where(User.email == address))
    if user is not None:
        same_place = (user.role is role and user.company_id == (company.id if company else None)
                      and (establishment is None or user.establishment_id == establishment.id))
        if not (is_pending(user) and user.active and same_place):
            raise ValidationError(
                N_("An account already uses %(email)s: invite another address, or ask an "
                   "administrator."), {"field": "email"}, email=address)
    else:
        user = User(email=address, name=name.strip(), role=role, establishment=establishment,
                    company=company, created_at=now, password_changed_at=now,
                    password_hash=UNUSABLE_PREFIX + secrets.token_hex(16))
        session.add(user)
        session.flush()
    secret = issue_link(session, user, LinkPurpose.INVITATION, now=now, created_by=actor)
    enqueue(session, Mail(
        to=user.email,
        subject=render(user, N_("Plateforme: %(inviter)s invites you"), inviter=actor.name),
        body=render(user, N_(
            "Hello %(name)s,\n\n%(inviter)s opened an account for you on Plateforme, the "
            "booking site of the campus's shared equipment. Follow this link within 7 days "
            "to choose your password; it works once:\n\n%(link)s\n\nYour login is your "
            "e-mail address, %(email)s."), name=user.name, inviter=actor.name,
            link=SITE + link_path(secret), email=user.email)), now=now)
    audit.record(session, actor=actor, action="user.invite", object_type="user",
                 object_id=user.id, now=now, role=role.value, email=address)
    return user


def _placement(session: Session, actor: User, role: Role, establishment_id: int | None,
               company_id: int | None) -> tuple[Establishment | None, Company | None]:
    """The establishment and company of the new account, as the inviter may set them."""
    establishment = company = None
    if is_company(actor):
        return actor.establishment, actor.company  # their own company, whatever was sent
    if role is Role.COMPANY:
        company = session.get(Company, company_id) if company_id else None
        if company is None:
            raise ValidationError(N_("A company account needs its company."),
                                  {"field": "company_id"})
        return None, company
    if is_coordinator(actor):
        return actor.establishment, None
    if establishment_id:
        establishment = session.get(Establishment, establishment_id)
        if establishment is None:
            raise ValidationError(N_("No establishment %(id)d."),
                                  {"field": "establishment_id"}, id=establishment_id)
    if role is Role.COORDINATOR and establishment is None:
        raise ValidationError(N_("A coordinator account needs its establishment."),
                              {"field": "establishment_id"})
    return establishment, company
