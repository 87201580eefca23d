"""Benchmark of the booking engine (``make bench``).

Generates a campus (by default "regional": 40 establishments, 2,000 machines)
and grows its history to each requested number of bookings (by default 50,000
then 500,000, over the same three years). At each size it measures, with
``time.perf_counter`` medians, each operation beside its floor, measured in the
same run on the same rows:

* availability of one machine over four weeks, against the bare indexed query
  of its occupancy rows in that window;
* availability of every machine of one establishment over one week, against
  one bare query of their occupancy rows;
* the utilisation report of one establishment over one month (booked and
  open hours per machine), against the bare aggregate query of the booked
  hours of the same occupancy rows (one SUM per machine, in the database);
* booking creation through the service (``create_booking`` and the commit),
  against a bare INSERT of a booking and its occupancy row, and the commit;
* booking creation through the HTTP API (Flask test client, bearer token),
  against ``GET /healthz`` through the same client.

Operation and floor alternate within each repetition, so drift hits both.
Every repetition starts from an empty session, as a request would. Each line
also shows the noise (interquartile range over the median) and the fastest
repetition of each, which a machine shared with other work disturbs least.

    .venv/bin/python bench/engine.py                      # SQLite, temporary file
    .venv/bin/python bench/engine.py --bookings 50000 --repeat 50
    .venv/bin/python bench/engine.py --database postgresql \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench   # an empty database
    # Issue 16: creation and availability flat from 500,000 to 5,000,000
    nice .venv/bin/python bench/engine.py --bookings 500000,5000000 --repeat 60 \\
        --database postgresql --database-url postgresql://postgres@127.0.0.1:5432/bench

On PostgreSQL the history is loaded with COPY (bench/campus.py), the
exclusion constraints and foreign keys added back after each size (so each
checks every row once); the overlap trigger of the trainer still runs per
row. See docs/performance.md for the time each size takes.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import secrets
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

from flask import Flask
from sqlalchemy import func, insert, inspect, literal, select, text
from sqlalchemy.orm import Session

from bench.campus import (
    NOW,
    PARIS,
    TRAINER_EMAIL,
    TRAINER_PASSWORD,
    Campus,
    Machine,
    create_campus,
    future_slots,
    loading,
)
from booking import create_app
from booking.auth.passwords import hash_password
from booking.database import begin_write
from booking.extensions import db
from booking.services.bookings.availability import availability, load_with_hours
from booking.services.bookings.occupancy import MAX_SPAN
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from booking.services.reports.utilisation import COUNTED, range_bounds, utilisation
from booking.timeutil import frozen
from config import ProductionConfig, database_url
from models import (
    SLOT_HOLDING_STATUSES,
    Booking,
    BookingPurpose,
    BookingStatus,
    Occupancy,
    User,
    UTCDateTime,
)

ROOT = Path(__file__).resolve().parent.parent
WARMUP = 10
# The windows, inside the generated history (which ends at NOW): its most
# recent weeks, where a range scan unbounded below would read the whole history.
FOUR_WEEKS = (datetime(2025, 11, 24, tzinfo=PARIS), datetime(2025, 12, 22, tzinfo=PARIS))
ONE_WEEK = (datetime(2025, 12, 15, tzinfo=PARIS), datetime(2025, 12, 22, tzinfo=PARIS))
ONE_MONTH = (date(2025, 11, 1), date(2025, 12, 1))  # local dates, the second excluded


# --- measuring ---------------------------------------------------------------


@dataclass
class Sample:
    times_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def best(self) -> float:
        return min(self.times_ms)

    @property
    def spread(self) -> float:
        """Interquartile range over the median: the noise of this measurement."""
        q1, _q2, q3 = statistics.quantiles(self.times_ms, n=4)
        return (q3 - q1) / self.median


@dataclass
class Result:
    operation: str
    floor_name: str
    rows: int
    op: Sample
    floor: Sample

    @property
    def ratio(self) -> float:
        return self.op.median / self.floor.median

    @property
    def best_ratio(self) -> float:
        return self.op.best / self.floor.best


def paired(repeat: int, prepare: Callable[[], Any], op: Callable[[Any], Any],
           floor_prepare: Callable[[], Any], floor: Callable[[Any], Any]
           ) -> tuple[Sample, Sample]:
    """Median-ready timings of ``op`` and ``floor``, alternated; ``prepare``
    (untimed) sets up each run and hands its result to the timed call."""
    op_ms: list[float] = []
    floor_ms: list[float] = []
    for n in range(WARMUP + repeat):
        pairs = ((prepare, op, op_ms), (floor_prepare, floor, floor_ms))
        for setup, call, sink in pairs if n % 2 else reversed(pairs):
            arg = setup()
            started = time.perf_counter()
            call(arg)
            elapsed = (time.perf_counter() - started) * 1000
            if n >= WARMUP:
                sink.append(elapsed)
    return Sample(op_ms), Sample(floor_ms)


# --- the cases ----------------------------------------------------------------


def bare_occupancies(ids: list[int], start: datetime, end: datetime) -> Any:
    """The indexed query of the occupancy rows availability() reads: the same
    index range (``starts_at`` bounded below by the longest possible row, as
    the service does), no join, no ORM objects."""
    occ = Occupancy.__table__
    return (select(occ.c.id, occ.c.booking_id, occ.c.equipment_id, occ.c.starts_at,
                   occ.c.ends_at)
            .where(occ.c.equipment_id.in_(ids),
                   occ.c.booking_status.in_(SLOT_HOLDING_STATUSES),
                   occ.c.starts_at < end, occ.c.starts_at > start - MAX_SPAN,
                   occ.c.ends_at > start)
            .order_by(occ.c.starts_at))


def availability_case(session: Session, name: str, ids: list[int], window: tuple[datetime,
                      datetime], repeat: int) -> Result:
    start, end = window

    def fresh() -> list[Any]:
        session.close()  # an empty identity map, as in a new request
        return load_with_hours(session, ids)

    stmt = bare_occupancies(ids, start, end)
    machines = fresh()
    answer = availability(session, machines, start, end)
    rows = session.execute(stmt).all()
    booked = {b.booking_id for a in answer for b in a.busy if b.reason == "booking"}
    if booked != {row.booking_id for row in rows}:
        raise AssertionError(f"{name}: availability and its floor read different bookings")
    op, floor = paired(repeat, fresh, lambda m: availability(session, m, start, end),
                       fresh, lambda _m: session.execute(stmt).all())
    return Result(name, "bare indexed query of its occupancy rows", len(rows), op, floor)


def bare_booked_hours(session: Session, ids: list[int], start: datetime, end: datetime
                      ) -> Any:
    """The booked hours of these machines in [start, end), summed by the
    database: the rows the report reads (same index range, same statuses),
    each booking clipped to the range, one SUM per machine."""
    occ, booking = Occupancy.__table__, Booking.__table__
    low, high = literal(start, UTCDateTime()), literal(end, UTCDateTime())
    if session.get_bind().dialect.name == "postgresql":
        span = func.extract("epoch", func.least(booking.c.end_at, high)
                            - func.greatest(booking.c.start_at, low)) / 3600
    else:  # SQLite's two-argument min() and max() are scalar
        span = (func.julianday(func.min(booking.c.end_at, high))
                - func.julianday(func.max(booking.c.start_at, low))) * 24
    return (select(occ.c.equipment_id, func.count(), func.sum(span))
            .join(booking, booking.c.id == occ.c.booking_id)
            .where(occ.c.equipment_id.in_(ids), booking.c.status.in_(COUNTED),
                   occ.c.starts_at < end, occ.c.starts_at > start - MAX_SPAN,
                   booking.c.end_at > start)
            .group_by(occ.c.equipment_id))


def utilisation_case(session: Session, name: str, establishment_id: int, ids: list[int],
                     month: tuple[date, date], repeat: int) -> Result:
    first, last_excluded = month

    def report(_: None) -> Any:
        return utilisation(session, first=first, last_excluded=last_excluded,
                           group_by="equipment", establishment_id=establishment_id)

    def fresh() -> None:
        session.close()  # an empty identity map, as in a new request

    stmt = bare_booked_hours(session, ids, *range_bounds(first, last_excluded))
    fresh()
    answer = {int(row.key): row.booked_hours for row in report(None) if row.booked_hours}
    sums = session.execute(stmt).all()
    if answer != {machine: round(hours, 2) for machine, _count, hours in sums}:
        raise AssertionError(f"{name}: the report and its floor count different hours")
    op, floor = paired(repeat, fresh, report, fresh, lambda _: session.execute(stmt).all())
    return Result(name, "bare aggregate query of its booked hours",
                  sum(count for _machine, count, _hours in sums), op, floor)


def service_creation_case(session: Session, campus: Campus, slots: Iterator[
        tuple[Machine, datetime, datetime]], repeat: int) -> Result:
    policy = Policy()
    booking_table, occ = Booking.__table__, Occupancy.__table__

    def fresh_writer() -> User:
        session.close()
        begin_write(session)  # as the API's write hook does, before the user loads
        return session.get(User, campus.trainer_id)

    def create(actor: User) -> None:
        machine, start, end = next(slots)
        create_booking(session, actor=actor, request=BookingRequest(
            equipment_id=machine.id, start=start, end=end, title="Bench session"),
            now=NOW, policy=policy)
        session.commit()

    def bare_insert(_actor: User) -> None:
        machine, start, end = next(slots)
        booking_id = session.execute(insert(booking_table).values(
            uid=f"bare-{secrets.token_hex(8)}@plateforme.invalid", equipment_id=machine.id,
            start_at=start, end_at=end, title="Bare session", purpose=BookingPurpose.TRAINING,
            status=BookingStatus.CONFIRMED, booked_by_id=campus.trainer_id,
            trainer_id=campus.trainer_id, sequence=0, certification_flag=False,
            created_at=NOW, updated_at=NOW)).inserted_primary_key[0]
        session.execute(insert(occ).values(
            booking_id=booking_id, booking_status=BookingStatus.CONFIRMED,
            equipment_id=machine.id, starts_at=start,
            ends_at=end + timedelta(minutes=machine.changeover)))
        session.commit()

    op, floor = paired(repeat, fresh_writer, create, fresh_writer, bare_insert)
    session.close()
    return Result("booking creation, service", "bare INSERT booking + occupancy, commit",
                  1, op, floor)


def api_creation_case(app: Flask, token: str, slots: Iterator[tuple[Machine, datetime,
                      datetime]], repeat: int) -> Result:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(_: None) -> None:
        machine, start, end = next(slots)
        response = client.post("/api/v1/bookings", headers=headers, json={
            "equipment_id": machine.id, "start": start.astimezone(PARIS).isoformat(),
            "end": end.astimezone(PARIS).isoformat(), "title": "API session"})
        if response.status_code != 201:
            raise AssertionError(f"POST /api/v1/bookings: {response.status_code} "
                                 f"{response.get_data(as_text=True)}")

    def health(_: None) -> None:
        response = client.get("/healthz")
        if response.status_code != 200:
            raise AssertionError(f"GET /healthz: {response.status_code}")

    op, floor = paired(repeat, lambda: None, post, lambda: None, health)
    return Result("booking creation, API", "GET /healthz, same client", 1, op, floor)


# --- the run --------------------------------------------------------------------


@dataclass
class SizeReport:
    bookings: int
    generated_s: tuple[float, float]  # wall, CPU
    database_mb: float
    results: list[Result]


def make_app(url: str) -> Flask:
    """The app with its production settings (no debug) on the benchmark's database."""
    overrides = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    overrides.update(DEBUG=False, SECRET_KEY=secrets.token_hex(32),
                     SQLALCHEMY_DATABASE_URI=url)
    return create_app(overrides)


