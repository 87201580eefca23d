"""What the jobs page says of each job, in the reader's language.

The scheduler stores a run's summary as one English line for its log ("3
booking(s) completed"); the page reads the counts back in order and says them
again with ngettext, so a French reader sees « 3 réservations terminées ». A
summary in an unknown shape (an older release's) is shown as it was stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

TITLES: dict[str, Any] = {
    "deliver_outbox": _l("E-mail delivery"),
    "reminders": _l("Booking reminders"),
    "end_reminders": _l("Reminders before the end"),
    "approval_digest": _l("Approval digest"),
    "certification_expiry": _l("Certification expiry"),
    "expire_pending": _l("Expiry of pending bookings"),
    "no_show_release": _l("No-show release"),
    "waitlist": _l("Waiting lists"),
    "complete_past": _l("Completion of past bookings"),
    "advance_projects": _l("Project progress"),
    "satisfaction_surveys": _l("Satisfaction questionnaires"),
    "learner_retention": _l("Learners' data retention"),
    "export_calendars": _l("Calendar exports"),
}

DESCRIPTIONS: dict[str, Any] = {
    "deliver_outbox": _l("Sends the e-mails of the outbox (retries with backoff)."),
    "reminders": _l("Reminds trainers of their bookings (each user's delay, 24 h by default)."),
    "end_reminders": _l("Reminds trainers that a booking in progress ends soon (each user's "
                        "delay, none by default)."),
    "approval_digest": _l("Sends coordinators the daily digest of what awaits them (07:00)."),
    "certification_expiry": _l("Warns trainers before a certification expires and flags the "
                               "bookings of trainers no longer certified."),
    "expire_pending": _l("Expires pending bookings past their decision deadline."),
    "no_show_release": _l("Releases the bookings of machines requiring check-in that nobody "
                          "checked in by the end of the grace period, and offers their slots "
                          "to the waiting lists at once."),
    "waitlist": _l("Expires unclaimed offers and entries whose slot has started, and "
                   "offers freed slots to the first in line who fits."),
    "complete_past": _l("Marks past confirmed bookings completed."),
    "advance_projects": _l("Marks projects in progress at their first session and completed "
                           "after their last."),
    "satisfaction_surveys": _l("Sends the satisfaction questionnaires of projects completed "
                               "lately to their contact and learners."),
    "learner_retention": _l("Erases the names and e-mails of learners of projects over for "
                            "longer than the retention period (their hours stay counted)."),
    "export_calendars": _l("Writes the export files (.ics, .csv) that changed."),
}


def _say(*parts: Callable[[int], str]) -> Callable[[list[int]], str]:
    def render(counts: list[int]) -> str:
        return ", ".join(part(n) for part, n in zip(parts, counts, strict=True))
    render.arity = len(parts)  # type: ignore[attr-defined]
    return render


SUMMARIES: dict[str, Callable[[list[int]], str]] = {
    "deliver_outbox": _say(
        lambda n: ngettext("%(num)d message sent", "%(num)d messages sent", n),
        lambda n: ngettext("%(num)d to retry or failed", "%(num)d to retry or failed", n)),
    "reminders": _say(
        lambda n: ngettext("%(num)d reminder queued", "%(num)d reminders queued", n)),
    "end_reminders": _say(
        lambda n: ngettext("%(num)d end reminder queued", "%(num)d end reminders queued", n)),
    "approval_digest": _say(
        lambda n: ngettext("%(num)d digest queued", "%(num)d digests queued", n)),
    "certification_expiry": _say(
        lambda n: ngettext("%(num)d warning queued", "%(num)d warnings queued", n),
        lambda n: ngettext("%(num)d booking flagged", "%(num)d bookings flagged", n),
        lambda n: ngettext("%(num)d flag cleared", "%(num)d flags cleared", n)),
    "expire_pending": _say(
        lambda n: ngettext("%(num)d pending booking expired", "%(num)d pending bookings expired",
                           n)),
    "no_show_release": _say(
        lambda n: ngettext("%(num)d booking released as a no-show",
                           "%(num)d bookings released as no-shows", n),
        lambda n: ngettext("%(num)d slot offered", "%(num)d slots offered", n)),
    "waitlist": _say(
        lambda n: ngettext("%(num)d offer expired", "%(num)d offers expired", n),
        lambda n: ngettext("%(num)d entry expired", "%(num)d entries expired", n),
        lambda n: ngettext("%(num)d slot offered", "%(num)d slots offered", n)),
    "complete_past": _say(
        lambda n: ngettext("%(num)d booking completed", "%(num)d bookings completed", n)),
    "advance_projects": _say(
        lambda n: ngettext("%(num)d project started", "%(num)d projects started", n),
        lambda n: ngettext("%(num)d project completed", "%(num)d projects completed", n)),
    "satisfaction_surveys": _say(
        lambda n: ngettext("%(num)d questionnaire sent", "%(num)d questionnaires sent", n)),
    "learner_retention": _say(
        lambda n: ngettext("%(num)d learner erased", "%(num)d learners erased", n)),
    "export_calendars": _say(
        lambda n: ngettext("%(num)d export file written", "%(num)d export files written", n),
        lambda n: ngettext("%(num)d unchanged", "%(num)d unchanged", n)),
}
NUMBER = re.compile(r"\d+")


def title(job_id: str) -> str:
    return str(TITLES.get(job_id, job_id))


def description(job_id: str, stored: str) -> str:
    return str(DESCRIPTIONS.get(job_id, stored))


def summary(job_id: str, stored: str | None) -> str:
    """A run's stored summary in the reader's language."""
    if not stored:
        return ""
    render = SUMMARIES.get(job_id)
    counts = [int(n) for n in NUMBER.findall(stored)]
    if render is None or len(counts) != render.arity:  # type: ignore[attr-defined]
        return stored
    return render(counts)
