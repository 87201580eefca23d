"""Quotes (devis, issue 15): drafting from the price list in force, editing a
draft, totals and their rounding, gapless numbers per establishment and year
(also under concurrent issues), prices changed after issue, the company's
answer (who, when, from where), expiry, revisions, who sees what, and the pages.

The clock: Tuesday 12 January 2027, 09:00 in Paris (tests.conftest.NOW).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.permissions import may
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from booking.services.policy import Policy
from booking.services.quotes import operations as quotes
from booking.services.quotes.access import visible_quotes
from booking.services.quotes.operations import (
    LineSpec,
    Origin,
    QuoteAlreadyAccepted,
    QuoteExpired,
)
from booking.services.quotes.totals import round_half_up, totals
from models import (
    AgreementWaiver,
    AuditEntry,
    BillingProfile,
    BookingPurpose,
    OutboxMessage,
    Price,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    QuoteCounter,
    QuoteStatus,
    Role,
)
from tests.conftest import NOW, csrf_token_of
from tests.world import logged_in

PARIS = ZoneInfo("Europe/Paris")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def build_scene(make: Any, db: Any) -> SimpleNamespace:
    """Lycée du Parc (code LYC) prices its mixer and its trainers' hours for
    companies; Laboratoire A's approved project uses the mixer."""
    home = make.establishment(code="LYC", name="Lycée du Parc")
    away = make.establishment(code="IUT", name="IUT de Tours")
    company_a = make.company(name="Laboratoire A")
    people = SimpleNamespace(
        admin=make.user(Role.ADMIN),
        coordinator=make.user(Role.COORDINATOR, establishment=home, email="coord@example.org"),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away,
                                    email="away@example.org"),
        trainer=make.user(Role.TRAINER, establishment=home),
        company=make.user(Role.COMPANY, company=company_a, email="achats@labo-a.example"),
        colleague=make.user(Role.COMPANY, company=company_a),
        other_company=make.user(Role.COMPANY, company=make.company(name="Société B")))
    machine = make.equipment(establishment=home, code="MEL-1", name="Mélangeur")
    project = Project(company=company_a, requested_by=people.company, title="Crèmes",
                      learners=8, wanted_from=date(2027, 2, 1), wanted_to=date(2027, 3, 31),
                      status=ProjectStatus.APPROVED, trainer=people.trainer,
                      equipment=[machine], contact_email="contact@labo-a.example")
    db.add(project)
    db.add(BillingProfile(establishment_id=home.id, legal_name="Lycée du Parc — GRETA",
                          address="1 rue du Parc\n45000 Orléans", siret="00000000000017",
                          quote_validity_days=30,
                          payment_terms="Paiement à 30 jours par virement."))
    prices = SimpleNamespace(
        machine=Price(establishment_id=home.id, equipment_id=machine.id,
                      kind=PriceKind.MACHINE_HOUR, public=Public.COMPANY,
                      unit_price_cents=18000, vat_rate_bp=2000, valid_from=date(2026, 9, 1)),
        trainer=Price(establishment_id=home.id, kind=PriceKind.TRAINER_HOUR,
                      public=Public.COMPANY, unit="heure", unit_price_cents=7500,
                      vat_rate_bp=2000, valid_from=date(2026, 9, 1)),
        book=Price(establishment_id=home.id, kind=PriceKind.CONSUMABLE, public=Public.COMPANY,
                   label="Livret du stagiaire", unit="livret", unit_price_cents=1999,
                   vat_rate_bp=550, valid_from=date(2026, 9, 1)))
    db.add_all(vars(prices).values())
    db.flush()
    return SimpleNamespace(home=home, away=away, machine=machine, project=project,
                           prices=prices, **vars(people))


@pytest.fixture
def s(make: Any, db: Any) -> SimpleNamespace:
    return build_scene(make, db)


def draft(app: Any, db: Any, s: SimpleNamespace, actor: Any = None, **kw: Any) -> Quote:
    with app.app_context():
        return quotes.draft_quote(db, actor=actor or s.coordinator, now=NOW, project=s.project,
                                  **kw)


def issue(app: Any, db: Any, quote: Quote, actor: Any, now: datetime = NOW) -> Quote:
    with app.app_context():
        return quotes.issue_quote(db, quote, actor=actor, now=now)


def issued(app: Any, db: Any, s: SimpleNamespace) -> Quote:
    return issue(app, db, draft(app, db, s), s.coordinator)


def audits(db: Any, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)
                           .order_by(AuditEntry.id)))


