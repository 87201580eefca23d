"""E-mails about bookings, queued in the outbox by the services that change them.

Each message is written in its recipient's language and, for a change to a
booking, carries the event as an invitation (METHOD:REQUEST, or CANCEL when it
is gone) with the booking's UID and raised SEQUENCE, so mail clients update
the event they added. Links are written against ``SITE`` and completed with
the site's address when the message is sent (the services do not know it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from booking.labels import Span
from booking.services.accounts.access import coordinators_of_establishments
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_, Nn_, Plural, translate
from booking.services.feeds.ical import calendar_of
from booking.services.messaging.outbox import Mail, enqueue
from models import Booking, BookingStatus, Project, ProjectStatus, User

SITE = "{site}"
CANCELLING = (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.EXPIRED)


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


def _invitation(bookings: list[Booking], now: datetime) -> tuple[str, str]:
    method = "CANCEL" if all(b.status in CANCELLING for b in bookings) else "REQUEST"
    cal = calendar_of(bookings, name="Plateforme", now=now, base_url=SITE, method=method)
    return cal.to_ical().decode(), method


def _people(booking: Booking) -> list[User]:
    people = [booking.booked_by]
    if booking.trainer is not None and booking.trainer.id != booking.booked_by.id:
        people.append(booking.trainer)
    return [p for p in people if p.active]


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
          **params: Any) -> None:
    ics, method = _invitation(bookings, now) if invite else (None, None)
    for user in users:
        text = render(user, body, **params) + "\n\n" + f"{SITE}/bookings/{bookings[0].id}"
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
          **params)
    if booking.status is BookingStatus.PENDING:
        _send(session, coordinators_of(session, booking.equipment.establishment_id), [booking],
              now=now, key=key + ":decide", invite=False,
              subject=N_("To approve: %(equipment)s on %(when)s"),
              body=N_("%(booker)s asks for %(equipment)s on %(when)s (“%(title)s”). "
                      "Approve or reject it before %(deadline)s."),
              booker=booking.booked_by.name, deadline=_deadline(booking), **params)


def series_booked(session: Session, bookings: list[Booking], *, now: datetime) -> None:
    """One message for a whole series, its occurrences in one invitation."""
    if not bookings:
        return
    first = bookings[0]
    _send(session, _people(first), bookings, now=now,
          key=f"series:{first.series_id}:{len(bookings)}",
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
