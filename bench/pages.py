"""Benchmark of the main pages of each role (issue 16, part 1).

Generates, in one database, three establishments of 50, 332 and 1,000
machines (``--machines``), each machine open Monday to Friday 08:00–18:00
(Europe/Paris), every tenth one a pilot line with two components, one
trainer per machine, and a booking history around the measured week: three
bookings per machine per open day (of four daily slots) over five weeks, a
maintenance closure on a few machines. Rows go in with bulk Core inserts
through the migrated schema (its triggers and constraints check every row).

Then it times, through ``app.test_client()`` with one logged-in session per
role (an admin, the coordinator of each site, a trainer, a company user),
the pages each role opens: a site's day and week views, a machine's week,
the sites index, the equipment list, « my bookings », the booking form, the
dashboard, the planning form and, for a coordinator, the utilisation report. For
each page: the median time (repetitions alternate between the pages, so
drift hits them all), the time per machine shown, the SQL statements sent
(a ``before_cursor_execute`` listener on the engine) and the response size.

The ratio the issue asks to be ≤ 1: a site view's time per machine shown
over one machine's week, both measured in the same run.

    .venv/bin/python bench/pages.py                              # SQLite, temporary file
    .venv/bin/python bench/pages.py --machines 50,332 --repeat 5
    .venv/bin/python bench/pages.py --database-url \\
        postgresql://postgres@127.0.0.1:5432/bench_pages          # an empty database
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert, select, update

from bench.campus import PARIS, Stored, loading, raw
from bench.engine import code_version, make_app, migrate, table
from booking.auth.passwords import hash_password
from booking.extensions import db
from booking.services.equipment import hours
from booking.timeutil import frozen
from config import database_url
from models import (
    Booking,
    BookingPurpose,
    BookingStatus,
    Closure,
    ClosureKind,
    Company,
    Equipment,
    EquipmentCategory,
    Establishment,
    EstablishmentKind,
    Occupancy,
    OpeningHours,
    Role,
    User,
)

# The measured week, and the clock: its Wednesday, mid-morning.
MONDAY = date(2026, 3, 9)
DAY = MONDAY + timedelta(days=2)
NOW = datetime.combine(DAY, clock(10, 15), tzinfo=PARIS).astimezone(UTC)
WEEKS_BEFORE, WEEKS_AFTER = 3, 2  # history around the measured week
SLOTS = ((clock(8, 0), 120), (clock(10, 30), 120), (clock(13, 0), 120), (clock(15, 30), 120))
PASSWORD = "bench pages password"  # noqa: S105 - a throwaway database
CHUNK = 10_000
BUDGET_S = 2.0  # per page and size: fewer repetitions for the slow pages


# --- the establishment ------------------------------------------------------------


@dataclass
class Site:
    id: int
    number: int
    machines: list[int]  # ids, in insertion order
    coordinator: str = ""  # e-mail
    trainer: str = ""  # the trainer of its first machine
    company: str = ""


def _users(conn: Any, rows: list[dict[str, Any]], created: datetime, password_hash: str
           ) -> None:
    conn.execute(insert(User), [{
        "name": r["email"].split("@")[0], "password_hash": password_hash, "active": True,
        "locale": "fr", "reminder_hours": 24, "created_at": created,
        "password_changed_at": created, "establishment_id": None, "company_id": None, **r}
        for r in rows])


def create_site(conn: Any, number: int, machines: int, password_hash: str,
                company_id: int) -> Site:
    created = NOW - timedelta(days=400)
    conn.execute(insert(Establishment), [{
        "code": f"PG{number:03d}", "name": f"Site de {machines} machines", "city": "Lyon",
        "department": "69", "kind": next(iter(EstablishmentKind)), "timezone": "Europe/Paris",
        "created_at": created}])
    site_id = conn.scalar(select(Establishment.id).where(Establishment.code == f"PG{number:03d}"))
    categories = list(EquipmentCategory)
    conn.execute(insert(Equipment), [
        {"code": f"S{number}M{n:04d}", "name": f"Machine {n:04d}", "description": "",
         "location": "", "establishment_id": site_id,
         "category": EquipmentCategory.PILOT_LINE if n % 10 == 0 else categories[n % 4 + 1],
         "status": "maintenance" if n % 97 == 5 else "active", "status_reason": "",
         "parent_id": None, "capacity": 12, "slot_minutes": 30, "min_minutes": 30,
         "max_minutes": 480, "changeover_minutes": (0, 15, 30)[n % 3],
         "requires_approval": n % 7 == 0, "open_on_holidays": False,
         "approval_deadline_hours": 72, "created_at": created, "updated_at": created}
        for n in range(machines)])
    ids = list(conn.scalars(select(Equipment.id).where(Equipment.establishment_id == site_id)
                            .order_by(Equipment.id)))
    for line in range(0, len(ids) - 2, 10):  # a line, then its two components
        conn.execute(update(Equipment).where(Equipment.id.in_(ids[line + 1:line + 3]))
                     .values(parent_id=ids[line]))
    conn.execute(insert(OpeningHours), [
        {"equipment_id": m, "weekday": w, "opens": clock(8), "closes": clock(18)}
        for m in ids for w in range(5)])
    site = Site(site_id, number, ids, coordinator=f"coord.{number}@bench.invalid",
                trainer=f"trainer.{number}.0@bench.invalid",
                company=f"company.{number}@bench.invalid")
    _users(conn, [{"email": site.coordinator, "role": Role.COORDINATOR,
                   "establishment_id": site_id},
                  {"email": site.company, "role": Role.COMPANY, "company_id": company_id}]
           + [{"email": f"trainer.{number}.{n}@bench.invalid", "role": Role.TRAINER,
               "establishment_id": site_id} for n in range(len(ids))], created, password_hash)
    closure_day = datetime.combine(DAY, clock(13), tzinfo=PARIS).astimezone(UTC)
    conn.execute(insert(Closure), [
        {"establishment_id": None, "equipment_id": m, "start_at": closure_day,
         "end_at": closure_day + timedelta(hours=3), "kind": ClosureKind.MAINTENANCE,
         "reason": "Étalonnage", "source_uid": None, "created_by_id": None,
         "created_at": created} for m in ids[3::40]])
    return site


def book_history(conn: Any, site: Site, company_user_id: int) -> int:
    """Three of the four daily slots of each open day, per machine, for the
    weeks around the measured one; a component is booked when its line is not
    (the line holds it), every twentieth booking is the company user's."""
    trainers = dict(conn.execute(
        select(User.email, User.id).where(User.establishment_id == site.id,
                                          User.role == Role.TRAINER)).all())
    number = site.number
    trainer_of = [trainers[f"trainer.{number}.{n}@bench.invalid"]
                  for n in range(len(site.machines))]
    parents = dict(conn.execute(select(Equipment.id, Equipment.parent_id).where(
        Equipment.establishment_id == site.id)).all())
    changeovers = dict(conn.execute(select(Equipment.id, Equipment.changeover_minutes).where(
        Equipment.establishment_id == site.id)).all())
    index = {m: n for n, m in enumerate(site.machines)}
    stored = Stored(conn)
    first = MONDAY - timedelta(weeks=WEEKS_BEFORE)
    days = [first + timedelta(days=n) for n in range(7 * (WEEKS_BEFORE + 1 + WEEKS_AFTER))]
    days = [d for d in days if d.weekday() < 5 and hours.holiday_name(d) is None]
    next_id = (conn.scalar(select(func.max(Booking.id))) or 0) + 1
    rows = []
    for machine in site.machines:
        n = index[machine]
        line = parents[machine]
        for d_index, day in enumerate(days):
            skipped = (n + d_index) % 4
            for slot, (start_time, minutes) in enumerate(SLOTS):
                # A component's line books the slot the component leaves free.
                if slot == skipped if line is None else slot != (index[line] + d_index) % 4:
                    continue
                start = datetime.combine(day, start_time, tzinfo=PARIS).astimezone(UTC)
                rows.append((start, machine, minutes, n))
    rows.sort(reverse=True)  # latest first: SQLite's overlap trigger reads less
    bookings, occupancies = [], []
    confirmed, pending = BookingStatus.CONFIRMED.value, BookingStatus.PENDING.value
    for start, machine, minutes, n in rows:
        end = start + timedelta(minutes=minutes)
        status = pending if (next_id % 13 == 0 and start > NOW) else confirmed
        booker = company_user_id if next_id % 20 == 0 else trainer_of[n]
        created = stored(start - timedelta(days=21))
        bookings.append({
            "id": next_id, "uid": f"pages-{next_id}@bench.invalid", "equipment_id": machine,
            "start_at": stored(start), "end_at": stored(end), "title": f"Séance {next_id}",
            "purpose": BookingPurpose.TRAINING.value, "status": status,
            "booked_by_id": booker, "trainer_id": trainer_of[n], "sequence": 0,
            "certification_flag": False, "created_at": created, "updated_at": created})
        occupancies.append({
            "booking_id": next_id, "booking_status": status, "equipment_id": machine,
            "starts_at": stored(start),
            "ends_at": stored(end + timedelta(minutes=changeovers[machine]))})
        next_id += 1
        if len(bookings) == CHUNK:
            conn.execute(insert(raw(Booking)), bookings)
            conn.execute(insert(raw(Occupancy)), occupancies)
            bookings, occupancies = [], []
    if bookings:
        conn.execute(insert(raw(Booking)), bookings)
        conn.execute(insert(raw(Occupancy)), occupancies)
    return len(rows)


