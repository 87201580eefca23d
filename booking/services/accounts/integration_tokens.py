"""Integration tokens: long-lived, named and scoped API tokens that a user (or an
admin, for any account) creates for a program. Like login tokens they are
random, shown once and stored as a SHA-256 digest (see tokens.py); a password
change or a deactivation ends them too."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.accounts.tokens import digest
from booking.services.errors import N_, ValidationError
from booking.services.policy import CAMPUS_ZONE
from models import ApiToken, User

INTEGRATION = "integration"
SCOPES = ("read", "book")
MAX_NAME = 100
# Last use is written at most this often: not one write per API request.
LAST_USE_STEP = timedelta(minutes=1)


def create_integration_token(session: Session, *, actor: User, owner: User, name: str,
                             scope: str, expires_on: date | None,
                             now: datetime) -> tuple[str, ApiToken]:
    """A new token of ``owner``; the secret is answered here and never again.
    ``expires_on`` is the last day (Europe/Paris) the token works."""
    require(actor, "manage_tokens", owner)
    name = name.strip()
    if not name:
        raise ValidationError(N_("The name is empty."), {"field": "name"})
    if len(name) > MAX_NAME:
        raise ValidationError(N_("The name is longer than %(n)d characters."),
                              {"field": "name"}, n=MAX_NAME)
    if scope not in SCOPES:
        raise ValidationError(N_("Unknown access level."), {"field": "scope"})
    expires_at = None
    if expires_on is not None:
        expires_at = datetime.combine(expires_on + timedelta(days=1), time(),
                                      tzinfo=CAMPUS_ZONE)
        if expires_at <= now:
            raise ValidationError(N_("The expiry date is already past."),
                                  {"field": "expires_on"})
    secret = secrets.token_urlsafe(32)
    row = ApiToken(user_id=owner.id, token_hash=digest(secret), kind=INTEGRATION, name=name,
                   scope=scope, created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="token.create", object_type="api_token",
                 object_id=row.id, now=now, user_id=owner.id, scope=scope)
    return secret, row


def integration_tokens(session: Session, owner: User) -> list[ApiToken]:
    """The owner's integration tokens, newest first, revoked ones included."""
    return list(session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == owner.id, ApiToken.kind == INTEGRATION)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def revoke_integration_token(session: Session, *, actor: User, token: ApiToken,
                             now: datetime) -> None:
    require(actor, "revoke", token)
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(session, actor=actor, action="token.revoke", object_type="api_token",
                     object_id=token.id, now=now, user_id=token.user_id)


def note_use(token: ApiToken, *, now: datetime) -> bool:
    """Record the use of an integration token, once a minute at most; True when
    the row changed (the caller commits)."""
    if token.kind != INTEGRATION:
        return False
    if token.last_used_at is not None and now - token.last_used_at < LAST_USE_STEP:
        return False
    token.last_used_at = now
    return True
