"""The history of a booking, a machine or a project, read from the audit
entries (booking.services.audit): who, when, what changed and why.

Only those who manage the object read it (the ``history`` rules of each
aggregate's access.py). An entry's details are stored as the change wrote them
(ids, the API's values, ISO times); they are turned here into what the reader
reads: labels in their language, times in the campus's zone, names for ids.
An action or a detail this module does not know is still shown, by its name,
so that a new kind of entry is never hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.labels import format_when, label
from booking.permissions import require
from booking.services.policy import CAMPUS_ZONE
from models import (
    AuditEntry,
    Booking,
    BookingStatus,
    Company,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Incident,
    Project,
    ProjectStatus,
    User,
)

MAX_ENTRIES = 500  # a page reads at most this many, newest first

# French agrees each with its noun: a booking is « Annulée », a project « Annulé ».
ACTIONS = {
    "booking.create": _lp("booking history", "Booked"),
    "booking.update": _lp("booking history", "Changed"),
    "booking.cancel": _lp("booking history", "Cancelled"),
    "booking.approve": _lp("booking history", "Approved"),
    "booking.reject": _lp("booking history", "Rejected"),
    "booking.expire": _lp("booking history", "Expired without a decision"),
    "booking.complete": _lp("booking history", "Completed"),
    "booking.override_certification": _lp("booking history", "Booked without the certification"),
    "booking.closure_notice": _lp("booking history", "Told of a closure"),
    "booking.check_in": _lp("booking history", "Checked in at the machine"),
    "booking.check_out": _lp("booking history", "Checked out"),
    "booking.no_show": _lp("booking history", "Released as a no-show (nobody checked in)"),
    "incident.report": _lp("booking history", "Incident reported"),
    "incident.maintenance": _lp("booking history", "Machine put in maintenance after an "
                                                   "incident"),
    "incident.resolve": _lp("booking history", "Incident resolved"),
    "equipment.create": _lp("equipment history", "Added"),
    "equipment.update": _lp("equipment history", "Changed"),
    "equipment.document_add": _lp("equipment history", "Document added"),
    "equipment.document_delete": _lp("equipment history", "Document removed"),
    "equipment.document_required": _lp("equipment history", "Document required or not"),
    "closure.create": _lp("equipment history", "Closure declared"),
    "closure.delete": _lp("equipment history", "Closure removed"),
    "closure.import": _lp("equipment history", "Closures imported"),
    "project.request": _lp("project history", "Requested"),
    "project.approve": _lp("project history", "Approved"),
    "project.reject": _lp("project history", "Rejected"),
    "project.cancel": _lp("project history", "Cancelled"),
    "project.status": _lp("project history", "Status changed"),
    "agreement.generate": _lp("project history", "Training agreement generated"),
    "agreement.sign": _lp("project history", "Signed training agreement recorded"),
    "agreement.waive": _lp("project history", "Training agreement not needed"),
    "agreement.lift_waiver": _lp("project history", "Training agreement required again"),
    "project.surveys_sent": _lp("project history", "Satisfaction questionnaires sent"),
}

FIELDS = {
    "title": _l("Title"), "start": _l("Start"), "end": _l("End"), "status": _l("Status"),
    "equipment_id": _lp("table column", "Equipment"), "trainer_id": _l("Trainer"),
    "company_id": _l("Company"), "equipment_ids": _lp("table column", "Equipment"),
    "booking_ids": _l("Sessions cancelled"), "name": _l("Name"), "code": _l("Code"),
    "description": _l("Description"), "location": _l("Location"),
    "category": _l("Category"), "status_reason": _l("Reason for the status"),
    "capacity": _l("Capacity"), "slot_minutes": _l("Slot (minutes)"),
    "min_minutes": _l("Minimum duration (minutes)"),
    "max_minutes": _l("Maximum duration (minutes)"),
    "changeover_minutes": _l("Changeover (minutes)"),
    "requires_approval": _l("Requires approval"),
    "open_on_holidays": _l("Open on public holidays"),
    "approval_deadline_hours": _l("Approval deadline (hours)"),
    "opening_hours": _l("Opening hours"),
    "required_certification_type_ids": _l("Required certifications"),
    "parent_id": _l("Line"), "kind": _l("Kind"), "size_bytes": _l("Size (bytes)"),
    "required": _l("Required"), "created": _l("Created"), "skipped": _l("Skipped"),
    "queued": _l("Notified"),
    "checked_in_at": _l("Checked in at"), "checked_out_at": _l("Checked out at"),
    "grace_minutes": _l("Grace period (minutes)"),
    "maintenance": _l("Machine in maintenance"),
}
# Details that are the entry's own bookkeeping, not a change to show.
HIDDEN = frozenset({"document_id", "closure_id", "reason", "establishment_id",
                    "booking_id", "incident_id", "agreement_id", "quote_id", "replaced",
                    "content_type", "waived_reason", "survey_ids"})


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: a value set, not changed from another
    after: str


@dataclass(frozen=True)
class Event:
    at: datetime
    when: str  # ``at`` in the reader's language, as the details write times
    actor: str | None  # None: the platform itself (a scheduled job)
    action: str
    reason: str | None
    changes: list[Change] = field(default_factory=list)


class _Reader:
    """Turns stored details into text in ``locale``, looking names up once."""

    def __init__(self, session: Session, locale: Locale | str) -> None:
        self.session = session
        self.locale = Locale.parse(locale)
        self.names: dict[tuple[type, int], str] = {}

    def name(self, model: type, object_id: Any) -> str:
        if not isinstance(object_id, int):
            return str(object_id)
        key = (model, object_id)
        if key not in self.names:
            obj = self.session.get(model, object_id)
            self.names[key] = (getattr(obj, "name", None) or getattr(obj, "title", "")
                               if obj is not None else f"#{object_id}")
        return self.names[key]

    def enum(self, kind: type[Enum]) -> Callable[[Any], str]:
        def shown(value: Any) -> str:
            try:
                return str(label(kind(value)))
            except ValueError:
                return str(value)
        return shown

    def when(self, value: Any) -> str:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if moment.tzinfo is None:
            return str(value)
        return format_when(moment.astimezone(CAMPUS_ZONE), self.locale)

    def value(self, key: str, value: Any, kind: str) -> str:
        if isinstance(value, bool):
            return str(_l("Yes") if value else _l("No"))
        if value is None or value == "":
            return "—"
        if value == "changed":
            return str(_l("changed"))
        if key in ("start", "end") or key.endswith("_at"):
            return self.when(value)
        if key == "status":
            enum = {"booking": BookingStatus, "project": ProjectStatus,
                    "equipment": EquipmentStatus}.get(kind)
            return self.enum(enum)(value) if enum else str(value)
        if key == "category":
            return self.enum(EquipmentCategory)(value)
        if key in ("equipment_id", "parent_id"):
            return self.name(Equipment, value)
        if key == "trainer_id":
            return self.name(User, value)
        if key == "company_id":
            return self.name(Company, value)
        if key == "equipment_ids" and isinstance(value, list):
            return ", ".join(self.name(Equipment, v) for v in value)
        if isinstance(value, list):
            return str(len(value))
        return str(value)

    def changes(self, entry: AuditEntry) -> list[Change]:
        details = dict(entry.details or {})
        kind = entry.object_type
        out: list[Change] = []
        if "before" in details and "after" in details:  # a status moved on its own
            shown = self.enum(ProjectStatus if kind == "project" else BookingStatus)
            out.append(Change(str(_l("Status")), shown(details.pop("before")),
                              shown(details.pop("after"))))
        for key, change in dict(details.pop("changes", None) or {}).items():
            title = str(FIELDS.get(key, key))
            if isinstance(change, list) and len(change) == 2:
                out.append(Change(title, self.value(key, change[0], kind),
                                  self.value(key, change[1], kind)))
            else:
                out.append(Change(title, None, self.value(key, change, kind)))
        for key, value in details.items():
            if key in HIDDEN or key == "before":
                continue
            out.append(Change(str(FIELDS.get(key, key)), None, self.value(key, value, kind)))
        return out

    def event(self, entry: AuditEntry, actors: dict[int, str]) -> Event:
        reason = entry.reason or (entry.details or {}).get("reason") or None
        return Event(at=entry.at, when=format_when(entry.at.astimezone(CAMPUS_ZONE), self.locale),
                     actor=actors.get(entry.actor_id) if entry.actor_id else None,
                     action=str(ACTIONS.get(entry.action, entry.action)),
                     reason=str(reason) if reason else None,
                     changes=self.changes(entry))


def _events(session: Session, entries: Iterable[AuditEntry],
            locale: Locale | str) -> list[Event]:
    entries = list(entries)
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    actors = {row.id: row.name for row in session.execute(
        select(User.id, User.name).where(User.id.in_(ids)))} if ids else {}
    reader = _Reader(session, locale)
    return [reader.event(e, actors) for e in entries]


def _entries(session: Session, object_type: str, object_id: int) -> list[AuditEntry]:
    return list(session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(MAX_ENTRIES)))


def booking_history(session: Session, *, actor: User, booking: Booking,
                    locale: Locale | str) -> list[Event]:
    """The booking's own entries (check-in, check-out and no-show among
    them) and those of the incidents reported at its check-out."""
    require(actor, "history", booking)
    problems = dict(session.execute(
        select(Incident.id, Incident.description).where(Incident.booking_id == booking.id)).all())
    reported = list(session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "incident",
               AuditEntry.object_id.in_(list(problems)))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(MAX_ENTRIES))
    ) if problems else []
    entries = sorted([*_entries(session, "booking", booking.id), *reported],
                     key=lambda e: (e.at, e.id), reverse=True)[:MAX_ENTRIES]
    events = _events(session, entries, locale)
    for entry, event in zip(entries, events, strict=True):
        if entry.action == "incident.report" and entry.object_type == "incident":
            # What was reported: the incident's own text (not copied into the audit).
            event.changes.append(Change(str(FIELDS["description"]), None,
                                        problems.get(entry.object_id) or "—"))
    return events


def project_history(session: Session, *, actor: User, project: Project,
                    locale: Locale | str) -> list[Event]:
    require(actor, "history", project)
    return _events(session, _entries(session, "project", project.id), locale)


def equipment_history(session: Session, *, actor: User, equipment: Equipment,
                      locale: Locale | str) -> list[Event]:
    """The machine's own entries and the closures declared on it."""
    require(actor, "history", equipment)
    closures = [e for e in session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "closure")
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(MAX_ENTRIES))
        if (e.details or {}).get("equipment_id") == equipment.id]
    entries = sorted([*_entries(session, "equipment", equipment.id), *closures],
                     key=lambda e: (e.at, e.id), reverse=True)[:MAX_ENTRIES]
    return _events(session, entries, locale)
