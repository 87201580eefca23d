"""The database itself refuses bad rows, on each backend: every CHECK, the CHECK
of every enum column, the unique keys, the foreign-key actions, the status
cascade from booking to occupancy, and the occupancy overlap guard.

Each refusal runs in a savepoint (rolled back, the test's transaction goes on)
and names the constraint that fired; the good twin of the row is then accepted,
so every test can fail.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from models import (
    SLOT_HOLDING_STATUSES,
    ApiToken,
    Booking,
    BookingPurpose,
    BookingSeries,
    BookingStatus,
    Closure,
    Feed,
    FeedScope,
    Occupancy,
    OpeningHours,
    OutboxMessage,
    OutboxStatus,
    Project,
    UTCDateTime,
)

T0 = datetime(2027, 1, 12, 7, 0, tzinfo=UTC)
_serial = itertools.count(1)

CONFIRMED, CANCELLED = BookingStatus.CONFIRMED, BookingStatus.CANCELLED
OVERLAP = "xcl_occupancy_no_overlap"


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on the test day (a Tuesday), in UTC."""
    return datetime(2027, 1, 12, hour, minute, tzinfo=UTC)


NINE, TEN = at(9), at(10)


def refused(db: Session, action: Callable[[], Any], pattern: str) -> IntegrityError:
    """``action`` fails with an IntegrityError whose driver message matches ``pattern``;
    its savepoint is rolled back, the test's transaction survives."""
    with pytest.raises(IntegrityError) as caught, db.begin_nested():
        action()
    message = str(caught.value.orig)
    assert re.search(pattern, message), message
    return caught.value


def sql(db: Session, statement: str, **params: Any) -> Any:
    """Raw SQL, past the ORM; instants are bound as the models store them."""
    stmt = text(statement).bindparams(*(
        bindparam(k, type_=UTCDateTime()) for k, v in params.items() if isinstance(v, datetime)))
    return db.execute(stmt, params)


def count(db: Session, table: str, **where: Any) -> int:
    clause = " AND ".join(f"{k} = :{k}" for k in where) or "1 = 1"
    return db.scalar(text(f"SELECT count(*) FROM {table} WHERE {clause}"), where)


def save(make: Any, obj: Any) -> Any:
    make.session.add(obj)
    make.session.flush()
    return obj


# -- rows the factory does not build -------------------------------------------------

def new_booking(make: Any, *, equipment: Any = None, start: datetime = NINE,
                end: datetime = TEN, status: BookingStatus = CONFIRMED,
                occupy: bool = False, **kw: Any) -> Booking:
    """A booking; with ``occupy``, its occupancy row on its equipment too."""
    kw.setdefault("uid", f"b{next(_serial)}@plateforme.test")
    kw.setdefault("title", "Séance")
    kw.setdefault("purpose", BookingPurpose.TRAINING)
    kw.setdefault("cancelled_at", T0 if status == CANCELLED else None)
    if "booked_by" not in kw:
        kw["booked_by"] = make.user()
    booking = Booking(equipment=equipment or make.equipment(), start_at=start, end_at=end,
                      status=status, **kw)
    if occupy:
        booking.occupancies.append(occupancy_of(booking))
    return save(make, booking)


def occupancy_of(booking: Booking, equipment: Any = None, starts: datetime | None = None,
                 ends: datetime | None = None) -> Occupancy:
    return Occupancy(booking=booking, booking_status=booking.status,
                     equipment_id=(equipment or booking.equipment).id,
                     starts_at=starts or booking.start_at, ends_at=ends or booking.end_at)


def new_occupancy(make: Any, **kw: Any) -> Occupancy:
    return save(make, occupancy_of(new_booking(make), **kw))


def new_closure(make: Any, **kw: Any) -> Closure:
    if "establishment_id" not in kw and "equipment_id" not in kw:
        kw["establishment_id"] = make.establishment().id
    kw.setdefault("start_at", at(9))
    kw.setdefault("end_at", at(10))
    return save(make, Closure(reason="Travaux", **kw))