def plain(text: str) -> str:
    """Babel's and the catalogue's no-break spaces as spaces, typographic apostrophes as '."""
    return text.replace("\u202f", " ").replace("\xa0", " ").replace("’", "'")


def mails(db: Any, prefix: str) -> list[OutboxMessage]:
    return list(db.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.like(
        prefix + "%")).order_by(OutboxMessage.to_addr)))


# --- totals ------------------------------------------------------------------------------


def test_round_half_up_is_exact_on_halves() -> None:
    assert [round_half_up(n, 2) for n in (1, 3, 5, -1, -3)] == [1, 2, 3, -1, -2]
    assert round_half_up(149, 100) == 1
    assert round_half_up(150, 100) == 2


def test_totals_round_each_line_then_vat_per_rate() -> None:
    line = SimpleNamespace
    lines = [
        # 1.5 h × 33.33 € = 49.995 € → 50.00 €; minus 10 % → 45.00 €
        line(quantity_cents=150, unit_price_cents=3333, vat_rate_bp=2000, discount_bp=1000),
        # 3 × 19.99 € at 5.5 %
        line(quantity_cents=300, unit_price_cents=1999, vat_rate_bp=550, discount_bp=0),
        # 0.33 × 0.05 € = 0.0165 € → 0.02 €
        line(quantity_cents=33, unit_price_cents=5, vat_rate_bp=2000, discount_bp=0),
    ]
    found = totals(lines, quote_discount_bp=500)  # and 5 % off the whole quote
    # Per line: 5000 − 500 = 4500, − 225 = 4275; 5997 − 300 (299.85 rounded) = 5697; 2 − 0 = 2
    assert [a.excl_cents for a in found.lines] == [4275, 5697, 2]
    assert found.gross_cents == 5000 + 5997 + 2
    assert found.excl_cents == 4275 + 5697 + 2
    # VAT per rate on the sum of its lines: 20 % of 42.77 € = 8.554 → 8.55; 5.5 % of 56.97 €
    # = 3.13335 → 3.13
    assert [(v.rate_bp, v.base_cents, v.vat_cents) for v in found.vat] == [
        (2000, 4277, 855), (550, 5697, 313)]
    assert found.vat_cents == 1168
    assert found.incl_cents == 9974 + 1168
    assert found.discount_cents == 500 + 225 + 300


# --- drafting --------------------------------------------------------------------------------


def test_a_draft_is_prefilled_from_the_price_list_in_force(app, db, s) -> None:
    quote = draft(app, db, s)
    assert quote.status is QuoteStatus.DRAFT
    assert quote.number is None
    assert quote.version == 1
    assert quote.establishment_id == s.home.id
    assert quote.public is Public.COMPANY
    assert quote.price_date == date(2027, 1, 12)
    assert quote.valid_until == date(2027, 2, 11)  # the profile's 30 days
    assert [(line.kind, line.quantity_cents, line.unit_price_cents, line.position)
            for line in quote.lines] == [(PriceKind.MACHINE_HOUR, 700, 18000, 1),
                                         (PriceKind.TRAINER_HOUR, 700, 7500, 2)]
    assert quote.lines[0].label == "Temps machine — Mélangeur"
    assert quote.lines[0].equipment_id == s.machine.id
    assert quote.lines[1].unit == "heure"
    # 7 h × 180 € + 7 h × 75 € = 1 785 € HT, 2 142 € TTC
    assert (quote.total_excl_cents, quote.vat_cents, quote.total_incl_cents) == (
        178500, 35700, 214200)
    [entry] = audits(db, "quote.draft")
    assert entry.actor_id == s.coordinator.id
    assert entry.object_id == quote.id
    assert entry.details["project_id"] == s.project.id


def test_quantities_come_from_the_sessions_booked(app, db, s, make) -> None:
    second = make.equipment(establishment=s.home, name="Étuve")
    s.project.equipment.append(second)
    db.add(Price(establishment_id=s.home.id, equipment_id=second.id,
                 kind=PriceKind.MACHINE_HOUR, public=Public.COMPANY, unit_price_cents=5000,
                 valid_from=date(2026, 1, 1)))
    # The sessions need the agreement signed, or waived (issue 15's scheduling gate).
    db.add(AgreementWaiver(project_id=s.project.id, waived_by_id=s.coordinator.id,
                           waived_at=NOW, reason="Essai"))
    db.flush()
    start = datetime(2027, 2, 2, 9, tzinfo=PARIS)
    with app.app_context():
        for begins, hours, equipment in ((0, 3, s.machine), (5, 2, second)):
            create_booking(db, actor=s.coordinator, now=NOW, policy=Policy(), notify=False,
                           request=BookingRequest(equipment.id, start + timedelta(hours=begins),
                                                  start + timedelta(hours=begins + hours),
                                                  "Séance", BookingPurpose.INDUSTRIAL_PROJECT,
                                                  project_id=s.project.id))
    quote = draft(app, db, s)
    # 3 h on the mixer, 2 h on the oven, 5 h of the trainer
    assert [(line.equipment_id, line.quantity_cents) for line in quote.lines] == [
        (s.machine.id, 300), (second.id, 200), (None, 500)]


