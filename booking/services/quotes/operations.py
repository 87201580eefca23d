"""Quotes (devis): drafted by the issuing establishment's staff from its price
list, edited while a draft, issued with a gapless number, answered by the
project's company, revised into a new version under the same number.

Each operation starts with its permission (quotes.access), then checks the
quote's state and the data, writes, flushes, audits, and queues its e-mails.
:func:`accepted_quote` is the project's price for the other parts of issue 15
(agreements, invoicing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.permissions import coordinates, is_admin, require
from booking.services import audit
from booking.services.errors import N_, Conflict, Forbidden, InvalidState, ValidationError
from booking.services.inputs import single_line
from booking.services.policy import campus_today
from booking.services.pricing.lookup import price_for
from booking.services.projects.access import FINAL
from booking.services.quotes import mails
from booking.services.quotes.editing import (  # noqa: F401 - re-exported
    LineSpec,
    add_line,
    editable,
    line_from_price,
    remove_line,
    set_lines,
    text_field,
    update_line,
    update_quote,
)
from booking.services.quotes.totals import refresh_totals, round_half_up
from models import (
    BillingProfile,
    Booking,
    BookingStatus,
    Establishment,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    QuoteCounter,
    QuoteLine,
    QuoteStatus,
    User,
)

DEFAULT_HOURS = 700  # 7 h, when no session is booked on the machine yet
DEFAULT_VALIDITY_DAYS = 30
REASON_MAX = 2000
USER_AGENT_MAX = 400
ADDRESS_MAX = 64
# Sessions that count towards a line's default quantity.
COUNTED = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


class QuoteExpired(InvalidState):
    """The quote's validity date has passed: it can no longer be accepted."""

    code = "quote_expired"


class QuoteAlreadyAccepted(Conflict):
    """Another quote of the project is accepted: it fixes the price already."""

    code = "quote_already_accepted"


# --- reading -------------------------------------------------------------------------------


def accepted_quote(session: Session, project: Project) -> Quote | None:
    """The project's accepted quote (its price), if any: at most one, by the
    partial unique index ``uq_quote_accepted_per_project``."""
    return session.scalar(select(Quote).where(Quote.project_id == project.id,
                                              Quote.status == QuoteStatus.ACCEPTED))


def expired(quote: Quote, now: datetime) -> bool:
    return quote.valid_until is not None and quote.valid_until < campus_today(now)


def profile_of(session: Session, establishment_id: int) -> BillingProfile | None:
    return session.get(BillingProfile, establishment_id)


def revision_of(session: Session, quote: Quote) -> Quote | None:
    """The newer version drafted or issued from ``quote``, if any."""
    return session.scalar(select(Quote).where(Quote.revises_id == quote.id)
                          .order_by(Quote.version.desc()).limit(1))


# --- drafting --------------------------------------------------------------------------------


def _issuer(session: Session, actor: User, project: Project,
            establishment_id: int | None) -> Establishment:
    if establishment_id is None:
        if not is_admin(actor):
            establishment_id = actor.establishment_id
        elif project.equipment:
            establishment_id = min(project.equipment, key=lambda e: e.id).establishment_id
        else:
            raise ValidationError(N_("Choose the establishment that issues the quote."),
                                  {"field": "establishment_id"})
    establishment = session.get(Establishment, establishment_id) \
        if establishment_id is not None else None
    if establishment is None:
        raise ValidationError(N_("No establishment %(id)s."), {"field": "establishment_id"},
                              id=establishment_id)
    if not coordinates(actor, establishment.id):
        raise Forbidden(N_("You issue quotes for your own establishment only."),
                        {"field": "establishment_id"})
    return establishment


