"""No overlap, ever: concurrent bookings of one slot through a real server.

A real gunicorn serves the app on a free loopback port, against the test
database of each backend. Twenty clients then book the same equipment at the
same moment: on PostgreSQL 4 spawned processes of 5 threads each against 3
workers of 4 threads (the exclusion constraint settles the race); on SQLite 20
threads against 2 workers of 4 threads (``BEGIN IMMEDIATE`` serialises the
writers, the trigger backs them). Exactly one request gets 201; every other one
gets 409 ``conflict``, never a 5xx nor a dropped connection; the database holds
one booking and its occupancy rows, and nothing of the losers.

The requests are identical, or overlap only partly (all meeting at one
instant), or meet only through the changeover, or book a pilot line and one of
its components; or twenty bookings are moved at once into one slot. On
PostgreSQL, some tests slow occupancy writes down with a test-only trigger, or
hold the slot in an uncommitted transaction, so that the exclusion constraint,
not the service's own check, settles every run.

Two failures this file found on PostgreSQL are guarded against: a move
refused by the constraint must answer 409 (the changes are made inside the
guard's savepoint), and two bookings waiting at the constraint for a third
transaction that rolls back may deadlock: the victim must answer 409 too.

Every server and client has a bounded timeout; the server listens on
127.0.0.1 only and is always stopped (module fixture).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import secrets
import socket
import subprocess
import sys
import time as clock
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import race_client
from flask import Flask
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from booking.services.equipment.hours import holiday_name
from models import (
    AuditEntry,
    Booking,
    BookingPurpose,
    BookingStatus,
    Equipment,
    EquipmentCategory,
    Occupancy,
    Role,
)
from models.enums import SLOT_HOLDING_STATUSES
from tests.conftest import PASSWORD, ROOT, Database, Factory

PARIS = ZoneInfo("Europe/Paris")
# Seconds until /healthz answers: 8-12 s were seen on a heavily loaded two-CPU
# machine with --preload, 24-29 s without. Bounded, generously.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
RACE_TIMEOUT = 25.0
PROCESSES, THREADS_PER_PROCESS = 4, 5  # PostgreSQL
SQLITE_THREADS = 20
CHANGEOVER = 30


# --- the live server ---------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_since(self, offset: int) -> str:
        return self.log()[offset:]


def _start(database: Database, log_path: Path) -> LiveServer:
    port = free_port()
    workers = ["--workers", "3"] if database.backend == "postgresql" else ["--workers", "2"]
    env = {
        **os.environ,
        "FLASK_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database.url,
        "SESSION_COOKIE_SECURE": "0",
    }
    # --preload: the master imports the app once and forks the workers, instead
    # of each worker importing it at the same time (3x the CPU at start-up).
    # Requests are served the same way: create_app opens no connection, so each
    # worker still has its own pool. --no-control-socket: parallel servers would
    # share ~/.gunicorn/gunicorn.ctl.
    command = [
        sys.executable, "-m", "gunicorn", *workers, "--threads", "4",
        "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5",
        "--no-control-socket", "--preload", "wsgi:app",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = clock.monotonic() + START_TIMEOUT
    while clock.monotonic() < deadline:
        if process.poll() is not None:
            break
        status, _ = race_client.call("GET", f"{server.url}/healthz", timeout=1.0)
        if status == 200:
            return server
        clock.sleep(0.1)
    _stop(server)
    pytest.fail(f"gunicorn did not answer /healthz with 200 within {START_TIMEOUT} s:\n"
                f"{server.log()[-4000:]}")


def _stop(server: LiveServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="module")
def live_server(database: Database,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn serving ``wsgi:app`` in production configuration on the
    backend's test database, stopped at the end of the module."""
    log_path = tmp_path_factory.mktemp(f"gunicorn-{database.backend}") / "gunicorn.log"
    server = _start(database, log_path)
    try:
        yield server
    finally:
        _stop(server)


# --- the scene ---------------------------------------------------------------


def race_day(today: date | None = None) -> date:
    """The first Tuesday at least 7 days ahead that is not a public holiday."""
    day = (today or datetime.now(PARIS).date()) + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    while holiday_name(day) is not None:
        day += timedelta(days=7)
    return day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Paris, aware, with its offset."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@dataclass
