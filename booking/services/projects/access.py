"""Who may see, request, decide and cancel industrial teaching projects, and
which projects a user may list or book sessions for."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from booking.permissions import is_company, is_staff, of_company, rule
from models import Project, ProjectStatus, User

# A project in these states is over: nothing changes it any more.
FINAL = (ProjectStatus.COMPLETED, ProjectStatus.REJECTED, ProjectStatus.CANCELLED)
# Its company may cancel a project until its sessions begin; coordinators, until it ends.
COMPANY_CANCELS = (ProjectStatus.REQUESTED, ProjectStatus.APPROVED, ProjectStatus.SCHEDULED)
# Sessions are booked for a project once approved and until it is over.
BOOKABLE = (ProjectStatus.APPROVED, ProjectStatus.SCHEDULED, ProjectStatus.IN_PROGRESS)


@rule(Project, "view")
def view(user: User, project: Project) -> bool:
    """Staff see every project; a company its own; a trainer those they run."""
    if is_staff(user):
        return True
    if is_company(user):
        return of_company(user, project.company_id)
    return project.trainer_id == user.id


@rule(Project, "request")
def request(user: User, kind: object) -> bool:
    """Company accounts request projects, for their company."""
    return is_company(user) and user.company_id is not None


@rule(Project, "decide", "review")
def decide(user: User, project: object) -> bool:
    return is_staff(user)


@rule(Project, "history")
def history(user: User, project: Project) -> bool:
    """Read its audit entries: those who decide projects."""
    return is_staff(user)


@rule(Project, "cancel")
def cancel(user: User, project: Project) -> bool:
    """Staff until the project is over; its company until its sessions begin.
    (The sessions to cancel have their own rule: bookings.access.cancel.)"""
    if project.status in FINAL:
        return False
    return is_staff(user) or (of_company(user, project.company_id)
                              and project.status in COMPANY_CANCELS)


@rule(Project, "schedule")
def schedule(user: User, project: Project) -> bool:
    """Book the sessions of an approved project: staff, or its trainer."""
    return project.status in BOOKABLE and (is_staff(user) or project.trainer_id == user.id)


def visible_projects(user: User) -> Select[tuple[Project]]:
    """The projects ``user`` may see (:func:`view`, as a query)."""
    stmt = select(Project)
    if is_staff(user):
        return stmt
    if is_company(user):
        if user.company_id is None:
            return stmt.where(false())
        return stmt.where(Project.company_id == user.company_id)
    return stmt.where(Project.trainer_id == user.id)


def own_projects(user: User) -> Select[tuple[Project]]:
    """A company's projects, or those a trainer runs (staff: those they run too)."""
    if is_company(user):
        return visible_projects(user)
    return select(Project).where(Project.trainer_id == user.id)


def bookable_projects(user: User) -> Select[tuple[Project]]:
    """The projects whose sessions ``user`` may book, by title."""
    stmt = own_projects(user) if not is_staff(user) else select(Project)
    return stmt.where(Project.status.in_(BOOKABLE)).order_by(Project.title)


def awaiting_decision(user: User) -> Select[tuple[Project]]:
    """``user``'s own requests still waiting for a coordinator, newest first."""
    return (own_projects(user).where(Project.status == ProjectStatus.REQUESTED)
            .order_by(Project.created_at.desc()))
