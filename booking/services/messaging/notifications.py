"""E-mails about bookings, queued in the outbox by the services that change them.

Each message is written in its recipient's language and, for a change to a
booking, carries the event as an invitation (METHOD:REQUEST, or CANCEL when it
is gone) with the booking's UID and raised SEQUENCE, so mail clients update
the event they added. Links are written against ``SITE`` and completed with
the site's address when the message is sent (the services do not know it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from booking.labels import Period, Span
from booking.services.accounts.access import coordinators_of_establishments
from booking.services.equipment.documents import reading_note
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_, Nn_, Plural, translate
from booking.services.messaging import invitations
from booking.services.messaging.invitations import SITE
from booking.services.messaging.outbox import Mail, enqueue
from models import Booking, BookingStatus, Closure, Establishment, Project, ProjectStatus, User

CANCELLING = (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.EXPIRED,
              BookingStatus.NO_SHOW)


def render(user: User, template: str | Plural, **params: Any) -> str:
    """``template`` in the user's language (French unless they chose English)."""
    return render_in(user.locale or "fr", template, **params)


def render_in(locale: str, template: str | Plural, **params: Any) -> str:
    """``template`` in ``locale``, its parameters shown for that reader (dates
    and times by Babel, enumerations by their labels: see errors.translate);
    the English template outside an app context."""
    from flask import has_app_context
    from flask_babel import force_locale

    if not has_app_context():
        return translate(template, params)
    with force_locale(locale):
        return translate(template, params)


def _when(booking: Booking) -> Span:
    """The booking's times in its equipment's zone; written in the reader's language."""
    zone = zone_of(booking.equipment)
    return Span(booking.start_at.astimezone(zone), booking.end_at.astimezone(zone))


def _invitation(bookings: list[Booking]) -> tuple[str, str]:
    """The invitation's method, decided now, and a reference to its events:
    the calendar is rendered when the outbox sends (messaging/invitations.py)."""
    method = "CANCEL" if all(b.status in CANCELLING for b in bookings) else "REQUEST"
    return invitations.reference(bookings), method


def _people(booking: Booking) -> list[User]:
    people = [booking.booked_by]
    if booking.trainer is not None and booking.trainer.id != booking.booked_by.id:
        people.append(booking.trainer)
    # Booking notices respect the person's preference (booking.services.accounts.preferences).
    return [p for p in people if p.active and p.notify_bookings]


def coordinators_of(session: Session, establishment_id: int) -> list[User]:
    return coordinators_by_establishment(session, [establishment_id])[establishment_id]