class Scene:
    equipment_id: int
    trainer_id: int
    token: str
    changeover: timedelta
    day: date
    # A pilot line's scene: its components.
    component_ids: tuple[int, ...] = ()

    @property
    def all_equipment_ids(self) -> tuple[int, ...]:
        return (self.equipment_id, *self.component_ids)

    def held_by(self, equipment_id: int) -> set[int]:
        """The machines a booking of ``equipment_id`` writes occupancy rows
        for: a line and each of its components; a component alone (its line
        is held through that row, its siblings stay free)."""
        if equipment_id == self.equipment_id:
            return set(self.all_equipment_ids)
        return {equipment_id}


def make_scene(app: Flask, committed_db: Any, server: LiveServer, *,
               changeover_minutes: int = 0, components: int = 0) -> Scene:
    """A trainer of the equipment's establishment (so bookings are confirmed at
    once) and one equipment open Mon–Fri 08:00–18:00 (a pilot line if it has
    components), committed; the trainer's bearer token from the live server."""
    make = Factory(app, committed_db.session)
    establishment = make.establishment(timezone="Europe/Paris")
    trainer = make.user(Role.TRAINER, establishment=establishment)
    category = EquipmentCategory.PILOT_LINE if components else \
        EquipmentCategory.TRAINING_EQUIPMENT
    equipment = make.equipment(establishment=establishment, category=category,
                               changeover_minutes=changeover_minutes)
    parts = [make.equipment(establishment=establishment, parent=equipment)
             for _ in range(components)]
    equipment_id, part_ids = equipment.id, tuple(p.id for p in parts)
    trainer_id, email = trainer.id, trainer.email
    committed_db.session.commit()
    status, body = race_client.call("POST", f"{server.url}/api/v1/auth/tokens",
                                    {"email": email, "password": PASSWORD})
    assert status == 201, body
    return Scene(equipment_id, trainer_id, body["token"],
                 timedelta(minutes=changeover_minutes), race_day(), part_ids)


@pytest.fixture
def unlink_components(committed_db: Any) -> Iterator[None]:
    """``committed_db`` empties ``equipment`` with one DELETE, which SQLite
    refuses while a component names its line (``parent_id`` is RESTRICT, and
    SQLite checks it row by row): detach the components first."""
    yield
    committed_db.session.rollback()
    committed_db.session.execute(update(Equipment).values(parent_id=None))
    committed_db.session.commit()


def booking_body(scene: Scene, start: datetime, end: datetime, title: str,
                 equipment_id: int | None = None) -> dict[str, Any]:
    return {"equipment_id": equipment_id or scene.equipment_id, "start": start.isoformat(),
            "end": end.isoformat(), "title": title, "purpose": "training"}


# --- racing ------------------------------------------------------------------


def race_threads(token: str, requests: list[race_client.Request]) -> list[race_client.Answer]:
    return race_client.race(token, requests)


def race_processes(token: str,
                   requests: list[race_client.Request]) -> list[race_client.Answer]:
    """The requests dealt over PROCESSES spawned processes, THREADS_PER_PROCESS
    threads each, all released at once; the answers in the requests' order."""
    assert len(requests) == PROCESSES * THREADS_PER_PROCESS
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=race_client.race_in_process, daemon=True,
                        args=(i, token, requests[i::PROCESSES], ready, results))
        for i in range(PROCESSES)
    ]
    answers: list[race_client.Answer] = [(race_client.NO_ANSWER, "no result")] * len(requests)
    errors: list[str] = []
    try:
        for process in processes:
            process.start()
        deadline = clock.monotonic() + RACE_TIMEOUT
        for _ in processes:
            try:
                index, got, error = results.get(timeout=max(0.1, deadline - clock.monotonic()))
            except queue.Empty:
                errors.append(f"a client process gave no result within {RACE_TIMEOUT} s")
                break
            answers[index::PROCESSES] = got
            if error:
                errors.append(error)
    finally:
        for process in processes:
            if process.pid is None:  # never started
                continue
            process.join(STOP_TIMEOUT)
            if process.is_alive():
                process.kill()
                process.join(STOP_TIMEOUT)
            process.close()
        results.close()
        results.join_thread()
    assert not errors, "\n".join(errors)
    return answers