def _session_hours(session: Session, project: Project) -> dict[int | None, int]:
    """Hours (hundredths) of the project's sessions per machine, and under
    ``None`` the time they cover together (a trainer's hours: one session on
    several machines at once counts once)."""
    rows = session.execute(
        select(Booking.equipment_id, Booking.start_at, Booking.end_at)
        .where(Booking.project_id == project.id, Booking.status.in_(COUNTED))
        .order_by(Booking.start_at)).all()
    minutes: dict[int | None, int] = {}
    for equipment_id, start, end in rows:
        minutes[equipment_id] = minutes.get(equipment_id, 0) + int(
            (end - start).total_seconds() // 60)
    covered, last_end = 0, None
    for _, start, end in rows:  # by start: the union of the intervals
        if last_end is None or start >= last_end:
            covered += int((end - start).total_seconds() // 60)
            last_end = end
        elif end > last_end:
            covered += int((end - last_end).total_seconds() // 60)
            last_end = end
    if rows:
        minutes[None] = covered
    return {key: round_half_up(value * 100, 60) for key, value in minutes.items()}


def draft_quote(session: Session, *, actor: User, now: datetime, project: Project,
                establishment_id: int | None = None, public: Public = Public.COMPANY,
                price_date: date | None = None) -> Quote:
    """A draft quote for ``project`` from the issuer's price list in force on
    ``price_date`` (today by default): a machine-hour line per machine of the
    project that the list prices (the hours of its sessions on that machine,
    else 7 h) and a trainer-hour line (the hours its sessions cover, else 7 h).

    The issuer is one the actor coordinates (an admin: any; by default the
    establishment of the project's first machine). Refused for a project that
    is rejected or cancelled, or already has an accepted quote."""
    require(actor, "quote", project, N_("Only coordinators and admins draft quotes."))
    establishment = _issuer(session, actor, project, establishment_id)
    if project.status in FINAL and project.status is not ProjectStatus.COMPLETED:
        raise InvalidState(N_("This project is “%(status)s”: it needs no quote."),
                           {"status": project.status.value}, status=project.status)
    accepted = accepted_quote(session, project)
    if accepted is not None:
        raise QuoteAlreadyAccepted(
            N_("The quote %(reference)s of this project is already accepted: revise the "
               "project's price with its company first."),
            {"quote_id": accepted.id}, reference=accepted.reference)
    on = price_date or campus_today(now)
    profile = profile_of(session, establishment.id)
    validity = profile.quote_validity_days if profile is not None else DEFAULT_VALIDITY_DAYS
    quote = Quote(project_id=project.id, establishment_id=establishment.id, public=public,
                  status=QuoteStatus.DRAFT, version=1, price_date=on,
                  valid_until=on + timedelta(days=validity), discount_bp=0, notes="",
                  created_by_id=actor.id, created_at=now, updated_at=now)
    hours = _session_hours(session, project)
    lines: list[QuoteLine] = []
    missing: list[int] = []
    for machine in sorted(project.equipment, key=lambda e: e.id):
        price = price_for(session, establishment_id=establishment.id,
                          kind=PriceKind.MACHINE_HOUR, public=public, on=on,
                          equipment_id=machine.id)
        if price is None:
            missing.append(machine.id)
            continue
        lines.append(line_from_price(price, hours.get(machine.id) or DEFAULT_HOURS))
    trainer = price_for(session, establishment_id=establishment.id,
                        kind=PriceKind.TRAINER_HOUR, public=public, on=on)
    if trainer is not None:
        lines.append(line_from_price(trainer, hours.get(None) or DEFAULT_HOURS))
    for position, line in enumerate(lines, start=1):
        line.position = position
    quote.lines = lines
    refresh_totals(quote)
    session.add(quote)
    session.flush()
    audit.record(session, actor=actor, action="quote.draft", object_type="quote",
                 object_id=quote.id, now=now, project_id=project.id,
                 establishment_id=establishment.id, public=public.value,
                 price_date=on.isoformat(), lines=len(lines), unpriced_equipment_ids=missing)
    return quote


# --- issuing ----------------------------------------------------------------------------------


def _next_number(session: Session, establishment: Establishment, year: int) -> str:
    """The establishment's next number of ``year``, under the counter row's
    lock: of two issues at once, the second waits for the first's commit (or
    rollback, which gives the number back), so numbers have no gap."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(QuoteCounter).values(establishment_id=establishment.id, year=year,
                                                last=0).on_conflict_do_nothing())
    counter = session.scalars(
        select(QuoteCounter).where(QuoteCounter.establishment_id == establishment.id,
                                   QuoteCounter.year == year)
        .with_for_update().execution_options(populate_existing=True)).one()
    counter.last += 1
    session.flush()
    return number_of(establishment, year, counter.last)


def number_of(establishment: Establishment, year: int, sequence: int) -> str:
    """DEV-<establishment's code>-2027-0001: each establishment numbers its own
    quotes, and a number names its issuer (numbers are unique campus-wide)."""
    return f"DEV-{establishment.code}-{year}-{sequence:04d}"


def issue_quote(session: Session, quote: Quote, *, actor: User, now: datetime,
                notify: bool = True) -> Quote:
    """Number the draft (a revision keeps its number), freeze its totals, and
    send it to the project's contact; the version it revises is superseded."""
    begin_write(session)
    editable(actor, quote)
    session.refresh(quote, with_for_update=True)
    editable(actor, quote)
    if not quote.lines:
        raise ValidationError(N_("Add at least one line before issuing the quote."),
                              {"field": "lines"})
    if quote.valid_until is None or quote.valid_until < campus_today(now):
        raise ValidationError(N_("The validity date cannot be in the past."),
                              {"field": "valid_until"})
    accepted = accepted_quote(session, quote.project)
    if accepted is not None:
        raise QuoteAlreadyAccepted(N_("The quote %(reference)s of this project is already "
                                      "accepted."), {"quote_id": accepted.id},
                                   reference=accepted.reference)
    previous = session.get(Quote, quote.revises_id) if quote.revises_id else None
    if previous is not None:
        session.refresh(previous, with_for_update=True)
        if previous.status not in (QuoteStatus.ISSUED, QuoteStatus.DECLINED):
            raise InvalidState(N_("The version it revises is now “%(status)s”: this "
                                  "revision can no longer be issued."),
                               {"status": previous.status.value}, status=previous.status)
        if previous.status is QuoteStatus.ISSUED:
            previous.status = QuoteStatus.SUPERSEDED
            previous.updated_at = now
    if quote.number is None:
        quote.number = _next_number(session, quote.establishment, campus_today(now).year)
    refresh_totals(quote)
    quote.status = QuoteStatus.ISSUED
    quote.issued_at = now
    quote.issued_by_id = actor.id
    quote.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="quote.issue", object_type="quote",
                 object_id=quote.id, now=now, number=quote.number, version=quote.version,
                 project_id=quote.project_id, total_excl_cents=quote.total_excl_cents,
                 total_incl_cents=quote.total_incl_cents,
                 valid_until=quote.valid_until.isoformat(),
                 supersedes=previous.id if previous is not None else None)
    if notify:
        mails.quote_issued(session, quote, now=now)
    return quote


def revise_quote(session: Session, quote: Quote, *, actor: User, now: datetime) -> Quote:
    """A new draft version of an issued or declined quote, its lines copied,
    under the same number (version + 1); issuing it supersedes this one."""
    begin_write(session)
    require(actor, "manage", quote, N_("Only the issuing establishment's coordinators "
                                       "revise its quotes."))
    session.refresh(quote, with_for_update=True)
    if quote.status not in (QuoteStatus.ISSUED, QuoteStatus.DECLINED):
        raise InvalidState(N_("This quote is “%(status)s”: only an issued or declined quote "
                              "is revised."), {"status": quote.status.value},
                           status=quote.status)
    newer = revision_of(session, quote)
    if newer is not None:
        raise InvalidState(N_("This quote already has a version %(version)d."),
                           {"quote_id": newer.id}, version=newer.version)
    accepted = accepted_quote(session, quote.project)
    if accepted is not None:
        raise QuoteAlreadyAccepted(N_("The quote %(reference)s of this project is already "
                                      "accepted."), {"quote_id": accepted.id},
                                   reference=accepted.reference)
    profile = profile_of(session, quote.establishment_id)
    validity = profile.quote_validity_days if profile is not None else DEFAULT_VALIDITY_DAYS
    today = campus_today(now)
    revision = Quote(
        project_id=quote.project_id, establishment_id=quote.establishment_id,
        public=quote.public, status=QuoteStatus.DRAFT, number=quote.number,
        version=quote.version + 1, revises_id=quote.id, price_date=quote.price_date,
        valid_until=max(quote.valid_until or today, today + timedelta(days=validity)),
        discount_bp=quote.discount_bp, notes=quote.notes, created_by_id=actor.id,
        created_at=now, updated_at=now,
        lines=[QuoteLine(position=line.position, kind=line.kind,
                         equipment_id=line.equipment_id, price_id=line.price_id,
                         label=line.label, unit=line.unit, quantity_cents=line.quantity_cents,
                         unit_price_cents=line.unit_price_cents, vat_rate_bp=line.vat_rate_bp,
                         discount_bp=line.discount_bp) for line in quote.lines])
    refresh_totals(revision)
    try:  # (the savepoint first: begin_nested flushes what is pending before it)
        with session.begin_nested():
            session.add(revision)
            session.flush()
    except IntegrityError as exc:  # another revision of this version, at the same moment
        if revision in session:
            session.expunge(revision)
        raise InvalidState(N_("This quote already has a version %(version)d."),
                           {"number": quote.number}, version=quote.version + 1) from exc
    audit.record(session, actor=actor, action="quote.revise", object_type="quote",
                 object_id=revision.id, now=now, revises_id=quote.id, number=quote.number,
                 version=revision.version)
    return revision


# --- the company's answer ---------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where an answer came from: the request's address and browser."""

    address: str | None = None
    user_agent: str | None = None

    def cleaned(self) -> tuple[str | None, str | None]:
        address = single_line(self.address)[:ADDRESS_MAX] if self.address else None
        agent = single_line(self.user_agent)[:USER_AGENT_MAX] if self.user_agent else None
        return address or None, agent or None


def _awaiting_answer(session: Session, actor: User, quote: Quote, now: datetime) -> None:
    require(actor, "decide", quote, N_("Only the project's company accepts or declines "
                                       "its quotes."))
    session.refresh(quote, with_for_update=True)
    if quote.status is not QuoteStatus.ISSUED:
        raise InvalidState(N_("This quote is “%(status)s”: it is no longer awaiting an "
                              "answer."), {"status": quote.status.value}, status=quote.status)
    if expired(quote, now):
        raise QuoteExpired(N_("This quote expired on %(date)s: ask the establishment for a "
                              "new version."),
                           {"valid_until": quote.valid_until.isoformat()},
                           date=quote.valid_until)


def _decide(quote: Quote, actor: User, now: datetime, status: QuoteStatus,
            origin: Origin) -> None:
    quote.status = status
    quote.decided_by_id = actor.id
    quote.decided_at = now
    quote.decided_from, quote.decided_user_agent = origin.cleaned()
    quote.updated_at = now


def accept_quote(session: Session, quote: Quote, *, actor: User, now: datetime,
                 origin: Origin = Origin(), notify: bool = True) -> Quote:
    """The company accepts the quote: it fixes the project's price. Refused
    after its validity date, or when another quote of the project is accepted
    (the partial unique index settles two acceptances at once)."""
    begin_write(session)
    _awaiting_answer(session, actor, quote, now)
    accepted = accepted_quote(session, quote.project)
    if accepted is not None:
        raise QuoteAlreadyAccepted(N_("The quote %(reference)s of this project is already "
                                      "accepted."), {"quote_id": accepted.id},
                                   reference=accepted.reference)
    try:  # (the savepoint first: begin_nested flushes what is pending before it)
        with session.begin_nested():
            _decide(quote, actor, now, QuoteStatus.ACCEPTED, origin)
            session.flush()
    except IntegrityError as exc:
        if inspect(quote).persistent:
            session.expire(quote)  # back to what the database holds: issued
        raise QuoteAlreadyAccepted(N_("Another quote of this project was accepted at the same "
                                      "moment."), {"project_id": quote.project_id}) from exc
    _decided(session, quote, actor, now, "quote.accept", notify=notify)
    return quote


def decline_quote(session: Session, quote: Quote, *, actor: User, now: datetime,
                  reason: str, origin: Origin = Origin()) -> Quote:
    """The company declines the quote, saying why (the coordinators may revise it)."""
    begin_write(session)
    _awaiting_answer(session, actor, quote, now)
    text = text_field(reason or "", REASON_MAX, "reason", multiline=True)
    if not text:
        raise ValidationError(N_("Say why you decline the quote."), {"field": "reason"})
    _decide(quote, actor, now, QuoteStatus.DECLINED, origin)
    quote.decline_reason = text
    session.flush()
    _decided(session, quote, actor, now, "quote.decline", reason=text)
    return quote


def _decided(session: Session, quote: Quote, actor: User, now: datetime, action: str,
             reason: str | None = None, notify: bool = True) -> None:
    audit.record(session, actor=actor, action=action, object_type="quote", object_id=quote.id,
                 now=now, reason=reason, number=quote.number, version=quote.version,
                 project_id=quote.project_id, total_incl_cents=quote.total_incl_cents,
                 address=quote.decided_from, user_agent=quote.decided_user_agent)
    if notify:  # the coordinators are told (not by the demo, which sends no mail)
        mails.quote_decided(session, quote, now=now)


