"""The campus's evaluation (issue 15, lever 8): its figures on a small world
built here, checked against hand computation; the page, its permissions and
its CSV and XLSX downloads; the statements it sends, flat when the data
doubles; the period's bounds in Europe/Paris."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.evaluation.figures import (
    current_school_year,
    evaluation,
    machine_public,
    sharing_matrix,
)
from booking.services.reports.utilisation import report
from models import (
    AttendanceMark,
    AttendanceSheet,
    Booking,
    BookingPurpose,
    BookingStatus,
    HalfDay,
    Learner,
    LearnerPublic,
    Presence,
    Project,
    ProjectStatus,
    Quote,
    QuoteStatus,
    Respondent,
    Role,
    SatisfactionSurvey,
)
from models.pricing import Public
from models.project import Sector
from tests.conftest import NOW
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
YEAR = (date(2026, 9, 1), date(2027, 9, 1))  # the school year of NOW
_n = itertools.count(1)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def book(make: Any, machine: Any, by: Any, start: datetime, hours: float,
         status: BookingStatus = BookingStatus.CONFIRMED, project: Project | None = None,
         **kw: Any) -> Booking:
    booking = Booking(uid=f"eval-{next(_n)}@t", equipment=machine, start_at=start,
                      end_at=start + timedelta(hours=hours), title="Séance",
                      purpose=BookingPurpose.TRAINING, status=status, booked_by=by,
                      project=project, **kw)
    booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


def project(make: Any, company: Any, sector: Sector, status: ProjectStatus) -> Project:
    row = Project(company=company, title=f"Projet {next(_n)}", learners=3,
                  wanted_from=date(2027, 1, 1), wanted_to=date(2027, 3, 1), status=status,
                  sector=sector)
    make.session.add(row)
    make.session.flush()
    return row


def learner(make: Any, of: Project, public: LearnerPublic, name: str = "Durand",
            erased: bool = False) -> Learner:
    row = Learner(project_id=of.id, first_name="" if erased else "Camille",
                  last_name="" if erased else name, public=public,
                  erased_at=NOW if erased else None)
    make.session.add(row)
    make.session.flush()
    return row


def sheet(make: Any, booking: Booking, day: date, half: HalfDay, hours_cents: int,
          marks: list[tuple[Learner, Presence, int]]) -> AttendanceSheet:
    row = AttendanceSheet(booking_id=booking.id, project_id=booking.project_id, day=day,
                          half_day=half, hours_cents=hours_cents)
    row.marks = [AttendanceMark(learner_id=who.id, presence=presence, minutes_late=late)
                 for who, presence, late in marks]
    make.session.add(row)
    make.session.flush()
    return row


def survey(make: Any, of: Project, respondent: Respondent, answered: datetime | None,
           **ratings: int) -> SatisfactionSurvey:
    row = SatisfactionSurvey(project_id=of.id, respondent=respondent,
                             token_digest=f"{next(_n):064d}", expires_at=NOW + timedelta(days=30),
                             answered_at=answered, **ratings)
    make.session.add(row)
    make.session.flush()
    return row


def quote(make: Any, of: Project, establishment: Any, cents: int,
          status: QuoteStatus = QuoteStatus.ACCEPTED, public: Public = Public.COMPANY,
          decided: datetime | None = None) -> Quote:
    n = next(_n)
    row = Quote(project_id=of.id, establishment_id=establishment.id, public=public,
                status=status, number=f"DEV-2027-{n:04d}", price_date=date(2027, 1, 1),
                total_excl_cents=cents, vat_cents=cents // 5, total_incl_cents=cents * 6 // 5,
                decided_at=decided)
    make.session.add(row)
    make.session.flush()
    return row


@dataclass
class Campus:
    alpha: Any
    beta: Any
    admin: Any
    coord_a: Any
    coord_b: Any
    trainer: Any
    company_user: Any
    project: Project
    learners: list[Learner]


def build(make: Any, *, suffix: str = "") -> Campus:
    """Two establishments, a completed cosmetics project of company C with
    learners of two publics (one erased), two sessions (one on each
    establishment's machine), an accepted quote, answered surveys, an
    inter-establishment booking and an own one, a job seekers' project."""
    alpha = make.establishment(code=f"ALP{suffix}", name=f"Lycée Alpha{suffix}")
    beta = make.establishment(code=f"BET{suffix}", name=f"Lycée Bêta{suffix}")
    ma = make.equipment(establishment=alpha, code=f"MA{suffix}")
    mb = make.equipment(establishment=beta, code=f"MB{suffix}", check_in_required=True)
    admin = make.user(Role.ADMIN)
    coord_a = make.user(Role.COORDINATOR, establishment=alpha)
    coord_b = make.user(Role.COORDINATOR, establishment=beta)
    trainer = make.user(Role.TRAINER, establishment=alpha)
    company_user = make.user(Role.COMPANY)
    p = project(make, company_user.company, Sector.COSMETICS, ProjectStatus.COMPLETED)
    l1 = learner(make, p, LearnerPublic.EMPLOYEE, "Martin")
    l2 = learner(make, p, LearnerPublic.EMPLOYEE, erased=True)
    l3 = learner(make, p, LearnerPublic.JOB_SEEKER, "Bernard")
    # Session 1: Monday 11 January 2027, 08:00–12:00 on Alpha's machine.
    s1 = book(make, ma, coord_a, paris(date(2027, 1, 11), 8), 4, BookingStatus.COMPLETED, p)
    sheet(make, s1, date(2027, 1, 11), HalfDay.MORNING, 400,
          [(l1, Presence.PRESENT, 0), (l2, Presence.LATE, 30), (l3, Presence.ABSENT, 0)])
    # Session 2: Tuesday 2 February 2027, 13:00–17:00 on Bêta's machine.
    s2 = book(make, mb, coord_a, paris(date(2027, 2, 2), 13), 4, BookingStatus.COMPLETED, p)
    sheet(make, s2, date(2027, 2, 2), HalfDay.AFTERNOON, 400,
          [(l1, Presence.PRESENT, 0), (l3, Presence.PRESENT, 0)])
    quote(make, p, alpha, 150_000)
    quote(make, p, alpha, 99_000, status=QuoteStatus.SUPERSEDED)
    # Alpha's coordinator books Bêta's machine (sharing), Bêta's its own (checked in 2 h).
    book(make, mb, coord_a, paris(date(2027, 3, 1), 9), 2)
    book(make, mb, coord_b, paris(date(2027, 3, 2), 10), 3,
         checked_in_at=paris(date(2027, 3, 2), 10, 15),
         checked_out_at=paris(date(2027, 3, 2), 12, 15))
    book(make, mb, coord_b, paris(date(2027, 3, 3), 10), 3, BookingStatus.CANCELLED,
         cancelled_at=NOW)
    # A job seekers' programme: two of three learners job seekers.
    p2 = project(make, company_user.company, Sector.PHARMACEUTICAL, ProjectStatus.APPROVED)
    learner(make, p2, LearnerPublic.JOB_SEEKER)
    learner(make, p2, LearnerPublic.JOB_SEEKER)
    learner(make, p2, LearnerPublic.EMPLOYEE)
    book(make, ma, admin, paris(date(2027, 3, 4), 9), 1, project=p2)
    # Accepted (for job seekers) but the project is not completed: no revenue yet.
    quote(make, p2, beta, 70_000, public=Public.JOB_SEEKERS)
    # An admin (no establishment) books for no project.
    book(make, ma, admin, paris(date(2027, 3, 5), 9), 1)
    survey(make, p, Respondent.CONTACT, paris(date(2027, 2, 10), 9), overall=5, content=4,
           trainer=5)
    survey(make, p, Respondent.LEARNER, paris(date(2027, 2, 11), 9), overall=3, content=2)
    survey(make, p, Respondent.LEARNER, None)  # not answered
    return Campus(alpha, beta, admin, coord_a, coord_b, trainer, company_user, p, [l1, l2, l3])


@pytest.fixture
def campus(make: Any) -> Campus:
    return build(make)


def rows(items: list[Any]) -> dict[str, tuple[int, ...]]:
    return {r.key: tuple(v for k, v in vars(r).items() if k != "key") for r in items}


# --- the figures, by hand ---------------------------------------------------------


def test_training_per_public_establishment_sector_month_and_school_year(db, campus) -> None:
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW)
    a, b = str(campus.alpha.id), str(campus.beta.id)
    # Marks: L1 4 h + L2 4 h − 30 min (session 1); L1 4 h + L3 4 h (session 2).
    assert (f.training_total.learners, f.training_total.hours_cents) == (3, 1550)
    assert rows(f.training["public"]) == {"apprentice": (0, 0), "student": (0, 0),
                                          "employee": (2, 1150), "job_seeker": (1, 400)}
    assert rows(f.training["establishment"]) == {a: (2, 750), b: (2, 800)}
    assert rows(f.training["sector"]) == {"cosmetics": (3, 1550), "pharmaceutical": (0, 0),
                                          "other": (0, 0)}
    months = rows(f.training["month"])
    assert list(months) == [f"{y}-{m:02d}" for y, m in
                            [(2026, 9), (2026, 10), (2026, 11), (2026, 12)]
                            + [(2027, m) for m in range(1, 9)]]
    assert months["2027-01"] == (2, 750)
    assert months["2027-02"] == (2, 800)
    assert sum(h for _n, h in months.values()) == 1550
    assert rows(f.training["school_year"]) == {"2026-2027": (3, 1550)}


