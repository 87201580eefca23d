"""A site's day and week pages send as many SQL statements for 560 machines
and their bookings as for 2 (issue 16), for each role that opens them, with
and without the « trouver N h libres » search.

Past 500 machines on purpose: SQLAlchemy's selectinload sends one statement
per 500 keys, which is how the count used to grow on a region's big sites
(15 statements for 332 machines, 20 for 1,000). The many machines and
bookings are written with bulk inserts (the factory's one flush per row
would take minutes); they vary like a real site: lines with components, a
machine under maintenance, closures, pending bookings, bookings of another
company and of the viewer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, update

from booking.services.bookings.occupancy import occupancy_rows
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Establishment,
    Occupancy,
    OpeningHours,
    Role,
    User,
)
from tests.query_count import Statements, count_statements

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = date(2027, 1, 13)  # the day after the tests' NOW, in the same week
MANY = 560  # machines added: more than one selectinload batch (500)
SEARCH = "&hours=2&free_from=2027-01-13&free_to=2027-01-20"
PAGES = {
    "day": f"?view=day&date={WEDNESDAY.isoformat()}",
    "week": f"?view=week&date={WEDNESDAY.isoformat()}",
    "day + search": f"?view=day&date={WEDNESDAY.isoformat()}{SEARCH}",
    "week + search": f"?view=week&date={WEDNESDAY.isoformat()}{SEARCH}",
}


def paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


def few(make: Any, site: Establishment, viewer: User) -> None:
    """A line, its component and one booking each (the viewer's on the line)."""
    line = make.equipment(establishment=site, category=EquipmentCategory.PILOT_LINE)
    component = make.equipment(establishment=site, parent=line)
    trainer = make.user(Role.TRAINER, establishment=site)
    for machine, booker, hour in ((line, viewer, 9), (component, trainer, 14)):
        booking = Booking(uid=f"few-{machine.id}@test", equipment=machine,
                          start_at=paris(WEDNESDAY, hour),
                          end_at=paris(WEDNESDAY, hour + 2), title="Séance",
                          purpose=BookingPurpose.TRAINING, status=BookingStatus.CONFIRMED,
                          booked_by=booker, trainer=trainer if booker is trainer else None)
        booking.occupancies = occupancy_rows(booking, machine)
        make.session.add(booking)
    make.session.flush()


def many(db: Any, site: Establishment, viewer: User, stranger: User) -> None:
    """MANY machines (every tenth a line with its next two as components, one
    in 50 under maintenance), Monday to Friday 08:00–18:00, a trainer each;
    two bookings a day on Wednesday and Thursday per machine; a closure on
    every 40th machine."""
    created = datetime(2026, 1, 1, tzinfo=UTC)
    db.execute(insert(Equipment), [
        {"code": f"MANY-{n:04d}", "name": f"Machine {n:04d}", "establishment_id": site.id,
         "category": EquipmentCategory.PILOT_LINE if n % 10 == 0
         else EquipmentCategory.TRAINING_EQUIPMENT,
         "status": EquipmentStatus.MAINTENANCE if n % 50 == 7 else EquipmentStatus.ACTIVE,
         "changeover_minutes": (0, 15, 30)[n % 3], "requires_approval": n % 9 == 0,
         "created_at": created, "updated_at": created} for n in range(MANY)])
    ids = list(db.scalars(select(Equipment.id).where(Equipment.code.like("MANY-%"))
                          .order_by(Equipment.code)))
    for line in range(0, MANY - 2, 10):
        db.execute(update(Equipment).where(Equipment.id.in_(ids[line + 1:line + 3]))
                   .values(parent_id=ids[line]))
    db.execute(insert(OpeningHours), [
        {"equipment_id": m, "weekday": w, "opens": time(8), "closes": time(18)}
        for m in ids for w in range(5)])
    db.execute(insert(User), [
        {"email": f"many.trainer.{n}@example.org", "name": f"Formateur {n}",
         "role": Role.TRAINER, "password_hash": "-", "establishment_id": site.id,
         "created_at": created, "password_changed_at": created} for n in range(MANY)])
    trainers = dict(db.execute(select(User.email, User.id).where(
        User.email.like("many.trainer.%"))).all())
    line_of = {ids[n]: ids[n - n % 10] for n in range(MANY) if n % 10 in (1, 2)
               and n - n % 10 + 2 < MANY}
    bookings = []
    for n, machine in enumerate(ids):
        if machine in line_of:
            continue  # a line's booking holds its components: booked through the line
        trainer = trainers[f"many.trainer.{n}@example.org"]
        for day in (WEDNESDAY, WEDNESDAY + timedelta(days=1)):
            for hour in (9, 14):
                mine, other = n % 10 == 3 and hour == 9, n % 10 == 4
                bookings.append({
                    "uid": f"many-{machine}-{day}-{hour}@test", "equipment_id": machine,
                    "start_at": paris(day, hour), "end_at": paris(day, hour + 2),
                    "title": f"Séance {n}", "purpose": BookingPurpose.TRAINING,
                    "status": BookingStatus.PENDING if n % 6 == 5 else BookingStatus.CONFIRMED,
                    "booked_by_id": viewer.id if mine else stranger.id if other else trainer,
                    "trainer_id": None if mine else trainer, "sequence": 0,
                    "certification_flag": False, "created_at": created,
                    "updated_at": created})
    booking_ids = list(db.scalars(insert(Booking).returning(
        Booking.id, sort_by_parameter_order=True), bookings))
    changeover = dict(db.execute(select(Equipment.id, Equipment.changeover_minutes)
                                 .where(Equipment.id.in_(ids))).all())
    db.execute(insert(Occupancy), [
        {"booking_id": booking_id, "booking_status": row["status"],
         "equipment_id": machine, "starts_at": row["start_at"],
         "ends_at": row["end_at"] + timedelta(minutes=changeover[row["equipment_id"]])}
        for booking_id, row in zip(booking_ids, bookings, strict=True)
        for machine in [row["equipment_id"], *(c for c, line in line_of.items()
                                               if line == row["equipment_id"])]])
    db.execute(insert(Closure), [
        {"equipment_id": m, "start_at": paris(WEDNESDAY, 16), "end_at": paris(WEDNESDAY, 17),
         "kind": ClosureKind.MAINTENANCE, "reason": "Étalonnage", "created_at": created}
        for m in ids[5::40]])
    db.flush()


def counts(client: Any, db: Any, site: Establishment) -> dict[str, Statements]:
    seen = {}
    for name, query in PAGES.items():
        db.expire_all()  # nothing loaded beforehand, as in a new request
        with count_statements(db) as statements:
            page = client.get(f"/sites/{site.id}{query}")
        assert page.status_code == 200, name
        seen[name] = statements
    return seen


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.COMPANY])
def test_the_site_pages_send_as_many_statements_for_562_machines_as_for_2(
        client, db, make, login, now, role) -> None:
    site = make.establishment()
    viewer = make.user(role, establishment=site) if role is Role.COORDINATOR else make.user(role)
    stranger = make.user(Role.COMPANY)  # another company: « Busy » for a company viewer
    few(make, site, viewer)
    client = login(viewer)
    before = counts(client, db, site)
    many(db, site, viewer, stranger)
    after = counts(client, db, site)
    day = client.get(f"/sites/{site.id}{PAGES['day + search']}").get_data(as_text=True)
    assert day.count('class="site-row"') == MANY + 2
    assert "Étalonnage" in day
    assert 'id="free-results"' in day
    for name in PAGES:
        assert len(after[name]) == len(before[name]), (
            f"{name} as {role.value}: {len(before[name])} statements for 2 machines, "
            f"{len(after[name])} for {MANY + 2}\n--- 2 ---\n{before[name]}"
            f"\n--- {MANY + 2} ---\n{after[name]}")
