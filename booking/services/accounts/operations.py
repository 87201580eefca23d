"""Creating accounts and changing passwords."""

from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from booking.auth.passwords import hash_password
from booking.permissions import belongs_to_company, needs_establishment, require
from booking.services import audit
from booking.services.accounts.password_policy import check_new_password
from booking.services.errors import N_, InvalidState, ValidationError
from models import ApiToken, Company, Establishment, LoginSession, Role, User


def normalise_email(email: str) -> str:
    try:
        # No DNS look-up: the platform may run on a closed network.
        return validate_email(
            email.strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(N_("“%(value)s” is not a valid e-mail address."),
                              {"field": "email"}, value=email.strip()) from exc


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    now: datetime,
    actor: User | None = None,
    establishment_code: str | None = None,
    establishment_id: int | None = None,
    company_name: str | None = None,
    company_id: int | None = None,
) -> User:
    """Create an account after checking every field; raise ValidationError and
    add nothing to the session otherwise."""
    try:
        role_value = Role(role)
    except ValueError:
        raise ValidationError(
            N_("Unknown role “%(value)s”: one of %(roles)s."),
            {"field": "role"}, value=role, roles=", ".join(r.value for r in Role),
        ) from None
    address = normalise_email(email)
    if not name.strip():
        raise ValidationError(N_("The name is empty."), {"field": "name"})
    check_new_password(password, email=address, name=name)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise ValidationError(N_("An account already uses %(email)s."), {"field": "email"},
                              email=address)

    establishment = None
    if establishment_code is not None:
        establishment = session.scalar(
            select(Establishment).where(Establishment.code == establishment_code)
        )
        if establishment is None:
            raise ValidationError(
                N_("No establishment has the code “%(value)s”."),
                {"field": "establishment"}, value=establishment_code,
            )
    elif establishment_id is not None:
        establishment = session.get(Establishment, establishment_id)
        if establishment is None:
            raise ValidationError(
                N_("No establishment %(id)d."), {"field": "establishment_id"}, id=establishment_id
            )

    company = None
    if company_name is not None:
        company = session.scalar(
            select(Company).where(func.lower(Company.name) == company_name.strip().lower())
        )
        if company is None:
            raise ValidationError(N_("No company is named “%(value)s”."), {"field": "company"},
                                  value=company_name)
    elif company_id is not None:
        company = session.get(Company, company_id)
        if company is None:
            raise ValidationError(N_("No company %(id)d."), {"field": "company_id"},
                                  id=company_id)

    if belongs_to_company(role_value) and company is None:
        raise ValidationError(N_("A company account needs its company."), {"field": "company"})
    if not belongs_to_company(role_value) and company is not None:
        raise ValidationError(N_("Only company accounts belong to a company."),
                              {"field": "company"})
    if needs_establishment(role_value) and establishment is None:
        raise ValidationError(
            N_("A coordinator account needs its establishment."), {"field": "establishment"}
        )

    user = User(
        email=address,
        name=name.strip(),
        role=role_value,
        password_hash=hash_password(password),
        establishment=establishment,
        company=company,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor, action="user.create", object_type="user",
        object_id=user.id, now=now, role=role_value.value, email=address,
    )
    return user


def change_password(
    session: Session, user: User, new_password: str, *, now: datetime,
    keep_session_id: str | None = None,
) -> None:
    """Set a new password; end every other login and every API token of the account."""
    check_new_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = False  # chosen by the user: no longer someone else's
    stmt = (
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if keep_session_id is not None:
        stmt = stmt.where(LoginSession.id != keep_session_id)
    session.execute(stmt)
    # Every API token too, integration ones included: whoever knew the old
    # password may have made one.
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(
        session, actor=user, action="user.password", object_type="user",
        object_id=user.id, now=now,
    )


# --- what an admin does to an account -------------------------------------------


def end_sessions(session: Session, user: User, *, now: datetime) -> int:
    """Revoke every open login and API token of ``user``; a copied cookie or
    token stops working at once. Returns how many logins were ended."""
    ended = session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return ended or 0


def deactivate_user(session: Session, user: User, *, actor: User, now: datetime,
                    reason: str | None = None) -> User:
    """Close an account: it can no longer log in, and its open logins end now.
    The row stays (bookings, certifications and audit entries refer to it)."""
    require(actor, "manage", user)
    if user.id == actor.id:
        raise ValidationError(N_("You cannot deactivate your own account."))
    if not user.active:
        raise InvalidState(N_("This account is already deactivated."))
    user.active = False
    ended = end_sessions(session, user, now=now)
    session.flush()
    audit.record(session, actor=actor, action="user.deactivate", object_type="user",
                 object_id=user.id, now=now, reason=reason or None, sessions_ended=ended)
    return user


def reactivate_user(session: Session, user: User, *, actor: User, now: datetime) -> User:
    require(actor, "manage", user)
    if user.active:
        raise InvalidState(N_("This account is already active."))
    user.active = True
    session.flush()
    audit.record(session, actor=actor, action="user.reactivate", object_type="user",
                 object_id=user.id, now=now)
    return user


def reset_password(session: Session, user: User, new_password: str, *, actor: User,
                   now: datetime) -> User:
    """An admin sets a new password (the user forgot theirs, or it leaked): every
    login and API token of the account ends."""
    require(actor, "manage", user)
    check_new_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    # Someone else knows it: the user chooses their own at their next sign-in.
    user.must_change_password = user.id != actor.id
    ended = end_sessions(session, user, now=now)
    session.flush()
    audit.record(session, actor=actor, action="user.password_reset", object_type="user",
                 object_id=user.id, now=now, sessions_ended=ended)
    return user