def generate(app: Flask, sizes: list[int]) -> list[Site]:
    sites = []
    with app.app_context(), loading(db.engine) as conn:
        password_hash = hash_password(PASSWORD)
        conn.execute(insert(Company).values(name="Entreprise du banc"))
        company_id = conn.scalar(select(Company.id))
        _users(conn, [{"email": "admin@bench.invalid", "role": Role.ADMIN}],
               NOW - timedelta(days=400), password_hash)
        for number, size in enumerate(sizes, start=1):
            sites.append(create_site(conn, number, size, password_hash, company_id))
        total = 0
        for site in sites:
            company_user = conn.scalar(select(User.id).where(User.email == site.company))
            total += book_history(conn, site, company_user)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('booking', 'id'), "
                                 "(SELECT max(id) FROM booking))")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        else:
            with db.engine.begin() as c:
                c.exec_driver_sql("ANALYZE")
    print(f"{sum(sizes):,} machines, {total:,} bookings "
          f"({WEEKS_BEFORE + 1 + WEEKS_AFTER} weeks around the week of {MONDAY})",
          file=sys.stderr, flush=True)
    return sites


# --- measuring --------------------------------------------------------------------


@dataclass
class Page:
    role: str
    name: str
    url: str
    machines: int = 0  # machines shown, for the time per machine
    site: int = 0  # the size it belongs to (0: not a site page)
    times_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU: the load matters less
    statements: list[int] = field(default_factory=list)
    size: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def per_machine(self) -> float | None:
        return self.median / self.machines if self.machines else None

    @property
    def cpu_per_machine(self) -> float | None:
        return self.cpu / self.machines if self.machines else None