def new_project(make: Any, **kw: Any) -> Project:
    kw.setdefault("title", "Projet")
    kw.setdefault("learners", 12)
    kw.setdefault("wanted_from", date(2027, 2, 1))
    kw.setdefault("wanted_to", date(2027, 3, 1))
    return save(make, Project(company=make.company(), **kw))


def new_outbox(make: Any, **kw: Any) -> OutboxMessage:
    return save(make, OutboxMessage(to_addr="a@example.org", subject="Sujet", body_text="…",
                                    **kw))


BUILDERS: dict[str, Callable[..., Any]] = {
    "booking": new_booking,
    "occupancy": new_occupancy,
    "closure": new_closure,
    "project": new_project,
    "outbox": new_outbox,
    "certification": lambda make, **kw: make.certification(
        make.user(), make.certification_type(), **kw),
    "opening_hours": lambda make, **kw: save(make, OpeningHours(
        equipment=make.equipment(hours=None), **{
            "weekday": 0, "opens": time(8), "closes": time(18), **kw})),
    "series": lambda make, **kw: save(make, BookingSeries(
        equipment_id=make.equipment().id, rrule="FREQ=WEEKLY", first_start=at(9),
        timezone="Europe/Paris", **{"duration_minutes": 60, **kw})),
    "api_token": lambda make, **kw: save(make, ApiToken(
        user=make.user(), token_hash=f"t{next(_serial)}", created_at=T0, **kw)),
    "feed": lambda make, **kw: save(make, Feed(
        owner_id=make.user().id, scope=FeedScope.EQUIPMENT, scope_id=1, secret="s",
        token_hash=f"f{next(_serial)}", **kw)),
}


def build(make: Any, kind: str, **kw: Any) -> Any:
    """A row of ``kind``; a callable value is called with the factory (a row it needs)."""
    kw = {k: v(make) if callable(v) else v for k, v in kw.items()}
    builder = BUILDERS.get(kind) or getattr(make, kind)
    return builder(make, **kw) if kind in BUILDERS else builder(**kw)


def est_id(make: Any) -> int:
    return make.establishment().id


def eq_id(make: Any) -> int:
    return make.equipment().id


def user_id(make: Any) -> int:
    return make.user().id


# -- CHECK constraints ---------------------------------------------------------------

def check(name: str, kind: str, bad: dict[str, Any], good: dict[str, Any],
          case: str = "") -> Any:
    return pytest.param(name, kind, bad, good, id=case or name)