def coordinators_by_establishment(session: Session,
                                  establishment_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active coordinators of each establishment, in one statement (a job
    telling many establishments asks once)."""
    found: dict[int, list[User]] = {i: [] for i in set(establishment_ids)}
    if found:
        for user in session.scalars(coordinators_of_establishments(list(found))):
            found[user.establishment_id].append(user)
    return found


def _send(session: Session, users: Iterable[User], bookings: list[Booking], *, now: datetime,
          subject: str, body: str, key: str | None = None, invite: bool = True,
          note: tuple[str, dict[str, Any]] | None = None, **params: Any) -> None:
    ics, method = _invitation(bookings) if invite else (None, None)
    for user in users:
        text = render(user, body, **params) + "\n\n" + f"{SITE}/bookings/{bookings[0].id}"
        if note is not None:  # the machine's required reading (equipment documents)
            text += "\n\n" + render(user, note[0], **note[1])
        enqueue(session, Mail(user.email, render(user, subject, **params), text, ics, method),
                now=now, dedupe_key=f"{key}:{user.id}" if key else None)


STATUS_SUBJECTS = {
    BookingStatus.CONFIRMED: (N_("Booking confirmed: %(title)s"),
                              N_("Your booking of %(equipment)s on %(when)s is confirmed.")),
    BookingStatus.PENDING: (N_("Booking awaiting approval: %(title)s"),
                            N_("Your booking of %(equipment)s on %(when)s awaits a "
                               "coordinator's approval.")),
    BookingStatus.CANCELLED: (N_("Booking cancelled: %(title)s"),
                              N_("The booking of %(equipment)s on %(when)s is cancelled. "
                                 "%(reason)s")),
    BookingStatus.REJECTED: (N_("Booking rejected: %(title)s"),
                             N_("The booking of %(equipment)s on %(when)s was not approved. "
                                "%(reason)s")),
    BookingStatus.EXPIRED: (N_("Booking expired: %(title)s"),
                            N_("No coordinator decided on the booking of %(equipment)s on "
                               "%(when)s in time: it expired and its slot is free again.")),
    BookingStatus.NO_SHOW: (N_("Booking released (no check-in): %(title)s"),
                            N_("Nobody checked in at %(equipment)s for the booking on %(when)s "
                               "before the end of its grace period: it was released as a "
                               "no-show and its slot is free again.")),
}


def booking_changed(session: Session, booking: Booking, *, now: datetime,
                    reason: str | None = None) -> None:
    """Tell the booker and the trainer the booking's new state; a pending one
    also goes to the coordinators who decide."""
    subject, body = STATUS_SUBJECTS.get(booking.status, STATUS_SUBJECTS[BookingStatus.CONFIRMED])
    params = {"title": booking.title, "equipment": booking.equipment.name,
              "when": _when(booking), "reason": reason or ""}
    key = f"booking:{booking.id}:{booking.sequence}:{booking.status.value}"
    _send(session, _people(booking), [booking], now=now, subject=subject, body=body, key=key,
          note=reading_note(session, booking.equipment, SITE)
          if booking.status is BookingStatus.CONFIRMED else None, **params)
    if booking.status is BookingStatus.PENDING:
        _send(session, coordinators_of(session, booking.equipment.establishment_id), [booking],
              now=now, key=key + ":decide", invite=False,
              subject=N_("To approve: %(equipment)s on %(when)s"),
              body=N_("%(booker)s asks for %(equipment)s on %(when)s (“%(title)s”). "
                      "Approve or reject it before %(deadline)s."),
              booker=booking.booked_by.name, deadline=_deadline(booking), **params)


def booking_moved(session: Session, moves: list[tuple[Booking, datetime, datetime]], *,
                  now: datetime) -> None:
    """One message for one move or for the occurrences of a series moved
    together, each with its old and new times; pending ones also go to the
    coordinators who decide them again."""
    if not moves:
        return
    bookings = [booking for booking, _start, _end in moves]
    first = bookings[0]
    zone = zone_of(first.equipment)

    def lines(user: User) -> str:
        return "\n".join(render(user, N_("- %(old)s → %(new)s"),
                                old=Span(start.astimezone(zone), end.astimezone(zone)),
                                new=_when(booking)) for booking, start, end in moves)

    # Every occurrence and its state, hashed: a series of any length fits the key.
    states = ",".join(f"{b.id}.{b.sequence}" for b in bookings)
    key = f"moved:{first.id}:{hashlib.sha256(states.encode()).hexdigest()[:32]}"
    ics, method = _invitation(bookings)
    pending = [b for b in bookings if b.status is BookingStatus.PENDING]
    for user in _people(first):
        params = {"title": first.title, "equipment": first.equipment.name, "n": len(moves)}
        text = render(user, Nn_("Your booking of %(equipment)s is moved:",
                                "%(n)d sessions of your booking of %(equipment)s are moved:"),
                      **params) + "\n" + lines(user)
        if pending:
            text += "\n\n" + render(user, N_("The new times await a coordinator's approval."))
        text += "\n\n" + f"{SITE}/bookings/{first.id}"
        subject = render(user, Nn_("Booking moved: %(title)s",
                                   "Booking moved: %(title)s (%(n)d sessions)"), **params)
        enqueue(session, Mail(user.email, subject, text, ics, method), now=now,
                dedupe_key=f"{key}:{user.id}")
    if pending:
        _send(session, coordinators_of(session, first.equipment.establishment_id), pending,
              now=now, invite=False, key=key + ":decide",
              subject=Nn_("To approve: %(n)d session of %(equipment)s",
                          "To approve: %(n)d sessions of %(equipment)s"),
              body=Nn_("%(booker)s asks for %(n)d session of %(equipment)s from %(when)s.",
                       "%(booker)s asks for %(n)d sessions of %(equipment)s from %(when)s."),
              n=len(pending), equipment=first.equipment.name, when=_when(pending[0]),
              booker=first.booked_by.name)


def closure_notice(session: Session, booking: Booking, closure: Closure, *,
                   now: datetime) -> int:
    """Tell the booker and the trainer that a closure falls on their booking;
    once per closure and state of the booking. The number queued."""
    zone = zone_of(booking.equipment)
    if closure.equipment_id is not None and closure.equipment is not None:
        closed = closure.equipment.name
    else:
        establishment = session.get(Establishment, closure.establishment_id)
        closed = establishment.name if establishment is not None else "-"
    params = {"title": booking.title, "equipment": booking.equipment.name,
              "when": _when(booking), "closed": closed, "reason": closure.reason,
              "period": Period(closure.start_at.astimezone(zone),
                               closure.end_at.astimezone(zone))}
    queued = 0
    for user in _people(booking):
        text = render(user, N_("%(closed)s is closed %(period)s (%(reason)s), during your "
                               "booking of %(equipment)s on %(when)s. A coordinator will move "
                               "or cancel it; tell them if another time suits you."), **params)
        mail = Mail(user.email, render(user, N_("Closure during your booking: %(title)s"),
                                       **params),
                    text + "\n\n" + f"{SITE}/bookings/{booking.id}")
        key = f"closure-notice:{closure.id}:{booking.id}:{booking.sequence}:{user.id}"
        if enqueue(session, mail, now=now, dedupe_key=key) is not None:
            queued += 1
    return queued


def series_booked(session: Session, bookings: list[Booking], *, now: datetime) -> None:
    """One message for a whole series, its occurrences in one invitation."""
    if not bookings:
        return
    first = bookings[0]
    _send(session, _people(first), bookings, now=now,
          key=f"series:{first.series_id}:{len(bookings)}",
          note=reading_note(session, first.equipment, SITE),
          subject=Nn_("Series booked: %(title)s (%(n)d session)",
                      "Series booked: %(title)s (%(n)d sessions)"),
          body=Nn_("%(n)d session of %(equipment)s is booked, from %(when)s.",
                   "%(n)d sessions of %(equipment)s are booked, from %(when)s."),
          title=first.title, n=len(bookings), equipment=first.equipment.name,
          when=_when(first))
    pending = [b for b in bookings if b.status is BookingStatus.PENDING]
    if pending:
        _send(session, coordinators_of(session, first.equipment.establishment_id), pending,
              now=now, invite=False, key=f"series:{first.series_id}:decide",
              subject=Nn_("To approve: %(n)d session of %(equipment)s",
                          "To approve: %(n)d sessions of %(equipment)s"),
              body=Nn_("%(booker)s asks for %(n)d session of %(equipment)s from %(when)s.",
                       "%(booker)s asks for %(n)d sessions of %(equipment)s from %(when)s."),
              n=len(pending), equipment=first.equipment.name, when=_when(first),
              booker=first.booked_by.name)


def group_booked(session: Session, bookings: list[Booking], *, now: datetime) -> None:
    """One message for a session over several machines, in one invitation."""
    if not bookings:
        return
    first = bookings[0]
    names = ", ".join(b.equipment.name for b in bookings)
    _send(session, _people(first), bookings, now=now, key=f"group:{first.group_id}",
          subject=Nn_("Booked: %(title)s (%(n)d machine)", "Booked: %(title)s (%(n)d machines)"),
          body=Nn_("%(equipment)s is booked %(when)s.", "%(equipment)s are booked %(when)s."),
          title=first.title, n=len(bookings), equipment=names, when=_when(first))
    pending = [b for b in bookings if b.status is BookingStatus.PENDING]
    if pending:
        _send(session, coordinators_of(session, first.equipment.establishment_id), pending,
              now=now, invite=False, key=f"group:{first.group_id}:decide",
              subject=Nn_("To approve: %(title)s (%(n)d machine)",
                          "To approve: %(title)s (%(n)d machines)"),
              body=N_("%(booker)s asks for %(equipment)s %(when)s."),
              title=first.title, n=len(pending), booker=first.booked_by.name,
              equipment=", ".join(b.equipment.name for b in pending), when=_when(pending[0]))


def _deadline(booking: Booking) -> datetime | str:
    if booking.decision_deadline is None:
        return "-"
    return booking.decision_deadline.astimezone(zone_of(booking.equipment))


PROJECT_MESSAGES = {
    ProjectStatus.APPROVED: (N_("Project approved: %(title)s"),
                             N_("Your project “%(title)s” is approved. %(trainer)s will run "
                                "its sessions; a coordinator schedules them.")),
    ProjectStatus.REJECTED: (N_("Project rejected: %(title)s"),
                             N_("Your project “%(title)s” was not approved.")),
    ProjectStatus.SCHEDULED: (N_("Project scheduled: %(title)s"),
                              N_("The first session of your project “%(title)s” is booked. "
                                 "Its sessions are listed on the project's page.")),
    ProjectStatus.IN_PROGRESS: (N_("Project started: %(title)s"),
                                N_("The first session of your project “%(title)s” has "
                                   "started.")),
    ProjectStatus.COMPLETED: (N_("Project completed: %(title)s"),
                              N_("The last session of your project “%(title)s” is over: "
                                 "the project is completed.")),
    ProjectStatus.CANCELLED: (N_("Project cancelled: %(title)s"),
                              N_("Your project “%(title)s” is cancelled, and so are its "
                                 "sessions still to come.")),
}
# A decision's words: the note of an approval, the reason of a refusal.
PROJECT_REASONS = {
    ProjectStatus.APPROVED: N_("Note from the coordinator: %(reason)s"),
    ProjectStatus.REJECTED: N_("Reason: %(reason)s"),
    ProjectStatus.CANCELLED: N_("Reason: %(reason)s"),
}


def project_changed(session: Session, project: Project, *, now: datetime,
                    reason: str | None = None) -> None:
    """Tell the company contact (the requester when the project names none) the
    project's new status, in the requester's language; once per status."""
    messages = PROJECT_MESSAGES.get(project.status)
    requester = project.requested_by
    to = project.contact_email or (requester.email if requester and requester.active else "")
    if messages is None or not to:
        return

    def say(template: str, **params: Any) -> str:
        if requester is not None:
            return render(requester, template, **params)
        return render_in("fr", template, **params)  # the requester's account is gone

    subject, body = messages
    trainer = project.trainer.name if project.trainer is not None else ""
    text = say(body, title=project.title, trainer=trainer)
    note = (reason or "").strip()
    if note and project.status in PROJECT_REASONS:
        text += "\n\n" + say(PROJECT_REASONS[project.status], reason=note)
    text += "\n\n" + f"{SITE}/projects/{project.id}"
    enqueue(session, Mail(to, say(subject, title=project.title), text), now=now,
            dedupe_key=f"project:{project.id}:{project.status.value}")
