"""« Quand puis-je ? » (issue 13, point 3): the ranges where a machine is free
and a trainer certified for it on those days is free too, travel included."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.errors import Forbidden, NotFound, ValidationError
from booking.services.planning.slots import find_slots
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Role,
    TravelTime,
    User,
)
from tests.conftest import NOW
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2027, 1, 18)
_uids = itertools.count(1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def book(make: Any, machine: Equipment, start: datetime, end: datetime, *,
         trainer: User | None, by: User) -> Booking:
    booking = Booking(uid=f"slots-{next(_uids)}@test", equipment=machine,
                      start_at=start.astimezone(UTC), end_at=end.astimezone(UTC),
                      title="Séance", purpose=BookingPurpose.TRAINING,
                      status=BookingStatus.CONFIRMED, booked_by=by, trainer=trainer)
    booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


@dataclass
class Site:
    home: Any
    away: Any
    machine: Equipment
    away_machine: Equipment
    ctype: Any
    trainer: User  # certified
    uncertified: User
    coordinator: User
    company: User


@pytest.fixture
def site(make) -> Site:
    home = make.establishment(code="ORL", name="Lycée d'Orléans", timezone="Europe/Paris")
    away = make.establishment(code="TOU", name="IUT de Tours", timezone="Europe/Paris")
    ctype = make.certification_type(code="HAB-R", name="Remplisseuse")
    machine = make.equipment(establishment=home, code="REM-1", name="Remplisseuse")
    machine.required_certification_types = [ctype]
    away_machine = make.equipment(establishment=away, code="TOU-1", name="Mélangeur de Tours")
    trainer = make.user(Role.TRAINER, establishment=home, name="Alice")
    make.certification(trainer, ctype)
    return Site(home, away, machine, away_machine, ctype, trainer,
                make.user(Role.TRAINER, establishment=home, name="Bruno"),
                make.user(Role.COORDINATOR, establishment=home),
                make.user(Role.COMPANY), )


def search(db: Any, actor: User, **kw: Any) -> list[tuple[datetime, datetime, tuple[int, ...]]]:
    kw.setdefault("start", at(MONDAY, 0))
    kw.setdefault("end", at(MONDAY + timedelta(days=1), 0))
    kw.setdefault("minutes", 60)
    found = find_slots(db, actor=actor, now=NOW, **kw)
    return [(r.start, r.end, r.trainer_ids) for r in found.items]


def test_a_certified_free_trainer_is_listed_on_the_machines_free_day(db, site) -> None:
    found = search(db, site.coordinator, equipment_ids=[site.machine.id])
    assert found == [(at(MONDAY, 8), at(MONDAY, 18), (site.trainer.id,))]
    assert found[0][0].utcoffset() == timedelta(hours=1)  # the machine's zone


def test_a_trainer_at_another_site_is_held_for_the_travel_too(db, make, site) -> None:
    db.add(TravelTime(establishment_a_id=min(site.home.id, site.away.id),
                      establishment_b_id=max(site.home.id, site.away.id), minutes=60))
    book(make, site.away_machine, at(MONDAY, 12), at(MONDAY, 13), trainer=site.trainer,
         by=site.trainer)
    assert search(db, site.coordinator, equipment_ids=[site.machine.id]) == [
        (at(MONDAY, 8), at(MONDAY, 11), (site.trainer.id,)),
        (at(MONDAY, 11), at(MONDAY, 14), ()),
        (at(MONDAY, 14), at(MONDAY, 18), (site.trainer.id,)),
    ]
    assert search(db, site.coordinator, equipment_ids=[site.machine.id],
                  with_trainer=True) == [
        (at(MONDAY, 8), at(MONDAY, 11), (site.trainer.id,)),
        (at(MONDAY, 14), at(MONDAY, 18), (site.trainer.id,)),
    ]


def test_the_campus_default_travel_applies_without_a_row(db, make, site) -> None:
    book(make, site.away_machine, at(MONDAY, 10), at(MONDAY, 16), trainer=site.trainer,
         by=site.trainer)
    # The default is 60 minutes (campus_setting or its fallback).
    assert search(db, site.coordinator, equipment_ids=[site.machine.id],
                  trainer_id=site.trainer.id) == [
        (at(MONDAY, 8), at(MONDAY, 9), (site.trainer.id,)),
        (at(MONDAY, 17), at(MONDAY, 18), (site.trainer.id,)),
    ]


def test_a_certification_ending_on_monday_leaves_tuesday_out(db, make, site) -> None:
    trainer = make.user(Role.TRAINER, name="Chloé")
    make.certification(trainer, site.ctype, valid_until=MONDAY)
    found = search(db, site.coordinator, equipment_ids=[site.machine.id],
                   trainer_id=trainer.id, end=at(MONDAY + timedelta(days=2), 0))
    assert found == [(at(MONDAY, 8), at(MONDAY, 18), (trainer.id,))]
    # Without trainer_id: Tuesday lists only the trainer still certified.
    both = search(db, site.coordinator, equipment_ids=[site.machine.id],
                  end=at(MONDAY + timedelta(days=2), 0))
    assert [ids for _, _, ids in both] == [tuple(sorted((site.trainer.id, trainer.id))),
                                           (site.trainer.id,)]


def test_a_revoked_certification_counts_for_nothing(db, make, site) -> None:
    trainer = make.user(Role.TRAINER)
    make.certification(trainer, site.ctype, revoked_at=NOW)
    assert search(db, site.coordinator, equipment_ids=[site.machine.id],
                  trainer_id=trainer.id) == []


def test_the_machines_bookings_and_changeover_are_not_free(db, make, site) -> None:
    site.machine.changeover_minutes = 30
    book(make, site.machine, at(MONDAY, 10), at(MONDAY, 12), trainer=None, by=site.coordinator)
    assert search(db, site.coordinator, equipment_ids=[site.machine.id],
                  with_trainer=False) == [
        # The range's own changeover must fit before the 10:00 booking.
        (at(MONDAY, 8), at(MONDAY, 9, 30), (site.trainer.id,)),
        (at(MONDAY, 12, 30), at(MONDAY, 18), (site.trainer.id,)),
    ]


def test_ranges_are_cut_to_the_grid_and_shorter_ones_left_out(db, make, site) -> None:
    site.machine.slot_minutes = site.machine.min_minutes = 60
    db.add(Closure(equipment_id=site.machine.id, start_at=at(MONDAY, 10, 15),
                   end_at=at(MONDAY, 10, 45), reason="Réglage", kind=ClosureKind.MAINTENANCE))
    db.add(Closure(equipment_id=site.machine.id, start_at=at(MONDAY, 14, 10),
                   end_at=at(MONDAY, 15, 50), reason="Nettoyage", kind=ClosureKind.OTHER))
    db.flush()
    assert search(db, site.coordinator, equipment_ids=[site.machine.id], minutes=120) == [
        (at(MONDAY, 8), at(MONDAY, 10), (site.trainer.id,)),
        (at(MONDAY, 11), at(MONDAY, 14), (site.trainer.id,)),
        # 16:00–18:00 is two hours: kept.
        (at(MONDAY, 16), at(MONDAY, 18), (site.trainer.id,)),
    ]
    assert [r[:2] for r in search(db, site.coordinator, equipment_ids=[site.machine.id],
                                  minutes=180)] == [(at(MONDAY, 11), at(MONDAY, 14))]


def test_a_length_the_machine_does_not_take_is_422_naming_minutes(db, site) -> None:
    site.machine.max_minutes = 120
    with pytest.raises(ValidationError) as refused:
        search(db, site.coordinator, equipment_ids=[site.machine.id], minutes=180)
    assert refused.value.details["field"] == "minutes"
    site.machine.slot_minutes = site.machine.min_minutes = 60
    with pytest.raises(ValidationError):
        search(db, site.coordinator, equipment_ids=[site.machine.id], minutes=90)
    # A site's search leaves that machine out instead.
    assert search(db, site.coordinator, establishment_id=site.home.id, minutes=180) == []


def test_machines_out_of_service_and_of_other_categories_are_left_out(db, make, site) -> None:
    make.equipment(establishment=site.home, code="REM-2", status=EquipmentStatus.MAINTENANCE,
                   status_reason="Panne")
    other = make.equipment(establishment=site.home, code="REM-3",
                           category=EquipmentCategory.ROOM)
    found = find_slots(db, actor=site.coordinator, now=NOW, start=at(MONDAY, 0),
                       end=at(MONDAY, 23), minutes=60, establishment_id=site.home.id)
    assert {r.equipment.code for r in found.items} == {"REM-1", "REM-3"}
    found = find_slots(db, actor=site.coordinator, now=NOW, start=at(MONDAY, 0),
                       end=at(MONDAY, 23), minutes=60, category=EquipmentCategory.ROOM)
    assert {r.equipment.id for r in found.items} == {other.id}
    # Without requirements, every trainer (and coordinator) counts as certified.
    assert site.uncertified.id in found.items[0].trainer_ids


def test_a_trainer_searches_for_themselves_unless_they_say_otherwise(db, site) -> None:
    assert search(db, site.uncertified, equipment_ids=[site.machine.id]) == []
    assert search(db, site.trainer, equipment_ids=[site.machine.id]) == [
        (at(MONDAY, 8), at(MONDAY, 18), (site.trainer.id,))]
    assert search(db, site.uncertified, equipment_ids=[site.machine.id],
                  with_trainer=False) == [(at(MONDAY, 8), at(MONDAY, 18), (site.trainer.id,))]


def test_a_company_sees_free_ranges_but_not_the_trainers(db, make, site) -> None:
    book(make, site.away_machine, at(MONDAY, 12), at(MONDAY, 13), trainer=site.trainer,
         by=site.trainer)
    assert search(db, site.company, equipment_ids=[site.machine.id]) == [
        (at(MONDAY, 8), at(MONDAY, 18), ())]
    assert search(db, site.company, equipment_ids=[site.machine.id], with_trainer=True) == [
        (at(MONDAY, 8), at(MONDAY, 11), ()), (at(MONDAY, 14), at(MONDAY, 18), ())]
    with pytest.raises(Forbidden):
        search(db, site.company, equipment_ids=[site.machine.id], trainer_id=site.trainer.id)


def test_the_past_is_not_offered(db, site) -> None:
    # NOW is Tuesday 12 January 2027, 09:00 in Paris.
    found = search(db, site.coordinator, equipment_ids=[site.machine.id],
                   start=at(date(2027, 1, 12), 0), end=at(date(2027, 1, 13), 0))
    assert found == [(at(date(2027, 1, 12), 9), at(date(2027, 1, 12), 18),
                      (site.trainer.id,))]


@pytest.mark.parametrize(("kw", "field"), [
    ({"end": at(MONDAY, 0)}, "to"),
    ({"end": at(MONDAY + timedelta(days=94), 0)}, "to"),
    ({"equipment_ids": None}, "equipment_id"),
    ({"category": EquipmentCategory.ROOM}, "category"),
    ({"trainer_id": 2**31 - 1}, "trainer_id"),
])
def test_bad_searches_name_their_field(db, site, kw, field) -> None:
    kw = {"equipment_ids": [site.machine.id], **kw}
    with pytest.raises(ValidationError) as refused:
        search(db, site.coordinator, **kw)
    assert refused.value.details["field"] == field


def test_an_unknown_machine_is_404(db, site) -> None:
    with pytest.raises(NotFound):
        search(db, site.coordinator, equipment_ids=[site.machine.id, 2**31 - 1])


def test_the_statements_do_not_grow_with_machines_and_trainers(db, make, site) -> None:
    def add(n: int) -> None:
        for _ in range(n):
            machine = make.equipment(establishment=site.home)
            machine.required_certification_types = [site.ctype]
            line = make.equipment(establishment=site.home,
                                  category=EquipmentCategory.PILOT_LINE)
            make.equipment(establishment=site.home, parent=line)
            trainer = make.user(Role.TRAINER, establishment=site.home)
            make.certification(trainer, site.ctype)
            away = make.equipment(establishment=site.away)
            book(make, away, at(MONDAY, 12), at(MONDAY, 13), trainer=trainer, by=trainer)
            book(make, machine, at(MONDAY, 9), at(MONDAY, 10), trainer=trainer, by=trainer)

    def counted() -> tuple[int, int]:
        db.expire_all()
        with count_statements(db) as seen:
            found = find_slots(db, actor=site.coordinator, now=NOW, start=at(MONDAY, 0),
                               end=at(MONDAY, 0) + timedelta(days=28), minutes=60,
                               establishment_id=site.home.id)
        return len(seen), len(found.items)

    add(2)
    few, few_items = counted()
    add(10)
    many, many_items = counted()
    assert many_items > few_items
    assert many == few, (few, many)


def test_the_grid_is_the_local_one_on_the_day_clocks_change(db, make, site) -> None:
    from models import OpeningHours

    sunday = date(2027, 3, 28)  # 02:00 becomes 03:00 in Paris
    machine = make.equipment(establishment=site.home, hours=None, slot_minutes=60,
                             min_minutes=60)
    machine.opening_hours = [OpeningHours(weekday=6, opens=time(0), closes=time(23))]
    db.add(Closure(equipment_id=machine.id, start_at=at(sunday, 0, 15),
                   end_at=at(sunday, 3, 45), reason="Réglage", kind=ClosureKind.OTHER))
    db.flush()
    found = search(db, site.coordinator, equipment_ids=[machine.id], with_trainer=False,
                   start=at(sunday, 0), end=at(sunday + timedelta(days=1), 0))
    assert [(s, e) for s, e, _ in found] == [(at(sunday, 4), at(sunday, 23))]
    assert found[0][0].utcoffset() == timedelta(hours=2)
    assert found[0][0].isoformat() == "2027-03-28T04:00:00+02:00"