CHECKS = [
    check("ck_establishment_code_not_empty", "establishment", {"code": ""}, {"code": "E1"}),
    check("ck_establishment_department_format", "establishment",
          {"department": "4"}, {"department": "2A"}),
    check("ck_company_name_not_empty", "company", {"name": ""}, {"name": "ACME"}),
    check("ck_user_account_email_lowercase", "user",
          {"email": "Alice@example.org"}, {"email": "alice@example.org"}),
    check("ck_user_account_email_format", "user", {"email": "alice"}, {"email": "a@b"}),
    check("ck_user_account_company_user_has_company", "user",
          {"role": "company", "company": None}, {"role": "company"}),
    check("ck_user_account_coordinator_has_establishment", "user",
          {"role": "coordinator", "establishment": None}, {"role": "coordinator"}),
    check("ck_user_account_locale_known", "user", {"locale": "de"}, {"locale": "en"}),
    check("ck_user_account_reminder_hours_positive", "user",
          {"reminder_hours": -1}, {"reminder_hours": 0}),
    check("ck_certification_type_validity_positive", "certification_type",
          {"validity_months": 0}, {"validity_months": 1}),
    check("ck_certification_type_code_not_empty", "certification_type",
          {"code": ""}, {"code": "C1"}),
    check("ck_certification_valid_period", "certification",
          {"valid_from": date(2027, 2, 2), "valid_until": date(2027, 2, 1)},
          {"valid_from": date(2027, 2, 1), "valid_until": date(2027, 2, 1)}),
    check("ck_certification_revoked_by_needs_date", "certification",
          {"revoked_by_id": user_id}, {"revoked_by_id": user_id, "revoked_at": T0}),
    check("ck_equipment_slot_positive", "equipment", {"slot_minutes": 0}, {"slot_minutes": 15}),
    check("ck_equipment_min_positive", "equipment", {"min_minutes": 0}, {"min_minutes": 60}),
    check("ck_equipment_max_not_below_min", "equipment",
          {"min_minutes": 60, "max_minutes": 30}, {"min_minutes": 60, "max_minutes": 60}),
    check("ck_equipment_min_on_grid", "equipment",
          {"slot_minutes": 30, "min_minutes": 45}, {"slot_minutes": 15, "min_minutes": 45}),
    check("ck_equipment_changeover_not_negative", "equipment",
          {"changeover_minutes": -5}, {"changeover_minutes": 5}),
    check("ck_equipment_capacity_positive", "equipment", {"capacity": -1}, {"capacity": 0}),
    check("ck_equipment_deadline_positive", "equipment",
          {"approval_deadline_hours": 0}, {"approval_deadline_hours": 1}),
    check("ck_equipment_code_not_empty", "equipment", {"code": ""}, {"code": "Q1"}),
    check("ck_opening_hours_weekday_range", "opening_hours", {"weekday": 7}, {"weekday": 6}),
    check("ck_opening_hours_weekday_range", "opening_hours", {"weekday": -1}, {"weekday": 0},
          case="ck_opening_hours_weekday_negative"),
    check("ck_opening_hours_opens_before_closes", "opening_hours",
          {"opens": time(10), "closes": time(10)}, {"opens": time(10), "closes": time(10, 30)}),
    check("ck_project_learners_positive", "project", {"learners": 0}, {"learners": 1}),
    check("ck_project_wanted_period", "project",
          {"wanted_from": date(2027, 3, 2), "wanted_to": date(2027, 3, 1)},
          {"wanted_from": date(2027, 3, 1), "wanted_to": date(2027, 3, 1)}),
    check("ck_project_title_not_empty", "project", {"title": ""}, {"title": "P"}),
    check("ck_booking_start_before_end", "booking",
          {"start": at(10), "end": at(9)}, {"start": at(9), "end": at(10)}),
    check("ck_booking_start_before_end", "booking", {"start": at(9), "end": at(9)},
          {"start": at(9), "end": at(9, 30)}, case="ck_booking_start_equals_end"),
    check("ck_booking_sequence_not_negative", "booking", {"sequence": -1}, {"sequence": 1}),
    check("ck_booking_cancel_dated", "booking",
          {"status": CANCELLED, "cancelled_at": None}, {"status": CANCELLED}),
    check("ck_booking_participants_not_negative", "booking",
          {"participants": -1}, {"participants": 0}),
    check("ck_booking_title_not_empty", "booking", {"title": ""}, {"title": "T"}),
    check("ck_occupancy_starts_before_ends", "occupancy",
          {"starts": at(9), "ends": at(9)}, {"starts": at(9), "ends": at(9, 30)}),
    check("ck_closure_one_scope", "closure",
          {"establishment_id": est_id, "equipment_id": eq_id}, {"equipment_id": eq_id},
          case="ck_closure_one_scope_both"),
    check("ck_closure_one_scope", "closure",
          {"establishment_id": None, "equipment_id": None}, {"establishment_id": est_id},
          case="ck_closure_one_scope_neither"),
    check("ck_closure_start_before_end", "closure",
          {"start_at": at(10), "end_at": at(10)}, {"start_at": at(10), "end_at": at(11)}),
    check("ck_outbox_message_attempts_not_negative", "outbox",
          {"attempts": -1}, {"attempts": 0}),
    check("ck_outbox_message_sent_dated", "outbox",
          {"status": OutboxStatus.SENT}, {"status": OutboxStatus.SENT, "sent_at": T0}),
    check("ck_booking_series_duration_positive", "series",
          {"duration_minutes": 0}, {"duration_minutes": 30}),
    check("ck_api_token_expires_after_creation", "api_token",
          {"expires_at": T0}, {"expires_at": T0 + timedelta(hours=1)}),
]


