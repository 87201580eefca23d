"""Who may do what to which object: the one table, and the only role tests.

Each aggregate declares its rules beside its operations, in
``booking/services/<aggregate>/access.py``, with :func:`rule`; they land in
:data:`RULES`, keyed by (object kind, action). Every service operation starts
with :func:`require`, so a page, an endpoint, a job or a command cannot skip
it; pages and API only ask :func:`may` to decide what to show.

An object the user may not even see is a 404 (another company's project); one
they see but may not change is a 403 (a trainer cancelling a colleague's
booking). Actions that concern no object yet (create a project, read the
reports) are asked of the class: ``may(user, "request", Project)``.

The role predicates below are the only place that compares roles; rules and
visibility queries call them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from booking.services.errors import N_, Forbidden, NotFound
from models import Role, User

T = TypeVar("T")
Predicate = Callable[[User, Any], bool]

STAFF = (Role.ADMIN, Role.COORDINATOR)
# Who may run sessions as a booking's trainer (a coordinator may train too).
TRAINING_ROLES = (Role.TRAINER, Role.COORDINATOR)
# Who coordinates an establishment (and hears of its bookings).
COORDINATING_ROLES = (Role.COORDINATOR,)
# Who may be a project's trainer: trainers only.
PROJECT_TRAINER_ROLES = (Role.TRAINER,)

RULES: dict[tuple[type, str], Predicate] = {}


def rule(kind: type, *actions: str) -> Callable[[Predicate], Predicate]:
    """Register a predicate ``(user, obj) -> bool`` for ``kind`` and each action."""

    def register(predicate: Predicate) -> Predicate:
        for action in actions:
            key = (kind, action)
            if key in RULES:
                raise RuntimeError(f"two rules for {kind.__name__}.{action}")
            RULES[key] = predicate
        return predicate

    return register


# --- roles ---------------------------------------------------------------------


def is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def is_staff(user: User) -> bool:
    """Coordinators and admins: they see and decide across the campus."""
    return user.role in STAFF


def is_coordinator(user: User) -> bool:
    return user.role is Role.COORDINATOR


def is_trainer(user: User) -> bool:
    return user.role is Role.TRAINER


def is_company(user: User) -> bool:
    return user.role is Role.COMPANY


def coordinates(user: User, establishment_id: int | None) -> bool:
    """Admins, or the coordinator of that establishment."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.COORDINATOR and user.establishment_id == establishment_id


def of_company(user: User, company_id: int | None) -> bool:
    """A company account of that company."""
    return user.role is Role.COMPANY and user.company_id is not None \
        and user.company_id == company_id


def may_train(user: User) -> bool:
    """An active account that may be named as a booking's trainer."""
    return user.active and user.role in TRAINING_ROLES


def may_train_projects(user: User) -> bool:
    return user.active and user.role in PROJECT_TRAINER_ROLES


def belongs_to_company(role: Role) -> bool:
    """Only company accounts belong to a company (and each of them to one)."""
    return role is Role.COMPANY


def needs_establishment(role: Role) -> bool:
    """A coordinator coordinates one establishment."""
    return role is Role.COORDINATOR


# --- the gate --------------------------------------------------------------------


def _kind(obj: Any) -> type:
    return obj if isinstance(obj, type) else type(obj)


def may(user: User | None, action: str, obj: Any) -> bool:
    """True when ``user`` may do ``action`` to ``obj``; unknown pairs are refused."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    _load_rules()
    predicate = RULES.get((_kind(obj), action))
    return predicate is not None and predicate(user, obj)


def require(user: User, action: str, obj: T, refusal: str | None = None, **params: Any) -> T:
    """Answer ``obj`` if allowed; NotFound if the user may not see it, else
    Forbidden with ``refusal`` (a message marked with N_) or a general one.

    Kinds without a "view" rule (and classes) are not hidden: their refusal is
    a Forbidden.
    """
    _load_rules()
    kind = _kind(obj)
    hidden = not isinstance(obj, type) and (kind, "view") in RULES
    if hidden and not may(user, "view", obj):
        raise NotFound(N_("Not found."))
    if (action != "view" or not hidden) and not may(user, action, obj):
        if refusal is None:
            raise Forbidden(N_("You may not do this."))
        raise Forbidden(refusal, **params)
    return obj


_ACCESS_MODULES = ("accounts", "bookings", "certifications", "checkin", "closures", "equipment",
                   "feeds", "kiosk", "onboarding", "projects", "reports", "sharing",
                   "waitlist", "pricing", "quotes", "agreements", "attendance", "satisfaction",
                   "invoicing", "evaluation")
_loaded: list[bool] = []


def _load_rules() -> None:
    """Import each aggregate's access module (they register with :func:`rule`).
    Done at the first question rather than at import time: access modules
    import services that import this module, in any order."""
    if _loaded:
        return
    for name in _ACCESS_MODULES:
        importlib.import_module(f"booking.services.{name}.access")
    _loaded.append(True)
