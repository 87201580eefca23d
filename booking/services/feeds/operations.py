"""Secret calendar feed URLs (see models.feed).

A feed keeps a random ``secret``; its token is the HMAC-SHA256, under the
app's SECRET_KEY, of ``feed:{id}:{secret}`` (256 bits, URL-safe base64), and
only the SHA-256 of the token is stored. The URL can be shown again (it is
rebuilt from the secret and the key) while a copy of the database alone
opens no feed. Revoking sets ``revoked_at``: the URL answers 404 at once.
Rotating SECRET_KEY changes every token: feeds must then be regenerated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, Conflict, NotFound
from booking.services.feeds.access import may_follow
from models import Company, Equipment, Establishment, Feed, FeedScope, Project, User

SCOPE_MODELS: dict[FeedScope, type] = {
    FeedScope.EQUIPMENT: Equipment,
    FeedScope.ESTABLISHMENT: Establishment,
    FeedScope.TRAINER: User,
    FeedScope.PROJECT: Project,
    FeedScope.COMPANY: Company,
}
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class FeedUrls:
    url: str
    webcal_url: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sealed_token(purpose: str, object_id: int, secret: str, key: str) -> str:
    """The token of a secret link: HMAC-SHA256 of ``purpose:id:secret`` under
    ``key`` (URL-safe base64). Feeds and kiosk links (booking.services.kiosk)
    share it; the purpose keeps one kind's token from opening another's."""
    mac = hmac.new(key.encode(), f"{purpose}:{object_id}:{secret}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def usable_token(token: str) -> bool:
    """A token worth looking up: short ASCII (anything else is answered 404)."""
    return bool(token) and len(token) <= MAX_TOKEN_LENGTH and token.isascii()


def feed_token(feed: Feed, key: str) -> str:
    return sealed_token("feed", feed.id, feed.secret, key)


def feed_urls(feed: Feed, *, key: str, base_url: str) -> FeedUrls:
    """The absolute ``https://…/ical/TOKEN.ics`` URL, and its ``webcal://`` twin."""
    url = f"{base_url.rstrip('/')}/ical/{feed_token(feed, key)}.ics"
    return FeedUrls(url, "webcal://" + url.split("://", 1)[-1])


def scope_target(session: Session, scope: FeedScope, scope_id: int) -> Any | None:
    """The object a feed shows, or None. A trainer feed is any account's agenda
    as a trainer, except a company account's (it runs no sessions)."""
    return session.get(SCOPE_MODELS[scope], scope_id)


def _seal(feed: Feed, key: str) -> None:
    feed.secret = secrets.token_hex(16)
    if feed.id is not None:
        feed.token_hash = digest(feed_token(feed, key))
    else:
        # The token needs the id: a unique placeholder until the first flush.
        feed.token_hash = "unsealed-" + secrets.token_hex(16)


def create_feed(session: Session, *, actor: User, now: datetime, scope: FeedScope,
                scope_id: int, key: str) -> Feed:
    """A new feed of ``scope``/``scope_id`` owned by ``actor``. A scope the actor
    may not follow (feeds.access.subscribe) is answered as unknown; a scope
    the actor already follows with a live feed is a conflict naming that feed."""
    target = scope_target(session, scope, scope_id)
    if target is None or not may_follow(actor, scope, target):
        raise NotFound(N_("No “%(scope)s” %(id)s to follow."), {"scope": scope.value},
                       scope=scope, id=scope_id)
    existing = live_feed(session, actor, scope, scope_id)
    if existing is not None:
        raise Conflict(N_("You already have a link for this calendar."),
                       {"feed_id": existing.id})
    feed = Feed(owner_id=actor.id, scope=scope, scope_id=scope_id, created_at=now)
    _seal(feed, key)
    try:
        with session.begin_nested():  # a concurrent twin meets the unique index (0005)
            session.add(feed)
    except IntegrityError:
        existing = live_feed(session, actor, scope, scope_id)
        raise Conflict(N_("You already have a link for this calendar."),
                       {"feed_id": existing.id if existing else None}) from None
    feed.token_hash = digest(feed_token(feed, key))
    session.flush()
    audit.record(session, actor=actor, action="feed.create", object_type="feed",
                 object_id=feed.id, now=now, scope=scope.value, scope_id=scope_id)
    return feed


def regenerate_feed(session: Session, feed: Feed, *, actor: User, now: datetime,
                    key: str) -> Feed:
    """A new secret, hence a new URL; the old one stops working at once."""
    require(actor, "regenerate", feed)
    _seal(feed, key)
    session.flush()
    audit.record(session, actor=actor, action="feed.regenerate", object_type="feed",
                 object_id=feed.id, now=now)
    return feed


def revoke_feed(session: Session, feed: Feed, *, actor: User, now: datetime) -> None:
    require(actor, "delete", feed)
    if feed.revoked_at is None:
        feed.revoked_at = now
        session.flush()
        audit.record(session, actor=actor, action="feed.revoke", object_type="feed",
                     object_id=feed.id, now=now)


def feed_for_token(session: Session, token: str) -> Feed | None:
    """The live feed of a token from a URL, or None (the caller answers 404):
    unknown or revoked token, owner deactivated, or a scope the owner may no
    longer open (a trainer taken off a project, say)."""
    if not usable_token(token):
        return None
    feed = session.scalar(select(Feed).where(Feed.token_hash == digest(token)))
    if feed is None or feed.revoked_at is not None:
        return None
    owner = session.get(User, feed.owner_id)
    if owner is None or not owner.active:
        return None
    target = scope_target(session, feed.scope, feed.scope_id)
    if target is None or not may_follow(owner, feed.scope, target):
        return None
    return feed


def live_feed(session: Session, owner: User, scope: FeedScope, scope_id: int) -> Feed | None:
    """The owner's live feed of a scope: there is at most one."""
    return session.scalar(select(Feed).where(
        Feed.owner_id == owner.id, Feed.scope == scope, Feed.scope_id == scope_id,
        Feed.revoked_at.is_(None)).order_by(Feed.id).limit(1))
