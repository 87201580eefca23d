"""Who may follow which calendar, and hold or revoke a feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from booking.permissions import is_admin, is_company, is_staff, may, of_company, rule
from booking.services.accounts.access import active_trainers
from booking.services.projects.access import visible_projects
from models import (
    Company,
    Equipment,
    EquipmentStatus,
    Establishment,
    Feed,
    FeedScope,
    Project,
    ProjectStatus,
    User,
)

# A completed project's feed keeps its history; one that never ran has none.
UNFOLLOWED_PROJECTS = (ProjectStatus.REJECTED, ProjectStatus.CANCELLED)


@dataclass(frozen=True)
class Subscription:
    """A scope one may follow: the object whose bookings a feed would show."""

    scope: FeedScope
    target: Any


@rule(Feed, "view", "delete", "regenerate")
def own(user: User, feed: Feed) -> bool:
    return feed.owner_id == user.id or is_admin(user)


@rule(Subscription, "subscribe")
def subscribe(user: User, subscription: Subscription) -> bool:
    """A company follows only its own; a trainer's agenda is theirs and staff's;
    equipment and establishment feeds show every company's bookings."""
    scope, target = subscription.scope, subscription.target
    if scope is FeedScope.COMPANY:
        return is_staff(user) or of_company(user, target.id)
    if scope is FeedScope.PROJECT:
        return may(user, "view", target)
    if scope is FeedScope.TRAINER:
        return (is_staff(user) or user.id == target.id) and not is_company(target)
    return not is_company(user)


def may_follow(user: User, scope: FeedScope, target: Any) -> bool:
    return may(user, "subscribe", Subscription(scope, target))


def followable(session: Session, user: User) -> list[Subscription]:
    """What ``user`` may follow with a new feed: their own agenda, trainers'
    (staff), projects and companies they see, equipment and establishments."""
    found: list[Subscription] = []
    if not is_company(user):
        found.append(Subscription(FeedScope.TRAINER, user))
    if is_staff(user):
        found += [Subscription(FeedScope.TRAINER, t) for t in session.scalars(
            active_trainers().where(User.id != user.id))]
    projects = (visible_projects(user).where(Project.status.not_in(UNFOLLOWED_PROJECTS))
                .order_by(Project.title))
    found += [Subscription(FeedScope.PROJECT, p) for p in session.scalars(projects)]
    companies = select(Company).order_by(Company.name)
    if not is_staff(user):
        companies = companies.where(Company.id == user.company_id)
    found += [Subscription(FeedScope.COMPANY, c) for c in session.scalars(companies)]
    if not is_company(user):
        found += [Subscription(FeedScope.EQUIPMENT, e) for e in session.scalars(
            select(Equipment).options(joinedload(Equipment.establishment))
            .where(Equipment.status != EquipmentStatus.RETIRED).order_by(Equipment.name))]
        found += [Subscription(FeedScope.ESTABLISHMENT, e) for e in session.scalars(
            select(Establishment).order_by(Establishment.city, Establishment.name))]
    return [s for s in found if may(user, "subscribe", s)]
