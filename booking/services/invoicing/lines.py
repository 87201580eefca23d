"""Invoice lines: what a completed project is invoiced, for the issuing
establishment's accounting software (issue 15, point 6).

One row per line of the project's accepted quote (the quote fixes the price),
with the accounting codes its establishment's admin set: the analytic section
(the machine's :class:`AnalyticCode`, else the establishment's
``BillingProfile.analytic_code``) and the revenue account of the line's kind.
No payment and no invoice number here: the accounting software makes the
invoice from these lines.

The amounts are integers (cents, basis points, hundredths), those of the
quote (booking.services.quotes.totals), computed line by line, each step
rounded half up:

* gross = quantity × unit price (quantity in hundredths, so ÷ 100);
* minus the line's discount (gross × discount_bp ÷ 10 000);
* minus the quote's discount on what remains: the line's amount excluding VAT;
* VAT = amount excluding VAT × vat_rate_bp ÷ 10 000; including VAT = the sum;
  the quote computes VAT once per rate on the sum of its lines, so the last
  line of each rate takes the cent of difference: the lines add up to the
  quote's totals, to the cent.

The attendance gives each row two figures of its project (the same on every
row of a project; do not add them up across rows): the learners who attended
at least one half-day, and their attended hours, each present or late mark
counting its half-day's hours less the minutes late (never below zero), an
absence nothing; summed exactly, rounded half up to the hundredth once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.orm import Session, selectinload

from booking.permissions import require
from booking.services.errors import N_, InvalidState, NotFound, ValidationError
from booking.services.invoicing.access import Invoicing, IssuedBy
from booking.services.policy import CAMPUS_ZONE
from booking.services.quotes.totals import line_amount, percent_of, round_half_up
from booking.services.quotes.totals import totals as quote_totals
from models import SLOT_HOLDING_STATUSES, Booking, Establishment, Project, ProjectStatus, User
from models.attendance import AttendanceMark, AttendanceSheet, Presence
from models.pricing import AnalyticCode, BillingProfile, PriceKind
from models.quote import Quote, QuoteStatus

# A period export spans at most this many days (a year, leap day included).
MAX_PERIOD_DAYS = 366
# The sessions that date a project (its last one ends the training).
HELD = SLOT_HOLDING_STATUSES
REFUSED = N_("Invoice lines are for admins and the coordinators of the establishment "
             "that issued the quote.")


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (the quotes' rounding)."""
    return round_half_up(numerator, denominator)


@dataclass(frozen=True)
class Amounts:
    gross_cents: int  # quantity × unit price
    line_discount_cents: int
    quote_discount_cents: int
    excl_cents: int  # what remains: the amount excluding VAT
    vat_cents: int

    @property
    def incl_cents(self) -> int:
        return self.excl_cents + self.vat_cents


def line_amounts(*, quantity_cents: int, unit_price_cents: int, discount_bp: int = 0,
                 quote_discount_bp: int = 0, vat_rate_bp: int = 0) -> Amounts:
    """A line's amounts, as the module's docstring says: those of the quote
    (booking.services.quotes.totals), with the VAT of the line alone."""
    amount = line_amount(_Line(quantity_cents, unit_price_cents, vat_rate_bp, discount_bp),
                         quote_discount_bp)
    return Amounts(amount.gross_cents, amount.line_discount_cents,
                   amount.quote_discount_cents, amount.excl_cents,
                   percent_of(amount.excl_cents, vat_rate_bp))


@dataclass(frozen=True)
class _Line:
    quantity_cents: int
    unit_price_cents: int
    vat_rate_bp: int
    discount_bp: int


def reconciled(quote: Quote) -> list[Amounts]:
    """The amounts of each line of ``quote``, its VAT per line adjusted so that
    the lines of each rate add up to the quote's VAT at that rate (the quote
    computes VAT once per rate, on the sum): the last line of a rate takes the
    cent or two of difference, so the invoice's total is the quote's."""
    amounts = [line_amounts(quantity_cents=line.quantity_cents,
                            unit_price_cents=line.unit_price_cents,
                            discount_bp=line.discount_bp,
                            quote_discount_bp=quote.discount_bp,
                            vat_rate_bp=line.vat_rate_bp) for line in quote.lines]
    per_rate = {v.rate_bp: v.vat_cents for v in quote_totals(quote.lines, quote.discount_bp).vat}
    last: dict[int, int] = {}
    for index, line in enumerate(quote.lines):
        last[line.vat_rate_bp] = index
    for rate, index in last.items():
        shown = sum(a.vat_cents for a, line in zip(amounts, quote.lines, strict=True)
                    if line.vat_rate_bp == rate)
        if shown != per_rate.get(rate, shown):
            a = amounts[index]
            amounts[index] = Amounts(a.gross_cents, a.line_discount_cents,
                                     a.quote_discount_cents, a.excl_cents,
                                     a.vat_cents + per_rate[rate] - shown)
    return amounts