@pytest.mark.parametrize(("constraint", "kind", "bad", "good"), CHECKS)
def test_check_constraint_refuses_the_bad_row(
    request: pytest.FixtureRequest, db: Session, make: Any, constraint: str, kind: str,
    bad: dict[str, Any], good: dict[str, Any],
) -> None:
    if constraint == "ck_equipment_slot_positive" and db.bind.dialect.name == "postgresql":
        request.applymarker(pytest.mark.xfail(
            raises=DataError, strict=True,
            reason="ck_equipment_min_on_grid (min_minutes % slot_minutes) is evaluated "
                   "first and divides by zero: DataError, not the slot_positive CHECK"))
    refused(db, lambda: build(make, kind, **bad), rf"\b{constraint}\b")
    assert build(make, kind, **good).id is not None


def test_equipment_cannot_be_its_own_parent(db: Session, make: Any) -> None:
    line, component = make.equipment(), make.equipment()

    def own_parent() -> None:
        component.parent_id = component.id
        db.flush()

    refused(db, own_parent, r"\bck_equipment_not_own_parent\b")
    component.parent_id = line.id
    db.flush()
    assert count(db, "equipment", id=component.id, parent_id=line.id) == 1


# -- enum columns: the ORM validates in Python, so raw SQL goes past it --------------

ENUMS = [
    ("establishment", "kind", "universite"),
    ("user_account", "role", "admin"),
    ("equipment", "category", "room"),
    ("equipment", "status", "maintenance"),
    ("booking", "purpose", "maintenance"),
    ("booking", "status", "pending"),
    ("occupancy", "booking_status", "confirmed"),
    ("project", "status", "approved"),
    ("closure", "kind", "holidays"),
    ("outbox_message", "status", "failed"),
    ("feed", "scope", "trainer"),
]
ROW_OF = {"establishment": "establishment", "user_account": "user", "equipment": "equipment",
          "booking": "booking", "project": "project", "closure": "closure",
          "outbox_message": "outbox", "feed": "feed"}


@pytest.mark.parametrize(("table", "column", "good"), ENUMS, ids=[f"{t}.{c}" for t, c, _ in ENUMS])
def test_enum_check_refuses_an_unknown_value(
    db: Session, make: Any, table: str, column: str, good: str,
) -> None:
    if table == "occupancy":
        row_id = new_booking(make, occupy=True).occupancies[0].id
    else:
        row_id = build(make, ROW_OF[table]).id
    update = f"UPDATE {table} SET {column} = :value WHERE id = :id"
    refused(db, lambda: sql(db, update, value="bogus", id=row_id), rf"\bck_{table}_{column}\b")
    assert count(db, table, id=row_id, **{column: "bogus"}) == 0
    sql(db, update, value=good, id=row_id)
    assert count(db, table, id=row_id, **{column: good}) == 1


def test_enum_check_refuses_an_unknown_value_on_insert(db: Session, make: Any) -> None:
    insert = ("INSERT INTO outbox_message (to_addr, subject, body_text, status, attempts, "
              "next_attempt_at, created_at) VALUES ('a@b', 's', 'b', :status, 0, :at, :at)")
    at_ = T0.replace(tzinfo=None) if db.bind.dialect.name == "sqlite" else T0
    refused(db, lambda: sql(db, insert, status="lost", at=at_), r"\bck_outbox_message_status\b")
    sql(db, insert, status="pending", at=at_)
    assert count(db, "outbox_message", status="pending") == 1


# -- unique keys ---------------------------------------------------------------------

UNIQUES = [
    ("establishment", "establishment", "code", "EST-A", "EST-B"),
    ("equipment", "equipment", "code", "EQ-A", "EQ-B"),
    ("certification_type", "certification_type", "code", "CERT-A", "CERT-B"),
    ("company", "company", "name", "ACME", "ACME Bis"),
    ("user", "user_account", "email", "same@example.org", "other@example.org"),
    ("booking", "booking", "uid", "same@plateforme", "other@plateforme"),
    ("outbox", "outbox_message", "dedupe_key", "reminder:1", "reminder:2"),
]


