"""The people and objects the attendance tests share: company A's project
(trainer ``trainer``), its confirmed session on Thursday 14 January 2027
09:00–17:00 (two half-days), two learners; company B's account; another
trainer; a coordinator of the machine's establishment."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from booking.services.attendance import learners as learner_ops
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import AgreementWaiver, BookingPurpose, BookingStatus, Project, ProjectStatus, Role
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2027, 1, 14, 9, tzinfo=PARIS)
END = datetime(2027, 1, 14, 17, tzinfo=PARIS)
# During the morning's half-day and the afternoon's.
MORNING = datetime(2027, 1, 14, 10, tzinfo=PARIS)
AFTERNOON = datetime(2027, 1, 14, 15, tzinfo=PARIS)
PATH = "M 10 20 L 30 40 L 50 60"


def attendance_world(make: Any, db: Any) -> SimpleNamespace:
    home = make.establishment(code="LYC", name="Lycée du Parc")
    eq = make.equipment(establishment=home, name="Mélangeur")
    company_a, company_b = make.company(name="Laboratoire A"), make.company(name="Société B")
    w = SimpleNamespace(
        home=home, eq=eq,
        trainer=make.user(Role.TRAINER, establishment=home, name="Alice Martin"),
        other_trainer=make.user(Role.TRAINER, establishment=home, name="Bruno Petit"),
        coordinator=make.user(Role.COORDINATOR, establishment=home, name="Claire Roux"),
        admin=make.user(Role.ADMIN),
        company=make.user(Role.COMPANY, company=company_a, name="Denise Laborde"),
        colleague=make.user(Role.COMPANY, company=company_a, name="Émile Laborde"),
        other_company=make.user(Role.COMPANY, company=company_b, name="Fanny Blanc"))
    w.project = Project(company=company_a, requested_by=w.company, title="Crèmes solaires",
                        learners=2, wanted_from=date(2027, 1, 1), wanted_to=date(2027, 6, 30),
                        status=ProjectStatus.SCHEDULED, trainer=w.trainer, equipment=[eq])
    db.add(w.project)
    db.flush()
    # The agreement's gate (agreements.gate): no agreement for this one.
    db.add(AgreementWaiver(project_id=w.project.id, waived_by_id=w.coordinator.id,
                           waived_at=NOW, reason="Action interne"))
    db.flush()
    w.booking = session_of(make, db, w, START, END)
    with make.app.app_context():
        w.jeanne = learner_ops.add_learner(db, actor=w.company, project=w.project, now=NOW,
                                           first_name="Jeanne", last_name="Dupuis",
                                           public="employee", email="jeanne@example.org")
        w.karim = learner_ops.add_learner(db, actor=w.company, project=w.project, now=NOW,
                                          first_name="Karim", last_name="Benali",
                                          public="apprentice")
    return w


def session_of(make: Any, db: Any, w: SimpleNamespace, start: datetime, end: datetime,
               trainer: Any = None) -> Any:
    with make.app.app_context():
        booking = create_booking(db, actor=w.coordinator, now=NOW, policy=Policy(),
                                 notify=False, request=BookingRequest(
                                     w.eq.id, start, end, "Émulsion",
                                     BookingPurpose.INDUSTRIAL_PROJECT,
                                     project_id=w.project.id,
                                     trainer_id=(trainer or w.trainer).id))
    assert booking.status is BookingStatus.CONFIRMED
    return booking


def later(at: datetime, **delta: float) -> datetime:
    return at + timedelta(**delta)
