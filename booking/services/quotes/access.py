"""Who may see, draft, issue and answer quotes (devis), and which quotes a
user may list.

Staff build quotes: an admin for any establishment, a coordinator for their
own (the issuer). A coordinator also reads the quotes of projects that use a
machine of their establishment. The project's company reads its quotes once
issued (never a draft) and accepts or declines them; another company's quote,
or any draft, is a 404 to a company account. Trainers see none.
"""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from booking.permissions import (
    coordinates,
    is_admin,
    is_company,
    is_coordinator,
    is_staff,
    of_company,
    rule,
)
from models import Equipment, Project, Quote, QuoteStatus, User
from models.project import project_equipment


def _uses_machines_of(project: Project, establishment_id: int | None) -> bool:
    return any(e.establishment_id == establishment_id for e in project.equipment)


@rule(Quote, "view", "pdf")
def view(user: User, quote: Quote) -> bool:
    """Admins; the issuer's coordinators, and those of the project's machines;
    the project's company once the quote is issued."""
    if is_admin(user):
        return True
    if is_coordinator(user):
        return coordinates(user, quote.establishment_id) \
            or _uses_machines_of(quote.project, user.establishment_id)
    if is_company(user):
        return quote.status is not QuoteStatus.DRAFT \
            and of_company(user, quote.project.company_id)
    return False


@rule(Quote, "manage")
def manage(user: User, quote: Quote) -> bool:
    """Edit a draft, issue it, revise an issued quote: the issuer's coordinators, admins."""
    return coordinates(user, quote.establishment_id)


@rule(Quote, "decide")
def decide(user: User, quote: Quote) -> bool:
    """Accept or decline: a company account of the project's company (the
    company's consent is what the quote records; staff do not answer for it)."""
    return of_company(user, quote.project.company_id)


@rule(Quote, "list")
def list_quotes(user: User, kind: object) -> bool:
    """The quotes page: staff and company accounts."""
    return is_staff(user) or (is_company(user) and user.company_id is not None)


@rule(Project, "quote")
def draft_for(user: User, project: Project) -> bool:
    """Draft a quote for a project: staff (the issuer is checked by the operation)."""
    return is_staff(user)


def visible_quotes(user: User) -> Select[tuple[Quote]]:
    """The quotes ``user`` may see (:func:`view`, as a query)."""
    stmt = select(Quote)
    if is_admin(user):
        return stmt
    if is_coordinator(user):
        if user.establishment_id is None:
            return stmt.where(false())
        machines = (select(project_equipment.c.project_id)
                    .join(Equipment, Equipment.id == project_equipment.c.equipment_id)
                    .where(Equipment.establishment_id == user.establishment_id))
        return stmt.where(or_(Quote.establishment_id == user.establishment_id,
                              Quote.project_id.in_(machines)))
    if is_company(user) and user.company_id is not None:
        return (stmt.join(Project, Project.id == Quote.project_id)
                .where(Project.company_id == user.company_id,
                       Quote.status != QuoteStatus.DRAFT))
    return stmt.where(false())
