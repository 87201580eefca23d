"""Calendar feeds: a user's secret iCalendar links.

Each link shows one scope (a trainer's agenda, a machine, an establishment,
a project, a company) in the user's calendar app. The links themselves are
served by /ical/<token>.ics; here they are listed, created, replaced and
revoked, through booking.services.feeds like the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.calendars.forms import NewFeedForm, RegenerateFeedForm, RevokeFeedForm
from booking.extensions import db
from booking.handlers import commit, get_or_404, submit
from booking.labels import SCOPE_LABELS
from booking.public_url import public_url
from booking.services.errors import N_, Conflict, NotFound
from booking.services.feeds import operations as feeds
from booking.services.feeds.access import followable, may_follow
from booking.timeutil import utc_now
from models import (
    Feed,
    FeedScope,
    User,
)

bp = Blueprint("calendars", __name__, url_prefix="/calendars")


@dataclass(frozen=True)
class FeedRow:
    feed: Feed
    scope_label: str
    name: str
    url: str
    webcal_url: str
    live: bool  # False when the scope is gone or no longer open to the owner


def _name(scope: FeedScope, target: Any, user: User) -> str:
    if target is None:
        return _("(no longer exists)")
    if scope is FeedScope.TRAINER:
        return _("My agenda") if target.id == user.id else target.name
    if scope is FeedScope.EQUIPMENT:
        return f"{target.name} ({target.code})"
    if scope is FeedScope.ESTABLISHMENT:
        return f"{target.name} ({target.city})"
    if scope is FeedScope.PROJECT:
        return target.title
    return target.name


def _targets(user: User) -> list[tuple[FeedScope, Any]]:
    """Candidates for a new feed (booking.services.feeds.access.followable)."""
    return [(s.scope, s.target) for s in followable(db.session, user)]


def _new_feed_form(user: User) -> NewFeedForm:
    form = NewFeedForm()
    form.target.choices = [
        SelectChoice(f"{scope.value}:{target.id}", _name(scope, target, user),
                     optgroup=str(SCOPE_LABELS[scope]))
        for scope, target in _targets(user)]
    if request.method == "GET" and request.args.get("follow"):
        form.target.data = request.args["follow"]
    return form


def _rows(user: User) -> list[FeedRow]:
    key, base_url = current_app.config["SECRET_KEY"], public_url()
    rows = []
    for feed in db.session.scalars(select(Feed).where(
            Feed.owner_id == user.id, Feed.revoked_at.is_(None)).order_by(Feed.id)):
        target = feeds.scope_target(db.session, feed.scope, feed.scope_id)
        urls = feeds.feed_urls(feed, key=key, base_url=base_url)
        rows.append(FeedRow(feed, str(SCOPE_LABELS[feed.scope]),
                            _name(feed.scope, target, user), urls.url, urls.webcal_url,
                            target is not None and may_follow(user, feed.scope, target)))
    return rows


def _page(form: NewFeedForm) -> str:
    return render_template("calendars/feeds.html", rows=_rows(current_user), form=form)


def _load(feed_id: int) -> Feed:
    """The user's live feed: 404 if unknown, revoked or someone else's."""
    feed = get_or_404(Feed, feed_id, current_user, "delete")
    if feed.revoked_at is not None:
        raise NotFound(N_("Not found."))
    return feed


@bp.route("", endpoint="feeds")
@login_required
def feeds_page() -> str:
    return _page(_new_feed_form(current_user))


@bp.route("/new", methods=["POST"])
@login_required
def create() -> str | Response:
    form = _new_feed_form(current_user)
    if not form.validate_on_submit():
        return _page(form)
    scope_value, _sep, raw_id = form.target.data.partition(":")
    scope, scope_id = FeedScope(scope_value), int(raw_id)
    try:
        feed = feeds.create_feed(db.session, actor=current_user, now=utc_now(), scope=scope,
                                 scope_id=scope_id, key=current_app.config["SECRET_KEY"])
    except Conflict as already:
        db.session.rollback()
        flash(already.message, "info")
        return redirect(url_for("calendars.feeds",
                                _anchor=f"feed-{already.details['feed_id']}"))
    commit()
    flash(_("Calendar link created: copy it into your calendar app."), "success")
    return redirect(url_for("calendars.feeds", _anchor=f"feed-{feed.id}"))


@bp.route("/<id:feed_id>/regenerate", methods=["GET", "POST"])
@login_required
def regenerate(feed_id: int) -> str | Response:
    feed = _load(feed_id)
    form = RegenerateFeedForm()
    if form.validate_on_submit() and submit(
            lambda: feeds.regenerate_feed(db.session, feed, actor=current_user, now=utc_now(),
                                          key=current_app.config["SECRET_KEY"]),
            success=_("New link made: the old one no longer works. Put the new one in your "
                      "calendar app.")):
        return redirect(url_for("calendars.feeds", _anchor=f"feed-{feed.id}"))
    return _confirm(feed, form, "regenerate")


@bp.route("/<id:feed_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(feed_id: int) -> str | Response:
    feed = _load(feed_id)
    form = RevokeFeedForm()
    if form.validate_on_submit() and submit(
            lambda: feeds.revoke_feed(db.session, feed, actor=current_user, now=utc_now()),
            success=_("Link revoked: calendars subscribed to it no longer update.")):
        return redirect(url_for("calendars.feeds"))
    return _confirm(feed, form, "revoke")


def _confirm(feed: Feed, form: Any, action: str) -> str:
    target = feeds.scope_target(db.session, feed.scope, feed.scope_id)
    return render_template("calendars/confirm.html", feed=feed, form=form, action=action,
                           scope_label=SCOPE_LABELS[feed.scope],
                           name=_name(feed.scope, target, current_user))
