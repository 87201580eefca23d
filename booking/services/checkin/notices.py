"""The e-mail that tells the owning establishment's coordinators of a problem
reported at check-out, through the outbox (once per coordinator), with the
link to the incident's page where they act on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.labels import Span
from booking.services.equipment.hours import zone_of
from booking.services.errors import N_
from booking.services.messaging.notifications import SITE, coordinators_of, render
from booking.services.messaging.outbox import Mail, enqueue
from models.incident import Incident

SUBJECT = N_("Problem reported on %(equipment)s")
BODY = N_("%(reporter)s reported a problem on %(equipment)s when checking out of the "
          "booking “%(title)s” (%(when)s):")
ACT = N_("From the incident's page, put the machine in maintenance or mark the problem "
         "resolved:")


def incident_reported(session: Session, incident: Incident, *, now: datetime) -> int:
    """Tell each active coordinator of the machine's establishment; the number told."""
    equipment = incident.equipment
    booking = incident.booking
    zone = zone_of(equipment)
    params = {"equipment": equipment.name,
              "reporter": incident.reported_by.name if incident.reported_by else "-",
              "title": booking.title if booking is not None else "-",
              "when": (Span(booking.start_at.astimezone(zone), booking.end_at.astimezone(zone))
                       if booking is not None else incident.reported_at.astimezone(zone))}
    coordinators = coordinators_of(session, equipment.establishment_id)
    for person in coordinators:
        body = "\n\n".join((render(person, BODY, **params), incident.description,
                            render(person, ACT), f"{SITE}/incidents/{incident.id}"))
        enqueue(session, Mail(person.email, render(person, SUBJECT, **params), body), now=now,
                dedupe_key=f"incident:{incident.id}:{person.id}")
    return len(coordinators)
