"""Accounts, their web sessions and their API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, false, text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow
from models.enums import Role

if TYPE_CHECKING:
    from models.establishment import Company, Establishment


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # E-mails are compared case-insensitively: they are stored lower-cased.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("email LIKE '%_@_%'", name="email_format"),
        CheckConstraint(
            "role <> 'company' OR company_id IS NOT NULL", name="company_user_has_company"
        ),
        CheckConstraint(
            "role <> 'coordinator' OR establishment_id IS NOT NULL",
            name="coordinator_has_establishment",
        ),
        CheckConstraint("reminder_hours >= 0", name="reminder_hours_positive"),
        CheckConstraint("locale IN ('fr', 'en')", name="locale_known"),
        CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour_of_day"),
        CheckConstraint("end_reminder_minutes BETWEEN 0 AND 1440",
                        name="end_reminder_within_a_day"),
    )
    # Server defaults are read back on access, not by RETURNING: the migration
    # tests write users with this model into the schemas of older revisions.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str]
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str]
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishment.id", ondelete="RESTRICT"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("company.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    reminder_hours: Mapped[int] = mapped_column(default=24)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when someone else chose the password: the pages ask for a new one first.
    # A server default only, so rows written by older revisions' code still insert.
    must_change_password: Mapped[bool] = mapped_column(server_default=false())
    # Preferences (issue 12). Reminders are off with reminder_hours = 0; these
    # turn off the booking notices (confirmed, moved, cancelled...) and, for
    # coordinators, the daily digest, sent at or after digest_hour (Paris).
    # Security mails (password links) ignore them.
    notify_bookings: Mapped[bool] = mapped_column(server_default=true())
    notify_digest: Mapped[bool] = mapped_column(server_default=true())
    digest_hour: Mapped[int] = mapped_column(server_default=text("7"))
    # Issue 13: a reminder this many minutes before a booking ends (0: none).
    end_reminder_minutes: Mapped[int] = mapped_column(server_default=text("0"))

    establishment: Mapped[Establishment | None] = relationship()
    company: Mapped[Company | None] = relationship()

    # Flask-Login's user protocol, written out so the models need no Flask.
    # The id it keeps in the cookie is the login session's, not the user's.
    is_authenticated = True
    is_anonymous = False
    login_session_id = None  # set by the user loader for the request

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.login_session_id

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginSession(Base):
    """One browser login. Logging out or changing a password revokes rows here,
    so a copied session cookie stops working at once (cookies alone cannot be
    revoked)."""

    __tablename__ = "login_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    # The identity provider this login came through (None: a password), so
    # logging out can also end the provider's session.
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token of the HTTP API; only its SHA-256 digest is stored.

    ``login`` tokens come from an e-mail and password and expire within hours;
    ``integration`` tokens are created on a page for a program, named and scoped
    (``read``: GET only; ``book``: also create, move and cancel own bookings)."""

    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("kind IN ('login', 'integration')", name="kind_known"),
        CheckConstraint("scope IN ('read', 'book', 'full')", name="scope_known"),
        # A login token always expires and may do all its user may; an
        # integration token is named, never 'full', and may live for ever.
        CheckConstraint("kind = 'integration' OR (expires_at IS NOT NULL AND scope = 'full')",
                        name="login_token_expires"),
        CheckConstraint("kind = 'login' OR (name IS NOT NULL AND scope <> 'full')",
                        name="integration_token_named"),
        Index("ix_api_token_user_id_expires_at", "user_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(12), default="login")
    name: Mapped[str | None] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(8), default="full")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