def test_machine_hours_per_public_and_their_sum_is_the_reports(db, campus) -> None:
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW + timedelta(days=365))
    # Project sessions 4 h + 4 h (accepted quote: company); Alpha on Bêta's
    # machine 2 h (campus); Bêta on its own 3 h, used 2 h; the job seekers'
    # project 1 h; the admin's own booking 1 h (no establishment).
    assert rows(f.machine_hours) == {
        "own": (300, 200), "campus": (200, 0), "academic": (0, 0), "company": (800, 0),
        "job_seekers": (100, 0), "none": (100, 0)}
    sharing = report(db, first=YEAR[0], last_excluded=YEAR[1], groups=["sharing"])["sharing"]
    assert sum(r.booked_hours for r in sharing) * 100 == sum(
        r.booked_cents for r in f.machine_hours)


def test_revenue_of_completed_projects_per_establishment_and_month(db, campus) -> None:
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW)
    a, b = str(campus.alpha.id), str(campus.beta.id)
    # One accepted quote of a completed project, in the month of its last session.
    assert (f.revenue_total.projects, f.revenue_total.excl_cents) == (1, 150_000)
    assert rows(f.revenue_by_establishment) == {a: (1, 150_000), b: (0, 0)}
    assert rows(f.revenue_by_month)["2027-02"] == (1, 150_000)
    assert sum(r.excl_cents for r in f.revenue_by_month) == 150_000
    (cell,) = f.revenue_cells
    assert (cell.establishment_id, cell.month) == (campus.alpha.id, "2027-02")