def migrate(app: Flask) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        if inspect(db.engine).get_table_names():
            raise SystemExit(f"{db.engine.url.render_as_string()} is not empty: "
                             "the benchmark needs an empty database")
        upgrade()


def database_mb(session: Session) -> float:
    if session.get_bind().dialect.name == "sqlite":
        session.close()
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        session.close()
        path = session.get_bind().url.database
        return Path(path).stat().st_size / 1e6
    size = session.scalar(text("SELECT pg_database_size(current_database())"))
    session.close()
    return size / 1e6


def api_token(app: Flask) -> str:
    response = app.test_client().post("/api/v1/auth/tokens", json={
        "email": TRAINER_EMAIL, "password": TRAINER_PASSWORD})
    if response.status_code != 201:
        raise AssertionError(f"token: {response.status_code} {response.get_data(as_text=True)}")
    return response.get_json()["token"]


def pick_machine(session: Session, campus: Campus, window: tuple[datetime, datetime]) -> Machine:
    """A machine from the middle of the campus with at least one booking in
    the window (at the smallest size, where a machine has few)."""
    middle = len(campus.machines) // 2
    for machine in campus.machines[middle:] + campus.machines[:middle]:
        if session.execute(bare_occupancies([machine.id], *window).limit(1)).first():
            return machine
    return campus.machines[middle]