def race(database: Database, scene: Scene,
         requests: list[race_client.Request]) -> list[race_client.Answer]:
    """PostgreSQL: several processes of several threads; SQLite: threads."""
    if database.backend == "postgresql":
        return race_processes(scene.token, requests)
    assert len(requests) == SQLITE_THREADS
    return race_threads(scene.token, requests)


def posts(server: LiveServer, bodies: list[dict[str, Any]]) -> list[race_client.Request]:
    return [("POST", f"{server.url}/api/v1/bookings", body) for body in bodies]


def assert_one_winner(answers: list[race_client.Answer], server_log: str,
                      success: int = 201) -> dict[str, Any]:
    """Exactly one ``success``, every other answer a 409 ``conflict`` naming at
    most the winner; no 5xx, no request without an answer. Returns the winner."""
    statuses = Counter(status for status, _ in answers)
    summary = f"statuses {dict(statuses)}; server log:\n{server_log[-4000:]}"
    assert not [s for s in statuses if s >= 500 or s == race_client.NO_ANSWER], summary
    assert statuses[success] == 1, summary
    assert statuses[409] == len(answers) - 1, summary
    winner = next(body for status, body in answers if status == success)
    for status, body in answers:
        if status == 409:
            assert body["error"] == "conflict", body
            named = {c["booking_id"] for c in body["details"]["conflicts"]}
            assert named <= {winner["id"]}, body
    return winner


def assert_no_overlap(session: Any) -> None:
    """No two slot-holding occupancy rows of one machine meet."""
    rows = session.execute(
        select(Occupancy.equipment_id, Occupancy.starts_at, Occupancy.ends_at,
               Occupancy.booking_id)
        .where(Occupancy.booking_status.in_(SLOT_HOLDING_STATUSES))
        .order_by(Occupancy.equipment_id, Occupancy.starts_at)).all()
    for before, after in itertools.pairwise(rows):
        if before.equipment_id == after.equipment_id:
            assert before.ends_at <= after.starts_at, (before, after)


def assert_database_holds(committed_db: Any, scene: Scene, winner: dict[str, Any],
                          answers: int) -> None:
    """One booking, the winner's, and its occupancy rows (one per machine it
    holds, changeover included); nothing of the losers."""
    session = committed_db.session
    session.rollback()  # a fresh snapshot: the server wrote after our last read
    bookings = session.scalars(select(Booking)).all()
    assert [(b.id, b.equipment_id) for b in bookings] == [(winner["id"],
                                                           winner["equipment_id"])]
    booking = bookings[0]
    assert booking.status is BookingStatus.CONFIRMED
    assert booking.start_at == datetime.fromisoformat(winner["start"])
    assert booking.end_at == datetime.fromisoformat(winner["end"])
    occupancies = session.scalars(select(Occupancy).order_by(Occupancy.equipment_id)).all()
    held = booking.start_at, booking.end_at + scene.changeover
    assert [(o.booking_id, o.equipment_id, o.starts_at, o.ends_at) for o in occupancies] == [
        (booking.id, equipment_id, *held)
        for equipment_id in sorted(scene.held_by(booking.equipment_id))]
    created = session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "booking.create"))
    assert created == 1, f"{created} booking.create audit entries for {answers} requests"
    session.rollback()


def assert_clean(log: str) -> None:
    assert "Traceback" not in log, log[-4000:]
    assert "database is locked" not in log, log[-4000:]


def check_race(database: Database, committed_db: Any, server: LiveServer, scene: Scene,
               bodies: list[dict[str, Any]]) -> None:
    offset = len(server.log())
    started = clock.monotonic()
    answers = race(database, scene, posts(server, bodies))
    elapsed = clock.monotonic() - started
    log = server.log_since(offset)
    winner = assert_one_winner(answers, log)
    assert_database_holds(committed_db, scene, winner, len(answers))
    assert_clean(log)
    print(f"{database.backend}: {len(answers)} concurrent requests answered in {elapsed:.2f} s")