def test_satisfaction_counts_averages_and_marks(db, campus) -> None:
    s = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW).satisfaction
    assert s.answered == 2
    assert s.by_respondent == {"contact": 1, "learner": 1}
    assert s.overall == 4.0
    ratings = {r.key: (r.answers, r.average) for r in s.ratings}
    assert ratings["content"] == (2, 3.0)
    assert ratings["trainer"] == (1, 5.0)
    assert ratings["equipment"] == (0, None)
    assert s.overall_marks == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}


def test_sharing_matrix_between_establishments(db, campus) -> None:
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW)
    a, b = campus.alpha.id, campus.beta.id
    assert {(c.booker_establishment_id, c.machine_establishment_id): c.booked_cents
            for c in f.sharing} == {(a, b): 200, (b, b): 300}
    assert f.shared_cents == 200
    assert f.sharing_establishments == [a, b]
    assert sharing_matrix(f) == [(a, [0, 200]), (b, [0, 300])]


def test_one_establishment(db, campus) -> None:
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], establishment_id=campus.beta.id,
                   now=NOW)
    assert (f.training_total.learners, f.training_total.hours_cents) == (2, 800)
    assert f.establishments == [campus.beta.id]
    assert rows(f.machine_hours)["company"] == (400, 0)
    assert rows(f.machine_hours)["campus"] == (200, 0)
    assert f.revenue_total.excl_cents == 0  # Alpha issued the quote
    assert f.satisfaction.answered == 2  # the project had a session on Bêta's machine