def test_a_machine_without_a_price_gets_no_line(app, db, s, make) -> None:
    s.project.equipment.append(make.equipment(establishment=s.home, name="Sans tarif"))
    quote = draft(app, db, s)
    assert [line.kind for line in quote.lines] == [PriceKind.MACHINE_HOUR,
                                                   PriceKind.TRAINER_HOUR]
    assert len(audits(db, "quote.draft")[0].details["unpriced_equipment_ids"]) == 1


def test_who_drafts(app, db, s) -> None:
    with pytest.raises(Forbidden):  # not for an establishment they do not coordinate
        draft(app, db, s, establishment_id=s.home.id, actor=s.other_coordinator)
    with pytest.raises(NotFound):  # a company does not see the other's project
        draft(app, db, s, actor=s.other_company)
    with pytest.raises(Forbidden):
        draft(app, db, s, actor=s.company)
    with pytest.raises(Forbidden):
        draft(app, db, s, actor=s.trainer)
    assert db.scalar(select(func.count()).select_from(Quote)) == 0
    # An admin drafts for the establishment of the project's first machine by default.
    assert draft(app, db, s, actor=s.admin).establishment_id == s.home.id
    # The other coordinator drafts for their own (no price there: no line).
    assert draft(app, db, s, actor=s.other_coordinator).lines == []


# --- editing ----------------------------------------------------------------------------------


def test_editing_lines_and_the_quote(app, db, s) -> None:
    quote = draft(app, db, s)
    with app.app_context():
        book = quotes.add_line(db, quote, actor=s.coordinator, now=NOW,
                               spec=LineSpec(quantity_cents=800, price_id=s.prices.book.id))
        free = quotes.add_line(db, quote, actor=s.coordinator, now=NOW, spec=LineSpec(
            quantity_cents=100, kind=PriceKind.FLAT_FEE, label="Déplacement", unit="forfait",
            unit_price_cents=12050, vat_rate_bp=2000))
        quotes.update_line(db, quote, actor=s.coordinator, now=NOW, line_id=quote.lines[0].id,
                           quantity_cents=1050, discount_bp=1000)
        quotes.remove_line(db, quote, actor=s.coordinator, now=NOW, line_id=quote.lines[1].id)
        quotes.update_quote(db, quote, actor=s.coordinator, now=NOW, discount_bp=500,
                            notes="Tarif partenaire", valid_until=date(2027, 3, 1))
    assert [line.position for line in quote.lines] == [1, 2, 3]
    assert (book.label, book.unit, book.vat_rate_bp) == ("Livret du stagiaire", "livret", 550)
    assert free.price_id is None
    # 10.5 h × 180 € − 10 % = 1 701 €, − 5 % = 1 615.95 €; 8 × 19.99 € = 159.92 € − 5 % =
    # 151.92 € (7.996 rounded to 8.00); 120.50 € − 5 % = 114.47 € (6.025 → 6.03)
    assert [totals([line], 500).excl_cents for line in quote.lines] == [161595, 15192, 11447]
    assert quote.total_excl_cents == 161595 + 15192 + 11447
    assert quote.vat_cents == round_half_up((161595 + 11447) * 2000, 10000) + round_half_up(
        15192 * 550, 10000)
    assert (quote.discount_bp, quote.notes, quote.valid_until) == (
        500, "Tarif partenaire", date(2027, 3, 1))
    assert [e.action for e in db.scalars(select(AuditEntry).where(
        AuditEntry.object_type == "quote").order_by(AuditEntry.id))] == [
        "quote.draft", "quote.line_add", "quote.line_add", "quote.line_update",
        "quote.line_remove", "quote.update"]