@dataclass(frozen=True)
class Attendance:
    learners: int  # who attended at least one half-day (present or late)
    hours_cents: int  # their attended hours, summed, in hundredths


@dataclass(frozen=True)
class InvoiceLine:
    establishment_id: int
    establishment_code: str
    establishment_name: str
    company_id: int
    customer: str  # the company invoiced
    project_id: int
    project_title: str
    quote_id: int
    quote_reference: str  # DEV-2027-0001, DEV-2027-0001-v2
    quote_date: date | None  # issued, in Europe/Paris
    last_session: date | None  # the day the project's last session ended, Europe/Paris
    position: int
    label: str
    kind: PriceKind
    equipment_id: int | None
    analytic_code: str
    revenue_account: str
    quantity_cents: int
    unit: str
    unit_price_cents: int
    discount_bp: int  # the line's
    quote_discount_bp: int  # the quote's, applied after the line's
    gross_cents: int
    excl_cents: int
    vat_rate_bp: int
    vat_cents: int
    incl_cents: int
    # The project's attendance (the same on each of its rows).
    learners_attended: int
    attended_hours_cents: int


@dataclass(frozen=True)
class Totals:
    lines: int
    projects: int
    excl_cents: int
    vat_cents: int
    incl_cents: int


def totals(lines: Sequence[InvoiceLine]) -> Totals:
    return Totals(len(lines), len({line.project_id for line in lines}),
                  sum(line.excl_cents for line in lines), sum(line.vat_cents for line in lines),
                  sum(line.incl_cents for line in lines))


# --- the two questions ---------------------------------------------------------------


def accepted_quote(session: Session, project_id: int) -> Quote | None:
    """The project's accepted quote (one at most: a partial unique index)."""
    return session.scalar(select(Quote).where(Quote.project_id == project_id,
                                              Quote.status == QuoteStatus.ACCEPTED))


def invoice_lines(session: Session, *, actor: User, project: Project) -> list[InvoiceLine]:
    """The invoice lines of a completed project with an accepted quote.

    NotFound if ``actor`` may not see the project; Forbidden unless an admin
    or a coordinator of the quote's establishment; InvalidState while the
    project is not completed, and ``no_accepted_quote`` without an accepted quote.
    """
    require(actor, "view", project)
    require(actor, "view", Invoicing, REFUSED)
    quote = accepted_quote(session, project.id)
    if quote is not None:
        require(actor, "export", IssuedBy(quote.establishment_id), REFUSED)
    if project.status is not ProjectStatus.COMPLETED:
        raise InvalidState(N_("This project is “%(status)s”: it has invoice lines once "
                              "completed."), {"status": project.status.value},
                           status=project.status)
    if quote is None:
        raise InvalidState(N_("This project has no accepted quote: nothing fixes its price."),
                           {"project_id": project.id}, code="no_accepted_quote")
    return lines_of(session, [quote])


def check_period(first: date, last: date) -> None:
    """Both days included; ``last`` not before ``first``, a year at most."""
    if last < first:
        raise ValidationError(N_("The end of the period must not be before its start."),
                              {"field": "to"})
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(N_("A period of at most %(days)d days, please."),
                              {"field": "to"}, days=MAX_PERIOD_DAYS)


def period_lines(session: Session, *, actor: User, establishment_id: int, first: date,
                 last: date) -> list[InvoiceLine]:
    """The invoice lines of the completed projects whose accepted quote
    ``establishment_id`` issued and whose last session ended between ``first``
    and ``last`` (both included, Europe/Paris), by that end then project.
    Projects without a session have no such date and are left out."""
    if session.get(Establishment, establishment_id) is None:
        raise NotFound(N_("Not found."))
    require(actor, "view", Invoicing, REFUSED)
    require(actor, "export", IssuedBy(establishment_id), REFUSED)
    check_period(first, last)
    start = datetime.combine(first, time(), tzinfo=CAMPUS_ZONE)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=CAMPUS_ZONE)
    ends = _last_ends().subquery()
    quotes = session.scalars(
        select(Quote).join(Project, Project.id == Quote.project_id)
        .join(ends, ends.c.project_id == Quote.project_id)
        .where(Quote.status == QuoteStatus.ACCEPTED, Quote.establishment_id == establishment_id,
               Project.status == ProjectStatus.COMPLETED,
               ends.c.last_end >= start, ends.c.last_end < end)
        .order_by(ends.c.last_end, Quote.project_id))
    return lines_of(session, list(quotes))


