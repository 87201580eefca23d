"""Who a quota applies to, who may see it and who may write it.

A quota counts for the establishment of a booking's booker, or for the booker
alone. With no beneficiary it applies to every establishment but the owner
(its users, for a quota per user: company accounts, who belong to no
establishment, included); with a beneficiary, to that establishment (its
users) only. An establishment's quota never applies to a company account.

Coordinators and admins see every quota (they plan across the campus);
others see those that apply to them. The coordinators of the owning
establishment, and admins, write them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from booking.permissions import coordinates, is_admin, is_coordinator, is_staff, rule
from models import Quota, QuotaAppliesTo, TravelTime, User


def applies_to_establishment(quota: Quota, establishment_id: int | None) -> bool:
    """Whether the quota limits ``establishment_id`` (or the users of it; None:
    a user of no establishment, who only a per-user quota without beneficiary holds)."""
    if quota.beneficiary_establishment_id is not None:
        return establishment_id == quota.beneficiary_establishment_id
    if establishment_id is None:
        return quota.applies_to is QuotaAppliesTo.USER
    return establishment_id != quota.establishment_id


def applies(quota: Quota, user: User) -> bool:
    """Whether the quota counts ``user``'s bookings (alone or with their establishment's)."""
    return applies_to_establishment(quota, user.establishment_id)


def applying_clause(user: User) -> ColumnElement[bool]:
    """The SQL form of :func:`applies`."""
    own = user.establishment_id
    if own is None:
        return and_(Quota.applies_to == QuotaAppliesTo.USER,
                    Quota.beneficiary_establishment_id.is_(None))
    return or_(Quota.beneficiary_establishment_id == own,
               and_(Quota.beneficiary_establishment_id.is_(None), Quota.establishment_id != own))


@rule(Quota, "view")
def view(user: User, quota: Quota) -> bool:
    return is_staff(user) or applies(quota, user)


@rule(Quota, "manage")
def manage(user: User, quota: Quota | type) -> bool:
    """Asked of the class: may write quotas at all (coordinators and admins)."""
    if isinstance(quota, type):
        return is_staff(user)
    return coordinates(user, quota.establishment_id)


def listed_quotas(user: User) -> Select[tuple[Quota]]:
    """The quotas a reader's lists show: those that apply to them, and the
    ones a coordinator's establishment owns; every quota for an admin."""
    if is_admin(user):
        return select(Quota)
    owned = Quota.establishment_id == user.establishment_id if is_coordinator(user) else false()
    return select(Quota).where(or_(applying_clause(user), owned))


def managed_quotas(user: User) -> Select[tuple[Quota]]:
    """The quotas a coordinator writes (their establishment's); all for an admin."""
    if is_admin(user):
        return select(Quota).where(true())
    if not is_coordinator(user):
        return select(Quota).where(false())
    return select(Quota).where(Quota.establishment_id == user.establishment_id)


@rule(TravelTime, "view")
def view_travel_times(user: User, travel: object) -> bool:
    """Everyone signed in: a trainer sees why two sessions cannot follow each other."""
    return True


@rule(TravelTime, "manage")
def manage_travel_times(user: User, travel: object) -> bool:
    """The default and each pair: admins."""
    return is_admin(user)
