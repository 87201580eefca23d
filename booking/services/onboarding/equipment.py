"""Equipment from a file: a machine per line, matched by its code (codes are
unique on the campus), with its booking rules, the certifications it
requires, its pilot line and its weekly opening hours.

A blank cell keeps the machine's value (a new machine: the pages' default),
so a file of a few columns changes only those. Opening hours are one column
per weekday (« 08:00-12:00, 13:30-17:00 »); once a line gives any day, a
blank day is closed; a line that gives none keeps the hours (a new component
takes its line's). Lines of pilot lines are applied before their components,
wherever they are in the file. Each line goes through create_equipment or
update_equipment, with every rule of the equipment pages.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import is_coordinator
from booking.services.equipment.operations import create_equipment, update_equipment
from booking.services.errors import N_, ValidationError
from booking.services.onboarding import values
from booking.services.onboarding.plan import CREATED, UNCHANGED, UPDATED, Change, Kind
from booking.services.onboarding.reading import Column, Row
from models import CertificationType, Equipment, EquipmentCategory, Establishment, User

CODE = Column("code", N_("Code"), required=True, example="ROB-CELL-01")
NAME = Column("name", N_("Name"), example="Cellule robot collaboratif")
ESTABLISHMENT = Column("establishment", N_("Establishment (code)"))
CATEGORY = Column("category", N_("Category"), example=EquipmentCategory.TRAINING_EQUIPMENT)
LINE = Column("line", N_("Pilot line (code)"))
DESCRIPTION = Column("description", N_("Description"), multiline=True)
LOCATION = Column("location", N_("Location"), example="Hall B")
CAPACITY = Column("capacity", N_("Capacity (learners)"), example="8")
SLOT = Column("slot_minutes", N_("Slot (minutes)"), example="30")
MINIMUM = Column("min_minutes", N_("Minimum duration (minutes)"), example="60")
MAXIMUM = Column("max_minutes", N_("Maximum duration (minutes)"), example="240")
CHANGEOVER = Column("changeover_minutes", N_("Changeover (minutes)"), example="15")
APPROVAL = Column("requires_approval", N_("Needs approval"), example=False)
HOLIDAYS = Column("open_on_holidays", N_("Open on public holidays"), example=False)
NOTICE = Column("notice_minutes", N_("Minimum notice (minutes)"), example="0")
ADVANCE = Column("max_advance_days", N_("Furthest ahead (days)"))
CANCEL_DEADLINE = Column("cancel_deadline_hours",
                         N_("Cancellation deadline (hours before the start)"), example="0")
OTHERS_OPEN = Column("others_open_days", N_("Open to other establishments (days before)"))
CHECK_IN = Column("check_in_required", N_("Check-in required"), example=False)
GRACE = Column("check_in_grace_minutes", N_("Check-in grace period (minutes)"), example="15")
CERTIFICATIONS = Column("certifications", N_("Certifications required (codes)"))
WEEKDAYS = (
    Column("monday", N_("Monday"), example="08:00-12:00, 13:30-17:30"),
    Column("tuesday", N_("Tuesday"), example="08:00-12:00, 13:30-17:30"),
    Column("wednesday", N_("Wednesday"), example="08:00-12:00"),
    Column("thursday", N_("Thursday"), example="08:00-12:00, 13:30-17:30"),
    Column("friday", N_("Friday"), example="08:00-12:00, 13:30-16:00"),
    Column("saturday", N_("Saturday")),
    Column("sunday", N_("Sunday")),
)
COLUMNS = (CODE, NAME, ESTABLISHMENT, CATEGORY, LINE, DESCRIPTION, LOCATION, CAPACITY, SLOT,
           MINIMUM, MAXIMUM, CHANGEOVER, APPROVAL, HOLIDAYS, NOTICE, ADVANCE, CANCEL_DEADLINE,
           OTHERS_OPEN, CHECK_IN, GRACE, CERTIFICATIONS, *WEEKDAYS)
# Bounds of the equipment pages and API (booking.api.equipment.EquipmentInSchema). A
# blank window keeps the machine's (a file cannot empty one: the pages and API can).
NUMBERS = ((CAPACITY, 0, 100000), (SLOT, 1, 1440), (MINIMUM, 1, 10080), (MAXIMUM, 1, 10080),
           (CHANGEOVER, 0, 1440), (NOTICE, 0, 129600), (ADVANCE, 1, 3650),
           (CANCEL_DEADLINE, 0, 8760), (OTHERS_OPEN, 0, 3650), (GRACE, 0, 240))


def _read(row: Row) -> dict[str, Any]:
    """The row's given values, as create_equipment and update_equipment take them."""
    data: dict[str, Any] = {}
    for column, length in ((NAME, 255), (DESCRIPTION, 5000), (LOCATION, 255)):
        value = values.text(row, column, length)
        if value is not None:
            data[column.key] = value
    category = values.choice(row, CATEGORY, EquipmentCategory)
    if category is not None:
        data["category"] = category
    for column, low, high in NUMBERS:
        number = values.whole(row, column, low, high)
        if number is not None:
            data[column.key] = number
    for column in (APPROVAL, HOLIDAYS, CHECK_IN):
        flag = values.yes_no(row, column)
        if flag is not None:
            data[column.key] = flag
    if any(day.key in row.values for day in WEEKDAYS):
        data["opening_hours"] = [
            {"weekday": weekday, "opens": opens, "closes": closes}
            for weekday, day in enumerate(WEEKDAYS)
            for opens, closes in values.hours(row, day) or []]
    return data