def test_edits_refused(app, db, s) -> None:
    quote = draft(app, db, s)
    with app.app_context():
        with pytest.raises(ValidationError) as refused:
            quotes.update_line(db, quote, actor=s.coordinator, now=NOW,
                               line_id=quote.lines[0].id, quantity_cents=0)
        assert refused.value.details == {"field": "quantity"}
        with pytest.raises(ValidationError):
            quotes.update_quote(db, quote, actor=s.coordinator, now=NOW, discount_bp=10001)
        with pytest.raises(ValidationError) as refused:
            quotes.update_quote(db, quote, actor=s.coordinator, now=NOW,
                                valid_until=date(2027, 1, 11))
        assert refused.value.details == {"field": "valid_until"}
        other = Price(establishment_id=s.away.id, kind=PriceKind.TRAINER_HOUR,
                      public=Public.COMPANY, unit_price_cents=1, valid_from=date(2026, 1, 1))
        db.add(other)
        db.flush()
        with pytest.raises(ValidationError) as refused:
            quotes.add_line(db, quote, actor=s.coordinator, now=NOW,
                            spec=LineSpec(quantity_cents=100, price_id=other.id))
        assert refused.value.details["field"] == "price_id"
        with pytest.raises(ValidationError) as refused:  # a free line needs its label
            quotes.add_line(db, quote, actor=s.coordinator, now=NOW,
                            spec=LineSpec(quantity_cents=100, unit_price_cents=100))
        assert refused.value.details == {"field": "label"}
        with pytest.raises(NotFound):  # another establishment's, on none of its machines
            quotes.update_quote(db, quote, actor=s.other_coordinator, now=NOW, notes="x")
        with pytest.raises(NotFound):  # a draft is not the company's to see
            quotes.update_quote(db, quote, actor=s.company, now=NOW, notes="x")
        quotes.issue_quote(db, quote, actor=s.coordinator, now=NOW)
        with pytest.raises(InvalidState):
            quotes.update_quote(db, quote, actor=s.coordinator, now=NOW, notes="x")
    assert len(quote.lines) == 2
    assert quote.notes == ""


# --- issuing and numbering ---------------------------------------------------------------------


def test_issue_numbers_freezes_and_mails_the_contact(app, db, s) -> None:
    quote = issued(app, db, s)
    assert quote.status is QuoteStatus.ISSUED
    assert quote.number == "DEV-LYC-2027-0001"
    assert quote.reference == "DEV-LYC-2027-0001"
    assert quote.issued_at == NOW
    assert quote.issued_by_id == s.coordinator.id
    [entry] = audits(db, "quote.issue")
    assert entry.details["number"] == "DEV-LYC-2027-0001"
    assert entry.details["total_incl_cents"] == 214200
    [mail] = mails(db, "quote:")
    assert mail.to_addr == "contact@labo-a.example"
    assert "DEV-LYC-2027-0001" in mail.subject
    body = plain(mail.body_text)
    assert "2 142,00 € TTC" in body
    assert "jusqu'au jeudi 11 février 2027" in body
    assert body.rstrip().endswith(f"/quotes/{quote.id}")


def test_numbers_have_no_gap_per_establishment_and_year(app, db, s, make) -> None:
    numbers = [issued(app, db, s).number for _ in range(3)]
    assert numbers == ["DEV-LYC-2027-0001", "DEV-LYC-2027-0002", "DEV-LYC-2027-0003"]
    # A refused issue (no line) takes no number.
    empty = draft(app, db, s)
    with app.app_context():
        for line in list(empty.lines):
            quotes.remove_line(db, empty, actor=s.coordinator, now=NOW, line_id=line.id)
        with pytest.raises(ValidationError) as refused:
            quotes.issue_quote(db, empty, actor=s.coordinator, now=NOW)
    assert refused.value.details == {"field": "lines"}
    assert empty.number is None
    # Another establishment counts on its own; a new year starts again at 1.
    db.add(Price(establishment_id=s.away.id, kind=PriceKind.TRAINER_HOUR,
                 public=Public.COMPANY, unit_price_cents=6000, valid_from=date(2026, 1, 1)))
    db.flush()
    away = issue(app, db, draft(app, db, s, actor=s.other_coordinator), s.other_coordinator)
    assert away.number == "DEV-IUT-2027-0001"
    next_year = datetime(2028, 1, 3, 9, tzinfo=PARIS)
    quote = draft(app, db, s)
    quote.valid_until = date(2028, 2, 1)
    db.flush()
    assert issue(app, db, quote, s.coordinator, now=next_year).number == "DEV-LYC-2028-0001"
    assert issued(app, db, s).number == "DEV-LYC-2027-0004"
    counters = {(c.establishment_id, c.year): c.last for c in db.scalars(select(QuoteCounter))}
    assert counters == {(s.home.id, 2027): 4, (s.home.id, 2028): 1, (s.away.id, 2027): 1}


