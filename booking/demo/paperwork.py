"""The demo's continuing education (issue 15), through the services.

- The Tours and Orléans establishments' billing details and price lists (a
  rise of the packaging line's company rate from the first of next month).
- « Bonnes pratiques de fabrication — opérateurs de conditionnement »
  (Laboratoires Ligériens) goes through every step: requested six weeks ago,
  approved, quoted, the quote accepted by the company, the training agreement
  generated and its signed scan recorded, two days of sessions two weeks ago
  (checked in at the machine), four learners, attendance taken per half-day by
  Claire and countersigned by the company's contact (a late arrival, an
  absence), the project completed, satisfaction questionnaires sent and three
  of them answered; its invoice lines and certificates follow from that.
- The solar cream project (Cosmétiques du Val) has its quote accepted and its
  agreement signed before its sessions are booked (campus.add_bookings).
- The serum project (still awaiting approval) has a quote issued, awaiting
  the company's answer: the company account can accept or decline it.

Each step is made by the account the story names, at the time it happened,
through the service that does it (its rules, its audit). Two things are
written as the service would: the signed scan is a small stand-in PDF (no
real signature to scan), and the questionnaires' answers are recorded on
their rows (the links' secrets are never stored, so the demo cannot follow
them). Like the rest of the demo, it sends no mail (``notify=False``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from booking.demo import paperwork_data as data
from booking.services.agreements import operations as agreements
from booking.services.attendance import learners as learner_ops
from booking.services.attendance import sheets as sheet_ops
from booking.services.bookings.lifecycle import advance_projects
from booking.services.equipment.documents import Storage
from booking.services.policy import CAMPUS_ZONE
from booking.services.pricing import operations as pricing
from booking.services.projects.operations import approve_project, request_project
from booking.services.quotes import editing as quote_editing
from booking.services.quotes import operations as quotes
from booking.services.satisfaction import surveys
from models import (
    RATINGS,
    BillingProfile,
    BookingPurpose,
    Price,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    SatisfactionSurvey,
    TrainingAgreement,
)

if TYPE_CHECKING:
    from booking.demo.campus import _Loader

ORIGIN = quotes.Origin(address="192.0.2.17", user_agent="Mozilla/5.0 (démo) Firefox/140.0")
STAND_IN_SCAN = (
    "<html lang=fr><title>Convention signée</title><body><p>Convention de formation "
    "professionnelle — exemplaire signé par les deux parties et numérisé (document de "
    "démonstration).</p></body></html>")


def add_paperwork(loader: _Loader) -> None:
    """Everything above that is missing (idempotent like the rest of the demo)."""
    _billing_and_prices(loader)
    _done_project(loader)
    _solar_project(loader)
    _serum_project(loader)


def _at(day: date, hhmm: str) -> datetime:
    from booking.services.equipment.hours import wall_clock

    return wall_clock(day, time.fromisoformat(hhmm), CAMPUS_ZONE)


def _storage() -> Storage:
    return Storage.from_config(current_app.config)


def _billing_and_prices(loader: _Loader) -> None:
    admin = loader.users[data.ADMIN]
    since = loader.today.replace(month=9, day=1)
    if since > loader.today:
        since = since.replace(year=since.year - 1)  # the school year's first day
    for code, details in data.BILLING_PROFILES.items():
        establishment = loader.est[code]
        if loader.session.get(BillingProfile, establishment.id) is None:
            pricing.update_billing_profile(loader.session, actor=admin, now=loader.now,
                                           establishment=establishment, **details)
    if loader.session.scalar(select(Price.id).limit(1)) is not None:
        return
    # The lists in force since the school year began, as the campus had them
    # before the platform: rows written as such (the service takes prices from
    # today on, so that a past quote's list never changes).
    for code, rates in data.MACHINE_RATES.items():
        machine = loader.equipment[code]
        for public, cents in rates.items():
            _price(loader, machine.establishment_id, PriceKind.MACHINE_HOUR, public, cents,
                   2000, since, admin.id, equipment_id=machine.id, unit="heure")
    for code, items in data.ITEMS.items():
        for kind, label, unit, per_public, vat in items:
            for public, cents in per_public.items():
                _price(loader, loader.est[code].id, kind, public, cents, vat, since, admin.id,
                       label=label, unit=unit)
    code, public, cents = data.RATE_CHANGE
    machine = loader.equipment[code]
    first_of_next_month = (loader.today.replace(day=1) + timedelta(days=32)).replace(day=1)
    loader.session.flush()
    pricing.add_price(loader.session, actor=admin, now=loader.now,
                      establishment=machine.establishment, kind=PriceKind.MACHINE_HOUR,
                      public=public, unit_price_cents=cents, vat_rate_bp=2000,
                      valid_from=first_of_next_month, equipment_id=machine.id, unit="heure")
    loader.counts["prices"] += 1


def _price(loader: _Loader, establishment_id: int, kind: PriceKind, public: Public,
           cents: int, vat: int, since: date, admin_id: int, *, equipment_id: int | None = None,
           label: str = "", unit: str = "") -> None:
    loader.session.add(Price(
        establishment_id=establishment_id, equipment_id=equipment_id, kind=kind, public=public,
        label=label, unit=unit, unit_price_cents=cents, vat_rate_bp=vat, valid_from=since,
        created_by_id=admin_id, created_at=loader.now))
    loader.counts["prices"] += 1


def _quote(loader: _Loader, project: Project, coordinator_email: str, when: datetime,
           spec: list[tuple[PriceKind, str, int]] | None = None, discount_bp: int = 0,
           ) -> Quote:
    """Drafted from the price list (or with the lines ``spec`` names), issued."""
    coordinator = loader.users[coordinator_email]
    quote = quotes.draft_quote(loader.session, actor=coordinator, now=when, project=project)
    if spec is not None:
        lines = []
        for kind, what, quantity in spec:
            price = loader.session.scalar(
                select(Price).where(Price.establishment_id == quote.establishment_id,
                                    Price.kind == kind, Price.public == quote.public,
                                    Price.valid_from <= quote.price_date,
                                    (Price.equipment_id == loader.equipment[what].id)
                                    if kind is PriceKind.MACHINE_HOUR else Price.label == what)
                .order_by(Price.valid_from.desc()).limit(1))
            lines.append(quote_editing.LineSpec(quantity_cents=quantity, price_id=price.id))
        quote_editing.set_lines(loader.session, quote, actor=coordinator, now=when, specs=lines)
    if discount_bp:
        quote_editing.update_quote(loader.session, quote, actor=coordinator, now=when,
                                   discount_bp=discount_bp,
                                   notes="Remise de 5 % accordée pour un premier projet.")
    quotes.issue_quote(loader.session, quote, actor=coordinator, now=when, notify=False)
    loader.counts["quotes"] += 1
    return quote


def _agreement(loader: _Loader, project: Project, coordinator_email: str, signer_email: str,
               generated: datetime, signed: datetime, address: str) -> TrainingAgreement:
    from weasyprint import HTML

    agreement = agreements.generate_agreement(
        loader.session, project, actor=loader.users[coordinator_email], now=generated,
        company_address=address)
    scan = agreements.Scan(data=HTML(string=STAND_IN_SCAN).write_pdf(),
                           filename="convention-signee.pdf")
    agreements.record_signed(loader.session, agreement, actor=loader.users[signer_email],
                             now=signed, scan=scan, storage=_storage())
    loader.counts["agreements"] += 1
    return agreement


def _find(loader: _Loader, company: str, title: str) -> Project | None:
    return loader.session.scalar(select(Project).where(
        Project.company_id == loader.companies[company].id, Project.title == title))


def _done_project(loader: _Loader) -> None:
    spec = data.DONE
    if _find(loader, spec["company"], spec["title"]) is not None:
        return
    requester, coordinator = loader.users[spec["by"]], loader.users[spec["coordinator"]]
    trainer = loader.users[spec["trainer"]]
    week = loader.monday - timedelta(weeks=3)  # the week before last
    days = [week + timedelta(days=weekday) for _, weekday, _, _ in spec["sessions"]]
    asked = loader.now - spec["requested_before"]
    project = request_project(
        loader.session, actor=requester, now=asked, title=spec["title"],
        learners=spec["learners"], wanted_from=days[0], wanted_to=days[-1],
        equipment_ids=[loader.equipment[code].id for code in spec["equipment"]],
        description=spec["description"], objectives=spec["objectives"],
        contact_name=requester.name, contact_email=requester.email, sector=spec["sector"],
        notify=False)
    loader.counts["projects"] += 1
    approve_project(loader.session, project, actor=coordinator, now=asked + timedelta(days=1),
                    trainer_id=trainer.id, notify=False,
                    reason="Formatrice certifiée BPF, réacteur et ligne disponibles.")
    quote = _quote(loader, project, spec["coordinator"], asked + timedelta(days=2),
                   spec["quote"], spec["discount_bp"])
    quotes.accept_quote(loader.session, quote, actor=requester, now=asked + timedelta(days=4),
                        origin=ORIGIN, notify=False)
    _agreement(loader, project, spec["coordinator"], spec["by"], asked + timedelta(days=5),
               asked + timedelta(days=8), "Zone d'activités des Varennes\n45000 Orléans")
    booked_at = asked + timedelta(days=9)
    learners = [learner_ops.add_learner(
        loader.session, actor=requester, project=project, now=booked_at, first_name=first,
        last_name=last, email=email, public=public)
        for first, last, email, public in spec["learner_rows"]]
    loader.counts["learners"] += len(learners)
    for index, (code, _, hhmm, minutes) in enumerate(spec["sessions"]):
        booking = loader._book(
            coordinator, loader.equipment[code], days[index], time.fromisoformat(hhmm),
            timedelta(minutes=minutes), booked_at=booked_at, title=spec["title"],
            purpose=BookingPurpose.INDUSTRIAL_PROJECT, trainer_id=trainer.id,
            participants=spec["learners"], project_id=project.id)
        if booking is None:  # the campus was too busy that fortnight: the story stops here
            return
        loader._counted(booking, f"paperwork-{index + 1}")
        loader._used(booking, incident=None)
        _attendance(loader, booking, index, learners)
    advance_projects(loader.session, now=booking.end_at + timedelta(minutes=15), notify=False)
    sent_at = booking.end_at + timedelta(days=1)
    sent = surveys.send_project_surveys(loader.session, project, actor=coordinator, now=sent_at,
                                        key=current_app.config["SECRET_KEY"], notify=False)
    loader.counts["surveys"] += len(sent)
    _answers(loader, sent, learners, sent_at + timedelta(days=1))


def _attendance(loader: _Loader, booking: object, index: int, learners: list) -> None:
    """Claire marks and signs each half-day at its end; the contact countersigns
    that evening."""
    trainer = loader.users[data.DONE["trainer"]]
    contact = loader.users[data.DONE["by"]]
    for half, sheet in enumerate(sheet_ops.ensure_sheets(loader.session, booking)):
        slot = sheet_ops.slot_of(sheet)
        ended = slot.end if slot is not None else booking.end_at
        marks = []
        for n, learner in enumerate(learners):
            presence, late = data.DONE["exceptions"].get((n, index, half), ("present", 0))
            marks.append(sheet_ops.MarkInput(learner_id=learner.id, presence=presence,
                                             minutes_late=late))
        sheet_ops.record_marks(loader.session, actor=trainer, sheet=sheet, now=ended,
                               marks=marks)
        sheet_ops.sign(loader.session, actor=trainer, sheet=sheet, now=ended,
                       typed=trainer.name)
        sheet_ops.countersign(loader.session, actor=contact, sheet=sheet,
                              now=booking.end_at + timedelta(hours=2), typed=contact.name)
        loader.counts["attendance_sheets"] += 1


def _answers(loader: _Loader, sent: list[SatisfactionSurvey], learners: list,
             answered: datetime) -> None:
    by_learner = {s.learner_id: s for s in sent}
    for who, (ratings, recommend, comment) in data.DONE["surveys"].items():
        survey = (next((s for s in sent if s.learner_id is None), None) if who == "contact"
                  else by_learner.get(learners[who].id))
        if survey is None:
            continue
        surveys.check_answer(surveys.Answer(ratings=dict(zip(RATINGS, ratings, strict=True)),
                                            would_recommend=recommend, comment=comment))
        for name, value in zip(RATINGS, ratings, strict=True):
            setattr(survey, name, value)
        survey.would_recommend, survey.comment = recommend, comment or None
        survey.answered_at = answered


def _solar_project(loader: _Loader) -> None:
    """Quote accepted and agreement signed: its sessions may be booked."""
    project = loader.projects.get("solaire")
    if project is None or project.status is not ProjectStatus.APPROVED or \
            loader.session.scalar(select(Quote.id).where(Quote.project_id == project.id)):
        return
    when = loader.now - timedelta(days=12)
    quote = _quote(loader, project, data.C_TOURS, when)
    quotes.accept_quote(loader.session, quote, actor=loader.users[data.COSMETIQUES],
                        now=when + timedelta(days=2), origin=ORIGIN, notify=False)
    _agreement(loader, project, data.C_TOURS, data.COSMETIQUES, when + timedelta(days=3),
               when + timedelta(days=5), "8 rue des Tanneurs\n41000 Blois")


def _serum_project(loader: _Loader) -> None:
    """Awaiting approval, with a quote awaiting the company's answer."""
    project = loader.projects.get("serums")
    if project is None or loader.session.scalar(
            select(Quote.id).where(Quote.project_id == project.id)):
        return
    _quote(loader, project, data.C_TOURS, loader.now - timedelta(days=1))

