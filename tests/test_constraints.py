"""The database itself refuses bad rows, on each backend: every CHECK, the CHECK
of every enum column, the unique keys (closures' import UID through partial
indexes), the foreign-key actions, the status cascade from booking to
occupancy, and the occupancy overlap guard: each rule docs/data-model.md claims.

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.base import UTCDateTime
from models.booking import Booking, BookingSeries, Occupancy
from models.certification import CertificationRequest
from models.closure import Closure
from models.enums import (
    SLOT_HOLDING_STATUSES,
    BookingPurpose,
    BookingStatus,
    CertificationRequestStatus,
    OutboxStatus,
)
from models.equipment import OpeningHours
from models.feed import Feed, FeedScope
from models.outbox import OutboxMessage
from models.project import Project
from models.user import ApiToken, LoginSession

CONFIRMED, CANCELLED = BookingStatus.CONFIRMED, BookingStatus.CANCELLED
GRANTED, DECLINED = CertificationRequestStatus.GRANTED, CertificationRequestStatus.DECLINED
OVERLAP = r"\bxcl_occupancy_no_overlap\b"
_serial = itertools.count(1)


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on the test day (a Tuesday), in UTC."""
    return datetime(2027, 1, 12, hour, minute, tzinfo=UTC)


T0, NINE, TEN = at(7), at(9), at(10)


def refused(db: Session, action: Callable[[], Any], pattern: str) -> None:
    """``action`` raises IntegrityError matching ``pattern``, its savepoint rolled back."""
    with pytest.raises(IntegrityError) as caught, db.begin_nested():
        action()
    assert re.search(pattern, str(caught.value.orig)), caught.value.orig


def sql(db: Session, statement: str, **params: Any) -> None:
    """Raw SQL, past the ORM's checks; instants are bound as the models store them."""
    typed = (bindparam(k, type_=UTCDateTime()) for k, v in params.items()
             if isinstance(v, datetime))
    db.execute(text(statement).bindparams(*typed), params)


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
    """A booking; with ``occupy``, its occupancy row on its own equipment too."""
    kw = {"uid": f"b{next(_serial)}@plateforme.test", "title": "Séance",
          "purpose": BookingPurpose.TRAINING,
          "cancelled_at": T0 if status == CANCELLED else None, **kw}
    kw["booked_by"] = kw.get("booked_by") or make.user()
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


def new_closure(make: Any, **kw: Any) -> Closure:
    if not {"establishment_id", "equipment_id"} & kw.keys():
        kw["establishment_id"] = make.establishment().id
    return save(make, Closure(reason="Travaux", **{"start_at": NINE, "end_at": TEN, **kw}))


BUILDERS: dict[str, Callable[..., Any]] = {
    "booking": new_booking,
    "occupancy": lambda make, **kw: save(make, occupancy_of(new_booking(make), **kw)),
    "closure": new_closure,
    "project": lambda make, **kw: save(make, Project(company=make.company(), **{
        "title": "Projet", "learners": 12, "wanted_from": date(2027, 2, 1),
        "wanted_to": date(2027, 3, 1), **kw})),
    "outbox": lambda make, **kw: save(make, OutboxMessage(
        to_addr="a@example.org", subject="Sujet", body_text="…", **kw)),
    "certification": lambda make, **kw: make.certification(
        make.user(), make.certification_type(), **kw),
    "opening_hours": lambda make, **kw: save(make, OpeningHours(
        equipment=make.equipment(hours=None),
        **{"weekday": 0, "opens": time(8), "closes": time(18), **kw})),
    "series": lambda make, **kw: save(make, BookingSeries(
        equipment_id=make.equipment().id, rrule="FREQ=WEEKLY", first_start=NINE,
        timezone="Europe/Paris", **{"duration_minutes": 60, **kw})),
    "api_token": lambda make, **kw: save(make, ApiToken(user=make.user(), created_at=T0, **{
        "token_hash": f"t{next(_serial)}", "expires_at": T0 + timedelta(1), **kw})),
    "feed": lambda make, **kw: save(make, Feed(
        owner_id=make.user().id, scope=FeedScope.EQUIPMENT, scope_id=1, secret="s",
        **{"token_hash": f"f{next(_serial)}", **kw})),
    "certification_request": lambda make, **kw: save(make, CertificationRequest(**{
        "user_id": make.user().id, "certification_type_id": make.certification_type().id,
        **kw})),
    # A decided request: its status may change without breaking its other CHECKs.
    "decided_request": lambda make, **kw: build(
        make, "certification_request", status=DECLINED, decided_at=T0, **kw),
}


