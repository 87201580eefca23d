"""Identity providers of the establishments, and the accounts they vouch for.

An establishment may sign its people in through its own OpenID Connect, CAS,
SAML or LDAP service. An account is tied to a provider by the provider's
stable subject (``sub``, the CAS user, the SAML NameID or attribute, the LDAP
``entryUUID``), never by the e-mail address alone: an address can be re-used
or changed at the provider, a subject cannot.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow

if TYPE_CHECKING:
    from models.establishment import Establishment
    from models.user import User

PROVIDER_KINDS = ("oidc", "cas", "saml", "ldap")


class IdentityProvider(Base):
    __tablename__ = "identity_provider"
    __table_args__ = (
        CheckConstraint("kind IN ('oidc', 'cas', 'saml', 'ldap')", name="kind_known"),
        # The code is a path segment of the provider's URLs (/auth/sso/<code>/...).
        CheckConstraint("length(code) BETWEEN 2 AND 40", name="code_length"),
        CheckConstraint("length(label) > 0", name="label_not_empty"),
        CheckConstraint("default_role IS NULL OR default_role IN ('trainer', 'coordinator')",
                        name="default_role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    # What the login button says: « Se connecter avec <label> ».
    label: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(default=True)
    # The protocol's own settings (issuer, client id, server URL, metadata, LDAP
    # base...), checked by booking/services/accounts/providers.py.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"attribute": "eduPersonAffiliation", "value": "staff", "role": "trainer"}, ...]:
    # the highest role any rule gives; default_role when none matches; no role
    # at all refuses the sign-in. Never admin: an administrator is made here.
    role_rules: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    default_role: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    establishment: Mapped[Establishment] = relationship()

    def __repr__(self) -> str:
        return f"<IdentityProvider {self.code} {self.kind}>"


class IdentityLink(Base):
    """This provider's subject is this account."""

    __tablename__ = "identity_link"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("identity_provider.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]

    provider: Mapped[IdentityProvider] = relationship()
    user: Mapped[User] = relationship()


class AnsweredSignInRequest(Base):
    """A SAML AuthnRequest whose answer was accepted: the same answer posted
    again (a replay) finds its id here. Kept until the request could no longer
    be answered anyway; shared by every worker and host through the database
    (the unique key decides which of two concurrent posts wins)."""

    __tablename__ = "sso_answered_request"

    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