def test_an_empty_period_gives_zeros(db, campus) -> None:
    f = evaluation(db, first=date(2030, 9, 1), last_excluded=date(2031, 9, 1))
    assert (f.training_total.learners, f.training_total.hours_cents) == (0, 0)
    assert all(r.learners == 0 and r.hours_cents == 0 for rs in f.training.values() for r in rs)
    assert all(r.booked_cents == 0 for r in f.machine_hours)
    assert f.revenue_total.excl_cents == 0
    assert f.revenue_cells == []
    assert f.satisfaction.answered == 0
    assert f.satisfaction.overall is None
    assert f.sharing == []
    assert f.shared_cents == 0


def test_the_period_is_bounded_in_europe_paris(db, make) -> None:
    site = make.establishment()
    machine = make.equipment(establishment=site)
    coordinator = make.user(Role.COORDINATOR, establishment=site)
    company = make.user(Role.COMPANY).company
    p = project(make, company, Sector.OTHER, ProjectStatus.COMPLETED)
    who = learner(make, p, LearnerPublic.STUDENT)
    # 23:00–23:30 on 31 August in Paris (21:00 UTC): the school year before.
    before = book(make, machine, coordinator, datetime(2026, 8, 31, 21, tzinfo=UTC), 0.5,
                  project=p)
    # 00:30–01:00 on 1 September in Paris (22:30 UTC on 31 August): this one.
    after = book(make, machine, coordinator, datetime(2026, 8, 31, 22, 30, tzinfo=UTC), 0.5,
                 project=p)
    sheet(make, before, date(2026, 8, 31), HalfDay.AFTERNOON, 300,
          [(who, Presence.PRESENT, 0)])
    sheet(make, after, date(2026, 9, 1), HalfDay.MORNING, 200, [(who, Presence.PRESENT, 0)])
    survey(make, p, Respondent.LEARNER, datetime(2026, 8, 31, 21, 30, tzinfo=UTC), overall=1,
           learner_id=who.id)
    survey(make, p, Respondent.CONTACT, datetime(2026, 8, 31, 22, 30, tzinfo=UTC), overall=4)
    f = evaluation(db, first=YEAR[0], last_excluded=YEAR[1])
    assert f.training_total.hours_cents == 200
    assert rows(f.machine_hours)["company"] == (50, 0)
    assert f.satisfaction.answered == 1
    assert f.satisfaction.overall == 4.0
    assert rows(f.training["month"])["2026-09"] == (1, 200)


def test_the_default_period_is_the_current_school_year() -> None:
    assert current_school_year(NOW) == YEAR
    assert current_school_year(datetime(2027, 8, 31, 21, 59, tzinfo=UTC)) == YEAR
    assert current_school_year(datetime(2027, 8, 31, 22, 0, tzinfo=UTC)) == (
        date(2027, 9, 1), date(2028, 9, 1))