def build(make: Any, kind: str, **kw: Any) -> Any:
    """A row of ``kind``; a value "@kind" is the id of a new row of that kind."""
    kw = {k: build(make, v[1:]).id if isinstance(v, str) and v[:1] == "@" else v
          for k, v in kw.items()}
    return BUILDERS[kind](make, **kw) if kind in BUILDERS else getattr(make, kind)(**kw)


# -- CHECK constraints: (constraint, row kind, bad columns, good columns) -------------

def checks(kind: str, table: str, *cases: tuple[str, dict, dict]) -> list[tuple]:
    return [(f"ck_{table}_{name}", kind, bad, good) for name, bad, good in cases]


CHECKS = [
    *checks("establishment", "establishment",
            ("code_not_empty", {"code": ""}, {"code": "E1"}),
            ("department_format", {"department": "4"}, {"department": "2A"})),
    *checks("company", "company", ("name_not_empty", {"name": ""}, {"name": "ACME"})),
    *checks("user", "user_account",
            ("email_lowercase", {"email": "Alice@example.org"}, {"email": "alice@example.org"}),
            ("email_format", {"email": "alice"}, {"email": "a@b"}),
            ("company_user_has_company", {"role": "company", "company": None},
             {"role": "company"}),
            ("coordinator_has_establishment", {"role": "coordinator", "establishment": None},
             {"role": "coordinator"}),
            ("locale_known", {"locale": "de"}, {"locale": "en"}),
            ("reminder_hours_positive", {"reminder_hours": -1}, {"reminder_hours": 0})),
    *checks("certification_type", "certification_type",
            ("validity_positive", {"validity_months": 0}, {"validity_months": 1}),
            ("code_not_empty", {"code": ""}, {"code": "C1"})),
    *checks("certification_request", "certification_request",
            ("decision_dated", {"status": GRANTED}, {"status": GRANTED, "decided_at": T0}),
            ("open_undecided", {"decided_at": T0}, {"decided_at": None}),
            ("open_undecided", {"decided_by_id": "@user"},
             {"decided_by_id": "@user", "status": DECLINED, "decided_at": T0})),
    *checks("certification", "certification",
            ("valid_period", {"valid_from": date(2027, 2, 2), "valid_until": date(2027, 2, 1)},
             {"valid_from": date(2027, 2, 1), "valid_until": date(2027, 2, 1)}),
            ("revoked_by_needs_date", {"revoked_by_id": "@user"},
             {"revoked_by_id": "@user", "revoked_at": T0})),
    *checks("equipment", "equipment",
            ("slot_positive", {"slot_minutes": 0}, {"slot_minutes": 15}),
            ("min_positive", {"min_minutes": 0}, {"min_minutes": 60}),
            ("max_not_below_min", {"min_minutes": 60, "max_minutes": 30},
             {"min_minutes": 60, "max_minutes": 60}),
            ("min_on_grid", {"slot_minutes": 30, "min_minutes": 45},
             {"slot_minutes": 15, "min_minutes": 45}),
            ("changeover_not_negative", {"changeover_minutes": -5}, {"changeover_minutes": 5}),
            ("max_within_a_week", {"max_minutes": 10110}, {"max_minutes": 10080}),
            ("changeover_within_a_day", {"changeover_minutes": 1445},
             {"changeover_minutes": 1440}),
            ("capacity_positive", {"capacity": -1}, {"capacity": 0}),
            ("deadline_positive", {"approval_deadline_hours": 0}, {"approval_deadline_hours": 1}),
            ("code_not_empty", {"code": ""}, {"code": "Q1"})),
    *checks("opening_hours", "opening_hours",
            ("weekday_range", {"weekday": 7}, {"weekday": 6}),
            ("weekday_range", {"weekday": -1}, {"weekday": 0}),
            ("opens_before_closes", {"opens": time(10), "closes": time(10)},
             {"opens": time(10), "closes": time(10, 30)})),
    *checks("project", "project",
            ("learners_positive", {"learners": 0}, {"learners": 1}),
            ("wanted_period", {"wanted_from": date(2027, 3, 2), "wanted_to": date(2027, 3, 1)},
             {"wanted_from": date(2027, 3, 1), "wanted_to": date(2027, 3, 1)}),
            ("title_not_empty", {"title": ""}, {"title": "P"})),
    *checks("booking", "booking",
            ("start_before_end", {"start": TEN, "end": NINE}, {}),
            ("start_before_end", {"start": NINE, "end": NINE}, {"start": NINE, "end": at(9, 1)}),
            ("sequence_not_negative", {"sequence": -1}, {"sequence": 1}),
            ("cancel_dated", {"status": CANCELLED, "cancelled_at": None}, {"status": CANCELLED}),
            ("participants_not_negative", {"participants": -1}, {"participants": 0}),
            ("title_not_empty", {"title": ""}, {"title": "T"})),
    *checks("occupancy", "occupancy", ("starts_before_ends", {"starts": NINE, "ends": NINE},
                                       {"starts": NINE, "ends": at(9, 1)})),
    *checks("closure", "closure",
            ("one_scope", {"establishment_id": "@establishment", "equipment_id": "@equipment"},
             {"equipment_id": "@equipment"}),
            ("one_scope", {"establishment_id": None, "equipment_id": None},
             {"establishment_id": "@establishment"}),
            ("start_before_end", {"start_at": TEN, "end_at": TEN}, {"end_at": at(11)})),
    *checks("outbox", "outbox_message",
            ("attempts_not_negative", {"attempts": -1}, {"attempts": 0}),
            ("sent_dated", {"status": OutboxStatus.SENT},
             {"status": OutboxStatus.SENT, "sent_at": T0})),
    *checks("series", "booking_series",
            ("duration_positive", {"duration_minutes": 0}, {"duration_minutes": 30})),
    *checks("api_token", "api_token",
            ("expires_after_creation", {"expires_at": T0}, {"expires_at": T0 + timedelta(1)})),
]