def twenty(database: Database) -> int:
    if database.backend == "postgresql":
        return PROCESSES * THREADS_PER_PROCESS
    return SQLITE_THREADS


# --- the tests ---------------------------------------------------------------


def test_race_day_is_a_tuesday_at_least_a_week_ahead() -> None:
    assert race_day(date(2027, 4, 30)) == date(2027, 5, 11)  # a Friday: not 2027-05-04
    assert race_day(date(2026, 11, 3)) == date(2026, 11, 10)  # a Tuesday: a week later
    assert race_day(date(2025, 11, 4)) == date(2025, 11, 18)  # 2025-11-11 is Armistice Day


def test_identical_requests_one_wins(database, app, committed_db, live_server) -> None:
    scene = make_scene(app, committed_db, live_server)
    start, end = at(scene.day, 10), at(scene.day, 12)
    bodies = [booking_body(scene, start, end, "Course")] * twenty(database)
    check_race(database, committed_db, live_server, scene, bodies)


def test_partly_overlapping_requests_one_wins(database, app, committed_db,
                                              live_server) -> None:
    """Different starts and ends on the half-hour grid, all holding 11:00–11:30."""
    scene = make_scene(app, committed_db, live_server)
    starts = [at(scene.day, 8) + timedelta(minutes=30 * n) for n in range(7)]  # 08:00–11:00
    ends = [at(scene.day, 11, 30) + timedelta(minutes=30 * n) for n in range(6)]  # –14:00
    slots = [(s, e) for s in starts for e in ends][:: 2][: twenty(database)]
    assert len(set(slots)) == twenty(database)
    bodies = [booking_body(scene, s, e, f"Session {s:%H%M}-{e:%H%M}") for s, e in slots]
    check_race(database, committed_db, live_server, scene, bodies)


def test_requests_meeting_only_through_changeover_one_wins(database, app, committed_db,
                                                           live_server) -> None:
    """Half end at 12:00, half start at 12:00: a booking of one half and one of
    the other never share a minute, only the 30 minutes of changeover after
    the first; each half also collides with itself."""
    scene = make_scene(app, committed_db, live_server, changeover_minutes=CHANGEOVER)
    noon = at(scene.day, 12)
    half = twenty(database) // 2
    before = [(noon - timedelta(minutes=30 * (n % 8 + 1)), noon) for n in range(half)]
    after = [(noon, noon + timedelta(minutes=30 * (n % 10 + 1))) for n in range(half)]
    slots = [slot for pair in zip(before, after, strict=True) for slot in pair]
    bodies = [booking_body(scene, s, e, f"Session {s:%H%M}-{e:%H%M}") for s, e in slots]
    check_race(database, committed_db, live_server, scene, bodies)


def test_line_and_component_requests_one_wins(database, app, committed_db, live_server,
                                              unlink_components) -> None:
    """Half book a pilot line, half one of its components: the line's booking
    writes a row on the line and on each component, the component's a row on
    the component only, so they meet on the component's row."""
    scene = make_scene(app, committed_db, live_server, components=2)
    line, part = scene.equipment_id, scene.component_ids[0]
    start, end = at(scene.day, 10), at(scene.day, 12)
    bodies = [booking_body(scene, start, end, f"Run {n}", equipment_id=(line, part)[n % 2])
              for n in range(twenty(database))]
    check_race(database, committed_db, live_server, scene, bodies)


# --- slowing the database down (PostgreSQL) -----------------------------------
#
# A race is only won at the exclusion constraint when the losers pass the
# service's own check before the winner commits: a few microseconds, which a
# plain race hits only now and then. A test-only trigger sleeping before some
# writes to ``occupancy`` widens that window so that every run takes the path.

PAUSE_SECONDS = 1.0
NO_PAUSE = """
DROP TRIGGER IF EXISTS test_concurrency_pause ON occupancy;
DROP FUNCTION IF EXISTS test_concurrency_pause();
"""


def pause_sql(event: str, condition: str) -> str:
    return f"""
CREATE FUNCTION test_concurrency_pause() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {condition} THEN
        PERFORM pg_sleep({PAUSE_SECONDS});
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_concurrency_pause BEFORE {event} ON occupancy
    FOR EACH ROW EXECUTE FUNCTION test_concurrency_pause();
"""