def test_the_public_of_a_booking() -> None:
    base = {"learners": 0, "job_seekers": 0, "booker_company": None,
            "machine_establishment": 1}
    assert machine_public(project_id=1, quote_public="academic", booker_establishment=1,
                          **base) == "academic"
    assert machine_public(project_id=1, quote_public=None, booker_establishment=1,
                          **{**base, "learners": 4, "job_seekers": 2}) == "company"
    assert machine_public(project_id=1, quote_public=None, booker_establishment=1,
                          **{**base, "learners": 3, "job_seekers": 2}) == "job_seekers"
    assert machine_public(project_id=None, quote_public=None, booker_establishment=None,
                          **{**base, "booker_company": 7}) == "company"
    assert machine_public(project_id=None, quote_public=None, booker_establishment=1,
                          **base) == "own"
    assert machine_public(project_id=None, quote_public=None, booker_establishment=2,
                          **base) == "campus"
    assert machine_public(project_id=None, quote_public=None, booker_establishment=None,
                          **base) == "none"


def test_the_statements_do_not_grow_with_the_data(db, make) -> None:
    build(make, suffix="1")
    with count_statements(db) as few:
        evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW)
    build(make, suffix="2")
    build(make, suffix="3")
    with count_statements(db) as many:
        bigger = evaluation(db, first=YEAR[0], last_excluded=YEAR[1], now=NOW)
    assert bigger.training_total.learners == 9
    assert len(few) == len(many), f"{len(few)} then {len(many)} statements\n{many}"
    assert len(many) <= 6


# --- the page, the downloads, who may read them -----------------------------------


@pytest.mark.parametrize("role", ["admin", "coord_a", "coord_b"])
def test_staff_read_the_whole_campus(client, login, campus, role) -> None:
    login(getattr(campus, role))
    page = client.get("/evaluation/?from=2026-09-01&until=2027-08-31")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Évaluation" in html
    assert "Lycée Alpha" in html
    assert "Lycée Bêta" in html
    assert "Demandeur d’emploi" in html or "Demandeur d'emploi" in html
    assert "Cosmétique" in html
    assert "janvier 2027" in html
    assert "1\u202f500,00\xa0€" in html  # the revenue, |money
    assert "15,5" in html  # the training hours, |quantity
    # No learner is ever named.
    for name in ("Martin", "Bernard", "Camille"):
        assert name not in html
    assert 'href="/evaluation/"' in html  # the menu's link


@pytest.mark.parametrize("role", ["trainer", "company_user"])
def test_trainers_and_companies_are_refused(client, login, campus, role) -> None:
    login(getattr(campus, role))
    for url in ("/evaluation/", "/evaluation/export.csv", "/evaluation/export.xlsx"):
        assert client.get(url).status_code == 403, url
    assert 'href="/evaluation/"' not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client) -> None:
    response = client.get("/evaluation/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_the_default_page_shows_the_current_school_year(client, login, campus,
                                                        monkeypatch) -> None:
    login(campus.admin)
    html = client.get("/evaluation/").get_data(as_text=True)
    assert "1 septembre 2026" in html or "1er septembre 2026" in html
    assert "31 août 2027" in html


def test_a_wrong_period_is_a_400_with_the_error_by_its_field(client, login, campus) -> None:
    login(campus.admin)
    response = client.get("/evaluation/?from=2027-05-01&until=2027-01-01")
    assert response.status_code == 400
    assert "doit" in response.get_data(as_text=True)
    assert client.get("/evaluation/export.csv?from=2027-05-01&until=2027-01-01"
                      ).status_code == 400


def test_csv_export_reads_back(client, login, campus) -> None:
    login(campus.coord_a)
    response = client.get("/evaluation/export.csv?from=2026-09-01&until=2027-08-31")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    body = response.data
    assert body.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Bloc", "Dimension", "Élément", "Mesure", "Valeur"]
    found = {(r[0], r[1], r[2], r[3]): r[4] for r in lines[1:]}
    assert found[("Formation", "Public", "Salarié", "Heures de formation")] == "11,50"
    assert found[("Formation", "Public", "Salarié", "Apprenants formés")] == "2"
    assert found[("Chiffre d’affaires", "Établissement", "ALP — Lycée Alpha",
                  "Montant HT (€)")] == "1500,00"
    assert found[("Satisfaction", "Note", "Note globale", "Moyenne")] == "4,00"
    assert found[("Partage", "ALP — Lycée Alpha", "BET — Lycée Bêta",
                  "Heures réservées")] == "2,00"
    assert found[("Heures machine", "Public tarifaire", "Entreprise", "Heures réservées")
                 ] == "8,00"


