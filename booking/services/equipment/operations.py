"""Creating and changing equipment: its line, its rules, its opening hours."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import may, require
from booking.services import audit
from booking.services.equipment.lines import change_line
from booking.services.errors import N_, Conflict, DomainError, Forbidden, ValidationError
from models import (
    CertificationType,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Establishment,
    OpeningHours,
    User,
)

# The booking windows (issue 13) and their bounds, as the database's CHECKs
# (models.equipment): (lowest, highest, whether empty is allowed).
WINDOW_FIELDS = ("notice_minutes", "max_advance_days", "cancel_deadline_hours",
                 "others_open_days")
WINDOW_BOUNDS = {"notice_minutes": (0, 129600, False), "max_advance_days": (1, 3650, True),
                 "cancel_deadline_hours": (0, 8760, False), "others_open_days": (0, 3650, True)}
RULE_FIELDS = ("name", "description", "location", "category", "status", "status_reason",
               "capacity", "slot_minutes", "min_minutes", "max_minutes", "changeover_minutes",
               "requires_approval", "open_on_holidays", "approval_deadline_hours",
               *WINDOW_FIELDS, "check_in_required", "check_in_grace_minutes")
# Check-in at the machine (issue 14): the grace period after the start, as the
# database's CHECK (models.equipment).
GRACE_BOUNDS = (0, 240)


def create_equipment(session: Session, *, actor: User, data: dict[str, Any],
                     now: datetime) -> Equipment:
    if not may(actor, "add", Equipment):
        raise Forbidden(N_("Only an admin or a coordinator adds equipment."))
    establishment = session.get(Establishment, data.get("establishment_id"))
    if establishment is None:
        raise ValidationError(N_("No establishment %(id)s."), {"field": "establishment_id"},
                              id=data.get("establishment_id"))
    if not may(actor, "add_equipment", establishment):
        raise Forbidden(N_("Only an admin or a coordinator of %(name)s adds its equipment."),
                        name=establishment.name)
    code = data["code"].strip()
    refuse(equipment_problems(session, establishment=establishment, data=data))
    # Column defaults apply only at INSERT: the rules below read these values.
    equipment = Equipment(code=code, establishment=establishment, name=data["name"],
                          category=data["category"], status=EquipmentStatus.ACTIVE,
                          status_reason="", slot_minutes=30, min_minutes=30, max_minutes=480,
                          changeover_minutes=0, created_at=now, updated_at=now)
    _apply(session, equipment, data, now)
    if "opening_hours" not in data and equipment.parent is not None:
        # A line's machines run together: a new component keeps its line's hours.
        equipment.opening_hours = [OpeningHours(weekday=h.weekday, opens=h.opens,
                                                closes=h.closes)
                                   for h in equipment.parent.opening_hours]
    session.add(equipment)
    session.flush()
    audit.record(session, actor=actor, action="equipment.create", object_type="equipment",
                 object_id=equipment.id, now=now, code=code)
    return equipment


def update_equipment(session: Session, *, actor: User, equipment: Equipment,
                     data: dict[str, Any], now: datetime) -> Equipment:
    require(actor, "manage", equipment)
    refuse(equipment_problems(session, establishment=equipment.establishment, data=data,
                              equipment=equipment))
    if "code" in data:
        equipment.code = data["code"].strip()
    before = {name: _plain(getattr(equipment, name)) for name in RULE_FIELDS}
    _apply(session, equipment, data, now)
    equipment.updated_at = now
    session.flush()
    changes = {name: [before[name], _plain(getattr(equipment, name))] for name in RULE_FIELDS
               if before[name] != _plain(getattr(equipment, name))}
    for key in ("opening_hours", "required_certification_type_ids", "parent_id"):
        if key in data:
            changes[key] = "changed"
    audit.record(session, actor=actor, action="equipment.update", object_type="equipment",
                 object_id=equipment.id, now=now, changes=changes)
    return equipment


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def refuse(problems: list[DomainError]) -> None:
    """Raise the first refusal, carrying all of them in ``refusals``: the API answers
    with the first as it always did, the admin form shows every one at once."""
    if problems:
        first = problems[0]
        first.refusals = problems  # type: ignore[attr-defined]
        raise first


def equipment_problems(session: Session, *, establishment: Establishment,
                       data: dict[str, Any], equipment: Equipment | None = None
                       ) -> list[DomainError]:
    """Every refusal of ``data`` (the changed fields; the others keep the equipment's
    values, or a new one's defaults), in the order of the form; nothing written."""
    problems: list[DomainError] = []

    def value(name: str, default: Any) -> Any:
        if name in data:
            return data[name]
        return getattr(equipment, name) if equipment is not None else default

    code = (data.get("code") or "").strip()
    if code and (equipment is None or code != equipment.code) and session.scalar(
            select(Equipment.id).where(Equipment.code == code)) is not None:
        problems.append(Conflict(N_("The code %(value)s is already used."), {"field": "code"},
                                 value=code))
    if (equipment is not None and "establishment_id" in data
            and data["establishment_id"] != equipment.establishment_id):
        problems.append(ValidationError(N_("Equipment cannot move to another establishment."),
                                        {"field": "establishment_id"}))
    if value("status", EquipmentStatus.ACTIVE) is not EquipmentStatus.ACTIVE and not (
            value("status_reason", "") or "").strip():
        problems.append(ValidationError(N_("Say why the equipment is not active."),
                                        {"field": "status_reason"}))
    problems += _rule_problems(value("slot_minutes", 30), value("min_minutes", 30),
                               value("max_minutes", 480), value("changeover_minutes", 0),
                               value("capacity", None))
    problems += _window_problems(value("notice_minutes", 0), value("max_advance_days", None),
                                 value("cancel_deadline_hours", 0),
                                 value("others_open_days", None))
    grace = value("check_in_grace_minutes", 15)
    if isinstance(grace, bool) or not isinstance(grace, int) \
            or not GRACE_BOUNDS[0] <= grace <= GRACE_BOUNDS[1]:
        problems.append(ValidationError(
            N_("The check-in grace period is from 0 to %(max)d minutes after the start."),
            {"field": "check_in_grace_minutes"}, max=GRACE_BOUNDS[1]))
    if "required_certification_type_ids" in data:
        ids = list(dict.fromkeys(data["required_certification_type_ids"]))
        found = session.scalars(select(CertificationType.id)
                                .where(CertificationType.id.in_(ids))).all()
        if len(found) != len(ids):
            problems.append(ValidationError(N_("Unknown certification type."),
                                            {"field": "required_certification_type_ids"}))
    if data.get("parent_id") is not None:
        try:
            _parent(session, equipment, establishment, data["parent_id"])
        except ValidationError as error:
            problems.append(error)
    if "opening_hours" in data:
        try:
            _opening_hours(data["opening_hours"])
        except ValidationError as error:
            problems.append(error)
    return problems


def _apply(session: Session, equipment: Equipment, data: dict[str, Any],
           now: datetime) -> None:
    """Write ``data``, checked by :func:`equipment_problems` first."""
    for name in RULE_FIELDS:
        if name in data:
            setattr(equipment, name, data[name])
    if "required_certification_type_ids" in data:
        ids = list(dict.fromkeys(data["required_certification_type_ids"]))
        equipment.required_certification_types = list(session.scalars(
            select(CertificationType).where(CertificationType.id.in_(ids))))
    # After the query above: a new component set on its line before it is in the
    # session would make that query's autoflush warn and skip it.
    if "parent_id" in data:
        parent = session.get(Equipment, data["parent_id"]) if data["parent_id"] else None
        change_line(session, equipment, parent, now)
    if "opening_hours" in data:
        equipment.opening_hours = _opening_hours(data["opening_hours"])


def _rule_problems(slot: int | None, minimum: int | None, maximum: int | None,
                   changeover: int | None, capacity: int | None) -> list[DomainError]:
    slot = slot or 30
    minimum = minimum if minimum is not None else slot
    maximum = maximum if maximum is not None else 480
    problems: list[DomainError] = []
    if slot <= 0 or minimum <= 0 or minimum % slot or maximum % slot:
        problems.append(ValidationError(N_("Durations must be positive multiples of the slot."),
                                        {"field": "slot_minutes"}))
    if maximum < minimum:
        problems.append(ValidationError(N_("The maximum duration is below the minimum."),
                                        {"field": "max_minutes"}))
    if (changeover or 0) < 0 or (capacity or 0) < 0:
        problems.append(ValidationError(N_("Changeover and capacity cannot be negative."),
                                        {"field": "changeover_minutes"}))
    return problems


def _window_problems(notice: Any, advance: Any, deadline: Any, others: Any
                     ) -> list[DomainError]:
    """Each window within its bounds (the CHECKs of the table), and a furthest
    ahead that leaves some time past the minimum notice."""
    messages = {
        "notice_minutes": N_("The minimum notice is from 0 to %(max)d minutes."),
        "max_advance_days": N_("The furthest ahead is from 1 to %(max)d days; leave it "
                               "empty for the campus horizon."),
        "cancel_deadline_hours": N_("The cancellation deadline is from 0 to %(max)d hours "
                                    "before the start."),
        "others_open_days": N_("Other establishments may book from 0 to %(max)d days "
                               "ahead; leave it empty for no priority window."),
    }
    problems: list[DomainError] = []
    given = dict(zip(WINDOW_FIELDS, (notice, advance, deadline, others), strict=True))
    for name, number in given.items():
        low, high, may_be_empty = WINDOW_BOUNDS[name]
        if number is None and may_be_empty:
            continue
        if isinstance(number, bool) or not isinstance(number, int) \
                or not low <= number <= high:
            problems.append(ValidationError(messages[name], {"field": name}, max=high))
            given[name] = None
    if (given["max_advance_days"] is not None and given["notice_minutes"] is not None
            and given["max_advance_days"] * 24 * 60 <= given["notice_minutes"]):
        problems.append(ValidationError(
            N_("No slot could be booked: the furthest ahead must be beyond the minimum "
               "notice."), {"field": "max_advance_days"}))
    return problems


def _parent(session: Session, equipment: Equipment | None, establishment: Establishment,
            parent_id: int) -> Equipment:
    parent = session.get(Equipment, parent_id)
    if parent is None or parent.category is not EquipmentCategory.PILOT_LINE:
        raise ValidationError(N_("A component belongs to an existing pilot line."),
                              {"field": "parent_id"})
    if parent is equipment or parent.parent_id is not None or (
            equipment is not None and equipment.components):
        raise ValidationError(N_("Lines are one level deep: a line has components, "
                                 "a component has none."), {"field": "parent_id"})
    if parent.establishment_id != establishment.id:
        raise ValidationError(N_("A component belongs to a line of its own establishment."),
                              {"field": "parent_id"})
    return parent


def _opening_hours(rows: list[dict[str, Any]]) -> list[OpeningHours]:
    hours = []
    for row in rows:
        opens, closes = _time(row["opens"]), _time(row["closes"])
        if not 0 <= row["weekday"] <= 6 or opens >= closes:
            raise ValidationError(N_("Opening hours: weekday 0–6 and opens before closes."),
                                  {"field": "opening_hours"})
        hours.append(OpeningHours(weekday=row["weekday"], opens=opens, closes=closes))
    for a in hours:
        for b in hours:
            if a is not b and a.weekday == b.weekday and a.opens < b.closes and b.opens < a.closes:
                raise ValidationError(N_("Opening hours of one day overlap."),
                                      {"field": "opening_hours"})
    return hours


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(N_("%(value)s is not a time (HH:MM)."),
                              {"field": "opening_hours"}, value=value) from None