def test_a_price_changed_after_issue_leaves_the_issued_quote_as_it_was(app, db, s) -> None:
    quote = issued(app, db, s)
    db.add(Price(establishment_id=s.home.id, equipment_id=s.machine.id,
                 kind=PriceKind.MACHINE_HOUR, public=Public.COMPANY, unit_price_cents=25000,
                 vat_rate_bp=2000, valid_from=date(2027, 1, 12)))
    db.flush()
    db.expire_all()
    assert quote.lines[0].unit_price_cents == 18000
    assert quote.total_incl_cents == 214200
    # A new draft takes the new price; a revision keeps its quote's lines.
    assert draft(app, db, s).lines[0].unit_price_cents == 25000
    with app.app_context():
        revision = quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
    assert revision.lines[0].unit_price_cents == 18000


# --- the company's answer --------------------------------------------------------------------


def answer(app: Any, db: Any, quote: Quote, actor: Any, *, decline: str | None = None,
           now: datetime = NOW) -> Quote:
    origin = Origin("203.0.113.7", BROWSER)
    with app.app_context():
        if decline is None:
            return quotes.accept_quote(db, quote, actor=actor, now=now, origin=origin)
        return quotes.decline_quote(db, quote, actor=actor, now=now, reason=decline,
                                    origin=origin)


def test_the_company_accepts_and_the_answer_is_recorded(app, db, s) -> None:
    quote = issued(app, db, s)
    answer(app, db, quote, s.colleague)  # any account of the project's company
    assert quote.status is QuoteStatus.ACCEPTED
    assert (quote.decided_by_id, quote.decided_at, quote.decided_from,
            quote.decided_user_agent) == (s.colleague.id, NOW, "203.0.113.7", BROWSER)
    assert quotes.accepted_quote(db, s.project) is quote
    [entry] = audits(db, "quote.accept")
    assert (entry.actor_id, entry.details["address"], entry.details["user_agent"]) == (
        s.colleague.id, "203.0.113.7", BROWSER)
    # The project's coordinators are told.
    assert [m.to_addr for m in mails(db, f"quote:{quote.id}:accepted")] == ["coord@example.org"]


def test_only_the_projects_company_answers(app, db, s) -> None:
    quote = issued(app, db, s)
    with pytest.raises(NotFound):
        answer(app, db, quote, s.other_company)
    with pytest.raises(NotFound):
        answer(app, db, quote, s.trainer)
    for staff in (s.coordinator, s.admin):
        with pytest.raises(Forbidden):
            answer(app, db, quote, staff)
    assert quote.status is QuoteStatus.ISSUED
    assert audits(db, "quote.accept") == []


def test_declining_needs_a_reason_and_tells_the_coordinators(app, db, s) -> None:
    quote = issued(app, db, s)
    with pytest.raises(ValidationError) as refused:
        answer(app, db, quote, s.company, decline="  ")
    assert refused.value.details == {"field": "reason"}
    answer(app, db, quote, s.company, decline="Trop cher pour cette année.")
    assert quote.status is QuoteStatus.DECLINED
    assert quote.decline_reason == "Trop cher pour cette année."
    [entry] = audits(db, "quote.decline")
    assert entry.reason == "Trop cher pour cette année."
    assert entry.details["address"] == "203.0.113.7"
    [mail] = mails(db, f"quote:{quote.id}:declined")
    assert "Trop cher pour cette année." in mail.body_text
    with pytest.raises(InvalidState):  # answered already
        answer(app, db, quote, s.company)


def test_an_expired_quote_is_refused(app, db, s) -> None:
    quote = issued(app, db, s)  # valid until Thursday 11 February 2027
    late = datetime(2027, 2, 12, 8, tzinfo=PARIS)
    with pytest.raises(QuoteExpired) as refused:
        answer(app, db, quote, s.company, now=late)
    assert (refused.value.code, refused.value.status) == ("quote_expired", 409)
    with app.app_context():
        assert plain(refused.value.message).startswith(
            "Ce devis a expiré le jeudi 11 février 2027")
    assert quote.status is QuoteStatus.ISSUED
    assert quote.decided_at is None
    # Its last day still counts (a day in Paris).
    answer(app, db, quote, s.company, now=datetime(2027, 2, 11, 23, 30, tzinfo=PARIS))
    assert quote.status is QuoteStatus.ACCEPTED


