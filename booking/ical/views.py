"""GET /ical/<token>.ics: a feed, for calendar apps (no session, no cookie).

An unknown, revoked or no longer allowed token is a 404 at once. Clients that
send If-None-Match or If-Modified-Since get a 304 while nothing changed; the
body is built only when it did. The token is never logged by the app.

Built bodies are kept in FEED_CACHE_DIR (booking.services.feeds.cache), keyed
by the feed's scope and a digest of what the body depends on (the content
fingerprint, the calendar's name, the public address): a change is built once,
by the first request after it, while the others wait for it and serve its
bytes. The token is checked before any cached body is read.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from datetime import datetime
from typing import BinaryIO

from flask import Blueprint, Response, abort, current_app, request
from werkzeug.wsgi import wrap_file

from booking.extensions import db
from booking.public_url import public_url
from booking.services.feeds.cache import FeedCache
from booking.services.feeds.content import Fingerprint, feed_bookings, fingerprint
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
    stamp = _stamp(found, now)
    headers = {"ETag": stamp.etag, "Cache-Control": "private, max-age=300"}
    if stamp.last_change is not None:
        headers["Last-Modified"] = stamp.last_change.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if _not_modified(stamp):
        return Response(status=304, headers=headers)
    name, base_url = _calendar_name(found), public_url()
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    headers["Vary"] = "Accept-Encoding"
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    handle = _cached(found, stamp, name, base_url, now, gzipped=gzipped)
    if handle is None:  # no usable cache: built in the request, as before
        body = build(found, name=name, base_url=base_url, now=now)
        return _answer(gzip.compress(body) if gzipped else body, headers)
    response = _answer(wrap_file(request.environ, handle), headers)
    response.direct_passthrough = True  # the server may use sendfile
    response.content_length = os.fstat(handle.fileno()).st_size
    return response


def _stamp(found: Feed, now: datetime) -> Fingerprint:
    """The feed's content fingerprint: checked in the database, or as the
    scope's last check found it less than FEED_FRESH_SECONDS ago."""
    directory = current_app.config.get("FEED_CACHE_DIR")
    if not directory:
        return fingerprint(db.session, found, now)
    cache, scope = FeedCache(directory), _scope_key(found)
    max_age = float(current_app.config.get("FEED_FRESH_SECONDS", 0))
    noted = cache.recent_stamp(scope, now=now.timestamp(), max_age=max_age)
    if noted is not None:
        try:
            last = noted["last_change"]
            return Fingerprint(int(noted["count"]),
                               datetime.fromisoformat(last) if last else None,
                               int(noted["sequences"]))
        except (KeyError, TypeError, ValueError):
            pass  # a note from another version of the app: check again
    stamp = fingerprint(db.session, found, now)
    cache.note_stamp(scope, {
        "count": stamp.count, "sequences": stamp.sequences,
        "last_change": stamp.last_change.isoformat() if stamp.last_change else None,
    }, now=now.timestamp())
    return stamp


def _scope_key(found: Feed) -> str:
    return f"{found.scope.value}-{int(found.scope_id)}"


def build(found: Feed, *, name: str, base_url: str, now: datetime) -> bytes:
    """The plain body of a feed (the tests count its calls)."""
    bookings = feed_bookings(db.session, found, now)
    cal = calendar_of(bookings, name=name, now=now, base_url=base_url,
                      audience=Audience(details=True))
    return to_bytes(cal)


def _cached(found: Feed, stamp: Fingerprint, name: str, base_url: str, now: datetime, *,
            gzipped: bool) -> BinaryIO | None:
    directory = current_app.config.get("FEED_CACHE_DIR")
    if not directory:
        return None
    # Every input of the body but the clock (DTSTAMP): the same for all the
    # feeds of one scope, so subscribers of a scope share one build.
    version = hashlib.sha256(f"{stamp.etag}|{name}|{base_url}".encode()).hexdigest()[:32]
    # Whoever waits for another's build must not hold a pooled connection
    # meanwhile (20 waiters would exhaust the pool); the builder opens a new one.
    # Closing keeps ``found`` readable: nothing is expired.
    db.session.close()
    return FeedCache(directory).open(
        _scope_key(found), version,
        lambda: build(found, name=name, base_url=base_url, now=now), gzipped=gzipped)


def _answer(body: object, headers: dict[str, str]) -> Response:
    return Response(body, mimetype="text/calendar",
                    content_type="text/calendar; charset=utf-8", headers=headers)


def _not_modified(stamp: object) -> bool:
    etag = getattr(stamp, "etag", None)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match == "*"
    since = request.if_modified_since
    last = getattr(stamp, "last_change", None)
    return since is not None and last is not None and last.replace(microsecond=0) <= since