@pytest.mark.parametrize(("constraint", "kind", "bad", "good"), CHECKS, ids=[c[0] for c in CHECKS])
def test_check_constraint_refuses_the_bad_row(db, make, constraint, kind, bad, good) -> None:
    refused(db, lambda: build(make, kind, **bad), rf"\b{constraint}\b")
    assert build(make, kind, **good).id is not None


def test_equipment_cannot_be_its_own_parent(db, make) -> None:
    line, component = make.equipment(), make.equipment()
    move = "UPDATE equipment SET parent_id = :parent WHERE id = :id"
    refused(db, lambda: sql(db, move, parent=component.id, id=component.id),
            r"\bck_equipment_not_own_parent\b")
    sql(db, move, parent=line.id, id=component.id)
    assert count(db, "equipment", id=component.id, parent_id=line.id) == 1


# -- enum columns: the ORM validates in Python, so raw SQL goes past it --------------

ENUMS = {"establishment.kind": "universite", "user_account.role": "admin",
         "equipment.category": "room", "equipment.status": "maintenance",
         "booking.purpose": "maintenance", "booking.status": "pending",
         "occupancy.booking_status": "confirmed", "project.status": "approved",
         "closure.kind": "holidays", "outbox_message.status": "failed", "feed.scope": "trainer",
         "certification_request.status": "granted"}
KIND_OF = {"user_account": "user", "outbox_message": "outbox",
           "certification_request": "decided_request"}


