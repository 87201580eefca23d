"""API bearer tokens: random, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiToken, User


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, *, now: datetime,
                lifetime: timedelta) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=digest(token), created_at=now,
                   expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, row


def user_for_token(session: Session, token: str, *, now: datetime) -> tuple[User, ApiToken] | None:
    """The active user of a live token; None for unknown, expired or revoked ones.
    The digest is looked up by index: equal digests reveal nothing of the token."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token))
    ).first()
    if row is None:
        return None
    api_token, user = row
    expired = api_token.expires_at is not None and api_token.expires_at <= now
    if api_token.revoked_at is not None or expired or not user.active:
        return None
    return user, api_token


def revoke(api_token: ApiToken, *, now: datetime) -> None:
    if api_token.revoked_at is None:
        api_token.revoked_at = now
