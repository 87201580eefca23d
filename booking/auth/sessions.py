"""Flask-Login wired to server-side login sessions, so a logout is final."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Flask, session
from flask_login import login_user, logout_user
from sqlalchemy import select

from booking.extensions import db, login_manager
from models import LoginSession, User


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    # Set lazily so the message is translated in the request's language.
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(login_session_id: str) -> User | None:
        row = db.session.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.id == login_session_id, LoginSession.revoked_at.is_(None))
        ).first()
        if row is None or not row.User.active:
            return None
        user = row.User
        user.login_session_id = login_session_id  # type: ignore[attr-defined]
        return user


def start_login_session(user: User, *, now: datetime, provider_id: int | None = None) -> str:
    """Record a new login and put it in the (fresh) cookie session; ``provider_id``
    when an identity provider vouched for the user (logout ends its session too)."""
    login_id = secrets.token_urlsafe(32)
    row = LoginSession(id=login_id, user_id=user.id, created_at=now)
    if provider_id is not None:  # unset otherwise: older schemas (migration tests) lack it
        row.provider_id = provider_id
    db.session.add(row)
    lang = session.get("lang")
    session.clear()  # a new session id: no fixation of a pre-login session
    if lang:
        session["lang"] = lang
    user.login_session_id = login_id  # type: ignore[attr-defined]
    login_user(user)
    return login_id


def end_login_session(user: User, *, now: datetime) -> None:
    login_id = getattr(user, "login_session_id", None)
    if login_id is not None:
        row = db.session.get(LoginSession, login_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = now
    logout_user()
    session.clear()