def run(args: argparse.Namespace, url: str) -> list[SizeReport]:
    app = make_app(url)
    migrate(app)
    sizes = sorted(set(args.bookings))
    reports = []
    with app.app_context(), loading(db.engine) as conn:
        if conn.dialect.name == "postgresql":
            print(f"PostgreSQL {conn.exec_driver_sql('SHOW server_version').scalar()} at "
                  f"{db.engine.url.render_as_string(hide_password=True)}")
        else:
            print(f"SQLite file {db.engine.url.database}")
        campus = create_campus(conn, establishments=args.establishments,
                               equipment=args.equipment, target=sizes[-1],
                               password_hash=hash_password(TRAINER_PASSWORD))
    token = api_token(app)
    # Created bookings go after NOW, on the trainer's establishment: confirmed at once.
    slots = future_slots(campus, campus.establishment_ids[0])
    establishment = campus.establishment_ids[len(campus.establishment_ids) // 2]
    one_machine = None
    for size in sizes:
        with app.app_context():
            started, cpu = time.perf_counter(), time.process_time()
            with loading(db.engine) as conn:
                campus.grow(conn, size)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM ANALYZE")
            generated = (time.perf_counter() - started, time.process_time() - cpu)
            session = db.session
            total = session.scalar(select(func.count()).select_from(Booking)) or 0
            size_mb = database_mb(session)
            print(f"\n{total:,} bookings generated in {generated[0]:.0f} s "
                  f"({generated[1]:.0f} s CPU), {size_mb:.0f} MB; measuring...",
                  file=sys.stderr, flush=True)
            one_machine = one_machine or pick_machine(session, campus, FOUR_WEEKS)
            # What loading left in memory stays out of the collector's way: each
            # size is measured on the same footing, as in a fresh process.
            gc.collect()
            gc.freeze()
            results = [
                availability_case(session, "availability, 1 machine, 4 weeks",
                                  [one_machine.id], FOUR_WEEKS, args.repeat),
                availability_case(session, "availability, 1 establishment, 1 week",
                                  [m.id for m in campus.machines_of(establishment)],
                                  ONE_WEEK, args.repeat),
                utilisation_case(session, "utilisation report, 1 establishment, 1 month",
                                 establishment,
                                 [m.id for m in campus.machines_of(establishment)],
                                 ONE_MONTH, args.repeat),
                service_creation_case(session, campus, slots, args.repeat),
            ]
            session.remove()
        results.append(api_creation_case(app, token, slots, args.repeat))
        report = SizeReport(total, generated, size_mb, results)
        print_size(report)
        reports.append(report)
    return reports


# --- output -------------------------------------------------------------------


def table(head: list[str], rows: list[list[str]]) -> None:
    """A Markdown table, first column left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))) + " |"

    print(line(head))
    print("|" + "|".join(("-" * (w + 1) + ":") if i else "-" * (w + 2)
                         for i, w in enumerate(widths)) + "|")
    for row in rows:
        print(line(row))


def print_size(report: SizeReport) -> None:
    wall, cpu = report.generated_s
    print(f"\n{report.bookings:,} bookings, database {report.database_mb:.0f} MB "
          f"(generated in {wall:.0f} s, {cpu:.0f} s CPU)\n")
    table(["operation", "rows", "median ms", "floor ms", "ratio", "noise op / floor",
           "best ms", "best floor", "best ratio"],
          [[r.operation, str(r.rows), f"{r.op.median:.3f}", f"{r.floor.median:.3f}",
            f"{r.ratio:.2f}", f"{r.op.spread:.0%} / {r.floor.spread:.0%}",
            f"{r.op.best:.3f}", f"{r.floor.best:.3f}", f"{r.best_ratio:.2f}"]
           for r in report.results])
    print()
    for r in report.results:
        print(f"floor of {r.operation}: {r.floor_name}")
    print("noise: interquartile range over the median; best: the fastest repetition")


def print_growth(reports: list[SizeReport]) -> None:
    if len(reports) < 2:
        return
    low, high = reports[0], reports[-1]
    print(f"\ngrowth from {low.bookings:,} to {high.bookings:,} bookings "
          f"(median ms, its floor in brackets)\n")
    table(["operation", f"{low.bookings:,}", f"{high.bookings:,}", "growth", "floor growth",
           "best growth"],
          [[a.operation, f"{a.op.median:.3f} ({a.floor.median:.3f})",
            f"{b.op.median:.3f} ({b.floor.median:.3f})",
            f"{b.op.median / a.op.median:.2f}x", f"{b.floor.median / a.floor.median:.2f}x",
            f"{b.op.best / a.op.best:.2f}x"]
           for a, b in zip(low.results, high.results, strict=True)])


def code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "booking", "models",
                                "migrations", "config.py"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"commit {commit}" + (", with uncommitted changes to the app" if dirty else "")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", default="50000,500000",
                        type=lambda s: [int(n) for n in s.split(",") if n.strip()],
                        help="sizes to measure, comma-separated (default 50000,500000)")
    parser.add_argument("--establishments", type=int, default=40)
    parser.add_argument("--equipment", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url",
                        help="PostgreSQL: an empty database, e.g. "
                             "postgresql://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--repeat", type=int, default=100,
                        help="timed repetitions per operation (default 100)")
    parser.add_argument("--keep", action="store_true",
                        help="SQLite: keep the temporary database file")
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not args.database_url:
        parser.error("--database postgresql needs --database-url")
    if args.database == "sqlite" and args.database_url:
        parser.error("--database-url is for --database postgresql")
    if args.repeat < 4 or not args.bookings:
        parser.error("need --repeat 4 or more and at least one size")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/engine.py",
                                                  *(sys.argv[1:] if argv is None else argv)])
    print(f"$ {command}")
    print(f"code: {code_version()}")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), "
          f"{args.establishments} establishments, {args.equipment} machines, "
          f"{args.repeat} repetitions")
    workdir = None
    if args.database == "sqlite":
        workdir = tempfile.mkdtemp(prefix="plateforme-bench-")
        url = f"sqlite:///{workdir}/bench.sqlite"
    else:
        url = database_url(args.database_url)
    try:
        with frozen(NOW):
            reports = run(args, url)
    finally:
        if workdir is not None:
            if args.keep:
                print(f"database kept in {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    print_growth(reports)
    print(f"\ntotal {time.perf_counter() - started:.0f} s, {time.process_time():.0f} s CPU "
          f"(load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
