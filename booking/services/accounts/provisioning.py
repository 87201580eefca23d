"""Accounts made and kept up to date by an identity provider's word.

The first sign-in through a provider creates the account (just in time) in the
provider's establishment, with the role its rules give; later sign-ins update
the name and the e-mail address. An account is found by the provider's stable
subject only: an e-mail address that some account already uses is refused,
not taken over (a provider may let anyone choose an address). The account's
own state wins over the provider's word: a deactivated account stays out.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.accounts.operations import normalise_email
from booking.services.errors import N_, DomainError, ValidationError
from booking.services.inputs import text_problem
from models import IdentityLink, IdentityProvider, Role, User

RANK = {"trainer": 1, "coordinator": 2}
EMAIL_ATTRIBUTES = ("email", "mail", "urn:oid:0.9.2342.19200300.100.1.3")
NAME_ATTRIBUTES = ("name", "displayName", "cn", "urn:oid:2.16.840.1.113730.3.1.241")
MAX_SUBJECT = 255
MAX_NAME = 200


class SignInRefused(DomainError):
    """The provider vouched for someone we do not let in; the page says why."""

    code = "sign_in_refused"
    status = 403


def _clean(value: object, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    if not value or len(value) > limit:
        return None
    return value if text_problem(value) is None else None


def _first(attributes: dict[str, list[str]], names: tuple[str, ...]) -> str | None:
    for name in names:
        for value in attributes.get(name) or ():
            cleaned = _clean(value, MAX_NAME)
            if cleaned:
                return cleaned
    return None


def email_of(provider: IdentityProvider, attributes: dict[str, list[str]]) -> str | None:
    configured = provider.settings.get("email_attribute")
    return _first(attributes, (configured,) if configured else EMAIL_ATTRIBUTES)


def name_of(provider: IdentityProvider, attributes: dict[str, list[str]]) -> str | None:
    configured = provider.settings.get("name_attribute")
    if configured:
        return _first(attributes, (configured,))
    name = _first(attributes, NAME_ATTRIBUTES)
    if name:
        return name
    parts = [_first(attributes, (key,)) for key in ("givenName", "given_name", "sn",
                                                    "family_name")]
    return _clean(" ".join(p for p in parts if p), MAX_NAME)


def role_of(provider: IdentityProvider, attributes: dict[str, list[str]]) -> str | None:
    """The highest role any rule gives (values compared exactly, each of a
    multi-valued attribute), else the provider's default, else None."""
    best = None
    for rule in provider.role_rules or ():
        values = attributes.get(rule["attribute"]) or ()
        if rule["value"] in values and (best is None or RANK[rule["role"]] > RANK[best]):
            best = rule["role"]
    return best or provider.default_role


def sign_in(session: Session, provider: IdentityProvider, subject: str,
            attributes: dict[str, list[str]], *, now: datetime) -> User:
    """The account ``provider`` vouches for as ``subject``; created at the first
    sign-in. Raises SignInRefused with the reason (nothing written then)."""
    label = provider.label
    if not provider.enabled:
        raise SignInRefused(N_("Sign-in through %(provider)s is turned off."), provider=label)
    subject = _clean(subject, MAX_SUBJECT) or ""
    if not subject:
        raise SignInRefused(N_("%(provider)s did not say who you are (no identifier)."),
                            provider=label)
    role = role_of(provider, attributes)
    link = session.scalar(select(IdentityLink).where(
        IdentityLink.provider_id == provider.id, IdentityLink.subject == subject))
    if link is not None:
        user = link.user
        if not user.active:
            raise SignInRefused(N_("Your account here is deactivated; a coordinator or an "
                                   "administrator of the platform can reactivate it."))
        if role is None:
            raise _no_role(provider)
        _update(session, user, provider, attributes)
        link.last_sign_in_at = now
        session.flush()
        return user

    if role is None:
        raise _no_role(provider)
    raw_email = email_of(provider, attributes)
    if raw_email is None:
        raise SignInRefused(N_("%(provider)s did not give your e-mail address; the platform "
                               "needs it to send your bookings."), provider=label)
    try:
        email = normalise_email(raw_email)
    except ValidationError:
        raise SignInRefused(N_("%(provider)s gave an e-mail address that is not valid: "
                               "“%(value)s”."), provider=label, value=raw_email) from None
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        # Never linked by the address alone: whoever controls an address at a
        # provider would otherwise take over the account that uses it here.
        raise SignInRefused(
            N_("An account of the platform already uses %(email)s. An administrator can "
               "link it to %(provider)s; then sign in again."), email=email, provider=label,
            code="email_taken")
    user = User(email=email, name=name_of(provider, attributes) or email.split("@")[0],
                role=Role(role), establishment_id=provider.establishment_id,
                # No password: one can be chosen through « Mot de passe oublié »
                # if the establishment allows passwords.
                password_hash="!sso:" + secrets.token_urlsafe(16),
                created_at=now, password_changed_at=now)
    session.add(user)
    session.flush()
    session.add(IdentityLink(provider_id=provider.id, subject=subject, user_id=user.id,
                             created_at=now, last_sign_in_at=now))
    session.flush()
    audit.record(session, actor=None, action="user.create", object_type="user",
                 object_id=user.id, now=now, role=role, email=email, provider=provider.code)
    return user


def _no_role(provider: IdentityProvider) -> SignInRefused:
    return SignInRefused(
        N_("%(provider)s knows you, but nothing it says about you gives a role on the "
           "platform (trainer or coordinator). Ask your establishment's coordinator."),
        provider=provider.label, code="no_role")


def _update(session: Session, user: User, provider: IdentityProvider,
            attributes: dict[str, list[str]]) -> None:
    """Name and e-mail as the provider knows them now; an address another
    account uses is left as it was (never two accounts on one address)."""
    name = name_of(provider, attributes)
    if name and name != user.name:
        user.name = name
    raw = email_of(provider, attributes)
    if raw:
        try:
            email = normalise_email(raw)
        except ValidationError:
            return
        if email != user.email and session.scalar(
                select(User.id).where(User.email == email)) is None:
            user.email = email


def link_account(session: Session, provider: IdentityProvider, subject: str, user: User, *,
                 actor: User | None, now: datetime) -> IdentityLink:
    """An admin vouches that ``subject`` at ``provider`` is ``user`` (an account
    that existed before its establishment's provider)."""
    if actor is not None:
        require(actor, "manage", user)
    cleaned = _clean(subject, MAX_SUBJECT)
    if not cleaned:
        raise ValidationError(N_("This field is required."), {"field": "subject"})
    if session.scalar(select(IdentityLink.id).where(
            IdentityLink.provider_id == provider.id, IdentityLink.subject == cleaned)):
        raise ValidationError(N_("This identifier of %(provider)s is already linked to an "
                                 "account."), {"field": "subject"}, provider=provider.label)
    link = IdentityLink(provider_id=provider.id, subject=cleaned, user_id=user.id,
                        created_at=now)
    session.add(link)
    session.flush()
    audit.record(session, actor=actor, action="user.link", object_type="user", object_id=user.id,
                 now=now, provider=provider.code)
    return link
