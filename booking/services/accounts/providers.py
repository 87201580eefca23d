"""The establishments' identity providers: what an admin configures.

Each protocol checks its own settings (``check_settings`` of its module in
``booking/auth/sso``); this module checks what they share: a code usable in a
URL, a label, the attribute-to-role rules, and the establishment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, ValidationError
from models import PROVIDER_KINDS, Establishment, IdentityLink, IdentityProvider, User

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MAPPED_ROLES = ("trainer", "coordinator")  # never admin, never a company's
MAX_RULES = 50
MAX_TEXT = 200
# More enabled providers than this and the login page asks for the establishment first.
BUTTONS_ON_LOGIN = 4
# Settings never shown back (pages, API, audit): each secret, and the setting it
# belongs with (None: the provider itself). An update that leaves a secret out
# keeps the stored one while what it belongs with is still set.
SECRETS: dict[str, str | None] = {"client_secret": None, "bind_password": "bind_dn"}


def public_settings(provider: IdentityProvider) -> dict[str, Any]:
    """The settings an admin may read back: every one but the secrets."""
    return {k: v for k, v in (provider.settings or {}).items() if k not in SECRETS}


def secrets_set(provider: IdentityProvider) -> dict[str, bool]:
    """Which secrets are stored (``{"client_secret": True}``), never their value."""
    settings = provider.settings or {}
    return {key: bool(settings.get(key)) for key in SECRETS if key in settings}


def _keep_secrets(stored: dict[str, Any], wanted: dict[str, Any],
                  forget: Any = ()) -> dict[str, Any]:
    """``wanted`` with each stored secret it leaves out (or empty) put back, unless
    ``forget`` names it or what it belongs with is gone (no bind_dn: no password)."""
    merged = dict(wanted)
    for key, companion in SECRETS.items():
        if merged.get(key) not in (None, "") or not stored.get(key):
            continue
        merged.pop(key, None)
        if key in (forget or ()) or (companion is not None and not merged.get(companion)):
            continue
        merged[key] = stored[key]
    return merged


def _text(value: Any, field: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(N_("This field is required."), {"field": field})
    value = value.strip()
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise ValidationError(N_("This value is too long or holds control characters."),
                              {"field": field})
    return value


def check_rules(rules: Any) -> list[dict[str, str]]:
    """``[{"attribute": ..., "value": ..., "role": "trainer"|"coordinator"}, ...]``."""
    if rules is None:
        return []
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise ValidationError(N_("The role rules must be a list of at most %(n)d rules."),
                              {"field": "role_rules"}, n=MAX_RULES)
    checked = []
    for index, item in enumerate(rules):
        field = f"role_rules.{index}"
        if not isinstance(item, dict):
            raise ValidationError(N_("Each role rule names an attribute, a value and a role."),
                                  {"field": field})
        role = item.get("role")
        if role not in MAPPED_ROLES:
            raise ValidationError(N_("A rule gives the role trainer or coordinator."),
                                  {"field": field + ".role"})
        checked.append({"attribute": _text(item.get("attribute"), field + ".attribute"),
                        "value": _text(item.get("value"), field + ".value"),
                        "role": role})
    return checked


def _check(session: Session, *, kind: str, code: str, label: str, settings: Any,
           role_rules: Any, default_role: str | None, provider_id: int | None = None,
           ) -> dict[str, Any]:
    from booking.auth.sso import adapter

    if kind not in PROVIDER_KINDS:
        raise ValidationError(N_("Unknown kind of identity provider “%(value)s”."),
                              {"field": "kind"}, value=kind)
    code = (code or "").strip().lower()
    if not CODE.match(code):
        raise ValidationError(
            N_("The code is 2 to 40 lower-case letters, digits or dashes: it is part of the "
               "provider's addresses."), {"field": "code"})
    taken = session.scalar(select(IdentityProvider.id).where(IdentityProvider.code == code))
    if taken is not None and taken != provider_id:
        raise ValidationError(N_("Another identity provider has the code “%(value)s”."),
                              {"field": "code"}, value=code)
    if default_role not in (None, "", *MAPPED_ROLES):
        raise ValidationError(N_("A rule gives the role trainer or coordinator."),
                              {"field": "default_role"})
    if not isinstance(settings, dict):
        raise ValidationError(N_("The settings must be an object."), {"field": "settings"})
    return {
        "kind": kind, "code": code, "label": _text(label, "label", limit=120),
        "settings": adapter(kind).check_settings(settings),
        "role_rules": check_rules(role_rules), "default_role": default_role or None,
    }


def create_provider(session: Session, *, actor: User | None, establishment: Establishment,
                    kind: str, code: str, label: str, settings: Any, role_rules: Any = None,
                    default_role: str | None = None, enabled: bool = True,
                    now: datetime) -> IdentityProvider:
    """``actor`` None: the command line (whoever runs it holds the server)."""
    if actor is not None:
        require(actor, "create", IdentityProvider)
    fields = _check(session, kind=kind, code=code, label=label, settings=settings,
                    role_rules=role_rules, default_role=default_role)
    provider = IdentityProvider(establishment_id=establishment.id, enabled=enabled,
                                created_at=now, **fields)
    session.add(provider)
    session.flush()
    audit.record(session, actor=actor, action="provider.create", object_type="identity_provider",
                 object_id=provider.id, now=now, code=provider.code, kind=kind,
                 establishment=establishment.code)
    return provider


def update_provider(session: Session, provider: IdentityProvider, *, actor: User | None,
                    now: datetime, **changes: Any) -> IdentityProvider:
    """Change any of label, code, settings, role_rules, default_role, enabled;
    the kind and the establishment stay (accounts are linked to them).

    ``settings`` replaces the settings, except that a secret it leaves out or
    empty (``client_secret``, ``bind_password``: they are never shown back, so a
    form cannot send them again) keeps its stored value; ``forget_secrets``
    (names of secrets) drops stored ones, e.g. to make an OIDC client public."""
    if actor is not None:
        require(actor, "manage", provider)
    current = {"kind": provider.kind, "code": provider.code, "label": provider.label,
               "settings": provider.settings, "role_rules": provider.role_rules,
               "default_role": provider.default_role}
    wanted = {**current, **{k: v for k, v in changes.items() if k in current and k != "kind"}}
    forget = changes.get("forget_secrets") or ()
    stored = provider.settings or {}
    if "settings" in changes and isinstance(wanted["settings"], dict):
        wanted["settings"] = _keep_secrets(stored, wanted["settings"], forget)
    elif forget:
        wanted["settings"] = {k: v for k, v in stored.items() if k not in forget}
    fields = _check(session, provider_id=provider.id, **wanted)
    for key, value in fields.items():
        setattr(provider, key, value)
    if "enabled" in changes:
        provider.enabled = bool(changes["enabled"])
    session.flush()
    audit.record(session, actor=actor, action="provider.update", object_type="identity_provider",
                 object_id=provider.id, now=now, changed=sorted(changes))
    return provider


def delete_provider(session: Session, provider: IdentityProvider, *, actor: User | None,
                    now: datetime) -> None:
    """The accounts stay (with their bookings); their links to it go."""
    if actor is not None:
        require(actor, "manage", provider)
    audit.record(session, actor=actor, action="provider.delete", object_type="identity_provider",
                 object_id=provider.id, now=now, code=provider.code)
    session.delete(provider)
    session.flush()


def unlink_account(session: Session, link: IdentityLink, *, actor: User | None,
                   now: datetime) -> None:
    """The account no longer signs in through that provider's subject (it stays,
    with its password if it has one); the subject may then be linked anew."""
    if actor is not None:
        require(actor, "manage", link.user)
    audit.record(session, actor=actor, action="user.unlink", object_type="user",
                 object_id=link.user_id, now=now, provider=link.provider.code)
    session.delete(link)
    session.flush()


def linked_accounts(session: Session, provider_ids: list[int]) -> dict[int, int]:
    """How many accounts each provider signs in."""
    if not provider_ids:
        return {}
    return dict(session.execute(
        select(IdentityLink.provider_id, func.count()).where(
            IdentityLink.provider_id.in_(provider_ids)).group_by(IdentityLink.provider_id)
    ).all())


def set_local_passwords(session: Session, establishment: Establishment, allowed: bool, *,
                        actor: User | None, now: datetime) -> None:
    """Off: the establishment's trainers and coordinators sign in only through its
    providers. Refused while it has no enabled provider: nobody could sign in."""
    if actor is not None:
        require(actor, "manage", establishment)
    if not allowed and not enabled_providers(session, establishment_id=establishment.id):
        raise ValidationError(
            N_("Turn passwords off only once the establishment has an enabled identity "
               "provider: its people could no longer sign in."), {"field": "local_passwords"})
    establishment.local_passwords = allowed
    session.flush()
    audit.record(session, actor=actor, action="establishment.local_passwords",
                 object_type="establishment", object_id=establishment.id, now=now,
                 allowed=allowed)


def enabled_providers(session: Session, *, establishment_id: int | None = None,
                      ) -> list[IdentityProvider]:
    """What the login page offers, by establishment then label."""
    query = (select(IdentityProvider).join(Establishment)
             .where(IdentityProvider.enabled.is_(True))
             .order_by(Establishment.name, IdentityProvider.label))
    if establishment_id is not None:
        query = query.where(IdentityProvider.establishment_id == establishment_id)
    return list(session.scalars(query))


def provider_by_code(session: Session, code: str) -> IdentityProvider | None:
    if not CODE.match(code or ""):
        return None
    return session.scalar(select(IdentityProvider).where(IdentityProvider.code == code))
