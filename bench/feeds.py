"""Benchmark of the calendar feeds (issue 16, part 3).

Generates one establishment whose feed shows about 12,000 events (the
campus of bench/campus.py: bulk Core inserts through the migrated schema, 12
machines, four two-hour slots a day; the clock is set so that the feed's
window, 30 days back and a year ahead, holds a year of them) and an
establishment feed of it. Then it prints, as medians of alternated runs:

* a cold build of the feed's body (the view's ``build``: the query, the
  events, the VTIMEZONE, the serialisation) against serialising the same
  events with icalendar alone (the same ``Event`` objects built from values
  read beforehand, then ``Calendar.to_ical()``, nothing else); aim ≤ 1.5×;
* a cached answer (the body built, nothing changed, no ETag sent) against a
  static file of the same size served by the same app with ``send_file``,
  plain and gzip, through ``app.test_client()`` and through a real server
  (werkzeug's, threaded, in this process); aim ≤ 1.5×;
* how many builds happen when N clients at once ask the feed just after a
  change, through the real server, with the cache (aim: one) and without it.

    .venv/bin/python bench/feeds.py                           # SQLite, temporary file
    .venv/bin/python bench/feeds.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import logging
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

from flask import Flask, send_file
from icalendar import Calendar, Event
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

import booking.ical.views as views
from bench.campus import TRAINER_EMAIL, TRAINER_PASSWORD, create_campus, loading
from bench.engine import code_version, make_app, migrate
from booking.auth.passwords import hash_password
from booking.extensions import db
from booking.public_url import public_url
from booking.services.feeds.content import scope_bookings
from booking.services.feeds.ical import STATUS
from booking.services.feeds.operations import create_feed, feed_for_token, feed_token
from booking.timeutil import frozen
from config import database_url
from models import Booking, FeedScope, User

MACHINES = 12
BOOKINGS = 34_800  # three years of 12 machines (2,900 each): a year of them in the window
# The feed's clock: the window (30 days back, a year ahead) covers 2025.
FEED_NOW = datetime(2025, 1, 15, 12, tzinfo=UTC)


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def alternate(repeat: int, first: Callable[[], Any], second: Callable[[], Any],
              before_first: Callable[[], Any] = lambda: None) -> tuple[float, float]:
    """Median ms of each, run in turns (the order swapped every round)."""
    times: tuple[list[float], list[float]] = ([], [])
    for n in range(repeat + 1):  # the first round warms up
        pairs = [(0, first, before_first), (1, second, lambda: None)]
        for index, call, prepare in pairs if n % 2 else reversed(pairs):
            prepare()
            started = time.perf_counter()
            call()
            if n:
                times[index].append(time.perf_counter() - started)
    return median_ms(times[0]), median_ms(times[1])


# --- the site ---------------------------------------------------------------------


def generate(app: Flask) -> tuple[str, int]:
    """The campus; answers the establishment feed's token and its event count."""
    with app.app_context(), loading(db.engine) as conn:
        campus = create_campus(conn, establishments=1, equipment=MACHINES, target=BOOKINGS,
                               password_hash=hash_password(TRAINER_PASSWORD))
        campus.grow(conn, BOOKINGS)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        trainer = db.session.scalar(select(User).where(User.email == TRAINER_EMAIL))
        feed = create_feed(db.session, actor=trainer, now=FEED_NOW,
                           scope=FeedScope.ESTABLISHMENT, scope_id=campus.establishment_ids[0],
                           key=app.config["SECRET_KEY"])
        db.session.commit()
        token = feed_token(feed, app.config["SECRET_KEY"])
        events = len(scope_bookings(db.session, feed.scope, feed.scope_id, FEED_NOW))
        db.session.remove()
    return token, events


def touch(app: Flask) -> None:
    """A change to one booking of the feed, as an edit makes: a new fingerprint."""
    with app.app_context():
        first = db.session.scalar(select(func.min(Booking.id)).where(
            Booking.start_at > FEED_NOW))
        db.session.execute(update(Booking).where(Booking.id == first).values(
            sequence=Booking.sequence + 1, updated_at=datetime.now(UTC)))
        db.session.commit()
        db.session.remove()


