"""Kiosk links: made, listed and revoked like calendar feeds (see
booking.services.feeds.operations, whose token helpers they share).

A link keeps a random ``secret``; its token is ``sealed_token("kiosk", id,
secret, SECRET_KEY)`` and only the SHA-256 of the token is stored, so the URL
can be shown again to the coordinators while a copy of the database alone
opens no screen. Revoking sets ``revoked_at``: the URL answers 404 at once,
like an unknown token, and nothing is written when a screen asks.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from booking.permissions import coordinates, is_admin, require
from booking.services import audit
from booking.services.errors import N_, NotFound
from booking.services.feeds.operations import digest, sealed_token, usable_token
from booking.services.kiosk.access import KioskTarget
from models import Equipment, EquipmentStatus, Establishment, KioskLink, KioskScope, User

PURPOSE = "kiosk"
MAX_LABEL_LENGTH = 120


def kiosk_token(link: KioskLink, key: str) -> str:
    return sealed_token(PURPOSE, link.id, link.secret, key)


def kiosk_url(link: KioskLink, *, key: str, base_url: str) -> str:
    """The absolute ``https://…/kiosk/TOKEN`` address of the screen."""
    return f"{base_url.rstrip('/')}/kiosk/{kiosk_token(link, key)}"


def target_of(session: Session, scope: KioskScope, target_id: int) -> KioskTarget | None:
    model = Equipment if scope is KioskScope.EQUIPMENT else Establishment
    found = session.get(model, target_id)
    return KioskTarget(scope, found) if found is not None else None


def link_target(session: Session, link: KioskLink) -> KioskTarget | None:
    if link.scope is KioskScope.EQUIPMENT:
        return target_of(session, link.scope, link.equipment_id or 0)
    return target_of(session, link.scope, link.establishment_id or 0)


def create_link(session: Session, *, actor: User, now: datetime, scope: KioskScope,
                target_id: int, label: str, key: str) -> KioskLink:
    """A new screen link for a site or a machine the actor coordinates.
    Someone who holds no links at all is refused (403); a site or machine of
    another establishment is answered as unknown (404)."""
    require(actor, "manage", KioskLink)
    target = target_of(session, scope, target_id)
    if target is None:
        raise NotFound(N_("Not found."))
    require(actor, "create", target)
    link = KioskLink(scope=scope, label=label.strip()[:MAX_LABEL_LENGTH],
                     secret=secrets.token_hex(16), created_by_id=actor.id, created_at=now,
                     # The token needs the id: a unique placeholder until the flush.
                     token_hash="unsealed-" + secrets.token_hex(16))
    if scope is KioskScope.EQUIPMENT:
        link.equipment_id = target_id
    else:
        link.establishment_id = target_id
    session.add(link)
    session.flush()
    link.token_hash = digest(kiosk_token(link, key))
    session.flush()
    audit.record(session, actor=actor, action="kiosk.create", object_type="kiosk_link",
                 object_id=link.id, now=now, scope=scope.value, target_id=target_id)
    return link


def load_link(session: Session, link_id: int, *, actor: User) -> KioskLink:
    """A live link the actor may revoke: 403 for who holds none, 404 when it is
    unknown, revoked, or another establishment's."""
    require(actor, "manage", KioskLink)
    link = session.get(KioskLink, link_id)
    target = link_target(session, link) if link is not None else None
    if link is None or link.revoked_at is not None or target is None:
        raise NotFound(N_("Not found."))
    require(actor, "revoke", target)
    return link


def revoke_link(session: Session, link: KioskLink, *, actor: User, now: datetime) -> None:
    target = link_target(session, link)
    if target is None:
        raise NotFound(N_("Not found."))
    require(actor, "revoke", target)
    if link.revoked_at is None:
        link.revoked_at = now
        session.flush()
        audit.record(session, actor=actor, action="kiosk.revoke", object_type="kiosk_link",
                     object_id=link.id, now=now)


def link_for_token(session: Session, token: str) -> KioskLink | None:
    """The live link of a token from a URL, or None (the caller answers 404):
    unknown or revoked token, or a machine that no longer exists. Read only."""
    if not usable_token(token):
        return None
    link = session.scalar(select(KioskLink).where(KioskLink.token_hash == digest(token)))
    if link is None or link.revoked_at is not None:
        return None
    return link


def live_links(actor: User) -> Select[tuple[KioskLink]]:
    """The live links the actor sees: an admin's, every one; a coordinator's,
    those of their establishment and its machines."""
    stmt = select(KioskLink).where(KioskLink.revoked_at.is_(None)).order_by(KioskLink.id)
    if is_admin(actor):
        return stmt
    if not coordinates(actor, actor.establishment_id):
        return stmt.where(false())  # nobody else holds links
    return stmt.where(or_(
        KioskLink.establishment_id == actor.establishment_id,
        KioskLink.equipment_id.in_(select(Equipment.id).where(
            Equipment.establishment_id == actor.establishment_id))))


def linkable(session: Session, actor: User) -> list[KioskTarget]:
    """What the actor may make a screen link for: each site they coordinate,
    then its machines (retired ones aside)."""
    sites = select(Establishment).order_by(Establishment.city, Establishment.name)
    machines = (select(Equipment).where(Equipment.status != EquipmentStatus.RETIRED)
                .order_by(Equipment.name, Equipment.code))
    if not is_admin(actor):
        sites = sites.where(Establishment.id == actor.establishment_id)
        machines = machines.where(Equipment.establishment_id == actor.establishment_id)
    found = [KioskTarget(KioskScope.ESTABLISHMENT, e) for e in session.scalars(sites)]
    found += [KioskTarget(KioskScope.EQUIPMENT, e) for e in session.scalars(machines)]
    return [t for t in found if coordinates(actor, t.establishment_id)]
