"""Query budgets: the approval queue, a project's page, the site calendar and
the certification watch load what they show in a number of statements that
does not grow with the rows shown.

Each test counts the statements of the page (or job) with 2 rows, adds 18
more, and counts again: the two counts must be equal. The rows vary on
purpose (lines and components, missing and expired certifications, closures,
machines in maintenance, projects) so that every branch that could load per
row is taken.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.certifications.watch import flag_uncertified_bookings, warn_expiring
from models import (
    AgreementStatus,
    AttendanceMark,
    AttendanceSheet,
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Establishment,
    HalfDay,
    Learner,
    LearnerPublic,
    OutboxMessage,
    Presence,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    QuoteLine,
    QuoteStatus,
    Respondent,
    Role,
    SatisfactionSurvey,
    TrainingAgreement,
    User,
)
from tests.conftest import NOW
from tests.query_count import Statements, count_statements

PARIS = ZoneInfo("Europe/Paris")
FEW, MANY = 2, 20
_uids = itertools.count(1)


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


def assert_flat(what: str, few: Statements, many: Statements) -> None:
    counts = (len(few), len(many))
    assert counts[1] == counts[0], (
        f"{what}: {counts[0]} statements for {FEW} rows, {counts[1]} for {MANY}"
        f"\n--- {FEW} rows ---\n{few}\n--- {MANY} rows ---\n{many}")


def add_booking(make: Any, machine: Equipment, *, start: datetime, booked_by: User,
                trainer: User | None, status: BookingStatus = BookingStatus.CONFIRMED,
                project: Project | None = None, **kw: Any) -> Booking:
    booking = Booking(uid=f"budget-{next(_uids)}@test", equipment=machine, start_at=start,
                      end_at=start + timedelta(hours=2), title=f"Séance {next(_uids)}",
                      purpose=BookingPurpose.TRAINING, status=status, booked_by=booked_by,
                      trainer=trainer, project=project, **kw)
    booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


def line_with_component(make: Any, site: Establishment, **component: Any) -> tuple[
        Equipment, Equipment]:
    line = make.equipment(establishment=site, category=EquipmentCategory.PILOT_LINE)
    return line, make.equipment(establishment=site, parent=line, **component)


def test_the_counter_sees_the_tests_and_the_requests_statements(client, db, make,
                                                                login) -> None:
    trainer = make.user(Role.TRAINER)
    client = login(trainer)
    with count_statements(db) as idle:
        pass
    with count_statements(db) as seen:
        db.get(User, trainer.id, populate_existing=True)
        page = client.get("/sites")
    assert page.status_code == 200
    assert len(idle) == 0
    # The test's own SELECT, then at least the page's user and establishments.
    assert len(seen) >= 3, str(seen)
    assert "user_account" in seen.sql[0]
    assert seen.touching("establishment"), str(seen)


# --- the approval queue -------------------------------------------------------------------


def test_the_approval_queue_does_not_load_per_pending_booking(client, db, make, login,
                                                              now) -> None:
    site = make.establishment()
    coordinator = make.user(Role.COORDINATOR, establishment=site, locale="en")
    gmp = make.certification_type(code="GMP")
    line_op = make.certification_type(code="LINE")
    company = make.user(Role.COMPANY)
    fire_drill = (paris(date(2027, 1, 19), 10), paris(date(2027, 1, 19), 11))
    db.add(Closure(establishment_id=site.id, start_at=fire_drill[0], end_at=fire_drill[1],
                   reason="Alarme incendie", kind=ClosureKind.OTHER))
    # The badges each row's review must show, counted as the rows are added.
    expected: Counter[str] = Counter()
    added = 0

    def add(n: int) -> None:
        nonlocal added
        for _ in range(n):
            kind, added = added % 4, added + 1
            start = paris(date(2027, 1, 18) + timedelta(days=added % 5), 9)
            trainer = make.user(Role.TRAINER, establishment=make.establishment())
            project = None
            if kind == 0:  # certified for the machine
                machine = make.equipment(establishment=site, required_certification_types=[gmp])
                make.certification(trainer, gmp)
                expected['badge-confirmed">Trainer certified'] += 1
            elif kind == 1:  # a line whose component needs a type the trainer let expire
                machine, _component = line_with_component(
                    make, site, required_certification_types=[line_op])
                make.certification(trainer, line_op, valid_until=date(2027, 1, 1))
                expected['badge-rejected">Not certified'] += 1
            elif kind == 2:  # a component whose line is closed that morning
                line, machine = line_with_component(make, site)
                db.add(Closure(equipment_id=line.id, start_at=start,
                               end_at=start + timedelta(hours=1), reason="Réglage",
                               kind=ClosureKind.MAINTENANCE))
                expected['badge-confirmed">No certification required'] += 1
                expected['badge-warning">Closed'] += 1
            else:  # a project's session on a machine under maintenance, no trainer named
                machine = make.equipment(establishment=site, status=EquipmentStatus.MAINTENANCE,
                                         required_certification_types=[gmp])
                project = Project(company_id=company.company_id, title="Projet", learners=3,
                                  wanted_from=date(2027, 1, 1), wanted_to=date(2027, 2, 1),
                                  status=ProjectStatus.SCHEDULED)
                trainer = None
                expected['badge-warning">No trainer named'] += 1
                expected['badge-warning">In maintenance'] += 1
            if start < fire_drill[1] and fire_drill[0] < start + timedelta(hours=2):
                expected['badge-warning">Closed'] += 1
            add_booking(make, machine, start=start, booked_by=company if project else trainer,
                        trainer=trainer, project=project, status=BookingStatus.PENDING,
                        decision_deadline=NOW + timedelta(hours=added))

    client = login(coordinator)
    counts = []
    for n in (FEW, MANY - FEW):
        add(n)
        with count_statements(db) as statements:
            page = client.get("/coordination/approvals")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert html.count("data-booking=") == added
        # Each review shows what concerns its own booking, and only that.
        assert {badge: html.count(badge) for badge in expected} == expected
        assert html.count("Réglage") == expected['badge-confirmed">No certification required']
        counts.append(statements)
    assert_flat("GET /coordination/approvals", *counts)


# --- a project's page ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [ProjectStatus.REQUESTED, ProjectStatus.SCHEDULED])
def test_a_projects_page_does_not_load_per_trainer_machine_or_session(
        client, db, make, login, now, status) -> None:
    site = make.establishment()
    admin = make.user(Role.ADMIN, locale="en")
    company = make.user(Role.COMPANY)
    gmp = make.certification_type(code="GMP")
    line_op = make.certification_type(code="LINE")
    lead = make.user(Role.TRAINER, establishment=site)
    for ctype in (gmp, line_op):
        make.certification(lead, ctype)
    project = Project(company_id=company.company_id, requested_by_id=company.id,
                      title="Conditionnement", learners=12, wanted_from=date(2027, 3, 1),
                      wanted_to=date(2027, 4, 30), status=status,
                      trainer_id=None if status is ProjectStatus.REQUESTED else lead.id)
    db.add(project)
    db.flush()
    added = 0

    def add(n: int) -> None:
        nonlocal added
        for _ in range(n):
            kind, added = added % 3, added + 1
            # A trainer: certified, lacking one type (expired), or with none.
            trainer = make.user(Role.TRAINER, name=f"Formateur {added:02d}",
                                establishment=make.establishment() if kind else None)
            if kind != 2:
                make.certification(trainer, gmp)
                make.certification(trainer, line_op,
                                   valid_until=date(2027, 12, 31) if kind == 0
                                   else date(2027, 3, 15))
            # A wanted machine: a line whose component needs a type, or a machine.
            if kind == 1:
                machine, _component = line_with_component(
                    make, site, required_certification_types=[line_op])
            else:
                machine = make.equipment(establishment=site, required_certification_types=[gmp])
            project.equipment.append(machine)
            # A session on it, run by one of the trainers.
            add_booking(make, machine, start=paris(date(2027, 3, 1), 9) + timedelta(days=added),
                        booked_by=lead, trainer=trainer if kind == 0 else lead, project=project)

    client = login(admin)
    counts = []
    for n in (FEW, MANY - FEW):
        add(n)
        with count_statements(db) as statements:
            page = client.get(f"/projects/{project.id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert html.count("data-booking=") == added
        if status is ProjectStatus.REQUESTED:
            certified = 1 + (added + 2) // 3  # the lead and the trainers of kind 0
            # The approval form's trainers (the learners' form has options of its own).
            trainers = html.split('<select', 1)[1].split("</select>", 1)[0]
            assert 'id="trainer"' in trainers
            assert trainers.count("<option") == certified
            assert html.count("<li><span><strong>Formateur") == added + 1 - certified
        counts.append(statements)
    assert_flat(f"GET /projects/<id> ({status.value})", *counts)


# --- the site calendar --------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
@pytest.mark.parametrize("view", ["day", "week"])
def test_the_site_calendar_does_not_load_per_machine_or_booking(client, db, make, login,
                                                                now, view, role) -> None:
    site = make.establishment()
    wednesday = date(2027, 1, 13)
    viewer = make.user(role, locale="en")
    other_company = make.user(Role.COMPANY)
    added = 0

    def add(n: int) -> None:
        nonlocal added
        for _ in range(n):
            kind, added = added % 4, added + 1
            trainer = make.user(Role.TRAINER, establishment=site)
            start = paris(wednesday, 9 + added % 6)
            if kind == 0:  # a line and its component, each booked
                line, component = line_with_component(make, site, changeover_minutes=30)
                add_booking(make, line, start=start, booked_by=trainer, trainer=trainer)
                add_booking(make, component, start=start + timedelta(days=1),
                            booked_by=trainer, trainer=trainer)
            elif kind == 1:  # another company's project session
                machine = make.equipment(establishment=site)
                project = Project(company_id=other_company.company_id, title="Projet",
                                  learners=3, wanted_from=wednesday, wanted_to=wednesday,
                                  status=ProjectStatus.SCHEDULED)
                add_booking(make, machine, start=start, booked_by=other_company,
                            trainer=trainer, project=project)
            elif kind == 2:  # a closed machine with a pending booking
                machine = make.equipment(establishment=site)
                db.add(Closure(equipment_id=machine.id, start_at=paris(wednesday, 16),
                               end_at=paris(wednesday, 17), reason="Étalonnage",
                               kind=ClosureKind.MAINTENANCE))
                add_booking(make, machine, start=start, booked_by=trainer, trainer=trainer,
                            status=BookingStatus.PENDING)
            else:  # a machine under maintenance, booked by the viewer
                machine = make.equipment(establishment=site, status=EquipmentStatus.MAINTENANCE)
                # Without a trainer: the viewer's many bookings at these hours would
                # put one trainer in two places (the trainer guard, issue 13).
                add_booking(make, machine, start=start, booked_by=viewer, trainer=None)
        db.flush()

    client = login(viewer)
    counts = []
    for n in (FEW, MANY - FEW):
        add(n)
        with count_statements(db) as statements:
            page = client.get(f"/sites/{site.id}?view={view}&date={wednesday.isoformat()}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        machines = added + (added + 3) // 4  # each line comes with a component
        header = 1 if view == "week" else 0  # the week table's column header
        assert html.count('class="site-machine') == machines + header
        assert html.count("Étalonnage") >= (added + 1) // 4
        counts.append(statements)
    assert_flat(f"GET /sites/<id>?view={view} as {role.value}", *counts)


# --- the certification watch --------------------------------------------------------------


@pytest.fixture
def _app_context(app):
    with app.app_context():
        yield


def _outside_the_outbox(statements: Statements) -> Statements:
    """Queueing a message is the outbox's work, one check and one insert per
    message; the budget is about what the job reads to decide."""
    queued = set(statements.touching("outbox_message"))
    return Statements([s for s in statements.sql if s not in queued])


def _watch(db: Any, job: Callable[..., Any], add: Callable[[int], None]) -> list[
        tuple[Statements, Any]]:
    runs = []
    for n in (FEW, MANY - FEW):
        add(n)
        db.expire_all()  # as in the job's own session: nothing loaded beforehand
        with count_statements(db) as statements:
            result = job(db, now=NOW)
        runs.append((statements, result))
    return runs


@pytest.mark.usefixtures("_app_context")
def test_expiry_warnings_load_the_coordinators_once(db, make) -> None:
    ctype = make.certification_type()

    def add(n: int) -> None:
        for i in range(n):
            site = make.establishment()  # each holder from another establishment
            make.user(Role.COORDINATOR, establishment=site)
            make.user(Role.COORDINATOR, establishment=site, active=False)
            holder = make.user(Role.TRAINER, establishment=site)
            make.certification(holder, ctype, valid_until=NOW.date() + timedelta(days=5 + i))

    (few, queued_few), (many, queued_many) = _watch(db, warn_expiring, add)
    # The holder and the active coordinator of each new certification.
    assert (queued_few, queued_many) == (2 * FEW, 2 * (MANY - FEW))
    assert_flat("warn_expiring (outbox statements aside)", _outside_the_outbox(few),
                _outside_the_outbox(many))


@pytest.mark.usefixtures("_app_context")
def test_the_booking_flag_loads_the_coordinators_once(db, make) -> None:
    ctype = make.certification_type()
    coordinators: list[User] = []

    def add(n: int) -> None:
        for _ in range(n):
            site = make.establishment()
            coordinators.append(make.user(Role.COORDINATOR, establishment=site))
            trainer = make.user(Role.TRAINER, establishment=site)
            make.certification(trainer, ctype, valid_until=date(2027, 2, 28))
            line, _component = line_with_component(make, site,
                                                   required_certification_types=[ctype])
            add_booking(make, line, start=datetime(2027, 3, 2, 8, tzinfo=UTC),
                        booked_by=trainer, trainer=trainer)

    (few, flagged_few), (many, flagged_many) = _watch(db, flag_uncertified_bookings, add)
    assert (flagged_few, flagged_many) == ((FEW, 0), (MANY - FEW, 0))
    # Each flag told its own establishment's coordinator, once.
    assert sorted(db.scalars(select(OutboxMessage.to_addr))) == sorted(
        c.email for c in coordinators)
    assert_flat("flag_uncertified_bookings (outbox statements aside)",
                _outside_the_outbox(few), _outside_the_outbox(many))


# --- a completed project's paperwork ------------------------------------------------------

# At most this many statements for a completed project's page with its five paperwork
# cards (quotes, agreement, attendance, satisfaction, invoicing: templates/projects/
# _paperwork.html), whatever the number of its sessions, sheets, marks, learners and
# questionnaires, savepoints included. Each reader sees other cards: a trainer, neither
# the quotes' prices, the agreement, the answers nor the invoice lines.
PAPERWORK_BUDGET = {"admin": 32, "coordinator": 32, "company": 18, "trainer": 15}


@pytest.mark.parametrize("reader", ["admin", "coordinator", "company", "trainer"])
def test_a_completed_projects_paperwork_does_not_load_per_session_or_learner(
        client, db, make, login, now, reader) -> None:
    site = make.establishment()
    firm = make.company(name="Laboratoire Rose")
    contact = make.user(Role.COMPANY, company=firm, locale="en")
    lead = make.user(Role.TRAINER, establishment=site, locale="en")
    people = {"admin": make.user(Role.ADMIN, locale="en"),
              "coordinator": make.user(Role.COORDINATOR, establishment=site, locale="en"),
              "company": contact, "trainer": lead}
    mixer = make.equipment(establishment=site, name="Mélangeur")
    project = Project(company=firm, requested_by=contact, title="Crèmes solaires", learners=4,
                      wanted_from=date(2027, 3, 1), wanted_to=date(2027, 6, 30),
                      status=ProjectStatus.COMPLETED, trainer=lead, equipment=[mixer])
    db.add(project)
    db.flush()
    quote = Quote(project_id=project.id, establishment_id=site.id, public=Public.COMPANY,
                  status=QuoteStatus.ACCEPTED, number="DEV-2027-0042", version=2,
                  price_date=date(2027, 2, 1), total_excl_cents=120000, vat_cents=24000,
                  total_incl_cents=144000, issued_at=NOW)
    quote.lines = [
        QuoteLine(position=1, kind=PriceKind.TRAINER_HOUR, label="Formateur", unit="h",
                  quantity_cents=1400, unit_price_cents=6000, vat_rate_bp=2000),
        QuoteLine(position=2, kind=PriceKind.MACHINE_HOUR, equipment_id=mixer.id,
                  label="Mélangeur", unit="h", quantity_cents=1000, unit_price_cents=3600,
                  vat_rate_bp=2000)]
    db.add_all([quote, Quote(project_id=project.id, establishment_id=site.id,
                             public=Public.COMPANY, status=QuoteStatus.SUPERSEDED,
                             number="DEV-2027-0042", price_date=date(2027, 1, 15),
                             issued_at=NOW)])
    db.flush()
    db.add(TrainingAgreement(
        project_id=project.id, quote_id=quote.id, establishment_id=site.id,
        status=AgreementStatus.SIGNED, company_name=firm.name, title=project.title,
        starts_on=date(2027, 3, 1), ends_on=date(2027, 6, 30), duration_hours_cents=1400,
        learners=4, total_excl_cents=120000, vat_cents=24000, total_incl_cents=144000,
        generated_at=NOW, stored_name=f"signed-{project.id}.pdf", filename="signée.pdf",
        content_type="application/pdf", size_bytes=1000, signed_recorded_at=NOW))
    learners: list[Learner] = []
    sessions = 0
    # The marks a learner gets, in turn; one erased learner and one without e-mail per batch.
    presences = itertools.cycle([(Presence.PRESENT, 0), (Presence.LATE, 15),
                                 (Presence.ABSENT, 0)])

    def add(n: int) -> None:
        nonlocal sessions
        batch = [Learner(project_id=project.id, first_name=f"Prénom{len(learners) + i:02d}",
                         last_name=f"Nom{len(learners) + i:02d}",
                         email=None if i == 1 else f"a{len(learners) + i}@example.org",
                         public=LearnerPublic.EMPLOYEE if i % 2 else LearnerPublic.APPRENTICE,
                         erased_at=NOW if i == 2 else None) for i in range(n)]
        db.add_all(batch)
        db.flush()
        learners.extend(batch)
        for i, learner in enumerate(batch):
            if i % 2 == 0 and learner.email:  # surveyed, and half of those answered
                db.add(SatisfactionSurvey(
                    project_id=project.id, respondent=Respondent.LEARNER,
                    learner_id=learner.id, email=learner.email,
                    token_digest=f"{project.id}-{learner.id}".ljust(64, "0"), sent_at=NOW,
                    expires_at=NOW + timedelta(days=30),
                    **({"answered_at": NOW, "overall": 4, "content": 5, "trainer": 3,
                        "would_recommend": True, "comment": f"Très bien {learner.id}"}
                       if i % 4 == 0 else {})))
        for _ in range(n):
            sessions += 1
            day = date(2027, 3, 1) + timedelta(days=sessions)
            booking = add_booking(make, mixer, start=paris(day, 9), booked_by=lead,
                                  trainer=lead if sessions % 2 else None, project=project,
                                  status=BookingStatus.COMPLETED)
            booking.end_at = paris(day, 17)
            for half, countersigned in ((HalfDay.MORNING, True), (HalfDay.AFTERNOON, False)):
                sheet = AttendanceSheet(
                    booking_id=booking.id, project_id=project.id, day=day, half_day=half,
                    hours_cents=350, trainer_signed_at=NOW, trainer_signed_by_id=lead.id,
                    trainer_signature="M 1 1 L 2 2",
                    company_signed_at=NOW if countersigned else None,
                    company_signed_by_id=contact.id if countersigned else None)
                sheet.marks = [AttendanceMark(learner_id=learner.id, presence=presence,
                                              minutes_late=late)
                               for learner, (presence, late)
                               in zip(learners, presences, strict=False)]
                db.add(sheet)
        db.flush()

    db.add(SatisfactionSurvey(project_id=project.id, respondent=Respondent.CONTACT,
                              email=contact.email, token_digest="c".ljust(64, "0"),
                              sent_at=NOW, expires_at=NOW + timedelta(days=30),
                              answered_at=NOW, overall=5, would_recommend=True,
                              comment="Parfait"))
    client = login(people[reader])
    counts = []
    for n in (FEW, MANY - FEW):
        add(n)
        with count_statements(db) as statements:
            page = client.get(f"/projects/{project.id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        # What the cards show grows with the rows: all of them are there.
        assert html.count('id="attendance-session-') == sessions
        assert html.count('<tr id="learner-') == len(learners)
        sheets = html.count("/attendance/sheets/")
        if reader == "company":  # each session's afternoon waits for the countersignature
            assert 'id="to-countersign"' in html
            assert sheets == 2 * sessions + sessions
        else:
            assert 'id="to-countersign"' not in html
            assert sheets == 2 * sessions
        staff = reader in ("admin", "coordinator")
        assert ('id="invoicing-totals"' in html) is staff
        assert ('id="agreement"' in html) is (reader != "trainer")
        assert ('id="satisfaction-answered"' in html) is (reader != "trainer")
        assert (html.count("DEV-2027-0042") >= 1) is (reader != "trainer")
        counts.append(statements)
    assert_flat(f"GET /projects/<id> (completed, as {reader})", *counts)
    assert len(counts[0]) <= PAPERWORK_BUDGET[reader], str(counts[0])