@pytest.fixture
def pause_occupancy_writes(database: Database,
                           committed_db: Any) -> Iterator[Callable[[str, str], None]]:
    """``install(event, condition)``: sleep before each ``event`` (INSERT,
    UPDATE) of an occupancy row meeting ``condition`` (PL/pgSQL, NEW and OLD
    at hand), until the end of the test."""
    installed = []

    def install(event: str, condition: str) -> None:
        assert database.backend == "postgresql"
        committed_db.session.execute(text(pause_sql(event, condition)))
        committed_db.session.commit()
        installed.append(event)

    try:
        yield install
    finally:
        if installed:
            committed_db.session.rollback()
            committed_db.session.execute(text(NO_PAUSE))
            committed_db.session.commit()


def test_moves_into_one_slot_one_wins(database, app, committed_db, live_server,
                                      pause_occupancy_writes) -> None:
    """Twenty bookings, each in its own half hour, all moved at once to the
    same hour of the next week: one move succeeds, the others are 409 and
    leave their booking as it was. On PostgreSQL each occupancy update first
    sleeps, so that the moves that pass the service's check meet at the
    exclusion constraint."""
    scene = make_scene(app, committed_db, live_server)
    ids = []
    for n in range(twenty(database)):
        start = at(scene.day, 8) + timedelta(minutes=30 * n)
        status, body = race_client.call(
            "POST", f"{live_server.url}/api/v1/bookings",
            booking_body(scene, start, start + timedelta(minutes=30), f"Slot {n}"), scene.token)
        assert status == 201, body
        ids.append(body["id"])
    if database.backend == "postgresql":
        pause_occupancy_writes("UPDATE", "NEW.starts_at <> OLD.starts_at")
    target_day = race_day(scene.day)
    target = {"start": at(target_day, 10).isoformat(), "end": at(target_day, 11).isoformat()}
    offset = len(live_server.log())
    answers = race(database, scene, [
        ("PATCH", f"{live_server.url}/api/v1/bookings/{booking_id}", target)
        for booking_id in ids])
    log = live_server.log_since(offset)
    winner = assert_one_winner(answers, log, success=200)
    assert (winner["start"], winner["end"]) == (target["start"], target["end"])
    session = committed_db.session
    session.rollback()
    bookings = session.scalars(select(Booking).order_by(Booking.id)).all()
    assert [b.id for b in bookings] == ids
    for n, booking in enumerate(bookings):
        if booking.id == winner["id"]:
            assert (booking.start_at, booking.sequence) == (at(target_day, 10), 1)
        else:
            start = at(scene.day, 8) + timedelta(minutes=30 * n)
            assert (booking.start_at, booking.end_at, booking.sequence) == (
                start, start + timedelta(minutes=30), 0)
    occupancies = session.scalars(select(Occupancy)).all()
    assert sorted((o.booking_id, o.starts_at, o.ends_at) for o in occupancies) == sorted(
        (b.id, b.start_at, b.end_at) for b in bookings)
    assert_no_overlap(session)
    updates = session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "booking.update"))
    assert updates == 1
    session.rollback()
    assert_clean(log)


def test_identical_requests_all_meeting_at_the_guard_one_wins(
        database, app, committed_db, live_server, pause_occupancy_writes) -> None:
    """The identical race again, each occupancy insert first sleeping: the
    requests served at once all pass the service's check and are settled by
    the exclusion constraint (409, never 500)."""
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraint; SQLite serialises writers")
    scene = make_scene(app, committed_db, live_server)
    pause_occupancy_writes("INSERT", "TRUE")
    start, end = at(scene.day, 10), at(scene.day, 12)
    bodies = [booking_body(scene, start, end, "Course")] * twenty(database)
    check_race(database, committed_db, live_server, scene, bodies)


