"""The feeds API: secret calendar URLs of one scope, owned by their creator.

A user lists and deletes only their own feeds; another's feed, like a scope
the user may not open, is answered 404.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso, page
from booking.api.fields import DATE_TIME, PageArgs, object_id, page_of
from booking.extensions import db
from booking.handlers import commit
from booking.public_url import public_url
from booking.services.errors import N_, NotFound
from booking.services.feeds import operations as feeds
from booking.timeutil import utc_now
from models import Feed, FeedScope

blp = Blueprint("Feeds", __name__, url_prefix="/api/v1/feeds",
                description="Secret iCalendar feed URLs, one scope each.")
BLUEPRINTS = [blp]


class FeedSchema(Schema):
    id = fields.Integer(dump_only=True)
    scope = fields.Enum(FeedScope, by_value=True, required=True)
    scope_id = object_id(required=True)
    url = fields.String(dump_only=True, metadata={"format": "uri"})
    webcal_url = fields.String(dump_only=True, metadata={"format": "uri"})
    created_at = fields.String(dump_only=True, metadata=DATE_TIME)


def _out(feed: Feed) -> dict[str, Any]:
    urls = feeds.feed_urls(feed, key=current_app.config["SECRET_KEY"],
                           base_url=public_url())
    return {"id": feed.id, "scope": feed.scope, "scope_id": feed.scope_id, "url": urls.url,
            "webcal_url": urls.webcal_url,
            "created_at": local_iso(feed.created_at, current_app.config["DISPLAY_TIMEZONE"])}


def _own_feed(feed_id: int) -> Feed:
    """The caller's live feed (booking.permissions: its owner, or an admin); a
    revoked one is gone (404)."""
    feed = load(Feed, feed_id, api_user(), "delete")
    if feed.revoked_at is not None:
        raise NotFound(N_("No feed %(id)s."), id=feed_id)
    return feed


@blp.route("", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(FeedSchema))
def list_feeds(args: dict[str, Any]) -> dict[str, Any]:
    """The caller's own live feeds, oldest first."""
    stmt = (select(Feed).where(Feed.owner_id == api_user().id, Feed.revoked_at.is_(None))
            .order_by(Feed.id))
    result = page(stmt, args)
    result["items"] = [_out(feed) for feed in result["items"]]
    return result


@blp.route("", methods=["POST"])
@blp.arguments(FeedSchema)
@blp.response(201, FeedSchema)
def create_feed(body: dict[str, Any]) -> dict[str, Any]:
    """A new feed URL of a scope the caller may see (else 404)."""
    feed = feeds.create_feed(db.session, actor=api_user(), now=utc_now(),
                             key=current_app.config["SECRET_KEY"], **body)
    commit()
    return _out(feed)


@blp.route("/<id:feed_id>/regenerate", methods=["POST"])
@blp.response(200, FeedSchema)
def regenerate_feed(feed_id: int) -> dict[str, Any]:
    """A new URL for the feed; the old one answers 404 at once."""
    feed = _own_feed(feed_id)
    feeds.regenerate_feed(db.session, feed, actor=api_user(), now=utc_now(),
                          key=current_app.config["SECRET_KEY"])
    commit()
    return _out(feed)


@blp.route("/<id:feed_id>", methods=["DELETE"])
@blp.response(204)
def delete_feed(feed_id: int) -> None:
    """Revoke the feed: its URL answers 404 at once."""
    feed = _own_feed(feed_id)
    feeds.revoke_feed(db.session, feed, actor=api_user(), now=utc_now())
    commit()