def test_one_accepted_quote_per_project(app, db, s) -> None:
    first, second = issued(app, db, s), issued(app, db, s)
    answer(app, db, first, s.company)
    with pytest.raises(QuoteAlreadyAccepted) as refused:
        answer(app, db, second, s.company)
    assert (refused.value.code, refused.value.status) == ("quote_already_accepted", 409)
    assert second.status is QuoteStatus.ISSUED
    with pytest.raises(QuoteAlreadyAccepted):
        draft(app, db, s)


def test_the_unique_index_is_the_last_guard(app, db, s, monkeypatch) -> None:
    """Two acceptances that both read « none accepted »: the index refuses the
    second, answered as the same conflict and nothing of it kept."""
    first, second = issued(app, db, s), issued(app, db, s)
    answer(app, db, first, s.company)
    monkeypatch.setattr(quotes, "accepted_quote", lambda session, project: None)
    with pytest.raises(QuoteAlreadyAccepted):
        answer(app, db, second, s.company)
    db.expire_all()
    assert [q.status for q in (first, second)] == [QuoteStatus.ACCEPTED, QuoteStatus.ISSUED]


# --- revisions --------------------------------------------------------------------------------


def test_a_revision_keeps_the_number_and_supersedes_on_issue(app, db, s) -> None:
    quote = issued(app, db, s)
    answer(app, db, quote, s.company, decline="Moins d'heures, s'il vous plaît.")
    with app.app_context():
        revision = quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
        with pytest.raises(InvalidState):  # one revision at a time
            quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
        quotes.update_line(db, revision, actor=s.coordinator, now=NOW,
                           line_id=revision.lines[0].id, quantity_cents=350)
    assert (revision.status, revision.version, revision.revises_id, revision.number) == (
        QuoteStatus.DRAFT, 2, quote.id, "DEV-LYC-2027-0001")
    issue(app, db, revision, s.coordinator)
    assert revision.reference == "DEV-LYC-2027-0001-v2"
    assert quote.status is QuoteStatus.DECLINED  # its answer stays on record
    # A revision of the revision supersedes the issued version 2.
    with app.app_context():
        third = quotes.revise_quote(db, revision, actor=s.coordinator, now=NOW)
    issue(app, db, third, s.coordinator)
    assert (revision.status, third.status, third.version) == (
        QuoteStatus.SUPERSEDED, QuoteStatus.ISSUED, 3)
    assert db.scalar(select(func.count()).select_from(Quote).where(
        Quote.number == "DEV-LYC-2027-0001", Quote.status == QuoteStatus.ISSUED)) == 1
    assert db.scalar(select(QuoteCounter.last)) == 1  # no number spent on revisions
    with pytest.raises(InvalidState):  # the superseded version is not answered any more
        answer(app, db, revision, s.company)
    assert [e.details["version"] for e in audits(db, "quote.revise")] == [2, 3]


def test_revising_is_refused_for_drafts_and_others(app, db, s) -> None:
    quote = draft(app, db, s)
    with app.app_context(), pytest.raises(InvalidState):
        quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
    issue(app, db, quote, s.coordinator)
    with app.app_context():
        with pytest.raises(NotFound):
            quotes.revise_quote(db, quote, actor=s.other_coordinator, now=NOW)
        with pytest.raises(Forbidden):
            quotes.revise_quote(db, quote, actor=s.company, now=NOW)


def test_an_issued_revision_is_refused_once_the_previous_is_accepted(app, db, s) -> None:
    quote = issued(app, db, s)
    with app.app_context():
        revision = quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
    answer(app, db, quote, s.company)
    with pytest.raises(QuoteAlreadyAccepted):
        issue(app, db, revision, s.coordinator)
    assert revision.status is QuoteStatus.DRAFT


# --- who sees what --------------------------------------------------------------------------


def test_visibility(app, db, s, make) -> None:
    issued_quote, draft_quote = issued(app, db, s), draft(app, db, s)
    outsider = make.user(Role.COORDINATOR, establishment=make.establishment())

    def seen(user: Any) -> list[int]:
        return sorted(db.scalars(visible_quotes(user).with_only_columns(Quote.id)))

    both = sorted([issued_quote.id, draft_quote.id])
    assert seen(s.admin) == both
    assert seen(s.coordinator) == both
    assert seen(s.company) == [issued_quote.id] == seen(s.colleague)
    assert seen(s.other_company) == []
    assert seen(s.trainer) == []
    assert seen(outsider) == []
    # The coordinators of a machine of the project read its quotes, not change them.
    s.machine.establishment_id = s.away.id
    db.flush()
    assert seen(s.other_coordinator) == both
    assert may(s.other_coordinator, "view", draft_quote)
    assert not may(s.other_coordinator, "manage", draft_quote)
    for user, expected in ((s.admin, True), (s.coordinator, True), (s.company, True),
                           (s.other_company, True), (s.trainer, False)):  # (its own: none)
        assert may(user, "list", Quote) is expected
    assert not may(s.company, "view", draft_quote)