def test_line_and_component_written_slowly_do_not_deadlock(
        database, app, committed_db, live_server, unlink_components,
        pause_occupancy_writes) -> None:
    """A line's booking writes a row per machine, each insert waiting for any
    uncommitted row it meets. Two bookings writing rows of the same machines
    in opposite orders would deadlock: PostgreSQL kills one with 40P01, an
    OperationalError that _write does not turn into a conflict (a 500). Up to
    commit fdfe0a8 a component's booking wrote its own row then its line's, and
    this test saw that 500; since then it writes its own row only. A pause
    before each booking's second row makes any return of the pattern show."""
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers, nothing can deadlock")
    scene = make_scene(app, committed_db, live_server, components=1)
    pause_occupancy_writes("INSERT", "EXISTS (SELECT 1 FROM booking WHERE "
                           "booking.id = NEW.booking_id AND "
                           "booking.equipment_id <> NEW.equipment_id)")
    line, part = scene.equipment_id, scene.component_ids[0]
    start, end = at(scene.day, 10), at(scene.day, 12)
    bodies = [booking_body(scene, start, end, "Line run", equipment_id=line),
              booking_body(scene, start, end, "Part run", equipment_id=part)]
    offset = len(live_server.log())
    answers = race_threads(scene.token, posts(live_server, bodies))
    log = live_server.log_since(offset)
    winner = assert_one_winner(answers, log)
    assert_database_holds(committed_db, scene, winner, len(answers))
    assert_clean(log)


def waiting_inserts(connection: Any) -> int:
    """Backends of this database waiting for a lock while inserting a booking
    (the trainer guard's lock, issue 13) or its occupancy (the machine's)."""
    return connection.execute(text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND (query LIKE 'INSERT INTO occupancy%' "
        "OR query LIKE 'INSERT INTO booking%')")).scalar_one()


def test_waiters_released_by_a_rollback_get_409_not_500(database, app, committed_db,
                                                        live_server) -> None:
    """A transaction holds the slot without committing; two API bookings of
    the same slot pass the service's check (they cannot see it), insert, and
    wait for it at the constraint. It rolls back: one booking wins, the other
    must get 409."""
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL's exclusion constraint; SQLite serialises writers")
    scene = make_scene(app, committed_db, live_server)
    start, end = at(scene.day, 10), at(scene.day, 12)
    bodies = [booking_body(scene, start, end, f"Waiter {n}") for n in range(2)]
    now = datetime.now(PARIS)
    offset = len(live_server.log())
    with committed_db.engine.connect() as holder, committed_db.engine.connect() as watcher, \
            ThreadPoolExecutor(1) as pool:
        holding = holder.begin()
        session = Session(bind=holder)
        try:
            session.add(Booking(
                uid=f"holder-{secrets.token_hex(8)}@test.invalid",
                equipment_id=scene.equipment_id, start_at=start, end_at=end, title="Holder",
                purpose=BookingPurpose.TRAINING, status=BookingStatus.CONFIRMED,
                booked_by_id=scene.trainer_id, trainer_id=scene.trainer_id, sequence=0,
                created_at=now, updated_at=now,
                occupancies=[Occupancy(equipment_id=scene.equipment_id, starts_at=start,
                                       ends_at=end)]))
            session.flush()
            racing = pool.submit(race_threads, scene.token, posts(live_server, bodies))
            deadline = clock.monotonic() + RACE_TIMEOUT
            while waiting_inserts(watcher) < len(bodies) and clock.monotonic() < deadline:
                watcher.rollback()
                clock.sleep(0.05)
            both_waited = waiting_inserts(watcher) == len(bodies)
        finally:
            watcher.rollback()
            holding.rollback()  # before the pool waits for the requests it blocks
            session.close()
        answers = racing.result(timeout=RACE_TIMEOUT)
    assert both_waited, f"the bookings did not both wait for the holder: {answers}"
    log = live_server.log_since(offset)
    winner = assert_one_winner(answers, log)
    assert_database_holds(committed_db, scene, winner, len(answers))
    assert_clean(log)