# --- cold build -------------------------------------------------------------------


def icalendar_alone(values: list[dict[str, Any]]) -> bytes:
    """The floor: the same events, from values already at hand."""
    cal = Calendar()
    for row in values:
        event = Event()
        for name in ("uid", "dtstamp", "last-modified", "created", "sequence", "dtstart",
                     "dtend", "summary", "location", "status", "categories", "url",
                     "description"):
            event.add(name, row[name])
        cal.add_component(event)
    return cal.to_ical()


def floor_values(app: Flask, token: str) -> list[dict[str, Any]]:
    with app.test_request_context():
        found = feed_for_token(db.session, token)
        base = public_url()
        values = []
        for b in scope_bookings(db.session, found.scope, found.scope_id, FEED_NOW):
            zone = ZoneInfo(b.equipment.establishment.timezone)
            values.append({
                "uid": b.uid, "dtstamp": FEED_NOW, "last-modified": b.updated_at,
                "created": b.created_at, "sequence": b.sequence,
                "dtstart": b.start_at.astimezone(zone), "dtend": b.end_at.astimezone(zone),
                "summary": b.title, "status": STATUS[b.status],
                "location": f"{b.equipment.name} — {b.equipment.establishment.name}, "
                            f"{b.equipment.establishment.city}",
                "categories": [b.purpose.value], "url": f"{base}/bookings/{b.id}",
                "description": f"{b.equipment.code} — {b.equipment.name}\n"
                               f"Formateur / Trainer: {b.trainer.name}"})
        db.session.remove()
    return values


def cold_build(app: Flask, token: str, repeat: int) -> tuple[float, float, int]:
    values = floor_values(app, token)

    def build() -> None:
        with app.test_request_context():
            found = feed_for_token(db.session, token)
            body = views.build(found, name=views._calendar_name(found), base_url=public_url(),
                               now=FEED_NOW)
            db.session.remove()
        sizes.append(len(body))

    sizes: list[int] = []
    ours, floor = alternate(repeat, build, lambda: icalendar_alone(values))
    return ours, floor, sizes[-1]


# --- cached answers ---------------------------------------------------------------


def static_route(app: Flask, plain: Path, zipped: Path) -> None:
    """A static file through the same app: send_file, as Flask's static files."""

    def serve(name: str) -> Any:
        return send_file(zipped if name == "gz" else plain, mimetype="text/calendar",
                         max_age=300)

    app.add_url_rule("/bench-static/<name>", "bench_static", serve)


def through_client(app: Flask, path: str, headers: dict[str, str]) -> Callable[[], int]:
    client = app.test_client()

    def get() -> int:
        response = client.get(path, headers=headers)
        size = len(response.get_data())
        response.close()
        assert response.status_code == 200, response.status_code
        return size

    return get


def through_server(port: int, path: str, headers: dict[str, str]) -> Callable[[], int]:
    def get() -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        size = len(response.read())
        conn.close()
        assert response.status == 200, response.status
        return size

    return get


def cached_answers(app: Flask, token: str, port: int, repeat: int,
                   workdir: Path) -> list[list[str]]:
    feed_path = f"/ical/{token}.ics"
    body = app.test_client().get(feed_path).get_data()  # builds the cache
    plain, zipped = workdir / "static.ics", workdir / "static.ics.gz"
    plain.write_bytes(body)
    zipped.write_bytes(gzip.compress(body, 6))
    rows = []
    for label, encoding, static in (("plain", "", "plain"), ("gzip", "gzip", "gz")):
        headers = {"Accept-Encoding": encoding}
        for via, make in (("test_client", lambda p, h: through_client(app, p, h)),
                          ("werkzeug server", lambda p, h: through_server(port, p, h))):
            feed_get, static_get = make(feed_path, headers), make(f"/bench-static/{static}", {})
            size = feed_get()
            ours, floor = alternate(repeat, feed_get, static_get)
            rows.append([f"cached answer, {label}, {via}", f"{size / 1e6:.2f} MB",
                         f"{ours:.1f}", f"{floor:.1f}", f"{ours / floor:.2f}"])
    return rows