@pytest.mark.parametrize(("kind", "table", "column", "value", "other"), UNIQUES,
                         ids=[f"{t}.{c}" for _, t, c, _, _ in UNIQUES])
def test_unique_key_refuses_a_duplicate(
    db: Session, make: Any, kind: str, table: str, column: str, value: str, other: str,
) -> None:
    build(make, kind, **{column: value})
    refused(db, lambda: build(make, kind, **{column: value}),
            rf"\buq_{table}_{column}\b|\b{table}\.{column}\b")
    build(make, kind, **{column: other})
    assert count(db, table, **{column: value}) == 1


# -- foreign-key actions -------------------------------------------------------------

def test_deleting_an_establishment_with_equipment_is_refused(db: Session, make: Any) -> None:
    used, empty = make.establishment(), make.establishment()
    make.equipment(establishment=used)
    delete = "DELETE FROM establishment WHERE id = :id"
    refused(db, lambda: sql(db, delete, id=used.id),
            r"FOREIGN KEY|\bfk_equipment_establishment_id_establishment\b")
    assert count(db, "establishment", id=used.id) == 1
    sql(db, delete, id=empty.id)
    assert count(db, "establishment", id=empty.id) == 0


def test_deleting_a_user_cascades_to_their_certifications(db: Session, make: Any) -> None:
    trainer, other = make.user(), make.user()
    ctype = make.certification_type()
    make.certification(trainer, ctype)
    make.certification(trainer, ctype, valid_from=date(2028, 1, 1), valid_until=date(2028, 6, 1))
    make.certification(other, ctype)
    sql(db, "DELETE FROM user_account WHERE id = :id", id=trainer.id)
    db.expire_all()
    assert count(db, "certification", user_id=trainer.id) == 0
    assert count(db, "certification", user_id=other.id) == 1


def test_deleting_a_booking_cascades_to_its_occupancy(db: Session, make: Any) -> None:
    line, component = make.equipment(), make.equipment()
    booking = new_booking(make, equipment=line, occupy=True)
    save(make, occupancy_of(booking, equipment=component))
    kept = new_booking(make, equipment=line, start=at(11), end=at(12), occupy=True)
    assert count(db, "occupancy", booking_id=booking.id) == 2
    sql(db, "DELETE FROM booking WHERE id = :id", id=booking.id)
    db.expire_all()
    assert count(db, "occupancy", booking_id=booking.id) == 0
    assert count(db, "occupancy", booking_id=kept.id) == 1


# -- status cascade booking -> occupancy ---------------------------------------------

def test_booking_status_cascades_to_its_occupancy_rows(db: Session, make: Any) -> None:
    line, component = make.equipment(), make.equipment()
    booking = new_booking(make, equipment=line, occupy=True)
    save(make, occupancy_of(booking, equipment=component))
    other = new_booking(make, equipment=line, start=at(11), end=at(12), occupy=True)
    sql(db, "UPDATE booking SET status = 'cancelled', cancelled_at = :at WHERE id = :id",
        at=T0.replace(tzinfo=None) if db.bind.dialect.name == "sqlite" else T0, id=booking.id)
    assert count(db, "occupancy", booking_id=booking.id, booking_status="cancelled") == 2
    assert count(db, "occupancy", booking_id=other.id, booking_status="confirmed") == 1


def test_occupancy_status_cannot_drift_from_its_booking(db: Session, make: Any) -> None:
    row = new_booking(make, occupy=True).occupancies[0]
    drift = "UPDATE occupancy SET booking_status = :status WHERE id = :id"
    refused(db, lambda: sql(db, drift, status="cancelled", id=row.id),
            r"FOREIGN KEY|\bfk_occupancy_booking_id_status_booking\b")
    assert count(db, "occupancy", id=row.id, booking_status="confirmed") == 1


# -- the overlap guard ---------------------------------------------------------------

