"""A generated campus for the benchmark, written with bulk Core inserts.

Establishments, equipment open Monday to Friday 08:00–18:00 (Europe/Paris), one
trainer per machine (the benchmark's own trainer trains the first machine's
history and books the new bookings), a Christmas closure per establishment and
year, and confirmed bookings, each with its occupancy row, spread over three
years of history that ends at :data:`NOW`. A machine's bookings never overlap,
so neither do its trainer's: the trainer guard (migration 0010) checks every row.
Every booking is two hours on one of four daily slots
(08:00, 10:30, 13:00, 15:30), so bookings of one machine never overlap, even
with a changeover of up to 30 minutes. Public holidays and closed days get no
booking.

The campus grows: :meth:`Campus.grow` adds bookings to the same machines over
the same three years until the wanted total is reached, so a bigger size means
a longer history per machine, not more machines. The order in which a
machine's bookings are added (bit-reversed) keeps every intermediate size
evenly spread over the period.

Nothing of the schema is bypassed: the overlap trigger (SQLite), the exclusion
constraint (PostgreSQL), the CHECKs and the foreign keys check every row; the
values are those the app's column types write (see :class:`Stored`). Rows are
inserted latest first, so SQLite's overlap trigger, which reads every earlier
occupancy of the machine, finds little to read while loading.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import column, func, insert, select, table, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.expression import TableClause

from booking.services.equipment import hours
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    ClosureKind,
    Equipment,
    EquipmentCategory,
    Establishment,
    EstablishmentKind,
    Occupancy,
    OpeningHours,
    Role,
    User,
    UTCDateTime,
)

PARIS = ZoneInfo("Europe/Paris")
# Three years of history; the benchmark's clock stands at its end.
FIRST_DAY = date(2023, 1, 2)  # a Monday
END_DAY = date(2026, 1, 1)  # exclusive
NOW = datetime.combine(END_DAY, time(0), tzinfo=PARIS).astimezone(UTC)
# (start, minutes) of the daily slots, local time; 30 minutes apart at least.
SLOTS = ((time(8, 0), 120), (time(10, 30), 120), (time(13, 0), 120), (time(15, 30), 120))
CHANGEOVERS = (0, 15, 30)  # minutes, cycled over the machines
CATEGORIES = (EquipmentCategory.TRAINING_EQUIPMENT, EquipmentCategory.ANALYSIS_INSTRUMENT,
              EquipmentCategory.ROOM, EquipmentCategory.PILOT_LINE, EquipmentCategory.OTHER)
KINDS = tuple(EstablishmentKind)
TRAINER_EMAIL = "bench.trainer@plateforme.invalid"
TRAINER_PASSWORD = "bench trainer password"  # noqa: S105 - a throwaway database
CHUNK = 10_000
COPY_CHUNK = 100_000  # rows per COPY (PostgreSQL)
LOAD_CACHE_KIB = 256 * 1024


def christmas_days(year: int) -> tuple[date, date]:
    """The establishments' yearly closure: 24 December to 1 January, inclusive."""
    return date(year, 12, 24), date(year + 1, 1, 1)


def closed_days(first: date, last: date) -> set[date]:
    days: set[date] = set()
    for year in range(first.year - 1, last.year + 1):
        start, end = christmas_days(year)
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return days


def open_days(first: date, end: date) -> list[date]:
    """Weekdays of [first, end) that are neither public holidays nor closed."""
    closed = closed_days(first, end)
    days = []
    day = first
    while day < end:
        if day.weekday() < 5 and day not in closed and hours.holiday_name(day) is None:
            days.append(day)
        day += timedelta(days=1)
    return days


def slot_times(day: date, slot: int) -> tuple[datetime, datetime]:
    start_time, minutes = SLOTS[slot]
    start = datetime.combine(day, start_time, tzinfo=PARIS).astimezone(UTC)
    return start, start + timedelta(minutes=minutes)


def bit_reversed(count: int) -> list[int]:
    """0 .. count-1 ordered so that every prefix is spread evenly over the range."""
    bits = max(1, (count - 1).bit_length())
    return sorted(range(count), key=lambda i: int(f"{i:0{bits}b}"[::-1], 2))


@dataclass
class Machine:
    id: int
    establishment_id: int
    changeover: int