@pytest.mark.parametrize(("target", "good"), ENUMS.items(), ids=list(ENUMS))
def test_enum_check_refuses_an_unknown_value(db, make, target: str, good: str) -> None:
    table, column = target.split(".")
    row_id = build(make, KIND_OF.get(table, table)).id
    update = f"UPDATE {table} SET {column} = :value WHERE id = :id"
    refused(db, lambda: sql(db, update, value="bogus", id=row_id), rf"\bck_{table}_{column}\b")
    assert count(db, table, id=row_id, **{column: "bogus"}) == 0
    sql(db, update, value=good, id=row_id)
    assert count(db, table, id=row_id, **{column: good}) == 1


def test_enum_check_refuses_an_unknown_value_on_insert(db) -> None:
    insert = ("INSERT INTO outbox_message (to_addr, subject, body_text, status, attempts, "
              "next_attempt_at, created_at) VALUES ('a@b', 's', 'b', :status, 0, :at, :at)")
    refused(db, lambda: sql(db, insert, status="lost", at=T0), r"\bck_outbox_message_status\b")
    sql(db, insert, status="pending", at=T0)
    assert count(db, "outbox_message", status="pending") == 1


# -- unique keys ---------------------------------------------------------------------

UNIQUES = ["establishment.code", "equipment.code", "certification_type.code", "company.name",
           "user_account.email", "booking.uid", "outbox_message.dedupe_key",
           "api_token.token_hash", "feed.token_hash"]


@pytest.mark.parametrize("target", UNIQUES)
def test_unique_key_refuses_a_duplicate(db, make, target: str) -> None:
    table, column = target.split(".")
    kind = KIND_OF.get(table, table)
    build(make, kind, **{column: "same@example.org"})
    refused(db, lambda: build(make, kind, **{column: "same@example.org"}),
            rf"\buq_{table}_{column}\b|\b{table}\.{column}\b")
    build(make, kind, **{column: "other@example.org"})
    assert count(db, table, **{column: "same@example.org"}) == 1


# -- closures: one import UID per scope (two partial unique indexes, migration 0004) ---

UID = "hiver-2027-zone-b@calendrier.test"


@pytest.mark.parametrize("scope", ["establishment", "equipment"])
def test_an_import_uid_is_unique_within_its_scope(db, make, scope: str) -> None:
    """One of the two scope columns is always NULL, so a unique key over both
    could never fire: each scope has its own index."""
    column = f"{scope}_id"
    owner, neighbour = build(make, scope).id, build(make, scope).id
    new_closure(make, **{column: owner, "source_uid": UID})
    refused(db, lambda: new_closure(make, **{column: owner, "source_uid": UID}),
            rf"\buq_closure_{column}_source_uid\b|closure\.{column}, closure\.source_uid")
    assert count(db, "closure", **{column: owner, "source_uid": UID}) == 1
    # The same UID in another scope of the kind, and closures without a UID, pass.
    new_closure(make, **{column: neighbour, "source_uid": UID})
    new_closure(make, **{column: owner})
    new_closure(make, **{column: owner})
    assert count(db, "closure", **{column: owner}) == 3
    assert count(db, "closure", source_uid=UID) == 2


def test_an_establishment_and_its_machine_may_share_an_import_uid(db, make) -> None:
    machine = make.equipment()
    new_closure(make, establishment_id=machine.establishment_id, source_uid=UID)
    new_closure(make, equipment_id=machine.id, source_uid=UID)
    assert count(db, "closure", source_uid=UID) == 2


# -- other keys: the ORM keeps one object per primary key, so raw SQL goes past it ----

def test_one_scheduler_lease_per_name(db) -> None:
    take = "INSERT INTO scheduler_lease (name, holder, expires_at) VALUES (:name, :holder, :at)"
    sql(db, take, name="scheduler", holder="a", at=T0)
    refused(db, lambda: sql(db, take, name="scheduler", holder="b", at=T0),
            r"\bpk_scheduler_lease\b|scheduler_lease\.name")
    sql(db, take, name="other", holder="b", at=T0)
    assert count(db, "scheduler_lease", name="scheduler", holder="a") == 1


