"""Booking pages. The rules live in booking.services; these views read the
form, call the same services as the API, and put each refusal next to the
field it concerns, with the next free slots when the time was the problem."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from booking.bookings import groups
from booking.bookings.forms import (
    PURPOSE_LABELS,
    REPETITIONS,
    BookingForm,
    CancelForm,
    MoveForm,
    repetition_rule,
    scope_choices,
)
from booking.extensions import db
from booking.handlers import commit, get_or_404, place_error, submit
from booking.i18n import local_when
from booking.pagination import paginate
from booking.permissions import may
from booking.public_url import public_url
from booking.query import optional_day, optional_id
from booking.services.accounts.access import active_trainers
from booking.services.bookings.availability import next_free_slots
from booking.services.bookings.operations import ACTIVE, BookingRequest, create_booking
from booking.services.bookings.rules import required_types
from booking.services.bookings.series import (
    SeriesRefused,
    cancel_in_scope,
    create_series,
    move_in_scope,
)
from booking.services.bookings.visibility import my_bookings
from booking.services.certifications.held import types_held_by
from booking.services.equipment import hours
from booking.services.errors import DomainError
from booking.services.feeds.ical import calendar_of, to_bytes
from booking.services.inputs import ascii_file_name
from booking.services.policy import Policy
from booking.services.projects.access import awaiting_decision, bookable_projects
from booking.services.waitlist import operations as waitlist
from booking.timeutil import utc_now
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Equipment,
    EquipmentStatus,
    Project,
    User,
    WaitlistEntry,
)

bp = Blueprint("bookings", __name__, url_prefix="/bookings")

# Which form field a refusal belongs next to.
FIELD_OF_CODE = {
    "not_aligned": "start", "duration": "end", "in_past": "day", "horizon": "day",
    "outside_opening_hours": "start", "closed": "day", "conflict": "start",
    "equipment_unavailable": "equipment", "certification_required": "trainer",
}
FIELD_OF_DETAIL = {"start": "start", "end": "end", "title": "title", "trainer_id": "trainer",
                   "project_id": "project", "participants": "participants", "rrule": "rrule"}
TIME_CODES = {"not_aligned", "duration", "in_past", "outside_opening_hours", "closed",
              "conflict", "horizon"}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"purpose_labels": PURPOSE_LABELS}


def _policy() -> Policy:
    return Policy.from_config(current_app.config)


def _load(booking_id: int, action: str) -> Booking:
    return get_or_404(Booking, booking_id, current_user, action)


def _bookable() -> list[Equipment]:
    return [e for e in db.session.scalars(
        select(Equipment).options(joinedload(Equipment.establishment))
        .where(Equipment.status == EquipmentStatus.ACTIVE).order_by(Equipment.name))
        if may(current_user, "book", e)]


def _projects() -> list[Project]:
    return list(db.session.scalars(bookable_projects(current_user)))


def _certified_trainers(equipment: Equipment | None, day: date) -> list[tuple[User, bool]]:
    """Active trainers, each with whether they hold every required type on ``day``."""
    trainers = list(db.session.scalars(active_trainers()))
    needed = {t.id for t in required_types(equipment)} if equipment else set()
    held = types_held_by(db.session, [t.id for t in trainers], day)
    return [(t, needed <= held.get(t.id, set())) for t in trainers]


def _fill_choices(form: BookingForm, equipment: Equipment | None) -> None:
    form.equipment.choices = [(e.id, f"{e.name} — {e.establishment.city}") for e in _bookable()]
    form.project.choices = [(0, "—")] + [(p.id, p.title) for p in _projects()]
    if may(current_user, "book_for_others", Booking):
        day = form.day.data or utc_now().date()
        trainers = _certified_trainers(equipment, day)
        # Certified trainers first: those are the ones a coordinator should pick.
        form.trainer.choices = [(0, "—")] + [
            (t.id, t.name if ok else _("%(name)s (not certified)", name=t.name))
            for t, ok in sorted(trainers, key=lambda pair: not pair[1])]
    else:
        form.trainer.choices = [(0, "—")]


def _aware(day: date, at: time, equipment: Equipment) -> datetime:
    """Times entered in the pages are read in the equipment's zone."""
    return hours.wall_clock(day, at, hours.zone_of(equipment))