# --- concurrent polls after a change ------------------------------------------------


def stampede(app: Flask, token: str, port: int, clients: int) -> tuple[int, float, int, int]:
    """Builds made, wall time, distinct bodies and failed answers when
    ``clients`` ask at once just after a change."""
    touch(app)
    built: list[int] = []
    original = views.build

    def counted(*args: Any, **kw: Any) -> bytes:
        built.append(1)
        return original(*args, **kw)

    views.build = counted
    sizes: list[int] = []
    barrier = threading.Barrier(clients)

    failed: list[int] = []

    def poll() -> None:
        barrier.wait()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("GET", f"/ical/{token}.ics")
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status == 200:
            sizes.append(len(body))
        else:
            failed.append(response.status)

    threads = [threading.Thread(target=poll) for _ in range(clients)]
    started = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        views.build = original
    return len(built), time.perf_counter() - started, len(set(sizes)), len(failed)


# --- output -----------------------------------------------------------------------


def table(head: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL: an empty database, e.g. "
                        "postgresql://postgres@127.0.0.1:5432/bench (default: SQLite file)")
    parser.add_argument("--repeat", type=int, default=7, help="cold builds timed (default 7)")
    parser.add_argument("--answers", type=int, default=60,
                        help="cached answers timed per case (default 60)")
    parser.add_argument("--clients", type=int, default=20,
                        help="concurrent polls after a change (default 20)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/feeds.py",
                                                  *(sys.argv[1:] if argv is None else argv)])
    print(f"$ {command}")
    print(f"code: {code_version()}")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.2f})")
    workdir = Path(tempfile.mkdtemp(prefix="plateforme-bench-feeds-"))
    url = database_url(args.database_url) if args.database_url \
        else f"sqlite:///{workdir}/bench.sqlite"
    server = None
    try:
        app = make_app(url)
        app.config["FEED_CACHE_DIR"] = str(workdir / "feed-cache")
        static_route(app, workdir / "static.ics", workdir / "static.ics.gz")
        migrate(app)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
        with frozen(FEED_NOW):
            started = time.perf_counter()
            token, events = generate(app)
            print(f"{url.split(':')[0]}: "
                  f"{BOOKINGS:,} bookings generated in {time.perf_counter() - started:.0f} s; "
                  f"the establishment feed shows {events:,} events", flush=True)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            ours, floor, size = cold_build(app, token, args.repeat)
            rows = [["cold build vs icalendar alone", f"{size / 1e6:.2f} MB", f"{ours:.0f}",
                     f"{floor:.0f}", f"{ours / floor:.2f}"]]
            # With the freshness window (the default, FEED_FRESH_SECONDS): a poll
            # reads no booking; then without it: every poll checks the fingerprint.
            rows += cached_answers(app, token, server.server_port, args.answers, workdir)
            app.config["FEED_FRESH_SECONDS"] = 0
            rows += [[f"{row[0]}, checked at each poll", *row[1:]] for row in
                     cached_answers(app, token, server.server_port, args.answers, workdir)]
            print()
            table(["case", "body", "ms", "floor ms", "ratio"], rows)
            print()
            # The worst case: no freshness window, every poll sees the change at once.
            for cache in (True, False):
                app.config["FEED_CACHE_DIR"] = str(workdir / "feed-cache") if cache else ""
                builds, wall, bodies, failed = stampede(app, token, server.server_port,
                                                        args.clients)
                print(f"{args.clients} concurrent polls just after a change, cache "
                      f"{'on' if cache else 'off'}: {builds} build(s), {wall:.1f} s wall, "
                      f"{bodies} distinct body size(s), {failed} failed answer(s)", flush=True)
    finally:
        if server is not None:
            server.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nload average {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