@dataclass
class Campus:
    """The ids of what was generated, and where the bookings stand."""

    establishment_ids: list[int]
    machines: list[Machine]
    trainer_id: int
    target: int  # bookings at the largest size: fixes where each booking goes
    trainer_ids: list[int] = field(default_factory=list)  # each machine's trainer
    loaded: int = 0
    plan: list[tuple[int, int]] = field(default_factory=list)  # (machine index, rank)

    def machines_of(self, establishment_id: int) -> list[Machine]:
        return [m for m in self.machines if m.establishment_id == establishment_id]

    # --- bookings ----------------------------------------------------------

    def _per_machine(self, index: int) -> int:
        base, extra = divmod(self.target, len(self.machines))
        return base + (1 if index < extra else 0)

    def _make_plan(self) -> None:
        """Every booking of the largest size, in the order they are added: the
        first n of the list are the campus of n bookings."""
        counts = [self._per_machine(index) for index in range(len(self.machines))]
        orders = {count: bit_reversed(count) for count in set(counts)}
        self.plan = [(index, orders[count][position])
                     for position in range(max(counts))
                     for index, count in enumerate(counts) if position < count]

    def grow(self, conn: Connection, total: int) -> int:
        """Add bookings until the campus has ``total`` generated ones; return
        how many were added."""
        if total > self.target:
            raise ValueError(f"{total} bookings is more than the planned {self.target}")
        if not self.plan:
            self._make_plan()
        grid = [(day, slot) for day in open_days(FIRST_DAY, END_DAY)
                for slot in range(len(SLOTS))]
        if max(self._per_machine(0), 1) > len(grid):
            raise ValueError(f"{self._per_machine(0)} bookings per machine do not fit in "
                             f"{len(grid)} slots of three years")
        stored = Stored(conn)
        # Per cell of the grid: start, end, and the creation date, as stored.
        cells = []
        for day, slot in grid:
            start, end = slot_times(day, slot)
            cells.append((stored(start), stored(end), stored(start - timedelta(days=21)),
                          {c: stored(end + timedelta(minutes=c)) for c in CHANGEOVERS}))
        rows = []
        for index, rank in self.plan[self.loaded:total]:
            # Evenly spaced over the period, shifted per machine.
            count = self._per_machine(index)
            rows.append(((rank * len(grid) // count + index * 7) % len(grid), index))
        rows.sort(reverse=True)  # latest first: see the module's docstring
        next_id = (conn.scalar(select(func.max(Booking.id))) or 0) + 1
        if conn.dialect.name == "postgresql":
            self._copy(conn, rows, cells, next_id)
            self.loaded = total
            return len(rows)
        confirmed, training = BookingStatus.CONFIRMED.value, BookingPurpose.TRAINING.value
        booking_table, occupancy_table = raw(Booking), raw(Occupancy)
        for chunk_start in range(0, len(rows), CHUNK):
            bookings, occupancies = [], []
            for cell, index in rows[chunk_start:chunk_start + CHUNK]:
                machine = self.machines[index]
                start, end, created, held_until = cells[cell]
                bookings.append({
                    "id": next_id, "uid": f"bench-{next_id}@plateforme.invalid",
                    "equipment_id": machine.id, "start_at": start, "end_at": end,
                    "title": "Session", "purpose": training, "status": confirmed,
                    "booked_by_id": self.trainer_id, "trainer_id": self.trainer_ids[index],
                    "sequence": 0, "certification_flag": False,
                    "created_at": created, "updated_at": created,
                })
                occupancies.append({
                    "booking_id": next_id, "booking_status": confirmed,
                    "equipment_id": machine.id, "starts_at": start,
                    "ends_at": held_until[machine.changeover],
                })
                next_id += 1
            conn.execute(insert(booking_table), bookings)
            conn.execute(insert(occupancy_table), occupancies)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('booking', 'id'), "
                              "(SELECT max(id) FROM booking))"))
        self.loaded = total
        return len(rows)

    def _copy(self, conn: Connection, rows: list[tuple[int, int]], cells: list[Any],
              next_id: int) -> None:
        """PostgreSQL: the rows as COPY text, written in large blocks (the
        Core insert of lists of dicts spent most of its time building
        parameters). The constraints and indexes check every row all the same."""
        text_cells = [(start.isoformat(), end.isoformat(), created.isoformat(),
                       {c: until.isoformat() for c, until in held.items()})
                      for start, end, created, held in cells]
        cursor = conn.connection.driver_connection.cursor()
        with checks_rebuilt_after(conn, ("booking", "occupancy")):
            self._copy_rows(cursor, rows, text_cells, next_id)
        conn.execute(text("SELECT setval(pg_get_serial_sequence('booking', 'id'), "
                          "(SELECT max(id) FROM booking))"))

    def _copy_rows(self, cursor: Any, rows: list[tuple[int, int]], text_cells: list[Any],
                   next_id: int) -> None:
        confirmed, training = BookingStatus.CONFIRMED.value, BookingPurpose.TRAINING.value
        for chunk_start in range(0, len(rows), COPY_CHUNK):
            bookings, occupancies = [], []
            for cell, index in rows[chunk_start:chunk_start + COPY_CHUNK]:
                machine = self.machines[index]
                start, end, created, held_until = text_cells[cell]
                bookings.append(
                    f"{next_id}\tbench-{next_id}@plateforme.invalid\t{machine.id}\t{start}\t"
                    f"{end}\tSession\t{training}\t{confirmed}\t{self.trainer_id}\t"
                    f"{self.trainer_ids[index]}\t0\tf\t{created}\t{created}\n")
                occupancies.append(f"{next_id}\t{confirmed}\t{machine.id}\t{start}\t"
                                   f"{held_until[machine.changeover]}\n")
                next_id += 1
            with cursor.copy("COPY booking (id, uid, equipment_id, start_at, end_at, title, "
                             "purpose, status, booked_by_id, trainer_id, sequence, "
                             "certification_flag, created_at, updated_at) FROM STDIN") as copy:
                copy.write("".join(bookings))
            with cursor.copy("COPY occupancy (booking_id, booking_status, equipment_id, "
                             "starts_at, ends_at) FROM STDIN") as copy:
                copy.write("".join(occupancies))


@contextmanager
def checks_rebuilt_after(conn: Connection, tables: tuple[str, ...]) -> Iterator[None]:
    """PostgreSQL: drop the tables' exclusion constraints and foreign keys,
    load, then add them back: each is then checked once over all the rows
    (a constraint added back refuses the load if any row breaks it), faster
    than row by row at millions of rows. Primary keys, unique constraints,
    indexes and triggers stay in place (the trainer trigger reads an index)."""
    names = ", ".join(f"'{t}'::regclass" for t in tables)
    constraints = conn.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid IN ({names}) AND contype IN ('x', 'f') ORDER BY contype DESC")).all()
    for table_name, name, _definition in constraints:
        conn.execute(text(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"'))
    yield
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
    for table_name, name, definition in reversed(constraints):
        conn.exec_driver_sql(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}')


class Stored:
    """An instant as the app's column type writes it (UTCDateTime's own bind
    processor), computed once per distinct value: the bookings share a few
    thousand instants, and converting each of a million values is most of the
    loading time otherwise."""

    def __init__(self, conn: Connection) -> None:
        self.process = UTCDateTime().bind_processor(conn.dialect) or (lambda v: v)
        self.seen: dict[datetime, Any] = {}

    def __call__(self, value: datetime) -> Any:
        if value not in self.seen:
            self.seen[value] = self.process(value)
        return self.seen[value]


def raw(model: Any) -> TableClause:
    """The model's table without column types: values go in as already stored."""
    return table(model.__tablename__, *(column(c.name) for c in model.__table__.columns))


@contextmanager
def loading(engine: Engine) -> Iterator[Connection]:
    """One transaction for a bulk load. On SQLite its connection gets a page
    cache big enough for the indexes being filled (the default 2 MB thrashes),
    then its own size back before it returns to the pool."""
    with engine.begin() as conn:
        if conn.dialect.name != "sqlite":
            yield conn
            return
        previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        try:
            yield conn
        finally:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")


def create_campus(conn: Connection, *, establishments: int, equipment: int, target: int,
                  password_hash: str) -> Campus:
    """Establishments, machines with their hours, the trainer and the closures."""
    if establishments < 1 or equipment < establishments:
        raise ValueError("need at least one establishment and one machine per establishment")
    created = NOW - timedelta(days=4 * 365)
    conn.execute(insert(Establishment), [
        {"code": f"ET{n:03d}", "name": f"Établissement {n}", "city": "Lyon",
         "department": "69", "kind": KINDS[n % len(KINDS)], "timezone": "Europe/Paris",
         "created_at": created}
        for n in range(1, establishments + 1)
    ])
    establishment_ids = list(conn.scalars(select(Establishment.id).order_by(Establishment.id)))
    conn.execute(insert(Equipment), [
        {"code": f"EQ{n:05d}", "name": f"Machine {n}", "description": "", "location": "",
         "establishment_id": establishment_ids[n % establishments],
         "category": CATEGORIES[n % len(CATEGORIES)], "status": "active",
         "status_reason": "", "parent_id": None, "capacity": 12, "slot_minutes": 30,
         "min_minutes": 30, "max_minutes": 480,
         "changeover_minutes": CHANGEOVERS[n % len(CHANGEOVERS)],
         "requires_approval": False, "open_on_holidays": False,
         "approval_deadline_hours": 72, "created_at": created, "updated_at": created}
        for n in range(equipment)
    ])
    machines = [Machine(*row) for row in conn.execute(
        select(Equipment.id, Equipment.establishment_id, Equipment.changeover_minutes)
        .order_by(Equipment.id))]
    for start in range(0, len(machines), CHUNK // 5):
        conn.execute(insert(OpeningHours), [
            {"equipment_id": m.id, "weekday": weekday, "opens": time(8), "closes": time(18)}
            for m in machines[start:start + CHUNK // 5] for weekday in range(5)
        ])
    conn.execute(insert(User), [{
        "email": TRAINER_EMAIL, "name": "Bench Trainer", "role": Role.TRAINER,
        "password_hash": password_hash, "establishment_id": establishment_ids[0],
        "company_id": None, "active": True, "locale": "fr", "reminder_hours": 24,
        "created_at": created, "password_changed_at": created,
    }])
    trainer_id = conn.scalar(select(User.id).where(User.email == TRAINER_EMAIL))
    conn.execute(insert(User), [{
        "email": f"bench.trainer.{n}@plateforme.invalid", "name": f"Formateur {n}",
        "role": Role.TRAINER, "password_hash": password_hash,
        "establishment_id": machine.establishment_id, "company_id": None, "active": True,
        "locale": "fr", "reminder_hours": 24, "created_at": created,
        "password_changed_at": created,
    } for n, machine in enumerate(machines) if n])
    others = dict(conn.execute(select(User.email, User.id).where(User.id != trainer_id)).all())
    trainer_ids = [trainer_id] + [others[f"bench.trainer.{n}@plateforme.invalid"]
                                  for n in range(1, len(machines))]
    closures = []
    for year in range(FIRST_DAY.year - 1, END_DAY.year + 1):
        first, last = christmas_days(year)
        start = datetime.combine(first, time(0), tzinfo=PARIS).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=PARIS).astimezone(UTC)
        closures.extend(
            {"establishment_id": est, "equipment_id": None, "start_at": start, "end_at": end,
             "kind": ClosureKind.HOLIDAYS, "reason": "Fermeture de Noël",
             "source_uid": f"christmas-{year}", "created_by_id": None, "created_at": created}
            for est in establishment_ids)
    conn.execute(insert(Closure), closures)
    return Campus(establishment_ids, machines, trainer_id, target, trainer_ids=trainer_ids)


def future_slots(campus: Campus, establishment_id: int) -> Iterator[tuple[Machine, datetime,
                                                                          datetime]]:
    """Free slots after :data:`NOW` on the machines of one establishment, never
    twice the same: day by day, slot by slot, one machine per slot in turn (the
    benchmark's trainer books them all and is never in two places at once)."""
    machines = campus.machines_of(establishment_id)
    turn = 0
    for day in open_days(END_DAY, END_DAY + timedelta(days=390)):
        for slot in range(len(SLOTS)):
            start, end = slot_times(day, slot)
            yield machines[turn % len(machines)], start, end
            turn += 1
    raise RuntimeError("no free slot left within the booking horizon")
