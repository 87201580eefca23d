"""Single-use links that let a person set their password without an admin:
a forgotten password (valid 1 hour) and an invitation (valid 7 days).

The secret travels only in the e-mail; the row keeps its SHA-256 digest, as
API tokens do. A link is spent by its first use, and a newer link of the same
purpose voids the older ones, so at most one works at a time.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from booking.auth.passwords import hash_password
from booking.services import audit
from booking.services.accounts.authentication import passwords_allowed
from booking.services.accounts.operations import end_sessions
from booking.services.accounts.password_policy import check_new_password
from booking.services.accounts.tokens import digest
from booking.services.errors import N_, InvalidState, NotFound
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from models import AccountLink, LinkPurpose, User

RESET_LIFETIME = timedelta(hours=1)
INVITATION_LIFETIME = timedelta(days=7)
LIFETIMES = {LinkPurpose.PASSWORD_RESET: RESET_LIFETIME,
             LinkPurpose.INVITATION: INVITATION_LIFETIME}


class LinkGone(InvalidState):
    """A link that existed but can no longer be used (spent, voided, expired)."""

    code = "link_gone"
    status = 410


def link_path(secret: str) -> str:
    return f"/auth/link/{secret}"


def issue_link(session: Session, user: User, purpose: LinkPurpose, *, now: datetime,
               created_by: User | None = None) -> str:
    """A fresh link for ``user``; the older unused ones of that purpose stop working.
    Returns the secret (shown nowhere but in the e-mail)."""
    void_links(session, user, purpose, now=now)
    secret = secrets.token_urlsafe(32)
    session.add(AccountLink(user_id=user.id, purpose=purpose, token_hash=digest(secret),
                            created_at=now, expires_at=now + LIFETIMES[purpose],
                            created_by_id=created_by.id if created_by else None))
    session.flush()
    return secret


def void_links(session: Session, user: User, purpose: LinkPurpose, *, now: datetime) -> None:
    session.execute(update(AccountLink)
                    .where(AccountLink.user_id == user.id, AccountLink.purpose == purpose,
                           AccountLink.used_at.is_(None))
                    .values(used_at=now))


def live_link(session: Session, secret: str, *, now: datetime) -> AccountLink:
    """The usable link of ``secret``: NotFound when no link has it, LinkGone when
    it is spent, voided or expired, or its account is closed."""
    link = session.scalar(select(AccountLink).where(AccountLink.token_hash == digest(secret)))
    if link is None:
        raise NotFound(N_("This link is unknown. Check that you copied all of it."))
    if link.used_at is not None or not link.user.active:
        raise LinkGone(N_("This link has already been used or replaced by a newer one."))
    if link.expires_at <= now:
        raise LinkGone(N_("This link has expired."))
    return link


def set_password_with_link(session: Session, secret: str, new_password: str, *,
                           now: datetime) -> User:
    """Spend the link: the new password replaces the old one, and every login and
    API token of the account ends (as when an admin resets it)."""
    link = live_link(session, secret, now=now)
    user = link.user
    check_new_password(new_password, email=user.email, name=user.name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = False
    # Both kinds: a reset also spends a pending invitation, and the reverse.
    for purpose in LinkPurpose:
        void_links(session, user, purpose, now=now)
    ended = end_sessions(session, user, now=now)
    session.flush()
    audit.record(session, actor=user, action=f"user.{link.purpose.value}_used",
                 object_type="user", object_id=user.id, now=now, sessions_ended=ended)
    return user


# --- « Mot de passe oublié » ------------------------------------------------------------------


def request_password_reset(session: Session, email: str, *, now: datetime) -> None:
    """Mail a reset link to the active account of ``email``, if there is one.

    The caller answers the same whatever happens here. An unknown or closed
    address still draws a secret and digests it, so the two paths differ by
    the two inserts only (no argon2 on either side)."""
    address = email.strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == address))
    if user is None or not user.active or not passwords_allowed(user):
        digest(secrets.token_urlsafe(32))
        return
    secret = issue_link(session, user, LinkPurpose.PASSWORD_RESET, now=now)
    enqueue(session, Mail(
        to=user.email,
        subject=render(user, N_("Plateforme: choose a new password")),
        body=render(user, N_(
            "Hello %(name)s,\n\nSomeone, probably you, asked to choose a new password for "
            "your Plateforme account. Follow this link within one hour to choose it; it "
            "works once:\n\n%(link)s\n\nIf you did not ask for it, ignore this message: "
            "your password stays as it is."), name=user.name,
            link=SITE + link_path(secret))), now=now)