def test_a_required_certification_type_is_listed_once(db, make) -> None:
    machine, ctype, other = make.equipment(), make.certification_type(), make.certification_type()
    require = ("INSERT INTO equipment_certification_type (equipment_id, certification_type_id) "
               "VALUES (:equipment, :ctype)")
    sql(db, require, equipment=machine.id, ctype=ctype.id)
    refused(db, lambda: sql(db, require, equipment=machine.id, ctype=ctype.id),
            r"\bpk_equipment_certification_type\b"
            r"|equipment_certification_type\.equipment_id, equipment_certification_type\.")
    sql(db, require, equipment=machine.id, ctype=other.id)
    assert count(db, "equipment_certification_type", equipment_id=machine.id) == 2


def test_a_booking_holds_each_equipment_once(db, make) -> None:
    """One occupancy row per booking and machine (a cancelled booking, so that
    the overlap guard stays out of the way)."""
    line, component = make.equipment(), make.equipment()
    booking = new_booking(make, equipment=line, status=CANCELLED, occupy=True)
    refused(db, lambda: save(make, occupancy_of(booking)),
            r"\buq_occupancy_booking_id_equipment_id\b"
            r"|occupancy\.booking_id, occupancy\.equipment_id")
    save(make, occupancy_of(booking, equipment=component))
    assert count(db, "occupancy", booking_id=booking.id) == 2


# -- foreign-key actions -------------------------------------------------------------

def test_deleting_an_establishment_with_equipment_is_refused(db, make) -> None:
    used, empty = make.establishment().id, make.establishment().id
    make.equipment(establishment_id=used)
    delete = "DELETE FROM establishment WHERE id = :id"
    refused(db, lambda: sql(db, delete, id=used),
            r"FOREIGN KEY|\bfk_equipment_establishment_id_establishment\b")
    assert count(db, "establishment", id=used) == 1
    sql(db, delete, id=empty)
    assert count(db, "establishment", id=empty) == 0


@pytest.mark.parametrize(("table", "role"), [("establishment", "coordinator"),
                                           ("company", "company")])
def test_deleting_what_an_account_belongs_to_is_refused(db, make, table: str,
                                                         role: str) -> None:
    used, empty = getattr(make.user(role), f"{table}_id"), build(make, table).id
    delete = f"DELETE FROM {table} WHERE id = :id"
    refused(db, lambda: sql(db, delete, id=used),
            rf"FOREIGN KEY|\bfk_user_account_{table}_id_{table}\b")
    assert count(db, table, id=used) == 1
    sql(db, delete, id=empty)
    assert count(db, table, id=empty) == 0


def test_deleting_a_line_with_components_is_refused(db, make) -> None:
    line, lone = make.equipment(), make.equipment()
    make.equipment(parent=line)
    delete = "DELETE FROM equipment WHERE id = :id"
    refused(db, lambda: sql(db, delete, id=line.id),
            r"FOREIGN KEY|\bfk_equipment_parent_id_equipment\b")
    assert count(db, "equipment", id=line.id) == 1
    # A machine without components goes, and its opening hours with it.
    assert count(db, "opening_hours", equipment_id=lone.id) == 5
    sql(db, delete, id=lone.id)
    assert count(db, "equipment", id=lone.id) == 0
    assert count(db, "opening_hours", equipment_id=lone.id) == 0
    assert count(db, "opening_hours", equipment_id=line.id) == 5


