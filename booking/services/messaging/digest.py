"""The coordinators' daily digest: their inbox (booking.services.inbox) by mail.

One message per coordinator per local day, none when nothing waits on them.
Idempotent through the outbox's dedupe key: the job runs every half hour,
and two schedulers by mistake still queue one digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.labels import Span
from booking.services.accounts.access import coordinators_of_establishments
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_, Nn_, Plural
from booking.services.inbox.summary import DEFAULT_POLICY, Inbox, inbox
from booking.services.messaging.notifications import SITE, render
from booking.services.messaging.outbox import Mail, enqueue
from booking.services.policy import CAMPUS_ZONE, Policy
from models import Booking, Establishment, User

# Rows per kind in a message; the page has the rest.
DIGEST_ROWS = 20

HEADINGS: dict[str, Plural] = {
    "approvals": Nn_("%(n)d booking to approve", "%(n)d bookings to approve"),
    "projects": Nn_("%(n)d project request", "%(n)d project requests"),
    "certifications": Nn_("%(n)d certification request", "%(n)d certification requests"),
    "closures": Nn_("%(n)d booking overlapping a closure",
                    "%(n)d bookings overlapping a closure"),
    "flagged": Nn_("%(n)d booking whose trainer will not be certified on the day",
                   "%(n)d bookings whose trainer will not be certified on the day"),
    "no_shows": Nn_("%(n)d person with repeated no-shows",
                    "%(n)d people with repeated no-shows"),
    "incidents": Nn_("%(n)d incident to resolve", "%(n)d incidents to resolve"),
}


def _when(booking: Booking) -> Span:
    zone = zone_of(booking.equipment)
    return Span(booking.start_at.astimezone(zone), booking.end_at.astimezone(zone))


def _lines(user: User, box: Inbox) -> dict[str, list[str]]:
    """Each kind's rows, in ``user``'s language."""
    return {
        "approvals": [render(user, N_("- %(when)s, %(equipment)s: %(title)s (%(booker)s)"),
                             when=_when(b), equipment=b.equipment.name, title=b.title,
                             booker=b.booked_by.name) for b in box.approvals],
        "projects": [render(user, Nn_("- %(title)s, %(company)s (%(n)d learner)",
                                      "- %(title)s, %(company)s (%(n)d learners)"),
                            title=p.title, company=p.company.name, n=p.learners)
                     for p in box.projects],
        "certifications": [render(user, N_("- %(trainer)s asks for %(type)s"),
                                  trainer=r.user.name, type=r.certification_type.name)
                           for r in box.certifications],
        "closures": [render(user, N_("- %(when)s, %(equipment)s: %(title)s; closed: %(reasons)s"),
                            when=_when(h.booking), equipment=h.booking.equipment.name,
                            title=h.booking.title,
                            reasons="; ".join(c.reason for c in h.closures))
                     for h in box.closures],
        "flagged": [render(user, N_("- %(when)s, %(equipment)s: %(title)s (%(trainer)s)"),
                           when=_when(b), equipment=b.equipment.name, title=b.title,
                           trainer=b.trainer.name if b.trainer else "-")
                    for b in box.flagged],
        "no_shows": [render(user, Nn_("- %(name)s: %(n)d no-show, the last on %(day)s",
                                      "- %(name)s: %(n)d no-shows, the last on %(day)s"),
                            name=f.user.name, n=f.count,
                            day=f.last_at.astimezone(CAMPUS_ZONE).date())
                     for f in box.no_shows],
        "incidents": [render(user, N_("- %(equipment)s, %(day)s: %(description)s"),
                             equipment=i.equipment.name,
                             day=i.reported_at.astimezone(CAMPUS_ZONE).date(),
                             description=_first_line(i.description))
                      for i in box.incidents],
    }


def _first_line(text: str, width: int = 120) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= width else line[:width - 1] + "…"


def digest_mail(user: User, box: Inbox) -> Mail:
    """The digest of ``box`` for ``user``: a section per kind that has items."""
    counts = box.counts
    sections = []
    for kind, lines in _lines(user, box).items():
        total = getattr(counts, kind)
        if not total:
            continue
        text = render(user, HEADINGS[kind], n=total) + "\n" + "\n".join(lines)
        if total > len(lines):
            text += "\n" + render(user, Nn_("… and %(n)d more", "… and %(n)d more"),
                                  n=total - len(lines))
        sections.append(text)
    subject = render(user, Nn_("Your inbox: %(n)d item awaits you",
                               "Your inbox: %(n)d items await you"), n=counts.total)
    body = "\n\n".join(sections) + f"\n\n{SITE}/coordination/inbox"
    return Mail(user.email, subject, body)


def send_digests(session: Session, *, now: datetime, policy: Policy = DEFAULT_POLICY) -> int:
    """Each day, at or after each coordinator's digest hour, one message per
    active coordinator who wants it and whose inbox is not empty; the number
    queued."""
    local = now.astimezone(CAMPUS_ZONE)
    ids = list(session.scalars(select(Establishment.id)))
    queued = 0
    for coordinator in list(session.scalars(coordinators_of_establishments(ids))):
        # Each at or after their own hour (Paris); the day's key keeps it once a day.
        if not coordinator.notify_digest or local.hour < coordinator.digest_hour:
            continue
        key = f"digest:{coordinator.id}:{local.date().isoformat()}"
        box = inbox(session, coordinator, now=now, limit=DIGEST_ROWS, policy=policy)
        if box.empty:
            continue
        if enqueue(session, digest_mail(coordinator, box), now=now, dedupe_key=key) is not None:
            queued += 1
    return queued