def test_xlsx_export_reads_back_with_numbers(client, login, campus) -> None:
    from openpyxl import load_workbook

    login(campus.admin)
    response = client.get("/evaluation/export.xlsx?from=2026-09-01&until=2027-08-31")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) >= 5
    training = book[book.sheetnames[0]]
    values = [[c.value for c in row] for row in training.iter_rows()]
    employee = next(r for r in values if "Salarié" in r)
    assert employee == ["Public", "Salarié", 2, 11.5]
    revenue = next(book[n] for n in book.sheetnames if "affaires" in n)
    amounts = [c.value for row in revenue.iter_rows(min_row=2) for c in row
               if isinstance(c.value, int | float)]
    assert 1500 in amounts


def test_a_formula_in_an_establishment_name_stays_text(client, login, db, make) -> None:
    site = make.establishment(code="=SUM(9)", name="Lycée")
    machine = make.equipment(establishment=site)
    coordinator = make.user(Role.COORDINATOR, establishment=site)
    book(make, machine, coordinator, paris(date(2027, 1, 13), 9), 1)
    login(make.user(Role.ADMIN))
    body = client.get("/evaluation/export.csv?from=2026-09-01&until=2027-08-31"
                      ).data.decode("utf-8-sig")
    assert ";'=SUM(9) — Lycée;" in body
    assert ";=SUM" not in body


def test_a_school_year_from_the_list(client, login, campus) -> None:
    login(campus.admin)
    html = client.get("/evaluation/?year=2025").get_data(as_text=True)
    assert "1 septembre 2025" in html or "1er septembre 2025" in html
    assert 'id="learners-trained">0<' in html
    html = client.get("/evaluation/?year=2026").get_data(as_text=True)
    assert 'id="learners-trained">3<' in html
    assert '<option selected value="2026">' in html or 'value="2026" selected' in html
    assert client.get("/evaluation/?year=1990").status_code == 400


def test_one_establishment_on_the_page_and_an_unknown_one(client, login, campus) -> None:
    login(campus.coord_a)
    html = client.get(f"/evaluation/?year=2026&establishment_id={campus.beta.id}"
                      ).get_data(as_text=True)
    assert 'id="learners-trained">2<' in html
    assert client.get("/evaluation/?establishment_id=999999").status_code == 400
    assert client.get("/evaluation/export.csv?establishment_id=999999").status_code == 404


def test_the_page_and_workbook_send_as_many_statements_for_more_data(client, login, db,
                                                                     make) -> None:
    admin = make.user(Role.ADMIN)
    build(make, suffix="1")
    login(admin)
    counts = []
    for more in (0, 2):
        for n in range(more):
            build(make, suffix=f"x{n}")
        with count_statements(db) as page:
            assert client.get("/evaluation/?year=2026").status_code == 200
        with count_statements(db) as workbook:
            assert client.get("/evaluation/export.xlsx?year=2026").status_code == 200
        counts.append((len(page), len(workbook)))
    assert counts[0] == counts[1], counts


def test_csv_with_commas_takes_decimal_points(client, login, campus) -> None:
    login(campus.admin)
    body = client.get("/evaluation/export.csv?year=2026&sep=,").data.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0] == ["Bloc", "Dimension", "Élément", "Mesure", "Valeur"]
    assert ["Formation", "Public", "Salarié", "Heures de formation", "11.50"] in lines
    assert client.get("/evaluation/export.csv?sep=|").status_code == 400