def _rule(form: BookingForm) -> str | None:
    """The series' rule: a simple repetition built by dateutil, or the raw
    RRULE of the advanced field; None (and an error on its field) when the
    choice is incomplete."""
    simple = form.repeat.data in REPETITIONS
    raw = (form.rrule.data or "").strip()
    if simple and raw:
        form.rrule.errors.append(_("Choose a repetition or write a rule, not both."))
        return None
    if raw:
        return raw
    if form.repeat.data == "custom":
        form.rrule.errors.append(_("Write the rule, or choose another repetition."))
        return None
    if not simple:
        return None
    count, until = form.count.data, form.until.data
    if count is None and until is None:
        form.count.errors.append(_("Say how many times, or until when, the booking repeats."))
        return None
    if count is not None and until is not None:
        form.count.errors.append(_("Give a number of times or a last day, not both."))
        return None
    if form.day.data is None:
        return None  # the day's own error says it
    return repetition_rule(form.repeat.data, form.day.data, count, until)


def _place_error(form: BookingForm, error: DomainError) -> None:
    fields = {**FIELD_OF_DETAIL, **FIELD_OF_CODE}
    if not may(current_user, "book_for_others", Booking):
        # The trainer field is a coordinator's: others read the refusal on top.
        fields = {key: name for key, name in fields.items() if name != "trainer"}
        fields["trainer_id"] = fields["certification_required"] = ""
    place_error(form, error, fields)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    """The booking form; "Preview" checks every occurrence and writes nothing."""
    if may(current_user, "request", Project) and not _projects():
        # A company books the sessions of an approved project: without one,
        # the form could only be refused.
        return render_template("bookings/needs_project.html", pending=list(
            db.session.scalars(awaiting_decision(current_user))))
    form = BookingForm()
    if request.method == "GET":
        _prefill(form)
    equipment = db.session.get(Equipment, form.equipment.data) if form.equipment.data else None
    _fill_choices(form, equipment)
    if equipment is not None and not may(current_user, "book", equipment):
        abort(403)
    session_choices = groups.choices_for(equipment)
    form.equipment_ids.choices = [(c.equipment.id, c.equipment.name) for c in session_choices]
    if request.method == "GET":
        offered = {c.equipment.id for c in session_choices}
        form.equipment_ids.data = [i for i in form.equipment_ids.data or [] if i in offered]
    preview = suggestions = ask_certification = None
    # From a taken slot of the calendar (« Attendre ce créneau »): the form
    # offers the waiting list at once; joining still checks it as a booking.
    offer_waitlist = (request.method == "GET" and request.args.get("waitlist") == "1"
                      and may(current_user, "join", WaitlistEntry))
    if request.method == "POST":
        # Every mistake at once: the repetition is checked even when a field failed.
        valid = form.validate()
        rule = _rule(form)
        others = form.equipment_ids.data or []
        if others and (rule or form.repeat.data == "custom"):
            form.equipment_ids.errors.append(_(
                "A session over several machines does not repeat: book it once, or untick "
                "the other machines."))
        if valid and not form.errors and equipment is not None:
            booking_request = BookingRequest(
                equipment_id=equipment.id, start=_aware(form.day.data, form.start.data, equipment),
                end=_aware(form.day.data, form.end.data, equipment), title=form.title.data,
                purpose=BookingPurpose(form.purpose.data),
                trainer_id=form.trainer.data or None, project_id=form.project.data or None,
                participants=form.participants.data,
                override_reason=form.override_reason.data
                if may(current_user, "override", equipment) else None)
            try:
                if request.form.get("join_waitlist") and not others and not rule:
                    return _join_waitlist(booking_request)
                if form.preview.data and others:
                    preview = groups.preview(booking_request, others, now=utc_now(),
                                             policy=_policy())
                elif form.preview.data:
                    preview = _preview(booking_request, rule)
                elif others:
                    return groups.book(booking_request, others, now=utc_now(), policy=_policy())
                else:
                    return _book(booking_request, rule, form.skip_conflicts.data)
            except DomainError as error:
                db.session.rollback()
                # A session's refusal names its machine, above the form: the
                # fields are the first machine's.
                refused = groups.refusing_machine(error) if others else None
                if refused is not None:
                    form.form_errors.append(groups.refusal(error, refused))
                else:
                    _place_error(form, error)
                refused = refused or equipment
                if (error.code == "certification_required"
                        and (form.trainer.data or current_user.id) == current_user.id
                        and may(current_user, "request_certification", refused)):
                    ask_certification = refused
                # Taken by another booking: wait in line for it (booking.services.waitlist).
                offer_waitlist = error.code == "conflict" and not others and not rule
                if (error.code in TIME_CODES and not isinstance(error, SeriesRefused)
                        and not others):
                    suggestions = next_free_slots(
                        db.session, equipment, after=max(booking_request.start, utc_now()),
                        minutes=int((booking_request.end - booking_request.start)
                                    .total_seconds() // 60))
    return render_template("bookings/form.html", form=form, equipment=equipment,
                           preview=preview, suggestions=suggestions,
                           ask_certification=ask_certification,
                           session_choices=session_choices, offer_waitlist=offer_waitlist)


def _join_waitlist(booking_request: BookingRequest) -> Response:
    """The conflict refusal's « M'inscrire sur la liste d'attente »."""
    waitlist.join(db.session, actor=current_user, request=booking_request, now=utc_now(),
                  policy=_policy())
    commit()
    flash(_("You are on the waiting list: if the slot frees, it is offered to you by e-mail "
            "and on your dashboard."), "success")
    return redirect(url_for("bookings.mine"))


def _prefill(form: BookingForm) -> None:
    """A link's values (a free slot, a project's session); a hand-edited value is
    left out, through booking.query's rules."""
    args = request.args
    form.equipment.data = optional_id("equipment") or form.equipment.data
    form.equipment_ids.data = groups.prefilled_ids()
    # « Quand puis-je ? » names the free trainer (the field is a coordinator's).
    form.trainer.data = optional_id("trainer") or form.trainer.data
    if (project_id := optional_id("project")) is not None:
        form.project.data = project_id
        form.purpose.data = BookingPurpose.INDUSTRIAL_PROJECT.value
    form.day.data = optional_day("date") or form.day.data
    try:
        if args.get("start"):
            form.start.data = time.fromisoformat(args["start"])
        if args.get("end"):
            form.end.data = time.fromisoformat(args["end"])
    except ValueError:
        pass  # a hand-edited link: the form simply stays empty
    equipment = db.session.get(Equipment, form.equipment.data) if form.equipment.data else None
    if equipment is not None and form.day.data and form.start.data:
        form.end.data = _fitting_end(equipment, form.day.data, form.start.data, form.end.data)


def _fitting_end(equipment: Equipment, day: date, start: time, end: time | None) -> time | None:
    """The end to offer after ``start``: the link's, lengthened to the minimum
    duration and shortened to the maximum, within the opening interval that
    holds the start; none when the minimum does not fit there (the rules
    would refuse any end)."""
    begins = _aware(day, start, equipment)
    wanted = _aware(day, end, equipment) if end else begins
    shortest = begins + timedelta(minutes=equipment.min_minutes)
    ends = min(max(wanted, shortest), begins + timedelta(minutes=equipment.max_minutes))
    day_start = _aware(day, time(0), equipment)
    closes = next((close for opens, close in hours.opening_intervals(
        equipment, day_start, day_start + timedelta(days=1),
        skip_holidays=not equipment.open_on_holidays)
        if opens <= begins < close), None)
    if closes is None or shortest > closes:
        return None
    local = min(ends, closes).astimezone(hours.zone_of(equipment))
    return local.time() if local.date() == day else None


def _preview(booking_request: BookingRequest, rule: str | None) -> list[dict[str, Any]]:
    """Run the real booking in a savepoint, then roll it back."""
    savepoint = db.session.begin_nested()
    try:
        if rule:
            result = create_series(db.session, actor=current_user, request=booking_request,
                                   rule=rule, skip_conflicts=True, now=utc_now(),
                                   policy=_policy())
            rows = [{"start": b.start_at, "end": b.end_at, "ok": True, "pending":
                     b.status is BookingStatus.PENDING} for b in result.created]
            rows += [{"start": s.start, "end": s.end, "ok": False, "message": s.error.message}
                     for s in result.skipped]
        else:
            booking = create_booking(db.session, actor=current_user, request=booking_request,
                                     now=utc_now(), policy=_policy())
            rows = [{"start": booking.start_at, "end": booking.end_at, "ok": True,
                     "pending": booking.status is BookingStatus.PENDING}]
    except SeriesRefused as refused:
        rows = [{"start": datetime.fromisoformat(o["start"]),
                 "end": datetime.fromisoformat(o["end"]), "ok": False, "message": o["message"]}
                for o in refused.details["occurrences"]]
    finally:
        savepoint.rollback()
    return sorted(rows, key=lambda row: row["start"])


def _book(booking_request: BookingRequest, rule: str | None, skip: bool) -> Response:
    if rule:
        result = create_series(db.session, actor=current_user, request=booking_request,
                               rule=rule, skip_conflicts=skip, now=utc_now(), policy=_policy())
        commit()
        flash(ngettext("%(num)d occurrence booked.", "%(num)d occurrences booked.",
                       len(result.created)), "success")
        for skipped in result.skipped:
            flash(_("Not booked: %(when)s — %(why)s",
                    when=local_when(skipped.start), why=skipped.error.message), "warning")
    else:
        booking = create_booking(db.session, actor=current_user, request=booking_request,
                                 now=utc_now(), policy=_policy())
        commit()
        if booking.status is BookingStatus.PENDING:
            flash(_("Booking requested: a coordinator will approve it."), "info")
        else:
            flash(_("Booking confirmed."), "success")
    return redirect(url_for("bookings.mine"))


@bp.route("/mine")
@login_required
def mine() -> str:
    tab = "past" if request.args.get("tab") == "past" else "upcoming"
    now = utc_now()
    stmt = my_bookings(current_user)
    # A cancelled or rejected booking is behind its reader, whatever its date.
    active = Booking.status.in_(ACTIVE)
    if tab == "past":
        stmt = stmt.where(or_(Booking.end_at <= now, ~active)).order_by(Booking.start_at.desc())
    else:
        stmt = stmt.where(Booking.end_at > now, active).order_by(Booking.start_at)
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    return render_template("bookings/mine.html", page=page, tab=tab, now=now)


@bp.route("/<id:booking_id>")
@login_required
def show(booking_id: int) -> str:
    booking = _load(booking_id, "view")
    return render_template("bookings/show.html", booking=booking,
                           can_cancel=may(current_user, "cancel", booking),
                           can_change=may(current_user, "change", booking),
                           session_bookings=groups.others_in_session(booking))


@bp.route("/<id:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int) -> str | Response:
    booking = _load(booking_id, "cancel")
    form = CancelForm()
    machines = groups.machines_to_come(booking, utc_now())
    form.scope.choices = scope_choices(booking.series_id is not None, machines)
    if form.validate_on_submit() and submit(
            lambda: cancel_in_scope(db.session, actor=current_user, booking=booking,
                                    scope=form.scope.data, now=utc_now(),
                                    reason=form.reason.data),
            form=form, success=lambda done: ngettext(
                "%(num)d booking cancelled.", "%(num)d bookings cancelled.", len(done))):
        return redirect(url_for("bookings.mine"))
    return render_template("bookings/cancel.html", booking=booking, form=form,
                           machines=machines)


@bp.route("/<id:booking_id>/move", methods=["GET", "POST"])
@login_required
def move(booking_id: int) -> str | Response:
    booking = _load(booking_id, "change")
    zone = hours.zone_of(booking.equipment)
    form = MoveForm()
    machines = groups.machines_to_come(booking, utc_now())
    form.scope.choices = scope_choices(booking.series_id is not None, machines)
    if request.method == "GET":
        form.title.data = booking.title
        form.day.data = booking.start_at.astimezone(zone).date()
        form.start.data = booking.start_at.astimezone(zone).time()
        form.end.data = booking.end_at.astimezone(zone).time()
    if form.validate_on_submit() and submit(
            lambda: move_in_scope(
                db.session, actor=current_user, booking=booking, scope=form.scope.data,
                now=utc_now(), policy=_policy(), title=form.title.data,
                start=_aware(form.day.data, form.start.data, booking.equipment),
                end=_aware(form.day.data, form.end.data, booking.equipment)),
            form=form, success=_("Booking changed.")):
        return redirect(url_for("bookings.mine"))
    return render_template("bookings/move.html", booking=booking, form=form,
                           machines=machines)


@bp.route("/<id:booking_id>.ics")
@login_required
def ics(booking_id: int) -> Response:
    booking = _load(booking_id, "view")
    cal = calendar_of([booking], name=booking.title, now=utc_now(),
                      base_url=public_url(), method="PUBLISH")
    name = ascii_file_name(f"booking-{booking.id}.ics")
    return Response(to_bytes(cal), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