@pytest.mark.parametrize("holder", ["certification", "certification_request"])
def test_deleting_a_certification_type_in_use_is_refused(db, make, holder: str) -> None:
    used, unused = make.certification_type(), make.certification_type()
    if holder == "certification":
        make.certification(make.user(), used)
    else:
        build(make, holder, certification_type_id=used.id)
    delete = "DELETE FROM certification_type WHERE id = :id"
    refused(db, lambda: sql(db, delete, id=used.id),
            # PostgreSQL's name is cut at 60 characters with a hash (over its 63 limit).
            rf"FOREIGN KEY|\bfk_{holder}_certification_type_id_c\w*\b")
    assert count(db, "certification_type", id=used.id) == 1
    sql(db, delete, id=unused.id)
    assert count(db, "certification_type", id=unused.id) == 0


def test_deleting_a_user_ends_their_login_sessions(db, make) -> None:
    gone, kept = make.user(), make.user()
    for user in (gone, gone, kept):
        save(make, LoginSession(id=f"s{next(_serial)}", user_id=user.id, created_at=T0))
    sql(db, "DELETE FROM user_account WHERE id = :id", id=gone.id)
    assert count(db, "login_session", user_id=gone.id) == 0
    assert count(db, "login_session", user_id=kept.id) == 1


def test_a_certification_request_goes_with_its_trainer_and_outlives_its_equipment(
        db, make) -> None:
    trainer, other, machine = make.user(), make.user(), make.equipment()
    asked = [build(make, "certification_request", user_id=user.id, equipment_id=machine.id)
             for user in (trainer, other)]
    sql(db, "DELETE FROM equipment WHERE id = :id", id=machine.id)
    orphans = "SELECT count(*) FROM certification_request WHERE id = :id AND equipment_id IS NULL"
    assert [db.scalar(text(orphans), {"id": r.id}) for r in asked] == [1, 1]
    sql(db, "DELETE FROM user_account WHERE id = :id", id=trainer.id)
    assert count(db, "certification_request", user_id=trainer.id) == 0
    assert count(db, "certification_request", user_id=other.id) == 1


def test_deleting_a_user_cascades_to_their_certifications(db, make) -> None:
    trainer, other, ctype = make.user(), make.user(), make.certification_type()
    make.certification(trainer, ctype)
    make.certification(trainer, ctype, valid_from=date(2028, 1, 1), valid_until=date(2028, 6, 1))
    make.certification(other, ctype)
    gone, kept = trainer.id, other.id
    sql(db, "DELETE FROM user_account WHERE id = :id", id=gone)
    assert count(db, "certification", user_id=gone) == 0
    assert count(db, "certification", user_id=kept) == 1


def test_deleting_a_booking_cascades_to_its_occupancy(db, make) -> None:
    line, component = make.equipment(), make.equipment()
    booking = new_booking(make, equipment=line, occupy=True)
    save(make, occupancy_of(booking, equipment=component))
    kept = new_booking(make, equipment=line, start=TEN, end=at(11), occupy=True)
    assert count(db, "occupancy", booking_id=booking.id) == 2
    sql(db, "DELETE FROM booking WHERE id = :id", id=booking.id)
    assert count(db, "occupancy", booking_id=booking.id) == 0
    assert count(db, "occupancy", booking_id=kept.id) == 1


# -- status cascade booking -> occupancy ---------------------------------------------

def test_booking_status_cascades_to_its_occupancy_rows(db, make) -> None:
    line, component = make.equipment(), make.equipment()
    booking = new_booking(make, equipment=line, occupy=True)
    save(make, occupancy_of(booking, equipment=component))
    other = new_booking(make, equipment=line, start=TEN, end=at(11), occupy=True)
    sql(db, "UPDATE booking SET status = 'cancelled', cancelled_at = :at WHERE id = :id",
        at=T0, id=booking.id)
    assert count(db, "occupancy", booking_id=booking.id, booking_status="cancelled") == 2
    assert count(db, "occupancy", booking_id=other.id, booking_status="confirmed") == 1


def test_occupancy_status_cannot_drift_from_its_booking(db, make) -> None:
    row = new_booking(make, occupy=True).occupancies[0]
    refused(db, lambda: sql(db, "UPDATE occupancy SET booking_status = 'cancelled' "
                                "WHERE id = :id", id=row.id),
            r"FOREIGN KEY|\bfk_occupancy_booking_id_status_booking\b")
    assert count(db, "occupancy", id=row.id, booking_status="confirmed") == 1


