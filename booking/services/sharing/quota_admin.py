"""Coordinators of the owning establishment (and admins) set the quotas of its
machines: one machine, or every machine of a category of the establishment.

Every value is checked here, whichever edge sends it (a page's form, the
API's schema): a wrong type, an unknown id or a limit out of range is a 422
naming its field, and nothing is written. A quota holds the bookings made or
moved after it is written; those already made stay.
"""

from __future__ import annotations

import math
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, DomainError, ValidationError
from booking.services.sharing import access  # noqa: F401  (registers the Quota rules)
from models import (
    Equipment,
    EquipmentCategory,
    Establishment,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    User,
)

# Bounds of the limits: far above any period's hours (a school year holds 8,784).
MAX_HOURS = 10_000
MAX_FUTURE_BOOKINGS = 10_000
# What a quota's audit entries and updates carry.
SETTINGS = ("applies_to", "beneficiary_establishment_id", "period", "max_minutes",
            "max_future_bookings", "over")
E = TypeVar("E", bound=Enum)


class Refusals:
    """The problems of one request, all given at once (the first raised)."""

    def __init__(self) -> None:
        self.problems: list[DomainError] = []

    def add(self, template: str, field: str, **params: Any) -> None:
        self.problems.append(ValidationError(template, {"field": field}, **params))

    def raise_any(self) -> None:
        if self.problems:
            first = self.problems[0]
            first.refusals = self.problems  # type: ignore[attr-defined]
            raise first


def _choice(refusals: Refusals, kind: type[E], value: Any, field: str) -> E | None:
    try:
        return kind(value)
    except ValueError:
        refusals.add(N_("Choose one of: %(values)s."), field,
                     values=", ".join(v.value for v in kind))
        return None


def _establishment(session: Session, refusals: Refusals, value: Any,
                   field: str) -> Establishment | None:
    if isinstance(value, int) and not isinstance(value, bool):
        found = session.get(Establishment, value)
        if found is not None:
            return found
    refusals.add(N_("No establishment %(id)s."), field, id=value)
    return None


def minutes_of(refusals: Refusals, hours: Any) -> int | None:
    """Hours (a number, maybe fractional) as whole minutes; None stays None."""
    if hours is None:
        return None
    if isinstance(hours, bool) or not isinstance(hours, int | float) \
            or not math.isfinite(hours) or not 0 <= hours <= MAX_HOURS:
        refusals.add(N_("Give a number of hours from 0 to %(max)d."), "max_hours",
                     max=MAX_HOURS)
        return None
    return round(hours * 60)