# --- two issues at once ----------------------------------------------------------------------


def test_two_concurrent_issues_take_two_numbers(app, committed_db) -> None:
    """Two drafts issued at the same moment from two connections: the counter
    row's lock (PostgreSQL) or the write lock (SQLite) gives them 0001 and 0002."""
    session = committed_db.session()  # the plain session: other app contexts keep to it
    s = build_scene(_Committed(app, session), session)
    ids = [draft(app, session, s).id for _ in range(2)]
    coordinator_id = s.coordinator.id
    session.commit()
    barrier, numbers, errors = threading.Barrier(2), [], []

    def run(quote_id: int) -> None:
        try:
            with app.app_context():
                from booking.extensions import db as ext_db

                own = ext_db.session
                barrier.wait(10)
                from booking.database import begin_write

                begin_write(own)
                quote = own.get(Quote, quote_id)
                actor = own.get(type(s.coordinator), coordinator_id)
                quotes.issue_quote(own, quote, actor=actor, now=NOW)
                own.commit()
                numbers.append(quote.number)
                ext_db.session.remove()
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(numbers) == ["DEV-LYC-2027-0001", "DEV-LYC-2027-0002"]
    session.expire_all()
    assert session.scalar(select(QuoteCounter.last)) == 2


class _Committed:
    """The test factory on the real session (rows committed by the test)."""

    def __new__(cls, app: Any, session: Any) -> Any:
        from tests.conftest import Factory

        return Factory(app, session)


# --- the pages -------------------------------------------------------------------------------


