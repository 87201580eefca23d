"""Quotas on shared machines (issue 13, part 4): which quotas hold a booking,
what they count, their periods in Paris time, and the verdict (refused,
sent for approval, or passed by a coordinator of the owner and audited)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select

from booking.services.bookings.operations import BookingRequest, create_booking, move_booking
from booking.services.errors import Forbidden, NotFound, QuotaExceeded, ValidationError
from booking.services.policy import Policy
from booking.services.sharing import quota_admin
from booking.services.sharing.quota_periods import Window, format_hours
from booking.services.sharing.quotas import check_quotas, quota_use
from models import (
    AuditEntry,
    Booking,
    BookingStatus,
    EquipmentCategory,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    Role,
)
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
LINE = EquipmentCategory.PILOT_LINE


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def c(make: Any) -> SimpleNamespace:
    """The Lycée owns two lines and a mixer; the IUT and the École share them."""
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    iut = make.establishment(code="IUT", name="IUT de Tours")
    ecole = make.establishment(code="ECO", name="École des Mines")
    return SimpleNamespace(
        owner=owner, iut=iut, ecole=ecole,
        line_a=make.equipment(establishment=owner, name="Ligne A", category=LINE),
        line_b=make.equipment(establishment=owner, name="Ligne B", category=LINE),
        mixer=make.equipment(establishment=owner, name="Mélangeur",
                             category=EquipmentCategory.TRAINING_EQUIPMENT),
        elsewhere=make.equipment(establishment=iut, name="Ligne de l’IUT", category=LINE),
        coordinator=make.user(Role.COORDINATOR, establishment=owner),
        other_coordinator=make.user(Role.COORDINATOR, establishment=iut),
        admin=make.user(Role.ADMIN),
        home_trainer=make.user(Role.TRAINER, establishment=owner),
        iut_trainer=make.user(Role.TRAINER, establishment=iut, name="Irène IUT"),
        iut_colleague=make.user(Role.TRAINER, establishment=iut),
        ecole_trainer=make.user(Role.TRAINER, establishment=ecole),
        company=make.user(Role.COMPANY),
    )


def quota(db: Any, c: SimpleNamespace, *, equipment: Any = None, category: Any = None,
          applies_to: QuotaAppliesTo = QuotaAppliesTo.ESTABLISHMENT,
          period: QuotaPeriod = QuotaPeriod.MONTH, hours: float | None = None,
          bookings: int | None = None, over: QuotaOver = QuotaOver.REFUSE,
          beneficiary: Any = None) -> Quota:
    row = Quota(establishment_id=c.owner.id, applies_to=applies_to, period=period,
                equipment_id=equipment.id if equipment is not None else None,
                category=category if equipment is None else None,
                beneficiary_establishment_id=beneficiary.id if beneficiary else None,
                max_minutes=None if hours is None else round(hours * 60),
                max_future_bookings=bookings, over=over, created_at=NOW, updated_at=NOW)
    db.add(row)
    db.flush()
    return row


def book(app: Flask, db: Any, user: Any, machine: Any, start: datetime, hours: float = 2,
         now: datetime = NOW) -> Booking:
    with app.app_context():
        return create_booking(db, actor=user, now=now, policy=Policy(), notify=False,
                              request=BookingRequest(machine.id, start,
                                                     start + timedelta(hours=hours), "Séance"))


def verdict(db: Any, user: Any, machine: Any, start: datetime, hours: float = 2, **kw: Any):
    return check_quotas(db, actor=kw.pop("actor", user), equipment=machine, start=start,
                        end=start + timedelta(hours=hours), now=kw.pop("now", NOW),
                        booked_by=kw.pop("booked_by", None), **kw)


JAN_14, JAN_20, JAN_27, FEB_3 = date(2027, 1, 14), date(2027, 1, 20), date(2027, 1, 27), \
    date(2027, 2, 3)


# --- refusal --------------------------------------------------------------------------------


def test_an_establishment_past_its_monthly_hours_is_refused_with_the_figures(app, db, c):
    q = quota(db, c, equipment=c.line_a, hours=5)
    book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    book(app, db, c.iut_colleague, c.line_a, paris(JAN_20, 9), hours=2)  # same establishment
    with app.test_request_context(), pytest.raises(QuotaExceeded) as refused:
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_27, 9), hours=1.5)
    error = refused.value
    assert (error.status, error.code) == (422, "quota_exceeded")
    assert error.details == {"quota_id": q.id, "applies_to": "establishment", "period": "month",
                             "limit_hours": 5, "used_hours": 4, "requested_hours": 1.5}
    english = str(error)
    assert "IUT de Tours" in english
    assert "Ligne A" in english
    assert "January 2027" in english
    assert "4\u00a0h" in english
    assert "5\u00a0h" in english
    assert "2027-01" not in english


def test_what_fits_is_booked_and_the_owner_is_not_held(app, db, c):
    quota(db, c, equipment=c.line_a, hours=5)
    book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    assert verdict(db, c.iut_trainer, c.line_a, paris(JAN_20, 9), hours=3).needs_approval is False
    for day in (JAN_14, JAN_20, JAN_27):  # the owner's own trainer: no limit
        book(app, db, c.home_trainer, c.line_a, paris(day, 13), hours=4)


def test_a_refused_booking_writes_nothing(app, db, c):
    quota(db, c, equipment=c.line_a, hours=1)
    before = db.scalars(select(Booking.id)).all()
    with pytest.raises(QuotaExceeded):
        book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    assert db.scalars(select(Booking.id)).all() == before


# --- periods in Paris time -------------------------------------------------------------------


@pytest.mark.parametrize(("instant", "period", "first", "last"), [
    # Sunday 17 January 23:30 UTC is already Monday in Paris: the next week
    (datetime(2027, 1, 17, 23, 30, tzinfo=UTC), QuotaPeriod.WEEK, date(2027, 1, 18),
     date(2027, 1, 24)),
    (datetime(2027, 1, 17, 22, 30, tzinfo=UTC), QuotaPeriod.WEEK, date(2027, 1, 11),
     date(2027, 1, 17)),
    # 31 January 23:30 UTC is 1 February in Paris
    (datetime(2027, 1, 31, 23, 30, tzinfo=UTC), QuotaPeriod.MONTH, date(2027, 2, 1),
     date(2027, 2, 28)),
    (datetime(2027, 12, 15, 12, tzinfo=UTC), QuotaPeriod.MONTH, date(2027, 12, 1),
     date(2027, 12, 31)),
    # 31 August 22:30 UTC (summer time) is 1 September in Paris: the next school year
    (datetime(2027, 8, 31, 22, 30, tzinfo=UTC), QuotaPeriod.SCHOOL_YEAR, date(2027, 9, 1),
     date(2028, 8, 31)),
    (datetime(2027, 8, 31, 21, 30, tzinfo=UTC), QuotaPeriod.SCHOOL_YEAR, date(2026, 9, 1),
     date(2027, 8, 31)),
])
def test_periods_are_read_in_paris(instant, period, first, last):
    window = Window.containing(period, instant)
    assert (window.first, window.last) == (first, last)
    assert window.holds(instant)
    assert window.start == datetime(first.year, first.month, first.day, tzinfo=PARIS)


def test_a_week_across_the_change_to_summer_time_ends_at_paris_midnight():
    window = Window.containing(QuotaPeriod.WEEK, datetime(2027, 3, 26, 12, tzinfo=UTC))
    assert window.end.astimezone(UTC) == datetime(2027, 3, 28, 22, tzinfo=UTC)
    assert window.start.astimezone(UTC) == datetime(2027, 3, 21, 23, tzinfo=UTC)


def test_a_weekly_quota_counts_only_the_week_of_the_start(app, db, c):
    quota(db, c, equipment=c.line_a, period=QuotaPeriod.WEEK, hours=3)
    book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 1, 15), 9), hours=3)  # Friday
    # Monday next: another week
    book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 1, 18), 9), hours=3)
    with pytest.raises(QuotaExceeded) as refused:
        book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 1, 22), 9), hours=1)
    assert refused.value.details["used_hours"] == 3
    assert refused.value.details["period"] == "week"


def test_a_school_year_quota_counts_from_september(app, db, c):
    quota(db, c, equipment=c.line_a, period=QuotaPeriod.SCHOOL_YEAR, hours=4)
    book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 6, 14), 9), hours=4)
    book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 9, 6), 9), hours=4)
    with pytest.raises(QuotaExceeded):
        book(app, db, c.iut_trainer, c.line_a, paris(date(2027, 1, 20), 9), hours=1)


# --- future bookings ---------------------------------------------------------------------------


def test_future_bookings_per_user_count_those_that_start_after_now(app, db, c):
    q = quota(db, c, equipment=c.line_a, applies_to=QuotaAppliesTo.USER, bookings=2,
              period=QuotaPeriod.WEEK)
    first = book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9))
    book(app, db, c.iut_trainer, c.line_a, paris(JAN_20, 9))
    book(app, db, c.iut_colleague, c.line_a, paris(JAN_20, 13))  # another user: not counted
    with pytest.raises(QuotaExceeded) as refused:
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_27, 9))
    assert refused.value.details["limit_bookings"] == 2
    assert refused.value.details["used_bookings"] == 2
    assert refused.value.details["quota_id"] == q.id
    # Once the first has begun, it is no longer a future booking.
    later = first.start_at + timedelta(minutes=1)
    assert verdict(db, c.iut_trainer, c.line_a, paris(JAN_27, 9), now=later).overridden == ()


def test_a_cancelled_booking_frees_its_part(app, db, c):
    quota(db, c, equipment=c.line_a, bookings=1)
    first = book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9))
    with pytest.raises(QuotaExceeded):
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_20, 9))
    first.status = BookingStatus.CANCELLED
    first.cancelled_at = NOW
    db.flush()
    assert verdict(db, c.iut_trainer, c.line_a, paris(JAN_20, 9)).needs_approval is False


# --- category, beneficiary, companies ----------------------------------------------------------


def test_a_category_quota_counts_every_machine_of_the_category_of_the_owner(app, db, c):
    quota(db, c, category=LINE, hours=4)
    book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    book(app, db, c.iut_trainer, c.mixer, paris(JAN_14, 13), hours=4)  # another category
    book(app, db, c.iut_trainer, c.elsewhere, paris(JAN_20, 13), hours=4)  # another owner
    book(app, db, c.iut_trainer, c.line_b, paris(JAN_20, 9), hours=2)
    with pytest.raises(QuotaExceeded) as refused:
        book(app, db, c.iut_trainer, c.line_b, paris(JAN_27, 9), hours=1)
    assert refused.value.details["used_hours"] == 4
    assert "Lycée du Parc" in str(refused.value)


def test_a_beneficiary_quota_holds_that_establishment_only(app, db, c):
    quota(db, c, equipment=c.line_a, hours=1, beneficiary=c.iut)
    with pytest.raises(QuotaExceeded):
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_14, 9))
    assert verdict(db, c.ecole_trainer, c.line_a, paris(JAN_14, 9)).needs_approval is False


def test_a_company_is_held_by_user_quotas_not_establishment_ones(db, c):
    quota(db, c, equipment=c.line_a, hours=1)
    assert verdict(db, c.company, c.line_a, paris(JAN_14, 9)).needs_approval is False
    quota(db, c, equipment=c.line_a, hours=1, applies_to=QuotaAppliesTo.USER)
    with pytest.raises(QuotaExceeded) as refused:
        verdict(db, c.company, c.line_a, paris(JAN_14, 9))
    assert refused.value.details["applies_to"] == "user"
    assert c.company.name in str(refused.value)


# --- approval and override ------------------------------------------------------------------


def test_a_quota_that_sends_to_approval_makes_the_booking_pending(app, db, c):
    quota(db, c, equipment=c.line_a, hours=1, over=QuotaOver.APPROVAL, beneficiary=c.owner)
    assert verdict(db, c.home_trainer, c.line_a, paris(JAN_14, 9)).needs_approval is True
    fits = book(app, db, c.home_trainer, c.line_a, paris(JAN_14, 9), hours=1)
    assert fits.status is BookingStatus.CONFIRMED
    past = book(app, db, c.home_trainer, c.line_a, paris(JAN_20, 9), hours=1)
    assert past.status is BookingStatus.PENDING


def test_a_refusing_quota_wins_over_one_that_sends_to_approval(db, c):
    quota(db, c, equipment=c.line_a, hours=1, over=QuotaOver.APPROVAL)
    quota(db, c, category=LINE, hours=1, over=QuotaOver.REFUSE)
    with pytest.raises(QuotaExceeded):
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_14, 9))


def test_a_coordinator_of_the_owner_passes_a_quota_and_it_is_audited(app, db, c):
    q = quota(db, c, equipment=c.line_a, hours=2)
    booking = book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    result = verdict(db, c.iut_trainer, c.line_a, paris(JAN_20, 9), actor=c.coordinator,
                     booked_by=c.iut_trainer)
    assert result.overridden == (q,)
    assert result.needs_approval is False
    with pytest.raises(QuotaExceeded):  # another establishment's coordinator may not
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_20, 9), actor=c.other_coordinator,
                booked_by=c.iut_trainer)
    with app.app_context():
        move_booking(db, actor=c.coordinator, booking=booking, now=NOW, policy=Policy(),
                     start=paris(JAN_14, 9), end=paris(JAN_14, 12))
    audited = db.scalars(select(AuditEntry).where(AuditEntry.action == "booking.quota_override",
                                                  AuditEntry.object_id == booking.id)).all()
    assert [a.details["quota_id"] for a in audited] == [q.id]


def test_an_admin_passes_a_user_quota(app, db, c):
    q = quota(db, c, equipment=c.line_a, hours=1, applies_to=QuotaAppliesTo.USER)
    booking = book(app, db, c.admin, c.line_a, paris(JAN_14, 9), hours=3)
    assert db.scalars(select(AuditEntry.details).where(
        AuditEntry.action == "booking.quota_override",
        AuditEntry.object_id == booking.id)).all() == [{"quota_id": q.id}]


def test_a_move_does_not_count_the_booking_moved(app, db, c):
    quota(db, c, equipment=c.line_a, hours=2, bookings=1)
    booking = book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    with app.app_context():
        move_booking(db, actor=c.iut_trainer, booking=booking, now=NOW, policy=Policy(),
                     start=paris(JAN_20, 9), end=paris(JAN_20, 11))
    assert booking.start_at == paris(JAN_20, 9)


# --- the use shown, and the cost of the check ---------------------------------------------------


def test_quota_use_of_an_establishment_and_of_a_user(app, db, c):
    per_establishment = quota(db, c, category=LINE, hours=10, bookings=5)
    per_user = quota(db, c, equipment=c.line_a, hours=10, applies_to=QuotaAppliesTo.USER)
    book(app, db, c.iut_trainer, c.line_a, paris(JAN_14, 9), hours=2)
    book(app, db, c.iut_colleague, c.line_b, paris(JAN_14, 9), hours=1.5)
    book(app, db, c.iut_trainer, c.line_a, paris(FEB_3, 9), hours=1)  # another month
    use = quota_use(db, per_establishment, for_establishment_id=c.iut.id, now=NOW)
    assert (use.minutes, use.future_bookings) == (210, 3)
    assert use.window.first == date(2027, 1, 1)
    mine = quota_use(db, per_user, for_user=c.iut_trainer, now=NOW)
    assert (mine.minutes, mine.future_bookings) == (120, 2)
    assert quota_use(db, per_user, for_user=c.iut_colleague, now=NOW).minutes == 0


def test_the_check_costs_one_statement_without_quotas_and_two_with(db, c):
    statements: list[str] = []
    engine = db.get_bind()

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    db.flush()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_14, 9))
        assert len(statements) == 1
        for _ in range(2):
            quota(db, c, equipment=c.line_a, hours=50)
            quota(db, c, category=LINE, hours=50, applies_to=QuotaAppliesTo.USER, bookings=9)
            quota(db, c, category=LINE, period=QuotaPeriod.SCHOOL_YEAR, hours=500)
        statements.clear()
        verdict(db, c.iut_trainer, c.line_a, paris(JAN_14, 9))
        assert len(statements) == 2
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_hours_are_written_one_way_per_language():
    assert format_hours(750, "fr") == "12\u00a0h\u00a030"
    assert format_hours(720, "fr") == "12\u00a0h"
    assert format_hours(750, "en") == "12.5\u00a0h"
    assert format_hours(450, "en") == "7.5\u00a0h"


# --- writing quotas ------------------------------------------------------------------------------


def create(db: Any, actor: Any, **kw: Any) -> Quota:
    values = {"applies_to": "establishment", "period": "month", "over": "refuse",
              "max_hours": 7.5} | kw
    return quota_admin.create_quota(db, actor=actor, now=NOW, **values)


def test_a_coordinator_sets_a_quota_of_their_machine_and_it_is_audited(db, c):
    q = create(db, c.coordinator, equipment_id=c.line_a.id, max_future_bookings=3)
    assert (q.establishment_id, q.max_minutes, q.max_future_bookings) == (c.owner.id, 450, 3)
    quota_admin.update_quota(db, q, actor=c.coordinator, now=NOW,
                             changes={"max_hours": 10, "over": "approval"})
    assert (q.max_minutes, q.over) == (600, QuotaOver.APPROVAL)
    quota_admin.delete_quota(db, q, actor=c.admin, now=NOW)
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "quota")
                         .order_by(AuditEntry.id)).all()
    assert actions == ["quota.create", "quota.update", "quota.delete"]
    changes = db.scalar(select(AuditEntry.details).where(AuditEntry.action == "quota.update"))
    assert changes["changes"] == {"max_minutes": [450, 600], "over": ["refuse", "approval"]}


def test_only_the_owners_coordinators_and_admins_write(db, c):
    with pytest.raises(Forbidden):
        create(db, c.other_coordinator, equipment_id=c.line_a.id)
    with pytest.raises(Forbidden):
        create(db, c.other_coordinator, category="pilot_line", establishment_id=c.owner.id)
    q = create(db, c.admin, category="pilot_line", establishment_id=c.owner.id)
    with pytest.raises(Forbidden):
        quota_admin.update_quota(db, q, actor=c.other_coordinator, now=NOW,
                                 changes={"max_hours": 100})
    with pytest.raises(Forbidden):  # the trainer sees it (it applies to them), may not write
        quota_admin.delete_quota(db, q, actor=c.iut_trainer, now=NOW)
    with pytest.raises(NotFound):  # the owner's trainer: it does not apply to them
        quota_admin.delete_quota(db, q, actor=c.home_trainer, now=NOW)


@pytest.mark.parametrize(("values", "field"), [
    ({"category": "pilot_line"}, "establishment_id"),
    ({"equipment_id": "line", "category": "pilot_line"}, "category"),
    ({"equipment_id": 2**31 - 1}, "equipment_id"),
    ({"equipment_id": "line", "establishment_id": "iut"}, "establishment_id"),
    ({"equipment_id": "line", "max_hours": -1}, "max_hours"),
    ({"equipment_id": "line", "max_hours": float("nan")}, "max_hours"),
    ({"equipment_id": "line", "max_hours": True}, "max_hours"),
    ({"equipment_id": "line", "max_hours": None}, "max_hours"),
    ({"equipment_id": "line", "max_future_bookings": 2.5}, "max_future_bookings"),
    ({"equipment_id": "line", "period": "year"}, "period"),
    ({"equipment_id": "line", "beneficiary_establishment_id": 2**31 - 1},
     "beneficiary_establishment_id"),
])
def test_every_value_is_checked(db, c, values, field):
    ids = {"line": c.line_a.id, "iut": c.iut.id}
    values = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    with pytest.raises(ValidationError) as refused:
        create(db, c.coordinator, **values)
    assert refused.value.details["field"] == field
    assert db.scalars(select(Quota)).all() == []