def test_one_trainer_on_many_machines_at_once_one_wins(database, app, committed_db,
                                                       live_server) -> None:
    """Issue 13, the trainer guard under concurrency: one trainer asks at once
    for many machines, half of their establishment at 10:00, half of another
    at 11:30, where only the travel time (60 minutes by default) makes them
    meet: one booking wins, every other request gets 409 ``trainer_busy``."""
    scene = make_scene(app, committed_db, live_server)
    make = Factory(app, committed_db.session)
    home = committed_db.session.get(Equipment, scene.equipment_id).establishment_id
    # A second factory counts from 1 again: codes of its own.
    away = make.establishment(code="RACE-AWAY", timezone="Europe/Paris").id
    n = twenty(database)
    machines = [make.equipment(code=f"RACE-{i}", establishment_id=home if i % 2 == 0 else away).id
                for i in range(n)]
    committed_db.session.commit()
    ten, half_past_eleven = at(scene.day, 10), at(scene.day, 11, 30)
    bodies = [booking_body(scene, *((ten, ten + timedelta(hours=1)) if i % 2 == 0 else
                                    (half_past_eleven, half_past_eleven + timedelta(hours=1))),
                           f"Session {i}", equipment_id=machine)
              for i, machine in enumerate(machines)]
    offset = len(live_server.log())
    answers = race(database, scene, posts(live_server, bodies))
    log = live_server.log_since(offset)
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: n - 1}, f"{dict(statuses)}\n{log[-4000:]}"
    winner = next(body for status, body in answers if status == 201)
    for status, body in answers:
        if status == 409:
            assert body["error"] == "trainer_busy", body
            assert {c["booking_id"] for c in body["details"]["conflicts"]} <= {winner["id"]}
    session = committed_db.session
    session.rollback()
    held = session.scalars(select(Booking).where(
        Booking.status.in_(SLOT_HOLDING_STATUSES))).all()
    assert [b.id for b in held] == [winner["id"]]
    session.rollback()
    assert_clean(log)


def test_claims_of_offers_for_one_slot_book_it_once(database, app, committed_db,
                                                    live_server) -> None:
    """Issue 14, the waiting list: two offers of slots freed at once that meet
    (10:00-12:00 and 11:00-13:00), each claimed many times at the same moment.
    One claim books; the second claim of the same offer is 409 ``invalid_state``
    (the entry's row lock, or SQLite's single writer, orders them), a claim of
    the other offer 409 ``conflict`` or ``trainer_busy`` (the guards); never two
    bookings holding one slot."""
    from models import WaitlistEntry, WaitlistStatus

    scene = make_scene(app, committed_db, live_server)
    session = committed_db.session
    offered_at = datetime.now(PARIS)
    entries = [WaitlistEntry(user_id=scene.trainer_id, equipment_id=scene.equipment_id,
                             start_at=at(scene.day, hour), end_at=at(scene.day, hour + 2),
                             title=f"Reprise {hour}", purpose=BookingPurpose.TRAINING,
                             status=WaitlistStatus.OFFERED, created_at=offered_at,
                             updated_at=offered_at, offered_at=offered_at,
                             offer_expires_at=offered_at + timedelta(hours=2))
               for hour in (10, 11)]
    session.add_all(entries)
    session.commit()
    ids = [e.id for e in entries]
    requests = [("POST", f"{live_server.url}/api/v1/waitlist/{ids[i % 2]}/claim", None)
                for i in range(twenty(database))]
    offset = len(live_server.log())
    answers = race(database, scene, requests)
    log = live_server.log_since(offset)
    statuses = Counter(status for status, _ in answers)
    assert statuses == {201: 1, 409: len(answers) - 1}, f"{dict(statuses)}\n{log[-4000:]}"
    winner = next(body for status, body in answers if status == 201)
    assert {body["error"] for status, body in answers if status == 409} <= {
        "invalid_state", "conflict", "trainer_busy"}
    session.rollback()
    held = session.scalars(select(Booking).where(
        Booking.status.in_(SLOT_HOLDING_STATUSES))).all()
    assert [b.id for b in held] == [winner["id"]]
    assert_no_overlap(session)
    states = {e.id: (e.status, e.booking_id) for e in session.scalars(select(WaitlistEntry))}
    won = next(i for i in ids if states[i][0] is WaitlistStatus.CLAIMED)
    assert states == {won: (WaitlistStatus.CLAIMED, winner["id"]),
                      next(i for i in ids if i != won): (WaitlistStatus.OFFERED, None)}
    session.rollback()
    assert_clean(log)