def _establishment(session: Session, actor: User, code: str | None,
                   machine: Equipment | None) -> Establishment:
    if code is None:
        if machine is not None:
            return machine.establishment
        if is_coordinator(actor) and actor.establishment is not None:
            return actor.establishment
        raise ValidationError(N_("Give the establishment's code."),
                              {"field": "establishment"})
    establishment = session.scalar(select(Establishment).where(Establishment.code == code))
    if establishment is None:
        raise ValidationError(N_("No establishment has the code “%(value)s”."),
                              {"field": "establishment"}, value=code)
    return establishment


def _certification_types(session: Session, codes: list[str]) -> list[CertificationType]:
    found = {t.code: t for t in session.scalars(
        select(CertificationType).where(CertificationType.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(N_("No certification type has the code “%(value)s”."),
                              {"field": "certifications"}, value=unknown[0])
    return [found[c] for c in dict.fromkeys(codes)]


def _line(session: Session, code: str) -> Equipment:
    line = session.scalar(select(Equipment).where(Equipment.code == code))
    if line is None:
        raise ValidationError(N_("No pilot line has the code “%(value)s”."),
                              {"field": "line"}, value=code)
    return line


def apply(session: Session, actor: User, row: Row, now: datetime
          ) -> tuple[str, list[Change]]:
    code = values.text(row, CODE, 32)
    values.required(row, CODE, code)
    establishment_code = values.text(row, ESTABLISHMENT, 32)
    line_code = values.text(row, LINE, 32)
    certification_codes = values.codes(row, CERTIFICATIONS)
    data = _read(row)
    values.checked(row)
    if code is None:  # noted by required()
        raise values.CellError
    machine = session.scalar(select(Equipment).where(Equipment.code == code))
    establishment = _establishment(session, actor, establishment_code, machine)
    if certification_codes:
        data["required_certification_type_ids"] = [
            t.id for t in _certification_types(session, certification_codes)]
    if line_code:
        data["parent_id"] = _line(session, line_code).id
    if machine is None:
        for column in (NAME, CATEGORY):
            values.required(row, column, data.get(column.key))
        values.checked(row)
        create_equipment(session, actor=actor, now=now,
                         data={**data, "code": code, "establishment_id": establishment.id})
        return CREATED, []
    if machine.establishment_id != establishment.id:
        raise ValidationError(N_("The code %(value)s is already used by equipment of "
                                 "%(establishment)s."), {"field": "code"}, value=code,
                              establishment=machine.establishment.name)
    changes, changed = _changes(machine, data, certifications=" ".join(
        sorted(set(certification_codes))), line=line_code)
    if not changes:
        return UNCHANGED, []
    update_equipment(session, actor=actor, equipment=machine, now=now,
                     data={key: data[key] for key in changed})
    return UPDATED, changes


def _hours_text(intervals: list[tuple[time, time]]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in sorted(intervals))


def _changes(machine: Equipment, data: dict[str, Any], *, certifications: str,
             line: str | None) -> tuple[list[Change], list[str]]:
    """What ``data`` changes, as the reader sees it, and the keys to write."""
    changes: list[Change] = []
    changed: list[str] = []
    for column in (NAME, CATEGORY, DESCRIPTION, LOCATION, CAPACITY, SLOT, MINIMUM, MAXIMUM,
                   CHANGEOVER, APPROVAL, HOLIDAYS, NOTICE, ADVANCE, CANCEL_DEADLINE,
                   OTHERS_OPEN, CHECK_IN, GRACE):
        if column.key in data and data[column.key] != getattr(machine, column.key):
            changes.append(Change(column.title, getattr(machine, column.key),
                                  data[column.key]))
            changed.append(column.key)
    if "required_certification_type_ids" in data:
        before = {t.id: t.code for t in machine.required_certification_types}
        if set(before) != set(data["required_certification_type_ids"]):
            changes.append(Change(CERTIFICATIONS.title,
                                  " ".join(sorted(before.values())) or None, certifications))
            changed.append("required_certification_type_ids")
    if "parent_id" in data and data["parent_id"] != machine.parent_id:
        changes.append(Change(LINE.title, machine.parent.code if machine.parent else None,
                              line))
        changed.append("parent_id")
    if "opening_hours" in data:
        for weekday, day in enumerate(WEEKDAYS):
            before = [(h.opens, h.closes) for h in machine.opening_hours
                      if h.weekday == weekday]
            after = [(h["opens"], h["closes"]) for h in data["opening_hours"]
                     if h["weekday"] == weekday]
            if sorted(before) != sorted(after):
                changes.append(Change(day.title, _hours_text(before) or None,
                                      _hours_text(after) or None))
                if "opening_hours" not in changed:
                    changed.append("opening_hours")
    return changes, changed


def _key(row: Row) -> str:
    return row.values.get(CODE.key, "")


def _order(row: Row) -> int:
    """Machines of no line (pilot lines among them) before components."""
    return 1 if row.values.get(LINE.key) else 0


KIND = Kind(name="equipment", title=N_("Equipment"), columns=COLUMNS, key=_key, apply=apply,
            order=_order)