# -- the overlap guard ---------------------------------------------------------------

@pytest.mark.parametrize("status", list(BookingStatus))
def test_overlap_is_refused_only_when_both_holding(db, make, status: BookingStatus) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, occupy=True)
    overlap = {"equipment": equipment, "start": at(9, 30), "end": at(10, 30), "status": status}
    if holding := status in SLOT_HOLDING_STATUSES:
        refused(db, lambda: new_booking(make, occupy=True, **overlap), OVERLAP)
    else:
        new_booking(make, occupy=True, **overlap)
    assert count(db, "occupancy", equipment_id=equipment.id) == (1 if holding else 2)


@pytest.mark.parametrize(("start", "end"), [(NINE, TEN), (at(8), at(11)), (at(9, 59), at(11))],
                         ids=["same", "covering", "one-minute"])
def test_overlap_guard_counts_any_shared_instant(db, make, start: datetime, end: datetime) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, occupy=True)
    refused(db, lambda: new_booking(make, equipment=equipment, start=start, end=end,
                                    occupy=True), OVERLAP)


def test_touching_periods_are_accepted(db, make) -> None:
    equipment = make.equipment()
    for start, end in [(TEN, at(11)), (NINE, TEN), (at(11), at(12))]:
        new_booking(make, equipment=equipment, start=start, end=end, occupy=True)
    assert count(db, "occupancy", equipment_id=equipment.id) == 3


def test_overlap_on_another_equipment_is_accepted(db, make) -> None:
    first, second = make.equipment(), make.equipment()
    new_booking(make, equipment=first, occupy=True)
    new_booking(make, equipment=second, occupy=True)
    assert count(db, "occupancy", booking_status="confirmed") == 2


def test_a_line_booking_collides_on_its_component(db, make) -> None:
    line = make.equipment()
    component = make.equipment(parent=line)
    new_booking(make, equipment=component, occupy=True)
    whole = new_booking(make, equipment=line, start=at(9, 30), end=at(10, 30), occupy=True)
    refused(db, lambda: save(make, occupancy_of(whole, equipment=component)), OVERLAP)
    save(make, occupancy_of(whole, equipment=component, starts=TEN))
    assert count(db, "occupancy", equipment_id=component.id) == 2


def test_moving_an_occupancy_into_a_taken_slot_is_refused(db, make) -> None:
    equipment = make.equipment()
    new_booking(make, equipment=equipment, occupy=True)
    row = new_booking(make, equipment=equipment, start=at(11), end=at(12), occupy=True)
    move = "UPDATE occupancy SET starts_at = :s, ends_at = :e WHERE booking_id = :id"
    refused(db, lambda: sql(db, move, s=at(9, 30), e=at(11), id=row.id), OVERLAP)
    sql(db, move, s=TEN, e=at(11), id=row.id)
    assert count(db, "occupancy", equipment_id=equipment.id) == 2


def test_reactivating_a_cancelled_booking_into_a_taken_slot_is_refused(db, make) -> None:
    equipment = make.equipment()
    holder = new_booking(make, equipment=equipment, occupy=True)
    cancelled = new_booking(make, equipment=equipment, status=CANCELLED, occupy=True)
    reactivate = "UPDATE booking SET status = 'confirmed', cancelled_at = NULL WHERE id = :id"
    refused(db, lambda: sql(db, reactivate, id=cancelled.id), OVERLAP)
    assert count(db, "booking", id=cancelled.id, status="cancelled") == 1
    assert count(db, "occupancy", booking_id=cancelled.id, booking_status="cancelled") == 1
    # Once the holder lets the slot go, the same reactivation goes through.
    sql(db, "UPDATE booking SET status = 'rejected' WHERE id = :id", id=holder.id)
    sql(db, reactivate, id=cancelled.id)
    assert count(db, "occupancy", booking_id=cancelled.id, booking_status="confirmed") == 1