# --- the rows ----------------------------------------------------------------------------


ACCOUNT_OF_KIND = {
    PriceKind.MACHINE_HOUR: "account_machine_hour",
    PriceKind.TRAINER_HOUR: "account_trainer_hour",
    PriceKind.CONSUMABLE: "account_consumable",
    PriceKind.FLAT_FEE: "account_flat_fee",
}


def _last_ends() -> Select[tuple[int | None, datetime]]:
    return (select(Booking.project_id, func.max(Booking.end_at).label("last_end"))
            .where(Booking.project_id.is_not(None), Booking.status.in_(HELD))
            .group_by(Booking.project_id))


def attendance(session: Session, project_ids: Iterable[int]) -> dict[int, Attendance]:
    """Each project's attended learners and hours (the module's docstring)."""
    ids = list(project_ids)
    if not ids:
        return {}
    # In sixtieths of a hundredth of an hour: exact for any minutes late.
    worth = AttendanceSheet.hours_cents * 60 - AttendanceMark.minutes_late * 100
    rows = session.execute(
        select(AttendanceSheet.project_id,
               func.coalesce(func.sum(case((worth > 0, worth), else_=0)), 0),
               func.count(distinct(AttendanceMark.learner_id)))
        .join(AttendanceMark, AttendanceMark.sheet_id == AttendanceSheet.id)
        .where(AttendanceSheet.project_id.in_(ids),
               AttendanceMark.presence != Presence.ABSENT)
        .group_by(AttendanceSheet.project_id))
    return {pid: Attendance(int(learners), half_up(int(total), 60))
            for pid, total, learners in rows}


def _local_day(value: datetime | None) -> date | None:
    return None if value is None else value.astimezone(CAMPUS_ZONE).date()


def lines_of(session: Session, quotes: Sequence[Quote]) -> list[InvoiceLine]:
    """The rows of these accepted quotes, in their order then by position."""
    if not quotes:
        return []
    ids = [q.id for q in quotes]
    loaded = {q.id: q for q in session.scalars(
        select(Quote).where(Quote.id.in_(ids)).options(
            selectinload(Quote.lines), selectinload(Quote.establishment),
            selectinload(Quote.project).selectinload(Project.company)))}
    project_ids = [q.project_id for q in quotes]
    establishment_ids = {q.establishment_id for q in quotes}
    profiles = {p.establishment_id: p for p in session.scalars(
        select(BillingProfile).where(BillingProfile.establishment_id.in_(establishment_ids)))}
    equipment_ids = {line.equipment_id for q in loaded.values() for line in q.lines
                     if line.equipment_id is not None}
    analytic = dict(session.execute(
        select(AnalyticCode.equipment_id, AnalyticCode.code)
        .where(AnalyticCode.equipment_id.in_(equipment_ids))).all()) \
        if equipment_ids else {}
    present = attendance(session, project_ids)
    ends = dict(session.execute(
        _last_ends().where(Booking.project_id.in_(project_ids))).all())
    rows: list[InvoiceLine] = []
    for quote in (loaded[i] for i in ids):
        project, establishment = quote.project, quote.establishment
        profile = profiles.get(quote.establishment_id)
        seen = present.get(project.id, Attendance(0, 0))
        for line, amounts in zip(quote.lines, reconciled(quote), strict=True):
            code = analytic.get(line.equipment_id) if line.equipment_id is not None else None
            rows.append(InvoiceLine(
                establishment_id=establishment.id, establishment_code=establishment.code,
                establishment_name=establishment.name, company_id=project.company_id,
                customer=project.company.name, project_id=project.id,
                project_title=project.title, quote_id=quote.id,
                quote_reference=quote.reference, quote_date=_local_day(quote.issued_at),
                last_session=_local_day(ends.get(project.id)), position=line.position,
                label=line.label, kind=line.kind, equipment_id=line.equipment_id,
                analytic_code=code or (profile.analytic_code if profile else ""),
                revenue_account=getattr(profile, ACCOUNT_OF_KIND[line.kind]) if profile else "",
                quantity_cents=line.quantity_cents, unit=line.unit,
                unit_price_cents=line.unit_price_cents, discount_bp=line.discount_bp,
                quote_discount_bp=quote.discount_bp, gross_cents=amounts.gross_cents,
                excl_cents=amounts.excl_cents, vat_rate_bp=line.vat_rate_bp,
                vat_cents=amounts.vat_cents, incl_cents=amounts.incl_cents,
                learners_attended=seen.learners, attended_hours_cents=seen.hours_cents))
    return rows