def _bookings(refusals: Refusals, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= MAX_FUTURE_BOOKINGS:
        refusals.add(N_("Give a number of bookings from 0 to %(max)d."), "max_future_bookings",
                     max=MAX_FUTURE_BOOKINGS)
        return None
    return value


def _settings(session: Session, refusals: Refusals, given: dict[str, Any]) -> dict[str, Any]:
    """The checked values of the settings ``given`` (API names: max_hours)."""
    checked: dict[str, Any] = {}
    for name, kind in (("applies_to", QuotaAppliesTo), ("period", QuotaPeriod),
                       ("over", QuotaOver)):
        if name in given:
            checked[name] = _choice(refusals, kind, given[name], name)
    if "beneficiary_establishment_id" in given:
        beneficiary = given["beneficiary_establishment_id"]
        checked["beneficiary_establishment_id"] = None if beneficiary is None else getattr(
            _establishment(session, refusals, beneficiary, "beneficiary_establishment_id"),
            "id", None)
    if "max_hours" in given:
        checked["max_minutes"] = minutes_of(refusals, given["max_hours"])
    if "max_future_bookings" in given:
        checked["max_future_bookings"] = _bookings(refusals, given["max_future_bookings"])
    return checked


def _require_a_limit(refusals: Refusals, quota: Quota) -> None:
    if quota.max_minutes is None and quota.max_future_bookings is None:
        refusals.add(N_("Give a number of hours, a number of future bookings, or both."),
                     "max_hours")


def _target(session: Session, refusals: Refusals, equipment_id: Any, category: Any,
            establishment_id: Any) -> tuple[int | None, EquipmentCategory | None, int | None]:
    """(equipment id, category, owning establishment id) of a new quota."""
    if equipment_id is not None:
        if category is not None:
            refusals.add(N_("Give either equipment_id, or category and establishment_id."),
                         "category")
            return None, None, None
        machine = session.get(Equipment, equipment_id) \
            if isinstance(equipment_id, int) and not isinstance(equipment_id, bool) else None
        if machine is None:
            refusals.add(N_("No equipment %(id)s."), "equipment_id", id=equipment_id)
            return None, None, None
        if establishment_id is not None and establishment_id != machine.establishment_id:
            refusals.add(N_("This machine belongs to another establishment."),
                         "establishment_id")
        return machine.id, None, machine.establishment_id
    if category is None or establishment_id is None:
        refusals.add(N_("Give either equipment_id, or category and establishment_id."),
                     "equipment_id" if category is None else "establishment_id")
        return None, None, None
    chosen = _choice(refusals, EquipmentCategory, category, "category")
    owner = _establishment(session, refusals, establishment_id, "establishment_id")
    return None, chosen, owner.id if owner is not None else None


def create_quota(session: Session, *, actor: User, now: datetime, applies_to: Any,
                 period: Any, over: Any, equipment_id: Any = None, category: Any = None,
                 establishment_id: Any = None, beneficiary_establishment_id: Any = None,
                 max_hours: Any = None, max_future_bookings: Any = None) -> Quota:
    """A quota on one machine (``equipment_id``) or on the ``category`` of
    ``establishment_id``'s machines; the coordinators of the owner, or admins."""
    refusals = Refusals()
    machine_id, chosen_category, owner_id = _target(session, refusals, equipment_id, category,
                                                    establishment_id)
    refusals.raise_any()
    quota = Quota(establishment_id=owner_id, equipment_id=machine_id, category=chosen_category)
    require(actor, "manage", quota,
            N_("Only the coordinators of the owning establishment set its quotas."))
    settings = _settings(session, refusals, {
        "applies_to": applies_to, "period": period, "over": over,
        "beneficiary_establishment_id": beneficiary_establishment_id,
        "max_hours": max_hours, "max_future_bookings": max_future_bookings})
    refusals.raise_any()
    for name, value in settings.items():
        setattr(quota, name, value)
    _require_a_limit(refusals, quota)
    refusals.raise_any()
    quota.created_by_id, quota.created_at, quota.updated_at = actor.id, now, now
    session.add(quota)
    session.flush()
    audit.record(session, actor=actor, action="quota.create", object_type="quota",
                 object_id=quota.id, now=now, establishment_id=quota.establishment_id,
                 equipment_id=quota.equipment_id,
                 category=quota.category.value if quota.category else None,
                 **{name: _raw(getattr(quota, name)) for name in SETTINGS})
    return quota


def update_quota(session: Session, quota: Quota, *, actor: User, now: datetime,
                 changes: dict[str, Any]) -> Quota:
    """Change a quota's settings (what it counts, whom, how much, what happens
    past it); its machine or category stays: delete it and make another."""
    require(actor, "manage", quota,
            N_("Only the coordinators of the owning establishment set its quotas."))
    refusals = Refusals()
    unknown = sorted(set(changes) - (set(SETTINGS) - {"max_minutes"}) - {"max_hours"})
    for name in unknown:
        refusals.add(N_("A quota's machine or category does not change: delete it and "
                        "create another."), name)
    settings = _settings(session, refusals, changes)
    refusals.raise_any()
    before = {name: getattr(quota, name) for name in SETTINGS}
    for name, value in settings.items():
        setattr(quota, name, value)
    _require_a_limit(refusals, quota)
    if refusals.problems:
        for name, value in before.items():
            setattr(quota, name, value)
        refusals.raise_any()
    changed = {name: [_raw(before[name]), _raw(getattr(quota, name))] for name in SETTINGS
               if before[name] != getattr(quota, name)}
    if changed:
        quota.updated_at = now
        session.flush()
        audit.record(session, actor=actor, action="quota.update", object_type="quota",
                     object_id=quota.id, now=now, changes=changed)
    return quota


def delete_quota(session: Session, quota: Quota, *, actor: User, now: datetime) -> None:
    require(actor, "manage", quota,
            N_("Only the coordinators of the owning establishment set its quotas."))
    audit.record(session, actor=actor, action="quota.delete", object_type="quota",
                 object_id=quota.id, now=now, establishment_id=quota.establishment_id,
                 equipment_id=quota.equipment_id,
                 category=quota.category.value if quota.category else None,
                 **{name: _raw(getattr(quota, name)) for name in SETTINGS})
    session.delete(quota)
    session.flush()


def _raw(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