@pytest.mark.parametrize("status", list(BookingStatus))
def test_overlapping_occupancy_is_refused_only_when_both_hold_the_slot(
    db: Session, make: Any, status: BookingStatus,
) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, start=at(9), end=at(10), occupy=True)

    def overlap() -> Booking:
        return new_booking(make, equipment=equipment, start=at(9, 30), end=at(10, 30),
                           status=status, occupy=True)

    if status in SLOT_HOLDING_STATUSES:
        refused(db, overlap, rf"\b{OVERLAP}\b")
        assert count(db, "booking", equipment_id=equipment.id) == 1
    else:
        overlap()
        assert count(db, "occupancy", equipment_id=equipment.id) == 2


@pytest.mark.parametrize(("start", "end"), [(at(9), at(10)), (at(8), at(11)), (at(9, 59), at(11))],
                         ids=["same", "covering", "one-minute"])
def test_overlap_guard_counts_any_shared_instant(
    db: Session, make: Any, start: datetime, end: datetime,
) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, start=at(9), end=at(10), occupy=True)
    refused(db, lambda: new_booking(make, equipment=equipment, start=start, end=end,
                                    occupy=True), rf"\b{OVERLAP}\b")


def test_touching_periods_are_accepted(db: Session, make: Any) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, start=at(10), end=at(11), occupy=True)
    new_booking(make, equipment=equipment, start=at(9), end=at(10), occupy=True)
    new_booking(make, equipment=equipment, start=at(11), end=at(12), occupy=True)
    assert count(db, "occupancy", equipment_id=equipment.id) == 3


def test_overlap_on_another_equipment_is_accepted(db: Session, make: Any) -> None:
    first, second = make.equipment(), make.equipment()
    new_booking(make, equipment=first, occupy=True)
    new_booking(make, equipment=second, occupy=True)
    assert count(db, "occupancy", booking_status="confirmed") == 2


def test_a_component_occupancy_collides_with_its_line_booking(db: Session, make: Any) -> None:
    line, component = make.equipment(), make.equipment()
    make.equipment(parent=line)
    new_booking(make, equipment=component, occupy=True)
    line_booking = new_booking(make, equipment=line, start=at(9, 30), end=at(10, 30), occupy=True)
    refused(db, lambda: save(make, occupancy_of(line_booking, equipment=component)),
            rf"\b{OVERLAP}\b")
    save(make, occupancy_of(line_booking, equipment=component, starts=at(10), ends=at(10, 30)))


def test_moving_an_occupancy_into_a_taken_slot_is_refused(db: Session, make: Any) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, start=at(9), end=at(10), occupy=True)
    row = new_booking(make, equipment=equipment, start=at(11), end=at(12),
                      occupy=True).occupancies[0]
    move = "UPDATE occupancy SET starts_at = :s, ends_at = :e WHERE id = :id"
    sqlite = db.bind.dialect.name == "sqlite"

    def to(hour: int) -> datetime:
        return at(hour).replace(tzinfo=None) if sqlite else at(hour)

    refused(db, lambda: sql(db, move, s=to(9), e=to(11), id=row.id), rf"\b{OVERLAP}\b")
    sql(db, move, s=to(10), e=to(11), id=row.id)
    assert count(db, "occupancy", equipment_id=equipment.id) == 2


def test_reactivating_a_cancelled_booking_into_a_taken_slot_is_refused(
    db: Session, make: Any,
) -> None:
    equipment = make.equipment()
    holder = new_booking(make, equipment=equipment, occupy=True)
    cancelled = new_booking(make, equipment=equipment, status=CANCELLED, occupy=True)
    reactivate = ("UPDATE booking SET status = 'confirmed', cancelled_at = NULL "
                  "WHERE id = :id")
    refused(db, lambda: sql(db, reactivate, id=cancelled.id), rf"\b{OVERLAP}\b")
    assert count(db, "booking", id=cancelled.id, status="cancelled") == 1
    assert count(db, "occupancy", booking_id=cancelled.id, booking_status="cancelled") == 1
    # Once the slot is free again, the same reactivation goes through.
    sql(db, "UPDATE booking SET status = 'rejected' WHERE id = :id", id=holder.id)
    sql(db, reactivate, id=cancelled.id)
    assert count(db, "occupancy", booking_id=cancelled.id, booking_status="confirmed") == 1