def form_token(client: Any, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return csrf_token_of(answer.get_data(as_text=True))


def test_a_coordinator_drafts_edits_and_issues_from_the_pages(app, db, s, now) -> None:
    staff = logged_in(app, s.coordinator)
    project_page = staff.get(f"/projects/{s.project.id}").get_data(as_text=True)
    assert 'id="project-quotes"' in project_page
    assert "Établir un devis" in project_page
    token = form_token(staff, f"/projects/{s.project.id}/quotes/new")
    answer = staff.post(f"/projects/{s.project.id}/quotes/new", data={
        "csrf_token": token, "establishment": s.home.id, "public": "company"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    quote = db.scalar(select(Quote))
    assert answer.headers["Location"].endswith(f"/quotes/{quote.id}")
    page = plain(staff.get(f"/quotes/{quote.id}").get_data(as_text=True))
    assert "Temps machine — Mélangeur" in page
    assert "2 142,00 €" in page
    # A line of its own, a quantity changed, the validity and the discount.
    assert staff.post(f"/quotes/{quote.id}/lines", data={
        "csrf_token": token, "free-kind": "flat_fee", "free-label": "Déplacement",
        "free-unit": "forfait", "free-quantity": "1", "free-unit_price": "120,50",
        "free-vat_rate": "20"}).status_code == 302
    line = quote.lines[0]
    assert staff.post(f"/quotes/{quote.id}/lines/{line.id}", data={
        "csrf_token": token, "quantity": "7,5", "discount": "10"}).status_code == 302
    assert staff.post(f"/quotes/{quote.id}/settings", data={
        "csrf_token": token, "discount": "2,5", "valid_until": "2027-02-28",
        "notes": "Devis établi pour la session de février."}).status_code == 302
    db.expire_all()
    assert [(li.label, li.quantity_cents, li.discount_bp, li.unit_price_cents)
            for li in quote.lines] == [("Temps machine — Mélangeur", 750, 1000, 18000),
                                       ("Heures de formateur", 700, 0, 7500),
                                       ("Déplacement", 100, 0, 12050)]
    assert (quote.discount_bp, quote.valid_until) == (250, date(2027, 2, 28))
    # A quantity that is no number: said next to the field, nothing changed.
    refused = staff.post(f"/quotes/{quote.id}/lines/{line.id}", data={
        "csrf_token": token, "quantity": "beaucoup", "discount": ""})
    assert refused.status_code == 200
    assert "au plus deux décimales" in plain(refused.get_data(as_text=True))
    answer = staff.post(f"/quotes/{quote.id}/issue", data={"csrf_token": token},
                        follow_redirects=True)
    assert "DEV-LYC-2027-0001" in answer.get_data(as_text=True)
    db.expire_all()
    assert quote.status is QuoteStatus.ISSUED


def test_the_company_accepts_from_the_pages(app, db, s, now) -> None:
    quote = issued(app, db, s)
    company = logged_in(app, s.company)
    listing = company.get("/quotes/").get_data(as_text=True)
    assert f'data-quote="{quote.id}"' in listing
    assert "DEV-LYC-2027-0001" in company.get(f"/projects/{s.project.id}").get_data(as_text=True)
    page = company.get(f"/quotes/{quote.id}").get_data(as_text=True)
    assert 'id="accept-quote"' in page
    assert 'id="issue-quote"' not in page
    token = form_token(company, f"/quotes/{quote.id}/accept")  # the confirm step
    assert quote.status is QuoteStatus.ISSUED
    answer = company.post(f"/quotes/{quote.id}/accept", data={"csrf_token": token},
                          headers={"User-Agent": BROWSER}, environ_base={
                              "REMOTE_ADDR": "198.51.100.4"})
    assert answer.status_code == 302
    db.expire_all()
    assert (quote.status, quote.decided_from, quote.decided_user_agent) == (
        QuoteStatus.ACCEPTED, "198.51.100.4", BROWSER)
    assert audits(db, "quote.accept")[0].details["address"] == "198.51.100.4"


def test_declining_from_the_pages_needs_a_reason(app, db, s, now) -> None:
    quote = issued(app, db, s)
    company = logged_in(app, s.company)
    token = form_token(company, f"/quotes/{quote.id}/decline")
    refused = company.post(f"/quotes/{quote.id}/decline", data={"csrf_token": token,
                                                                "reason": ""})
    assert refused.status_code == 200
    assert "Dites pourquoi" in refused.get_data(as_text=True)
    assert company.post(f"/quotes/{quote.id}/decline", data={
        "csrf_token": token, "reason": "Budget reporté."}).status_code == 302
    db.expire_all()
    assert (quote.status, quote.decline_reason) == (QuoteStatus.DECLINED, "Budget reporté.")


def test_an_expired_quote_cannot_be_accepted_from_its_page(app, db, s) -> None:
    quote = issued(app, db, s)
    from booking.timeutil import frozen

    with frozen(datetime(2027, 3, 1, 9, tzinfo=PARIS)):
        company = logged_in(app, s.company)
        page = plain(company.get(f"/quotes/{quote.id}").get_data(as_text=True))
        assert "Ce devis a expiré le jeudi 11 février 2027" in page
        assert 'id="accept-quote"' not in page
        token = csrf_token_of(company.get("/auth/password").get_data(as_text=True))
        answer = company.post(f"/quotes/{quote.id}/accept", data={"csrf_token": token},
                              follow_redirects=True)
        assert "Ce devis a expiré le" in plain(answer.get_data(as_text=True))
    db.expire_all()
    assert quote.status is QuoteStatus.ISSUED


def test_who_reaches_the_pages(app, db, s, now) -> None:
    quote, draft_quote = issued(app, db, s), draft(app, db, s)
    expected = {  # person: /quotes/, the issued quote, the draft, a new quote form (the
        # trainer runs the project: sees it, may not quote it)
        "admin": (200, 200, 200, 200), "coordinator": (200, 200, 200, 200),
        "other_coordinator": (200, 404, 404, 200), "trainer": (403, 404, 404, 403),
        "company": (200, 200, 404, 403), "other_company": (200, 404, 404, 404)}
    for who, codes in expected.items():
        client = logged_in(app, getattr(s, who))
        got = tuple(client.get(url).status_code for url in (
            "/quotes/", f"/quotes/{quote.id}", f"/quotes/{draft_quote.id}",
            f"/projects/{s.project.id}/quotes/new"))
        assert got == codes, who
    other = logged_in(app, s.other_company)
    assert f'data-quote="{quote.id}"' not in other.get("/quotes/").get_data(as_text=True)
    assert other.get(f"/quotes/{quote.id}/accept").status_code == 404
    assert logged_in(app, s.coordinator).get(f"/quotes/{quote.id}/accept").status_code == 403
    nav = logged_in(app, s.company).get("/quotes/").get_data(as_text=True)
    assert 'href="/quotes/"' in nav
    assert 'href="/quotes/"' not in logged_in(app, s.trainer).get("/").get_data(as_text=True)
