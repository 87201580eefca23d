"""Training agreements (conventions de formation): generated from a project's
accepted quote, signed and uploaded back, or waived.

Each operation starts with its permission (agreements.access), checks the
data and the state, writes, flushes and audits (on the project, so the
project's history shows them). What an agreement says is copied into its row
when it is generated: the PDF read later is the one that was signed.

Generating again cancels the agreement still to sign (a revised quote, a
changed programme). A signed agreement is kept: generating another is
refused, unless an admin forces it (``replace_signed``), which cancels the
signed one too; the project then waits for the new one's signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.permissions import coordinates, is_admin, require
from booking.services import audit
from booking.services.equipment.documents import Storage, content_type_of, display_name
from booking.services.equipment.documents import _write as write_file
from booking.services.errors import (
    N_,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationError,
    translate,
)
from booking.services.policy import CAMPUS_ZONE
from booking.services.quotes.operations import accepted_quote, profile_of
from models import (
    AgreementStatus,
    AgreementWaiver,
    BillingProfile,
    Booking,
    BookingStatus,
    Equipment,
    PriceKind,
    Project,
    ProjectStatus,
    Quote,
    TrainingAgreement,
    User,
)
from models.equipment_document import PDF

# Signed scans are kept like a machine's documents (config DOCUMENTS_DIR,
# DOCUMENT_MAX_BYTES), with their checks and their removal on a rollback.
# What a signed scan may be, by its content; the extension it is kept under.
SCAN_TYPES = {PDF: ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
MAX_TEXT = 10000
MAX_ADDRESS = 2000
MAX_HOURS_CENTS = 10000 * 100
# The sessions that count for the agreement's dates.
HELD = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
CLOSED = (ProjectStatus.REJECTED, ProjectStatus.CANCELLED)

# The standard clauses of a convention de formation professionnelle, copied
# (in French: the agreement is a French contract) into each agreement.
CANCELLATION = N_(
    "Cancellation or abandonment: if the company cancels the action less than ten working "
    "days before it begins, or if a learner abandons it once begun, the training body "
    "invoices the hours actually delivered; the sums due for hours not delivered because "
    "of the company are a forfeit (dédit), not training expenses, and cannot be charged to "
    "the company's training budget or to a funder. If the training body cancels the "
    "action, nothing is due for the hours not delivered.")
SETTLEMENT = N_(
    "Settlement: the price is invoiced after the action, on the basis of the attendance "
    "sheets signed per half-day. Late payment bears interest at three times the legal rate "
    "and the fixed recovery allowance of 40 euros (Commercial Code, art. L441-10).")
LEGAL = N_(
    "This agreement is made under articles L6353-1 and following of the Labour Code. The "
    "certificates of attendance are given to the company at the end of the action. Any "
    "dispute that cannot be settled amicably is brought before the courts of the training "
    "body's registered office.")
PAYMENT_TERMS = N_("Payment terms: %(terms)s")


@dataclass(frozen=True)
class Draft:
    """What a generation proposes (the form's prefilled values)."""

    programme: str
    duration_hours_cents: int
    place: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Scan:
    """A signed scan as received: its bytes (read up to one beyond the limit)
    and the browser's name for it (used only for the name shown)."""

    data: bytes
    filename: str


# --- reading -------------------------------------------------------------------------------


def current_agreement(session: Session, project: Project) -> TrainingAgreement | None:
    """The agreement to sign or signed (the others are cancelled)."""
    return session.scalar(
        select(TrainingAgreement)
        .where(TrainingAgreement.project_id == project.id,
               TrainingAgreement.status != AgreementStatus.CANCELLED)
        .order_by(TrainingAgreement.id.desc()).limit(1))


def waiver_of(session: Session, project: Project) -> AgreementWaiver | None:
    return session.get(AgreementWaiver, project.id)


def trainer_hours(quote: Quote) -> int:
    """Hundredths of an hour of the quote's trainer-hour lines."""
    return sum(line.quantity_cents for line in quote.lines
               if line.kind is PriceKind.TRAINER_HOUR)


def _machines(session: Session, project: Project) -> list[Equipment]:
    booked = select(Booking.equipment_id).where(Booking.project_id == project.id,
                                                Booking.status.in_(HELD))
    found = {e.id: e for e in project.equipment}
    for equipment in session.scalars(select(Equipment).where(Equipment.id.in_(booked))):
        found.setdefault(equipment.id, equipment)
    return [found[k] for k in sorted(found)]


def place_of(session: Session, project: Project) -> str:
    """One line per establishment: its name and city, then the machines' locations."""
    lines: dict[int, tuple[str, list[str]]] = {}
    for equipment in _machines(session, project):
        establishment = equipment.establishment
        head = f"{establishment.name}, {establishment.city}" if establishment.city \
            else establishment.name
        _, where = lines.setdefault(establishment.id, (head, []))
        spot = (equipment.location or "").strip()
        if spot and spot not in where:
            where.append(spot)
    return "\n".join(f"{head} ({', '.join(where)})" if where else head
                     for head, where in lines.values())


def period_of(session: Session, project: Project) -> tuple[date, date]:
    """The first and last session's days (Paris) once booked, else the wanted period."""
    first, last = session.execute(
        select(func.min(Booking.start_at), func.max(Booking.end_at))
        .where(Booking.project_id == project.id, Booking.status.in_(HELD))).one()
    if first is None or last is None:
        return project.wanted_from, project.wanted_to
    return first.astimezone(CAMPUS_ZONE).date(), last.astimezone(CAMPUS_ZONE).date()


def draft_for(session: Session, project: Project, quote: Quote | None) -> Draft:
    starts_on, ends_on = period_of(session, project)
    return Draft(programme=project.description, place=place_of(session, project),
                 duration_hours_cents=trainer_hours(quote) if quote is not None else 0,
                 starts_on=starts_on, ends_on=ends_on)


def conditions_for(profile: BillingProfile | None) -> str:
    """The payment terms of the issuer, then the standard clauses, in French."""
    with force_locale("fr"):
        parts = []
        if profile is not None and profile.payment_terms.strip():
            parts.append(translate(PAYMENT_TERMS, {"terms": profile.payment_terms.strip()}))
        parts += [translate(text, {}) for text in (SETTLEMENT, CANCELLATION, LEGAL)]
    return "\n\n".join(parts)


# --- generating ----------------------------------------------------------------------------


def _text(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(N_("This text is longer than %(n)d characters."),
                              {"field": field}, n=limit)
    return value


def generate_agreement(session: Session, project: Project, *, actor: User, now: datetime,
                       programme: str | None = None, duration_hours_cents: int | None = None,
                       company_address: str = "", place: str | None = None,
                       replace_signed: bool = False) -> TrainingAgreement:
    """The project's agreement, from its accepted quote. ``programme`` (default
    the project's description), ``duration_hours_cents`` (default the quote's
    trainer hours) and ``place`` (default the machines' establishments and
    locations) may be edited; the company's address is typed (the project
    has none). Cancels the agreement still to sign; a signed one only with
    ``replace_signed``, by an admin."""
    require(actor, "generate_agreement", project,
            N_("Only a coordinator or an admin generates a training agreement."))
    if project.status in CLOSED:
        raise InvalidState(N_("Project “%(title)s” is “%(status)s”: it gets no training "
                              "agreement."), {"status": project.status.value},
                           title=project.title, status=project.status)
    # Locked (PostgreSQL): two generations one after the other, never side by side.
    session.refresh(project, with_for_update=True)
    quote = accepted_quote(session, project)
    if quote is None:
        raise InvalidState(N_("The quote must be accepted by the company before the training "
                              "agreement is generated."), {"rule": "accepted_quote"},
                           code="quote_not_accepted")
    if not coordinates(actor, quote.establishment_id):
        raise Forbidden(N_("Only a coordinator of %(establishment)s, which issued the quote, "
                           "or an admin generates its training agreement."),
                        {"establishment_id": quote.establishment_id},
                        establishment=quote.establishment.name)
    draft = draft_for(session, project, quote)
    programme = _text(draft.programme if programme is None else programme, "programme",
                      MAX_TEXT)
    place = _text(draft.place if place is None else place, "place", MAX_ADDRESS)
    address = _text(company_address, "company_address", MAX_ADDRESS)
    hours = draft.duration_hours_cents if duration_hours_cents is None else duration_hours_cents
    if hours <= 0:
        raise ValidationError(N_("Give the training's duration in hours: the accepted quote "
                                 "has no trainer hours."), {"field": "duration_hours"})
    if hours > MAX_HOURS_CENTS:
        raise ValidationError(N_("A training lasts at most %(n)d hours."),
                              {"field": "duration_hours"}, n=MAX_HOURS_CENTS // 100)
    previous = current_agreement(session, project)
    replaced: list[int] = []
    if previous is not None and previous.status is AgreementStatus.SIGNED:
        if not replace_signed:
            raise InvalidState(N_("The training agreement is already signed: an admin may "
                                  "replace it with a new one, which will have to be signed "
                                  "again."), {"agreement_id": previous.id},
                               code="agreement_signed")
        if not is_admin(actor):
            raise Forbidden(N_("Only an admin replaces a signed training agreement."))
    if previous is not None:
        previous.status = AgreementStatus.CANCELLED
        replaced.append(previous.id)
    agreement = TrainingAgreement(
        project_id=project.id, quote_id=quote.id, establishment_id=quote.establishment_id,
        status=AgreementStatus.GENERATED, company_name=project.company.name,
        company_address=address, title=project.title, objectives=project.objectives,
        programme=programme, place=place, starts_on=draft.starts_on, ends_on=draft.ends_on,
        duration_hours_cents=hours, learners=project.learners,
        total_excl_cents=quote.total_excl_cents, vat_cents=quote.vat_cents,
        total_incl_cents=quote.total_incl_cents,
        conditions=conditions_for(profile_of(session, quote.establishment_id)),
        generated_by_id=actor.id, generated_at=now)
    session.add(agreement)
    session.flush()
    audit.record(session, actor=actor, action="agreement.generate", object_type="project",
                 object_id=project.id, now=now, agreement_id=agreement.id, quote_id=quote.id,
                 replaced=replaced)
    return agreement


# --- the signed scan -----------------------------------------------------------------------


def _scan_type(scan: Scan, storage: Storage) -> str:
    if not scan.data:
        raise ValidationError(N_("The file is empty."), {"field": "file"})
    if len(scan.data) > storage.max_bytes:
        if storage.max_bytes >= 1024 * 1024:
            raise ValidationError(N_("The file is larger than %(n)d MB."), {"field": "file"},
                                  n=storage.max_bytes // (1024 * 1024))
        raise ValidationError(N_("The file is larger than %(n)d KB."), {"field": "file"},
                              n=max(1, storage.max_bytes // 1024))
    content_type = content_type_of(scan.data)
    if content_type not in SCAN_TYPES:
        raise ValidationError(N_("The signed agreement must be a PDF file or a PNG or JPEG "
                                 "image."), {"field": "file"})
    return content_type


def record_signed(session: Session, agreement: TrainingAgreement, *, actor: User,
                  now: datetime, scan: Scan, storage: Storage) -> TrainingAgreement:
    """Keep the signed scan (judged by its content, kept under a generated
    name) and mark the agreement signed: the project may then be scheduled."""
    require(actor, "sign", agreement,
            N_("Only the project's company, a coordinator of %(establishment)s or an admin "
               "records the signed agreement."), establishment=agreement.establishment.name)
    session.refresh(agreement, with_for_update=True)
    if agreement.status is not AgreementStatus.GENERATED:
        raise InvalidState(N_("This training agreement is “%(status)s”: no signed copy can "
                              "be recorded for it."), {"status": agreement.status.value},
                           status=agreement.status)
    content_type = _scan_type(scan, storage)
    # display_name knows the equipment documents' types; ours are among them.
    filename = display_name(scan.filename, content_type)
    stored_name = write_file(session, storage, scan.data, SCAN_TYPES[content_type])
    agreement.stored_name = stored_name
    agreement.filename = filename[:160]
    agreement.content_type = content_type
    agreement.size_bytes = len(scan.data)
    agreement.signed_recorded_by_id = actor.id
    agreement.signed_recorded_at = now
    agreement.status = AgreementStatus.SIGNED
    session.flush()
    audit.record(session, actor=actor, action="agreement.sign", object_type="project",
                 object_id=agreement.project_id, now=now, agreement_id=agreement.id,
                 content_type=content_type, size_bytes=len(scan.data))
    return agreement


def scan_of(actor: User, agreement: TrainingAgreement, storage: Storage) -> Path:
    """The signed scan's file, for a reader who may see the agreement."""
    require(actor, "view", agreement)
    if agreement.stored_name is None:
        raise NotFound(N_("Not found."))
    path = storage.directory / agreement.stored_name
    if not path.is_file():
        raise NotFound(N_("Not found."))
    return path


# --- the waiver ----------------------------------------------------------------------------


def waive_agreement(session: Session, project: Project, *, actor: User, now: datetime,
                    reason: str) -> AgreementWaiver:
    """A coordinator's word that the project needs no agreement (an internal
    action, a free discovery): its sessions may then be booked."""
    require(actor, "waive_agreement", project,
            N_("Only a coordinator or an admin states that a project needs no training "
               "agreement."))
    reason = _text(reason, "reason", 2000)
    if not reason:
        raise ValidationError(N_("Say why this project needs no training agreement."),
                              {"field": "reason"})
    session.refresh(project, with_for_update=True)
    if waiver_of(session, project) is not None:
        raise InvalidState(N_("This project already needs no training agreement."),
                           {"project_id": project.id})
    waiver = AgreementWaiver(project_id=project.id, waived_by_id=actor.id, waived_at=now,
                             reason=reason)
    session.add(waiver)
    session.flush()
    audit.record(session, actor=actor, action="agreement.waive", object_type="project",
                 object_id=project.id, now=now, reason=reason)
    return waiver


def lift_waiver(session: Session, project: Project, *, actor: User, now: datetime) -> None:
    """Take the waiver back: the project's next sessions need a signed agreement
    again (those booked stay)."""
    require(actor, "waive_agreement", project,
            N_("Only a coordinator or an admin states that a project needs no training "
               "agreement."))
    session.refresh(project, with_for_update=True)
    waiver = waiver_of(session, project)
    if waiver is None:
        raise InvalidState(N_("This project has no waiver of its training agreement."),
                           {"project_id": project.id})
    reason = waiver.reason
    session.delete(waiver)
    session.flush()
    audit.record(session, actor=actor, action="agreement.lift_waiver", object_type="project",
                 object_id=project.id, now=now, waived_reason=reason)