class Counter:
    """Statements sent by the engine while counting (every connection)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


def log_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    if token is None:
        raise AssertionError("no CSRF token on the login page")
    answer = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                              "csrf_token": token.group(1)})
    if answer.status_code != 302:
        raise AssertionError(f"login of {email}: {answer.status_code}")
    return client


def pages_of(sites: list[Site], shown: dict[int, int]) -> Iterator[Page]:
    """Per role, its pages; the site views once per size, the others on the
    largest site (they do not show a site's machines)."""
    big = sites[-1]
    machine = big.machines[len(big.machines) // 2 + 1]
    when = DAY.isoformat()
    for role in ("admin", "coordinator", "trainer", "company"):
        for site in sites:
            for view in ("day", "week"):
                yield Page(role, f"site {view}", f"/sites/{site.id}?view={view}&date={when}",
                           shown[site.id], site.id)
        yield Page(role, "machine week", f"/equipment/{machine}?view=week&date={when}", 1)
        yield Page(role, "sites index", "/sites")
        yield Page(role, "equipment list", "/equipment")
        yield Page(role, "my bookings", "/bookings/mine")
        yield Page(role, "booking form", f"/bookings/new?equipment={machine}&date={when}"
                                         "&start=16:00")
        yield Page(role, "dashboard", "/dashboard")
        yield Page(role, "planning form", "/planning")
        if role == "coordinator":  # the admin's covers every site: the same work, bigger
            yield Page(role, "utilisation report", "/reports")


def measure(app: Flask, sites: list[Site], repeat: int) -> list[Page]:
    with app.app_context():
        shown = {s.id: db.session.scalar(select(func.count(Equipment.id)).where(
            Equipment.establishment_id == s.id)) for s in sites}
        db.session.remove()
        counter = Counter(db.engine)
    clients = {"admin": log_in(app, "admin@bench.invalid"),
               "trainer": log_in(app, sites[-1].trainer),
               "company": log_in(app, sites[-1].company)}
    coordinators = {s.id: log_in(app, s.coordinator) for s in sites}
    pages = list(pages_of(sites, shown))

    def client_of(page: Page) -> FlaskClient:
        if page.role == "coordinator":
            return coordinators[page.site or sites[-1].id]
        return clients[page.role]

    def once(page: Page) -> None:
        client = client_of(page)
        before = counter.count
        cpu, started = time.process_time(), time.perf_counter()
        answer = client.get(page.url)
        elapsed = (time.perf_counter() - started) * 1000
        page.cpu_ms.append((time.process_time() - cpu) * 1000)
        if answer.status_code != 200:
            raise AssertionError(f"{page.role} {page.url}: {answer.status_code}")
        page.times_ms.append(elapsed)
        page.statements.append(counter.count - before)
        page.size = len(answer.get_data())

    warmed = set()
    for page in pages:  # warm up each kind of page once: templates compiled, caches filled
        if (page.role, page.name) not in warmed:
            warmed.add((page.role, page.name))
            once(page)
            page.times_ms.clear()
            page.cpu_ms.clear()
            page.statements.clear()
    gc.collect()
    gc.freeze()
    # Round-robin: each round times every page once, so load drifts hit all.
    spent: dict[int, float] = {}
    for n in range(repeat):
        for page in pages if n % 2 else reversed(pages):
            if n >= 3 and spent.get(id(page), 0) > BUDGET_S * 1000:
                continue
            once(page)
            spent[id(page)] = spent.get(id(page), 0) + page.times_ms[-1]
    return pages


# --- output -----------------------------------------------------------------------


def report(pages: list[Page], sites: list[Site], shown: dict[int, int]) -> None:
    def kb(size: int) -> str:
        return f"{size / 1024:.0f} kB"

    def statements(page: Page) -> str:
        low, high = min(page.statements), max(page.statements)
        return str(low) if low == high else f"{low}–{high}"

    size_of = {s.id: shown[s.id] for s in sites}
    rows = []
    for page in pages:
        name = page.name + (f" ({size_of[page.site]})" if page.site else "")
        per = page.per_machine
        rows.append([page.role, name, f"{page.median:.1f}", f"{per:.2f}" if per else "",
                     f"{page.cpu:.1f}", statements(page), kb(page.size),
                     str(len(page.times_ms))])
    table(["role", "page (machines shown)", "median ms", "ms / machine", "CPU ms",
           "statements", "size", "runs"], rows)
    print("\nsite view per machine shown / machine week (the issue's aim: ≤ 1)\n")
    week = {p.role: p for p in pages if p.name == "machine week"}
    ratios = []
    for page in pages:
        if not page.site:
            continue
        one = week[page.role]
        ratios.append([page.role, f"{page.name} ({size_of[page.site]})",
                       f"{page.per_machine:.2f}", f"{one.median:.1f}",
                       f"{page.per_machine / one.median:.3f}",
                       f"{page.cpu_per_machine / one.cpu:.3f}",
                       f"{page.median / one.median:.1f}"])
    table(["role", "page", "ms / machine", "machine week ms", "ratio",
           "ratio (CPU)", "whole page / machine week"], ratios)
    print("\nratio: a site view's median time per machine shown over one machine's week "
          "(median), same role, same run; CPU: the same with this process's CPU time")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", default="50,332,1000",
                        type=lambda s: [int(n) for n in s.split(",") if n.strip()],
                        help="machines of each generated site (default 50,332,1000)")
    parser.add_argument("--database-url",
                        help="PostgreSQL: an empty database, e.g. "
                             "postgresql://postgres@127.0.0.1:5432/bench_pages")
    parser.add_argument("--repeat", type=int, default=9,
                        help="timed repetitions per page, fewer for the slowest (default 9)")
    parser.add_argument("--keep", action="store_true",
                        help="SQLite: keep the temporary database file")
    args = parser.parse_args(argv)
    if args.repeat < 3 or not args.machines or min(args.machines) < 3:
        parser.error("need --repeat 3 or more and sites of 3 machines or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/pages.py",
                                                  *(sys.argv[1:] if argv is None else argv)])
    print(f"$ {command}")
    print(f"code: {code_version()}")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), sites of "
          f"{', '.join(map(str, args.machines))} machines, up to {args.repeat} repetitions")
    workdir = None
    if args.database_url:
        url = database_url(args.database_url)
    else:
        workdir = tempfile.mkdtemp(prefix="plateforme-pages-")
        url = f"sqlite:///{workdir}/bench.sqlite"
    try:
        with frozen(NOW):
            app = make_app(url)
            migrate(app)
            with app.app_context():
                print(f"database: {db.engine.dialect.name}")
            sites = generate(app, args.machines)
            with app.app_context():
                shown = {s.id: db.session.scalar(select(func.count(Equipment.id)).where(
                    Equipment.establishment_id == s.id)) for s in sites}
                db.session.remove()
            print(f"generated in {time.perf_counter() - started:.0f} s; measuring...",
                  file=sys.stderr, flush=True)
            pages = measure(app, sites, args.repeat)
        print()
        report(pages, sites, shown)
    finally:
        if workdir is not None:
            if args.keep:
                print(f"database kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s, {time.process_time():.0f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
