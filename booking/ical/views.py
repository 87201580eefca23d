"""GET /ical/<token>.ics: a feed, for calendar apps (no session, no cookie).

An unknown, revoked or no longer allowed token is a 404 at once. Clients that
send If-None-Match or If-Modified-Since get a 304 while nothing changed; the
body is built only when it did. The token is never logged by the app.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, abort, request

from booking.extensions import db
from booking.public_url import public_url
from booking.services.feeds.content import feed_bookings, fingerprint
from booking.services.feeds.ical import Audience, calendar_of, to_bytes
from booking.services.feeds.operations import feed_for_token, scope_target
from booking.timeutil import utc_now
from models import Feed, FeedScope

bp = Blueprint("ical", __name__)

NAMES = {
    FeedScope.EQUIPMENT: "{name}", FeedScope.ESTABLISHMENT: "{name}",
    FeedScope.TRAINER: "Agenda — {name}", FeedScope.PROJECT: "Projet — {title}",
    FeedScope.COMPANY: "{name}",
}


def _calendar_name(feed: Feed) -> str:
    target = scope_target(db.session, feed.scope, feed.scope_id)
    template = NAMES[feed.scope]
    return "Plateforme — " + template.format(name=getattr(target, "name", ""),
                                             title=getattr(target, "title", ""))


@bp.route("/ical/<token>.ics")
def feed(token: str) -> Response:
    found = feed_for_token(db.session, token)
    if found is None:
        abort(404)
    now = utc_now()
    stamp = fingerprint(db.session, found, now)
    headers = {"ETag": stamp.etag, "Cache-Control": "private, max-age=300"}
    if stamp.last_change is not None:
        headers["Last-Modified"] = stamp.last_change.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if _not_modified(stamp):
        return Response(status=304, headers=headers)
    bookings = feed_bookings(db.session, found, now)
    cal = calendar_of(bookings, name=_calendar_name(found), now=now,
                      base_url=public_url(), audience=Audience(details=True))
    body = to_bytes(cal)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    headers["Vary"] = "Accept-Encoding"
    return Response(body, mimetype="text/calendar", content_type="text/calendar; charset=utf-8",
                    headers=headers)


def _not_modified(stamp: object) -> bool:
    etag = getattr(stamp, "etag", None)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*"
    since = request.if_modified_since
    last = getattr(stamp, "last_change", None)
    return since is not None and last is not None and last.replace(microsecond=0) <= since
