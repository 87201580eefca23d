"""Invoice lines (issue 15, point 6): the amounts of a completed project's
accepted quote, its accounting codes and its attended hours; the period export
of an establishment; the CSV and XLSX files; the invoicing page and the
project page's « Facturation » card; who may read them. Every figure below is
computed by hand in the comments."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from booking.services.invoicing.lines import half_up, invoice_lines, line_amounts, period_lines
from models import Booking, BookingPurpose, BookingStatus, Project, ProjectStatus, Role
from models.attendance import (
    AttendanceMark,
    AttendanceSheet,
    HalfDay,
    Learner,
    LearnerPublic,
    Presence,
)
from models.pricing import AnalyticCode, BillingProfile, PriceKind, Public
from models.quote import Quote, QuoteLine, QuoteStatus
from tests.api_helpers import count
from tests.world import fingerprint, logged_in

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")


# --- the campus --------------------------------------------------------------------------


def _session(make: Any, project: Project, machine: Any, booker: Any, start: datetime,
             end: datetime, status: BookingStatus = BookingStatus.COMPLETED) -> Booking:
    booking = Booking(uid=f"inv-{make._n()}@t", equipment=machine, start_at=start, end_at=end,
                      title="Séance", purpose=BookingPurpose.INDUSTRIAL_PROJECT, status=status,
                      booked_by=booker, project_id=project.id,
                      cancelled_at=start if status is BookingStatus.CANCELLED else None)
    if status is not BookingStatus.CANCELLED:
        booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


def _project(make: Any, company: Any, trainer: Any, title: str,
             status: ProjectStatus = ProjectStatus.COMPLETED) -> Project:
    project = Project(company=company, title=title, learners=3, wanted_from=date(2026, 11, 1),
                      wanted_to=date(2027, 2, 28), status=status, trainer=trainer)
    return make._add(project)


def _quote(make: Any, project: Project, establishment: Any, number: str, *, version: int = 1,
           status: QuoteStatus = QuoteStatus.ACCEPTED, discount_bp: int = 0,
           lines: list[dict[str, Any]] = ()) -> Quote:  # type: ignore[assignment]
    quote = Quote(project_id=project.id, establishment_id=establishment.id,
                  public=Public.COMPANY, status=status, number=number, version=version,
                  price_date=date(2026, 11, 20), discount_bp=discount_bp,
                  issued_at=datetime(2026, 11, 20, 23, 30, tzinfo=UTC))  # 21/11 in Paris
    for position, line in enumerate(lines, start=1):
        quote.lines.append(QuoteLine(position=position, **line))
    return make._add(quote)


def build_invoicing(make: Any, db: Any) -> SimpleNamespace:
    """Lycée du Parc (LYC, its billing profile) and IUT de Tours (IUT); company
    « Laboratoire Rose » with its « Crèmes solaires » project, completed, whose
    accepted quote DEV-2026-0007-v2 (5 % off) has four lines; its attendance;
    and the projects a period export must tell apart from it."""
    home = make.establishment(code="LYC", name="Lycée du Parc")
    away = make.establishment(code="IUT", name="IUT de Tours")
    db.add(BillingProfile(establishment_id=home.id, legal_name="Lycée du Parc",
                          analytic_code="SEC-LYC", account_machine_hour="706100",
                          account_trainer_hour="706200", account_consumable="707000",
                          account_flat_fee="706300"))
    mixer = make.equipment(establishment=home, code="MEL-1", name="Mélangeur")
    oven = make.equipment(establishment=home, code="ETU-1", name="Étuve")
    db.add(AnalyticCode(equipment_id=mixer.id, code="AN-MEL"))  # the oven has none
    rose = make.company(name="Laboratoire Rose")
    people = SimpleNamespace(
        admin=make.user(Role.ADMIN),
        coordinator=make.user(Role.COORDINATOR, establishment=home),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away),
        trainer=make.user(Role.TRAINER, establishment=home),
        other_trainer=make.user(Role.TRAINER, establishment=home),
        company=make.user(Role.COMPANY, company=rose),
        other_company=make.user(Role.COMPANY))
    project = _project(make, rose, people.trainer, "Crèmes solaires")
    _quote(make, project, home, "DEV-2026-0007", status=QuoteStatus.SUPERSEDED,
           lines=[dict(kind=PriceKind.FLAT_FEE, label="Ancien", quantity_cents=100,
                       unit_price_cents=99999)])
    quote = _quote(make, project, home, "DEV-2026-0007", version=2, discount_bp=500, lines=[
        # 3.5 h × 45.67 € = 159.845 → 159.85; −10 % = 15.985 → 15.99: 143.86;
        # −5 % = 7.193 → 7.19: 136.67; VAT 20 % = 27.334 → 27.33; 164.00 in all.
        dict(kind=PriceKind.MACHINE_HOUR, equipment_id=mixer.id, label="Mélangeur",
             unit="h", quantity_cents=350, unit_price_cents=4567, vat_rate_bp=2000,
             discount_bp=1000),
        # 7 h × 55 € = 385.00; −5 % = 19.25: 365.75; VAT 73.15; 438.90.
        dict(kind=PriceKind.TRAINER_HOUR, label="Formateur", unit="h", quantity_cents=700,
             unit_price_cents=5500, vat_rate_bp=2000),
        # 2.5 × 3.33 € = 8.325 → 8.33; −5 % = 0.4165 → 0.42: 7.91;
        # VAT 5.5 % = 0.43505 → 0.44; 8.35. A label typed as a formula.
        dict(kind=PriceKind.CONSUMABLE, label="=1+2 Flacons", unit="lot",
             quantity_cents=250, unit_price_cents=333, vat_rate_bp=550),
        # 1 h × 10 € = 10.00; −5 % = 0.50: 9.50; VAT 1.90; 11.40. The oven has
        # no analytic code of its own: the establishment's.
        dict(kind=PriceKind.MACHINE_HOUR, equipment_id=oven.id, label="Étuve", unit="h",
             quantity_cents=100, unit_price_cents=1000, vat_rate_bp=2000),
    ])
    first = _session(make, project, mixer, people.trainer, datetime(2026, 12, 2, 9, tzinfo=PARIS),
                     datetime(2026, 12, 2, 17, tzinfo=PARIS))
    last = _session(make, project, mixer, people.trainer, datetime(2026, 12, 9, 9, tzinfo=PARIS),
                    datetime(2026, 12, 9, 16, tzinfo=PARIS))
    # A cancelled session after the last one does not date the project.
    _session(make, project, oven, people.trainer, datetime(2026, 12, 20, 9, tzinfo=PARIS),
             datetime(2026, 12, 20, 12, tzinfo=PARIS), status=BookingStatus.CANCELLED)
    learners = [make._add(Learner(project_id=project.id, first_name=f"A{i}", last_name=f"B{i}",
                                  public=LearnerPublic.EMPLOYEE)) for i in range(3)]
    p, a = Presence.PRESENT, Presence.ABSENT

    def sheet(booking: Booking, day: date, half: HalfDay, hours: int,
              marks: list[tuple[Presence, int]]) -> None:
        made = AttendanceSheet(booking_id=booking.id, project_id=project.id, day=day,
                               half_day=half, hours_cents=hours)
        made.marks = [AttendanceMark(learner_id=learner.id, presence=presence,
                                     minutes_late=late)
                      for learner, (presence, late) in zip(learners, marks, strict=True)]
        make._add(made)

    late = Presence.LATE
    # Learner by learner: 3.5 + 3 + (4 − 45 min) + 0 (40 min late of a half-hour);
    # (3.5 − 20 min) + 3; (3 − 8 min). Hours: 18.78333… → 18.78 h; three learners.
    sheet(first, date(2026, 12, 2), HalfDay.MORNING, 350, [(p, 0), (late, 20), (a, 0)])
    sheet(first, date(2026, 12, 2), HalfDay.AFTERNOON, 300, [(p, 0), (p, 0), (late, 8)])
    sheet(last, date(2026, 12, 9), HalfDay.MORNING, 400, [(late, 45), (a, 0), (a, 0)])
    sheet(last, date(2026, 12, 9), HalfDay.AFTERNOON, 50, [(late, 40), (a, 0), (a, 0)])

    def other(title: str, issuer: Any, end: datetime | None,
              status: ProjectStatus = ProjectStatus.COMPLETED,
              quote_status: QuoteStatus = QuoteStatus.ACCEPTED) -> Project:
        made = _project(make, rose, people.trainer, title, status)
        _quote(make, made, issuer, f"DEV-2026-{make._n():04d}", status=quote_status,
               lines=[dict(kind=PriceKind.FLAT_FEE, label="Forfait", quantity_cents=100,
                           unit_price_cents=10000, vat_rate_bp=2000)])
        if end is not None:
            _session(make, made, oven, people.trainer, end - timedelta(hours=2), end)
        return made

    projects = SimpleNamespace(
        main=project,
        # Ends 01/12 00:30 in Paris (30/11 in UTC): in December.
        early=other("Début de mois", home, datetime(2026, 12, 1, 0, 30, tzinfo=PARIS)),
        # Ends 01/01 00:30 in Paris (31/12 in UTC): not in December.
        late=other("Nouvel an", home, datetime(2027, 1, 1, 0, 30, tzinfo=PARIS)),
        away=other("Chez l'IUT", away, datetime(2026, 12, 14, 12, tzinfo=PARIS)),
        running=other("En cours", home, datetime(2026, 12, 15, 12, tzinfo=PARIS),
                      status=ProjectStatus.IN_PROGRESS),
        issued=other("Devis émis", home, datetime(2026, 12, 16, 12, tzinfo=PARIS),
                     quote_status=QuoteStatus.ISSUED),
        no_session=other("Sans séance", home, None),
    )
    db.flush()
    return SimpleNamespace(home=home, away=away, mixer=mixer, oven=oven, quote=quote,
                           project=project, projects=projects, **vars(people))


@pytest.fixture
def inv(make, db) -> SimpleNamespace:
    return build_invoicing(make, db)


# --- amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (15, 10, 2), (25, 10, 3), (14, 10, 1), (0, 7, 0), (1, 2, 1), (1, 3, 0), (2, 3, 1)])
def test_half_up(numerator, denominator, expected) -> None:
    assert half_up(numerator, denominator) == expected


def test_line_amounts_round_each_step_half_up() -> None:
    amounts = line_amounts(quantity_cents=350, unit_price_cents=4567, discount_bp=1000,
                           quote_discount_bp=500, vat_rate_bp=2000)
    assert (amounts.gross_cents, amounts.line_discount_cents, amounts.quote_discount_cents,
            amounts.excl_cents, amounts.vat_cents, amounts.incl_cents) == (
        15985, 1599, 719, 13667, 2733, 16400)
    # 0.435 05 € of VAT rounds up; 0.416 5 € of discount too.
    small = line_amounts(quantity_cents=250, unit_price_cents=333, quote_discount_bp=500,
                         vat_rate_bp=550)
    assert (small.gross_cents, small.quote_discount_cents, small.excl_cents,
            small.vat_cents) == (833, 42, 791, 44)
    free = line_amounts(quantity_cents=100, unit_price_cents=5000, discount_bp=10000,
                        vat_rate_bp=2000)
    assert (free.excl_cents, free.vat_cents) == (0, 0)


# --- one project ------------------------------------------------------------------------


def test_a_completed_project_gives_one_row_per_line_of_its_accepted_quote(db, inv) -> None:
    lines = invoice_lines(db, actor=inv.coordinator, project=inv.project)
    assert [line.label for line in lines] == ["Mélangeur", "Formateur", "=1+2 Flacons",
                                              "Étuve"]
    first = lines[0]
    assert (first.establishment_code, first.establishment_name) == ("LYC", "Lycée du Parc")
    assert (first.customer, first.project_id, first.project_title) == (
        "Laboratoire Rose", inv.project.id, "Crèmes solaires")
    assert first.quote_reference == "DEV-2026-0007-v2"
    assert first.quote_date == date(2026, 11, 21)  # issued 20/11 23:30 UTC
    assert first.last_session == date(2026, 12, 9)  # the cancelled 20/12 does not count
    assert [(line.excl_cents, line.vat_cents, line.incl_cents) for line in lines] == [
        (13667, 2733, 16400), (36575, 7315, 43890), (791, 44, 835), (950, 190, 1140)]
    assert [line.kind for line in lines] == [PriceKind.MACHINE_HOUR, PriceKind.TRAINER_HOUR,
                                             PriceKind.CONSUMABLE, PriceKind.MACHINE_HOUR]
    # The mixer's own analytic code; the others take the establishment's.
    assert [line.analytic_code for line in lines] == ["AN-MEL", "SEC-LYC", "SEC-LYC",
                                                      "SEC-LYC"]
    assert [line.revenue_account for line in lines] == ["706100", "706200", "707000",
                                                        "706100"]
    assert [(line.discount_bp, line.quote_discount_bp) for line in lines] == [
        (1000, 500), (0, 500), (0, 500), (0, 500)]
    assert {(line.learners_attended, line.attended_hours_cents) for line in lines} == {
        (3, 1878)}


def test_without_a_billing_profile_the_codes_are_empty(db, inv) -> None:
    db.delete(db.get(BillingProfile, inv.home.id))
    db.flush()
    lines = invoice_lines(db, actor=inv.admin, project=inv.project)
    assert [line.analytic_code for line in lines] == ["AN-MEL", "", "", ""]
    assert {line.revenue_account for line in lines} == {""}


def test_no_attendance_gives_zero_hours(db, inv) -> None:
    lines = invoice_lines(db, actor=inv.admin, project=inv.projects.early)
    assert [(line.learners_attended, line.attended_hours_cents) for line in lines] == [(0, 0)]


@pytest.mark.parametrize("status", [ProjectStatus.IN_PROGRESS, ProjectStatus.SCHEDULED,
                                    ProjectStatus.CANCELLED])
def test_a_project_not_completed_is_refused_naming_its_status(db, inv, status) -> None:
    inv.project.status = status
    db.flush()
    with pytest.raises(InvalidState) as refused:
        invoice_lines(db, actor=inv.coordinator, project=inv.project)
    assert refused.value.code == "invalid_state"
    assert refused.value.details == {"status": status.value}


def test_a_completed_project_without_accepted_quote_is_refused(db, inv) -> None:
    with pytest.raises(InvalidState) as refused:
        invoice_lines(db, actor=inv.coordinator, project=inv.projects.issued)
    assert refused.value.code == "no_accepted_quote"


@pytest.mark.parametrize(("who", "error"), [
    ("company", Forbidden), ("trainer", Forbidden), ("other_coordinator", Forbidden),
    ("other_company", NotFound), ("other_trainer", NotFound)])
def test_who_may_not_read_a_projects_lines(db, inv, who, error) -> None:
    with pytest.raises(error):
        invoice_lines(db, actor=getattr(inv, who), project=inv.project)


def test_the_issuing_establishments_coordinator_reads_it_not_the_projects_machines(
        db, inv) -> None:
    # The IUT's coordinator reads the IUT's quote, the Lycée's does not.
    assert invoice_lines(db, actor=inv.other_coordinator, project=inv.projects.away)
    with pytest.raises(Forbidden):
        invoice_lines(db, actor=inv.coordinator, project=inv.projects.away)


# --- a period ---------------------------------------------------------------------------


def test_a_period_takes_the_projects_whose_last_session_ends_in_it(db, inv) -> None:
    lines = period_lines(db, actor=inv.coordinator, establishment_id=inv.home.id,
                         first=date(2026, 12, 1), last=date(2026, 12, 31))
    # By the end of the last session: « Début de mois » (01/12), then the main one
    # (09/12). Not: ended 01/01 in Paris, issued by the IUT, in progress, quote
    # only issued, no session.
    assert [line.project_id for line in lines] == [inv.projects.early.id] + [inv.project.id] * 4
    assert sum(line.excl_cents for line in lines) == 10000 + 13667 + 36575 + 791 + 950
    january = period_lines(db, actor=inv.admin, establishment_id=inv.home.id,
                           first=date(2027, 1, 1), last=date(2027, 1, 1))
    assert [line.project_id for line in january] == [inv.projects.late.id]
    away = period_lines(db, actor=inv.other_coordinator, establishment_id=inv.away.id,
                        first=date(2026, 12, 1), last=date(2026, 12, 31))
    assert [line.project_id for line in away] == [inv.projects.away.id]


@pytest.mark.parametrize("who", ["other_coordinator", "company", "trainer"])
def test_a_period_of_another_establishment_is_refused(db, inv, who) -> None:
    with pytest.raises(Forbidden):
        period_lines(db, actor=getattr(inv, who), establishment_id=inv.home.id,
                     first=date(2026, 12, 1), last=date(2026, 12, 31))


def test_a_period_backwards_or_too_long_is_refused(db, inv) -> None:
    with pytest.raises(ValidationError):
        period_lines(db, actor=inv.admin, establishment_id=inv.home.id,
                     first=date(2026, 12, 31), last=date(2026, 12, 1))
    with pytest.raises(ValidationError):
        period_lines(db, actor=inv.admin, establishment_id=inv.home.id,
                     first=date(2026, 1, 1), last=date(2027, 1, 2))
    assert period_lines(db, actor=inv.admin, establishment_id=inv.home.id,
                        first=date(2026, 1, 1), last=date(2027, 1, 1)) is not None
    with pytest.raises(NotFound):
        period_lines(db, actor=inv.admin, establishment_id=2**31 - 1,
                     first=date(2026, 12, 1), last=date(2026, 12, 31))


# --- files ------------------------------------------------------------------------------


def _csv(answer: Any) -> list[list[str]]:
    body = answer.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_projects_csv_is_french_accounting_csv(app, db, inv, now) -> None:
    browser = logged_in(app, inv.coordinator)
    before = fingerprint(db)
    answer = browser.get(f"/invoicing/projects/{inv.project.id}.csv")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "text/csv"
    assert "DEV-2026-0007-v2.csv" in answer.headers["Content-Disposition"]
    rows = _csv(answer)
    head = rows[0]
    assert head[:3] == ["Code établissement", "Établissement émetteur", "Client"]
    assert len(rows) == 5
    assert all(len(row) == len(head) for row in rows)
    line = dict(zip(head, rows[1], strict=True))
    assert line["Devis"] == "DEV-2026-0007-v2"
    assert line["Date du devis"] == "21/11/2026"
    assert line["Dernière séance"] == "09/12/2026"
    assert line["Nature"] == "Heure machine"
    assert line["Code analytique"] == "AN-MEL"
    assert line["Compte de produit"] == "706100"
    assert line["Quantité"] == "3,50"
    assert line["Prix unitaire HT (€)"] == "45,67"
    assert line["Remise de la ligne (%)"] == "10,00"
    assert line["Remise du devis (%)"] == "5,00"
    assert line["Total HT (€)"] == "136,67"
    assert line["Taux de TVA (%)"] == "20,00"
    assert line["TVA (€)"] == "27,33"
    assert line["Total TTC (€)"] == "164,00"
    assert line["Heures suivies par les apprenants (projet)"] == "18,78"
    consumable = dict(zip(head, rows[3], strict=True))
    assert consumable["Libellé"] == "'=1+2 Flacons"  # stays text in a spreadsheet
    assert consumable["Taux de TVA (%)"] == "5,50"
    assert fingerprint(db) == before


def test_the_projects_workbook_has_numbers_dates_and_a_frozen_bold_header(
        app, db, inv, now) -> None:
    answer = logged_in(app, inv.admin).get(f"/invoicing/projects/{inv.project.id}.xlsx")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.get_data())).active
    assert sheet.freeze_panes == "A2"
    head = [cell.value for cell in sheet[1]]
    assert all(cell.font.bold for cell in sheet[1])
    assert head[17] == "Total HT (€)"
    row = {h: cell for h, cell in zip(head, sheet[2], strict=True)}
    excl = row["Total HT (€)"]
    assert excl.value == pytest.approx(136.67)
    assert isinstance(excl.value, float)
    assert "€" in excl.number_format
    assert row["Prix unitaire HT (€)"].value == pytest.approx(45.67)
    assert row["N° de projet"].value == inv.project.id
    assert row["Dernière séance"].value.date() == date(2026, 12, 9)
    assert row["Dernière séance"].is_date
    assert row["Quantité"].value == pytest.approx(3.5)
    label = {h: cell for h, cell in zip(head, sheet[4], strict=True)}["Libellé"]
    assert label.value == "=1+2 Flacons"
    assert label.data_type == "s"
    assert sum(r[17].value for r in sheet.iter_rows(min_row=2)) == pytest.approx(519.83)


@pytest.mark.parametrize(("who", "status"), [
    ("company", 403), ("trainer", 403), ("other_coordinator", 403), ("other_company", 404),
    ("other_trainer", 404)])
def test_the_projects_files_are_refused(app, inv, now, who, status) -> None:
    browser = logged_in(app, getattr(inv, who))
    for fmt in ("csv", "xlsx"):
        answer = browser.get(f"/invoicing/projects/{inv.project.id}.{fmt}")
        assert answer.status_code == status
        assert "DEV-2026" not in answer.get_data(as_text=True)


def test_a_project_not_completed_has_no_file(app, db, inv, now) -> None:
    browser = logged_in(app, inv.coordinator)
    assert browser.get(f"/invoicing/projects/{inv.projects.running.id}.csv").status_code == 409
    assert browser.get(f"/invoicing/projects/{inv.projects.issued.id}.csv").status_code == 409


def test_the_period_files(app, inv, now) -> None:
    browser = logged_in(app, inv.coordinator)
    query = f"establishment_id={inv.home.id}&from=2026-12-01&until=2026-12-31"
    rows = _csv(browser.get(f"/invoicing/export.csv?{query}"))
    assert [row[3] for row in rows[1:]] == [str(inv.projects.early.id)] + [
        str(inv.project.id)] * 4
    answer = browser.get(f"/invoicing/export.xlsx?{query}")
    assert answer.status_code == 200
    assert "LYC_2026-12-01_2026-12-31.xlsx" in answer.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.get_data())).active
    assert sheet.max_row == 6
    away = logged_in(app, inv.other_coordinator)
    assert away.get(f"/invoicing/export.csv?{query}").status_code == 403
    assert logged_in(app, inv.company).get(f"/invoicing/export.csv?{query}").status_code == 403
    assert browser.get("/invoicing/export.csv?from=2026-12-01").status_code == 400


# --- pages ------------------------------------------------------------------------------


def test_the_invoicing_page_previews_the_period(app, inv, now) -> None:
    browser = logged_in(app, inv.coordinator)
    html = browser.get("/invoicing/?from=2026-12-01&until=2026-12-31").get_data(as_text=True)
    # A coordinator's own establishment, without choosing it.
    assert 'id="invoicing-lines"' in html
    assert "=1+2 Flacons" in html
    assert "AN-MEL" in html
    assert "619,83" in html  # 100.00 + 519.83 excl. VAT
    assert "18,78" in html  # the main project's attended hours
    assert f"/invoicing/export.csv?establishment_id={inv.home.id}" in html
    # The default period is the previous month (December, on 12 January 2027).
    assert 'id="invoicing-lines"' in browser.get("/invoicing/").get_data(as_text=True)


def test_the_invoicing_page_refuses_another_establishment_and_non_staff(app, inv,
                                                                         now) -> None:
    away = logged_in(app, inv.other_coordinator)
    answer = away.get(f"/invoicing/?establishment_id={inv.home.id}")
    assert answer.status_code == 422
    assert "invoicing-lines" not in answer.get_data(as_text=True)
    for who in ("company", "trainer"):
        assert logged_in(app, getattr(inv, who)).get("/invoicing/").status_code == 403


def test_the_admin_chooses_the_establishment(app, inv, now) -> None:
    browser = logged_in(app, inv.admin)
    assert "invoicing-lines" not in browser.get("/invoicing/").get_data(as_text=True)
    html = browser.get(f"/invoicing/?establishment_id={inv.away.id}&from=2026-12-01"
                       "&until=2026-12-31").get_data(as_text=True)
    assert "Chez l" in html
    assert "Crèmes solaires" not in html


def test_the_project_card(app, db, inv, now) -> None:
    url = f"/projects/{inv.project.id}"
    html = logged_in(app, inv.coordinator).get(url).get_data(as_text=True)
    assert 'id="invoicing-totals"' in html
    assert "519,83" in html
    assert "622,65" in html
    assert f"/invoicing/projects/{inv.project.id}.xlsx" in html
    for who in ("company", "trainer", "other_coordinator"):
        html = logged_in(app, getattr(inv, who)).get(url).get_data(as_text=True)
        assert 'id="invoicing"' not in html
    running = logged_in(app, inv.coordinator).get(f"/projects/{inv.projects.running.id}")
    assert 'id="invoicing-hint"' in running.get_data(as_text=True)


def test_reading_writes_nothing(app, db, inv, now) -> None:
    browser = logged_in(app, inv.coordinator)
    before = fingerprint(db)
    for path in (f"/invoicing/projects/{inv.project.id}.xlsx",
                 f"/invoicing/projects/{inv.projects.running.id}.csv",
                 "/invoicing/?from=2026-12-01&until=2026-12-31"):
        browser.get(path)
    assert fingerprint(db) == before
    assert count(db, Quote) == 8
