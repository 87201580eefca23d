"""Load test (``make loadtest``): the app under gunicorn, many clients, then the database's word.

Drops and re-creates a PostgreSQL database of its own (by default
``plateforme_load`` on 127.0.0.1), migrates it and loads the demo campus with
the real commands (``flask --app wsgi db upgrade``, ``demo load``), serves it
with gunicorn in production configuration and the settings of
``gunicorn.conf.py``, then drives it on loopback for a fixed time with 10, then
50, concurrent clients: threads spread over a few forked processes (the clients
share the server's two cores; one process's GIL would delay reading answers),
one keep-alive HTTP/1.1 connection each, standard library only. Before each
phase of the mix, as many clients ask GET /healthz alone (20 s by default):
the floor of this server and these clients, against which the mix's
throughput is printed as a fraction (issue 16 aims at >= 40 %, and at a p99
under 1 s at 50 clients; printed as information, not a failure). Each client acts
as one of eight demo accounts, all of them on the same seven machines (the
pilot packaging line and two of its components, the HPLC, two cobot cells, the
digital twin), and draws every request from a fixed mix:

    page views    30 %  equipment week, site calendar week, my bookings (session cookie)
    availability  25 %  GET /api/v1/equipment/{id}/availability, one week
    feed polls    15 %  GET /ical/<token>.ics with the last ETag in If-None-Match
    bookings      15 %  POST /api/v1/bookings (bearer token), in a four-week window
    moves          8 %  PATCH /api/v1/bookings/{id}, one of the client's own
    cancels        7 %  POST /api/v1/bookings/{id}/cancel, one of the client's own

It prints the throughput, p50/p95/p99 per phase and per kind and the answers by
status, the mix against /healthz, then
checks in SQL that no two slot-holding occupancy rows of one machine overlap
(changeover, lines and components included), that every slot-holding booking
holds exactly its machine, its components and its changeover, and that every
booking answered 201 is in the database as the client's last answer left it.
It exits 1 on any 5xx, any request left without an answer, any overlap,
missing booking or worker timeout.

    .venv/bin/python bench/load.py                      # = make loadtest
    .venv/bin/python bench/load.py --clients 10,50 --seconds 60 \\
        --database-url postgresql://postgres@127.0.0.1:5432/plateforme_load
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import platform
import random
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as wall
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's packages, for the SQL checks

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/plateforme_load"
MARK = "Plateforme load test (bench/load.py): dropped and re-created at each run"
NEVER_DROPPED = {"postgres", "template0", "template1", "test"}  # "test" is CI's
PARIS = ZoneInfo("Europe/Paris")
DEMO_PASSWORD = "plateforme-demo"  # noqa: S105 - the published password of the demo
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 30.0
NO_ANSWER = 0
T = "@plateforme.test"
# Who books, for which trainer (None: the booker, or nobody), and where. A
# coordinator books for a trainer of their establishment (the machines need a
# certified one); trainers book for themselves: pending outside their
# establishment or on a machine that needs approval, confirmed otherwise.
PERSONAS: list[tuple[str, str | None, tuple[str, ...]]] = [
    (f"coord.tours{T}", f"formatrice.tours{T}",
     ("TRS-LC-01", "TRS-LC-01-REMP", "TRS-LC-01-ETIQ", "TRS-HPLC-01")),
    (f"formateur{T}", None, ("ORL-COBOT-01", "CHA-COBOT-01", "TRS-JUM-01")),
    (f"formatrice.tours{T}", None, ("TRS-LC-01-ETIQ", "TRS-LC-01", "TRS-HPLC-01")),
    (f"coord.orleans{T}", f"formateur{T}", ("ORL-COBOT-01",)),
    (f"formateur.chartres{T}", None, ("CHA-COBOT-01", "ORL-COBOT-01")),
    (f"coord.polytech{T}", None, ("TRS-JUM-01",)),
    (f"formatrice.dreux{T}", None, ("ORL-COBOT-01", "TRS-JUM-01", "CHA-COBOT-01")),
    (f"coord.chartres{T}", f"formateur.chartres{T}", ("CHA-COBOT-01",)),
]
HEALTHZ = (("healthz", 1),)  # the floor: the same server, clients and connections, no work
MIX = (("page", 30), ("availability", 25), ("feed", 15), ("book", 15), ("move", 8),
       ("cancel", 7))
PAGES = ("page: equipment week", "page: site calendar", "page: my bookings")
KINDS = (*PAGES, "availability", "feed poll", "book", "move", "cancel")
WINDOW_WEEKS = (10, 14)  # weeks after the next Monday: past the demo's own bookings
STARTS = [wall(h, m) for h in range(8, 16) for m in (0, 30)] + [wall(16)]
MINUTES = (60, 90, 120)


# --- HTTP on loopback ------------------------------------------------------------------


class Connection:
    """One keep-alive connection, as a browser or an API client keeps one. A
    request that finds its reused connection closed by the server (idle
    timeout, or a worker replaced after max_requests: it closes idle
    connections unread) is sent again once on a new connection, as browsers
    do; any other failure is an answer of status 0."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None
        self.used = 0
        self.resent = 0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn, self.used = None, 0

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=REQUEST_TIMEOUT)
            reused = self.used > 0
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as error:
                self.close()
                if reused and attempt == 1:
                    self.resent += 1
                    continue
                return NO_ANSWER, Message(), repr(error).encode()
            except (OSError, http.client.HTTPException) as error:
                self.close()
                return NO_ANSWER, Message(), repr(error).encode()
            self.used += 1
            if response.will_close:
                self.close()
            return response.status, response.msg, data
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, token: str | None = None
             ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _headers, raw = self.request(method, path, data, headers)
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")[:300]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the clients -----------------------------------------------------------------------


@dataclass
class Machine:
    code: str
    id: int
    establishment_id: int


@dataclass
class Persona:
    email: str
    token: str
    cookie: str
    trainer_id: int | None
    machines: list[Machine]
    feeds: list[str]  # paths of the persona's feeds


@dataclass
class Expected:
    """A booking a client was answered 201 for, as its last answer left it."""

    equipment_id: int
    start: datetime
    end: datetime
    cancelled: bool = False
    known: bool = True  # False after a move or cancel that got no answer or a 5xx


@dataclass
class Client:
    index: int
    persona: Persona
    port: int
    days: list[date]
    seed: int
    mix: tuple[tuple[str, int], ...] = MIX
    records: list[tuple[str, int, float]] = field(default_factory=list)
    created: dict[int, Expected] = field(default_factory=dict)
    resent: int = 0

    def run(self, stop_at: float) -> None:
        rng = random.Random(self.seed)
        conn = Connection(self.port)
        etags: dict[str, str] = {}
        kinds, weights = zip(*self.mix, strict=True)
        live: list[int] = []
        try:
            while time.monotonic() < stop_at:
                kind = rng.choices(kinds, weights)[0]
                if kind in ("move", "cancel"):
                    live = [i for i, b in self.created.items() if not b.cancelled and b.known]
                    if not live:
                        kind = "book"
                started = time.perf_counter()
                name, status = getattr(self, f"_{kind}")(conn, rng, etags, live)
                self.records.append((name, status, (time.perf_counter() - started) * 1000))
        finally:
            self.resent = conn.resent
            conn.close()

    def _times(self, rng: random.Random) -> tuple[str, str]:
        start = datetime.combine(rng.choice(self.days), rng.choice(STARTS), tzinfo=PARIS)
        end = start + timedelta(minutes=rng.choice(MINUTES))
        return start.isoformat(), end.isoformat()

    def _healthz(self, conn: Connection, *_: Any) -> tuple[str, int]:
        return "healthz", conn.request("GET", "/healthz")[0]

    def _page(self, conn: Connection, rng: random.Random, *_: Any) -> tuple[str, int]:
        machine = rng.choice(self.persona.machines)
        day = rng.choice(self.days).isoformat()
        name = rng.choice(PAGES)
        path = {PAGES[0]: f"/equipment/{machine.id}?week={day}",
                PAGES[1]: f"/sites/{machine.establishment_id}?view=week&date={day}",
                PAGES[2]: "/bookings/mine"}[name]
        status, _, _ = conn.request("GET", path, headers={"Cookie": self.persona.cookie})
        return name, status

    def _availability(self, conn: Connection, rng: random.Random, *_: Any) -> tuple[str, int]:
        machine = rng.choice(self.persona.machines)
        monday = rng.choice(self.days[::5])
        start = datetime.combine(monday, wall(0), tzinfo=PARIS)
        query = urllib.parse.urlencode({"from": start.isoformat(),
                                        "to": (start + timedelta(days=7)).isoformat()})
        status, _ = conn.json("GET", f"/api/v1/equipment/{machine.id}/availability?{query}",
                              token=self.persona.token)
        return "availability", status

    def _feed(self, conn: Connection, rng: random.Random, etags: dict[str, str],
              *_: Any) -> tuple[str, int]:
        path = rng.choice(self.persona.feeds)
        headers = {"If-None-Match": etags[path]} if path in etags else {}
        status, answer_headers, _ = conn.request("GET", path, headers=headers)
        if status == 200 and answer_headers.get("ETag"):
            etags[path] = answer_headers["ETag"]
        return "feed poll", status

    def _book(self, conn: Connection, rng: random.Random, *_: Any) -> tuple[str, int]:
        machine = rng.choice(self.persona.machines)
        start, end = self._times(rng)
        body = {"equipment_id": machine.id, "start": start, "end": end,
                "title": f"Charge {self.index}-{len(self.records)}", "purpose": "training"}
        if self.persona.trainer_id is not None:
            body["trainer_id"] = self.persona.trainer_id
        status, answer = conn.json("POST", "/api/v1/bookings", body, self.persona.token)
        if status == 201:
            self.created[answer["id"]] = Expected(machine.id, datetime.fromisoformat(start),
                                                  datetime.fromisoformat(end))
        return "book", status

    def _move(self, conn: Connection, rng: random.Random, _etags: Any,
              live: list[int]) -> tuple[str, int]:
        booking_id = rng.choice(live)
        expected = self.created[booking_id]
        start, end = self._times(rng)  # on the same machine: a move keeps its equipment
        status, _ = conn.json("PATCH", f"/api/v1/bookings/{booking_id}",
                              {"start": start, "end": end}, self.persona.token)
        if status == 200:
            expected.start = datetime.fromisoformat(start)
            expected.end = datetime.fromisoformat(end)
        elif status == NO_ANSWER or status >= 500:
            expected.known = False
        return "move", status

    def _cancel(self, conn: Connection, rng: random.Random, _etags: Any,
                live: list[int]) -> tuple[str, int]:
        booking_id = rng.choice(live)
        status, _ = conn.json("POST", f"/api/v1/bookings/{booking_id}/cancel",
                              {"reason": "Test de charge"}, self.persona.token)
        if status == 200:
            self.created[booking_id].cancelled = True
        elif status == NO_ANSWER or status >= 500:
            self.created[booking_id].known = False
        return "cancel", status


@dataclass
class Phase:
    name: str  # "mix" or "/healthz"
    clients: list[Client]
    seconds: float  # wall time, first start to last stop
    cpu: CPU  # used during the phase
    client_cpu: float  # CPU seconds of the client processes

    @property
    def records(self) -> list[tuple[str, int, float]]:
        return [r for c in self.clients for r in c.records]

    @property
    def per_second(self) -> float:
        return sum(len(c.records) for c in self.clients) / self.seconds

    def p(self, percent: float) -> float:
        ms = sorted(r[2] for r in self.records)
        return percentile(ms, percent) if ms else math.nan


@dataclass
class CPU:
    """CPU seconds: of the server (master, live workers, and the workers it
    reaped), of the PostgreSQL backends connected to the load database (by
    process: a backend that ended between two readings is not counted, so that
    figure is a lower bound), and busy and total over the machine."""

    app: float
    backends: dict[int, float]
    busy: float
    total: float

    @property
    def database(self) -> float:
        return sum(self.backends.values())

    def __sub__(self, other: CPU) -> CPU:
        return CPU(self.app - other.app,
                   {pid: used - other.backends.get(pid, 0.0)
                    for pid, used in self.backends.items()},
                   self.busy - other.busy, self.total - other.total)


def cpu_now(server_pid: int, database: str) -> CPU:
    ticks = os.sysconf("SC_CLK_TCK")
    app = 0
    backends: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
            # After the command's closing bracket: state, ppid, ... utime at 11.
            fields = raw[raw.rindex(")") + 2:].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue  # gone meanwhile
        own = int(fields[11]) + int(fields[12])
        if int(entry.name) == server_pid:
            app += own + int(fields[13]) + int(fields[14])  # with its reaped workers
        elif int(fields[1]) == server_pid:
            app += own
        elif command.startswith(b"postgres: ") and f" {database} ".encode() in command:
            backends[int(entry.name)] = own / ticks
    with open("/proc/stat") as stat:
        jiffies = [int(n) for n in stat.readline().split()[1:9]]
    idle = jiffies[3] + jiffies[4]
    return CPU(app / ticks, backends, (sum(jiffies) - idle) / ticks, sum(jiffies) / ticks)


def run_phase(name: str, count: int, personas: list[Persona], port: int, days: list[date],
              seconds: float, seed: int, server_pid: int, database: str,
              processes: int) -> Phase:
    """``count`` clients spread over ``processes`` forked processes of threads:
    the clients share the server's two cores, and one process's GIL would make
    them slow to read their answers, a latency the server is not to blame for."""
    mix = HEALTHZ if name == "/healthz" else MIX
    clients = [Client(i, personas[i % len(personas)], port, days, seed * 1000 + i, mix)
               for i in range(count)]
    groups = [clients[i::processes] for i in range(min(processes, count))]
    fork = multiprocessing.get_context("fork")
    cpu = cpu_now(server_pid, database)
    began = time.monotonic()
    stop_at = began + seconds
    pipes = []
    for group in groups:
        reader, writer = fork.Pipe(duplex=False)
        child = fork.Process(target=_client_process, args=(group, stop_at, writer), daemon=True)
        child.start()
        writer.close()
        pipes.append((child, reader))
    done: list[Client] = []
    client_cpu = 0.0
    for child, reader in pipes:
        if not reader.poll(seconds + REQUEST_TIMEOUT * 2 + 10):
            child.kill()
            raise SystemExit("a client did not stop: the server stopped answering")
        finished, used = reader.recv()
        done += finished
        client_cpu += used
        child.join()
    done.sort(key=lambda c: c.index)
    return Phase(name, done, time.monotonic() - began, cpu_now(server_pid, database) - cpu,
                 client_cpu)


def _client_process(clients: list[Client], stop_at: float, out: Any) -> None:
    """In a forked process: run these clients as threads, send them back."""
    began = time.process_time()
    threads = [threading.Thread(target=c.run, args=(stop_at,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(stop_at - time.monotonic() + REQUEST_TIMEOUT * 2 + 5)
    out.send((clients, time.process_time() - began))
    out.close()


# --- report ----------------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    """Nearest rank."""
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def statuses(counter: Counter[int]) -> str:
    return ", ".join(f"{'no answer' if s == NO_ANSWER else s}: {n:,}"
                     for s, n in sorted(counter.items()))


def report(phase: Phase) -> Counter[int]:
    records = phase.records
    every = Counter(status for _, status, _ in records)
    resent = sum(c.resent for c in phase.clients)
    print(f"\n{phase.name}, {len(phase.clients)} clients, {phase.seconds:.1f} s: "
          f"{len(records):,} requests, {phase.per_second:,.1f} per second, "
          f"p50 {phase.p(50):.0f} ms, p95 {phase.p(95):.0f} ms, **p99 {phase.p(99):.0f} ms**; "
          f"answers {statuses(every)}"
          + (f"; {resent} sent again on a new connection" if resent else ""))
    cpu, n, cpus = phase.cpu, max(1, len(records)), os.cpu_count() or 1
    # What the server and its database cost per request does not depend much on
    # other work sharing the machine; the throughput does.
    per_request = (cpu.app + cpu.database) / n
    print(f"CPU: gunicorn {cpu.app:.1f} s ({cpu.app / n * 1000:.1f} ms per request), "
          f"PostgreSQL backends at least {cpu.database:.1f} s ({cpu.database / n * 1000:.1f} ms); "
          f"they had {(cpu.app + cpu.database) / (cpu.total or 1):.0%} of the machine, busy "
          f"{cpu.busy / (cpu.total or 1):.0%} in all; {cpus} idle CPUs at this cost: "
          f"about {cpus / per_request:.0f} requests per second; the clients "
          f"{phase.client_cpu:.1f} s ({phase.client_cpu / n * 1000:.2f} ms)")
    if phase.name != "mix":
        return every
    rows = []
    for kind in KINDS:
        mine = [r for r in records if r[0] == kind]
        if not mine:
            continue
        ms = sorted(r[2] for r in mine)
        rows.append([kind, f"{len(mine):,}", f"{len(mine) / phase.seconds:.1f}",
                     *(f"{percentile(ms, p):.0f}" for p in (50, 95, 99)), f"{ms[-1]:.0f}",
                     statuses(Counter(r[1] for r in mine))])
    head = ["kind", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "answers"]
    widths = [max(len(x) for x in column) for column in zip(head, *rows, strict=True)]
    for i, row in enumerate([head, *rows]):
        print("| " + " | ".join(c.ljust(w) if j in (0, 7) else c.rjust(w)
                                for j, (c, w) in enumerate(zip(row, widths, strict=True))) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 1) + (":" if j not in (0, 7) else "-")
                                 for j, w in enumerate(widths)) + "|")
    return every


def summary(phases: list[Phase]) -> None:
    """The mix against /healthz at the same concurrency, and the aims of issue 16."""
    floors = {len(p.clients): p for p in phases if p.name == "/healthz"}
    mixes = [p for p in phases if p.name == "mix"]
    print("\nthe mix against /healthz alone, same server, same clients:")
    print("| clients | /healthz per s | /healthz p99 ms | mix per s | mix p99 ms "
          "| mix / healthz |")
    print("|--------:|---------------:|----------------:|----------:|-----------:"
          "|--------------:|")
    for mix in mixes:
        floor = floors.get(len(mix.clients))
        print(f"| {len(mix.clients):7} | "
              + (f"{floor.per_second:14.1f} | {floor.p(99):15.0f} | " if floor else
                 f"{'-':>14} | {'-':>15} | ")
              + f"{mix.per_second:9.1f} | {mix.p(99):10.0f} | "
              + (f"{mix.per_second / floor.per_second:13.0%} |" if floor else f"{'-':>13} |"))
    # The aims are information: the run fails on correctness only.
    top = max(mixes, key=lambda p: len(p.clients))
    floor = floors.get(len(top.clients))
    if floor:
        fraction = top.per_second / floor.per_second
        print(f"aim, mix >= 40 % of /healthz at {len(top.clients)} clients: {fraction:.0%}, "
              + ("reached" if fraction >= 0.40 else "NOT reached"))
    print(f"aim, mix p99 < 1 s at {len(top.clients)} clients: {top.p(99) / 1000:.2f} s, "
          + ("reached" if top.p(99) < 1000 else "NOT reached"))


def _uptime() -> str:
    return " ".join(f"{n:.2f}" for n in os.getloadavg()) + " over 1, 5, 15 min"


def _server_shape(env: dict[str, str]) -> str:
    """Workers and threads as gunicorn.conf.py gives them in this environment."""
    config: dict[str, Any] = {}
    saved = os.environ.copy()
    os.environ.update(env)
    try:
        exec((ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 - our own file
    finally:
        os.environ.clear()
        os.environ.update(saved)
    extra = env.get("GUNICORN_CMD_ARGS")
    return (f"({config.get('workers')} workers x {config.get('threads', 1)} threads, "
            f"{config.get('worker_class', 'sync')}"
            + (f"; GUNICORN_CMD_ARGS={extra!r} over it" if extra else "") + ")")


# --- database, server, set-up ----------------------------------------------------------


def prepare_database(url: str) -> None:
    """Drop (if it is ours) and create the database, with its mark."""
    from sqlalchemy import create_engine, text

    from config import database_url

    target = _url(url)
    name = target.database
    engine = create_engine(database_url(target.set(database="postgres").render_as_string(
        hide_password=False)), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                "WHERE datname = :name"), {"name": name}).first()
        if row is not None:
            if row[0] != MARK:
                raise SystemExit(f"database {name!r} exists and was not made by bench/load.py: "
                                 "drop it yourself or name another one (--database-url)")
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{MARK}'"))
    engine.dispose()


def _url(url: str) -> Any:
    from sqlalchemy import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("the load test runs on PostgreSQL: --database-url postgresql://…")
    if parsed.host not in (None, "127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the load test drops its database: a local server only, "
                         f"not {parsed.host}")
    if not parsed.database or parsed.database in NEVER_DROPPED:
        raise SystemExit(f"the load test drops its database: not {parsed.database!r}")
    return parsed


def flask(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def start_server(env: dict[str, str], port: int, workers: int | None,
                 log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}"]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    conn = Connection(port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and server.poll() is None:
        if conn.request("GET", "/healthz")[0] == 200:
            conn.close()
            return server
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer /healthz within {START_TIMEOUT:.0f} s:\n"
                     + log.read_text(errors="replace")[-3000:])


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _patiently(call: Any) -> tuple[int, Any, Any]:
    """A login call, waiting out a 429 of the login throttle (one address for all)."""
    for _ in range(4):
        status, headers, body = call()
        if status != 429:
            return status, headers, body
        time.sleep(min(60, int(headers.get("Retry-After", "5") or 5)))
    return status, headers, body


def token_of(conn: Connection, email: str) -> str:
    def call() -> tuple[int, Message, bytes]:
        return conn.request("POST", "/api/v1/auth/tokens", json.dumps(
            {"email": email, "password": DEMO_PASSWORD}).encode(),
            {"Content-Type": "application/json"})
    status, _, body = _patiently(call)
    if status != 201:
        raise SystemExit(f"token of {email}: {status} {body[:300]!r}")
    return json.loads(body)["token"]


def cookies(headers: Message, jar: dict[str, str]) -> dict[str, str]:
    for line in headers.get_all("Set-Cookie") or []:
        name, _, value = line.split(";", 1)[0].partition("=")
        jar[name.strip()] = value.strip()
    return jar


def session_of(conn: Connection, email: str) -> str:
    """Log in through the login form, CSRF token included; the session cookie."""
    def call() -> tuple[int, Message, bytes]:
        status, headers, page = conn.request("GET", "/auth/login")
        jar = cookies(headers, {})
        found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        if status != 200 or not found:
            raise SystemExit(f"login page: {status}")
        form = urllib.parse.urlencode({"email": email, "password": DEMO_PASSWORD,
                                       "csrf_token": found.group(1).decode()}).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        status, headers, _ = conn.request(
            "POST", "/auth/login", form,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
        cookies(headers, jar)
        return status, headers, "; ".join(f"{k}={v}" for k, v in jar.items())
    status, _, cookie = _patiently(call)
    if status != 302:
        raise SystemExit(f"login of {email}: {status}")
    return cookie


def personas_of(port: int) -> list[Persona]:
    conn = Connection(port)
    tokens = {email: token_of(conn, email) for email, _, _ in PERSONAS}
    admin = tokens[PERSONAS[0][0]]  # a coordinator reads the directory
    status, users = conn.json("GET", "/api/v1/users?limit=500", token=admin)
    status2, equipment = conn.json("GET", "/api/v1/equipment?limit=500", token=admin)
    if status != 200 or status2 != 200:
        raise SystemExit(f"directory: {status} {users!r:.300} / {status2} {equipment!r:.300}")
    user_ids = {u["email"]: u["id"] for u in users["items"]}
    machines = {e["code"]: Machine(e["code"], e["id"], e["establishment_id"])
                for e in equipment["items"]}
    personas = []
    for email, trainer, codes in PERSONAS:
        mine = [machines[code] for code in codes]
        feeds = []
        for scope, scope_id in (("equipment", mine[0].id),
                                ("establishment", mine[0].establishment_id)):
            status, feed = conn.json("POST", "/api/v1/feeds",
                                     {"scope": scope, "scope_id": scope_id}, tokens[email])
            if status != 201:
                raise SystemExit(f"feed of {email}: {status} {feed!r:.300}")
            feeds.append(urllib.parse.urlsplit(feed["url"]).path)
        personas.append(Persona(email, tokens[email], session_of(conn, email),
                                user_ids[trainer] if trainer else None, mine, feeds))
    conn.close()
    return personas


def window() -> list[date]:
    """The weekdays of the booking window, in Paris."""
    today = datetime.now(PARIS).date()
    monday = today + timedelta(days=7 - today.weekday())
    first, last = (monday + timedelta(weeks=w) for w in WINDOW_WEEKS)
    return [first + timedelta(days=d) for d in range((last - first).days)
            if (first + timedelta(days=d)).weekday() < 5]


# --- the database's word ---------------------------------------------------------------


OVERLAPS = """
SELECT a.booking_id, b.booking_id, a.equipment_id FROM occupancy a
JOIN occupancy b ON b.equipment_id = a.equipment_id AND a.id < b.id
 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
WHERE a.booking_status IN :holding AND b.booking_status IN :holding
"""
# Each holding booking holds its machine and the machine's components, from its
# start to its end plus the machine's changeover: no row missing, none more.
HOLDS = """
WITH expected AS (
  SELECT b.id AS booking_id, held.id AS equipment_id, b.start_at AS starts_at,
         b.end_at + make_interval(mins => e.changeover_minutes) AS ends_at, b.status
  FROM booking b JOIN equipment e ON e.id = b.equipment_id
  JOIN equipment held ON held.id = e.id OR held.parent_id = e.id
  WHERE b.status IN :holding)
SELECT count(*) FROM expected x FULL JOIN (
  SELECT * FROM occupancy WHERE booking_status IN :holding) o
  ON o.booking_id = x.booking_id AND o.equipment_id = x.equipment_id
 AND o.starts_at = x.starts_at AND o.ends_at = x.ends_at AND o.booking_status = x.status
WHERE o.id IS NULL OR x.booking_id IS NULL
"""


def check_database(url: str, expected: dict[int, Expected]) -> list[str]:
    from sqlalchemy import bindparam, create_engine, text

    from config import database_url
    from models.enums import SLOT_HOLDING_STATUSES

    holding = tuple(s.value for s in SLOT_HOLDING_STATUSES)
    engine = create_engine(database_url(url))
    problems = []
    with engine.connect() as conn:
        overlaps = conn.execute(text(OVERLAPS).bindparams(
            bindparam("holding", expanding=True)), {"holding": holding}).all()
        wrong_holds = conn.scalar(text(HOLDS).bindparams(
            bindparam("holding", expanding=True)), {"holding": holding})
        rows = {r.id: r for r in conn.execute(text(
            "SELECT id, equipment_id, start_at, end_at, status FROM booking "
            "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": list(expected) or [0]})}
        total = conn.scalar(text("SELECT count(*) FROM booking"))
    engine.dispose()
    missing = [i for i in expected if i not in rows]
    unlike = [i for i, e in expected.items() if i in rows and e.known and not _as_left(
        e, rows[i], holding)]
    print(f"\nchecks in PostgreSQL ({total:,} bookings in the database):")
    print(f"  overlapping pairs of slot-holding occupancy rows on one machine: {len(overlaps)}")
    print(f"  slot-holding bookings' occupancy rows not as their machine, components and "
          f"changeover say (missing or extra): {wrong_holds}")
    print(f"  bookings answered 201: {len(expected):,}, of which missing from the database: "
          f"{len(missing)}, not as the client's last answer left them: {len(unlike)}"
          f" ({sum(not e.known for e in expected.values())} left unknown by a failed call)")
    if overlaps:
        problems.append(f"{len(overlaps)} overlaps, first {overlaps[:5]}")
    if wrong_holds:
        problems.append(f"{wrong_holds} occupancy rows do not match their bookings")
    if missing:
        problems.append(f"{len(missing)} bookings answered 201 are missing: {missing[:10]}")
    if unlike:
        problems.append(f"{len(unlike)} bookings differ from their last answer: {unlike[:10]}")
    return problems


def _as_left(expected: Expected, row: Any, holding: tuple[str, ...]) -> bool:
    if expected.cancelled:
        return row.status == "cancelled"
    return (row.status in holding and row.equipment_id == expected.equipment_id
            and row.start_at == expected.start and row.end_at == expected.end)


def server_log_problems(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    timeouts = text.count("WORKER TIMEOUT")
    killed = len(re.findall(r"was sent SIGKILL|was sent code", text))  # not SIGTERM: the stop
    tracebacks = text.count("Traceback (most recent call last)")
    print(f"  server log: {timeouts} worker timeouts, {killed} workers killed, "
          f"{tracebacks} tracebacks")
    if tracebacks:
        start = text.index("Traceback (most recent call last)")
        print(text[max(0, start - 300):start + 2500])
    problems = []
    if timeouts or killed:
        problems.append(f"{timeouts} worker timeouts, {killed} workers killed")
    if tracebacks:
        problems.append(f"{tracebacks} tracebacks in the server log")
    return problems


# --- main ------------------------------------------------------------------------------


def code_version() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "booking", "models",
                                "migrations", "config.py", "gunicorn.conf.py"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return f"commit {commit}" + (", with uncommitted changes to the app" if dirty else "")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL",
                                                                 DEFAULT_URL),
                        help="a PostgreSQL database of its own, dropped and re-created "
                             f"(default $LOAD_DATABASE_URL or {DEFAULT_URL})")
    parser.add_argument("--clients", default="10,50",
                        type=lambda s: [int(n) for n in s.split(",") if n.strip()],
                        help="concurrent clients of each phase, in order (default 10,50)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="duration of each phase of the mix (default 60)")
    parser.add_argument("--healthz-seconds", type=float, default=20.0,
                        help="duration of each /healthz phase, before the mix's phase of "
                             "as many clients (default 20; 0: none)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--client-processes", type=int, default=2,
                        help="processes the clients' threads are spread over (default 2)")
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    if (not args.clients or min(args.clients) < 1 or args.seconds <= 0
            or args.healthz_seconds < 0 or args.client_processes < 1):
        parser.error("need at least one phase of one client or more, for some seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    began = time.monotonic()
    print("$ " + " ".join(shlex.quote(a) for a in [
        ".venv/bin/python", "bench/load.py", *(sys.argv[1:] if argv is None else argv)]))
    print(f"code: {code_version()}; Python {platform.python_version()}, {os.cpu_count()} CPUs "
          f"(load average {_uptime()})")
    prepare_database(args.database_url)
    port = free_port()
    env = {**os.environ, "FLASK_CONFIG": "production", "SECRET_KEY": secrets.token_hex(32),
           "DATABASE_URL": args.database_url, "BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("WEB_CONCURRENCY", None)
    flask(env, "db", "upgrade")
    print(flask(env, "demo", "load"))
    workdir = Path(tempfile.mkdtemp(prefix="plateforme-load-"))
    log = workdir / "gunicorn.log"
    server = start_server(env, port, args.workers, log)
    print(f"gunicorn on 127.0.0.1:{port}, gunicorn.conf.py"
          + (f" with --workers {args.workers}" if args.workers else "")
          + f" {_server_shape(env)}; set-up {time.monotonic() - began:.0f} s")
    try:
        personas = personas_of(port)
        days = window()
        print(f"{len(personas)} accounts on {len({m.id for p in personas for m in p.machines})} "
              f"machines; bookings from {days[0]} to {days[-1]}, weekdays, Paris; "
              f"{args.seconds:.0f} s per phase of the mix, {args.healthz_seconds:.0f} s of "
              f"/healthz alone before each; clients in {args.client_processes} processes")
        database = _url(args.database_url).database
        phases = []
        for i, n in enumerate(args.clients):
            if args.healthz_seconds:
                phases.append(run_phase("/healthz", n, personas, port, days,
                                        args.healthz_seconds, args.seed + i, server.pid,
                                        database, args.client_processes))
            phases.append(run_phase("mix", n, personas, port, days, args.seconds,
                                    args.seed + i, server.pid, database,
                                    args.client_processes))
    finally:
        stop_server(server)
    answers: Counter[int] = Counter()
    expected: dict[int, Expected] = {}
    for phase in phases:
        answers += report(phase)
        for client in phase.clients:
            expected.update(client.created)
    summary(phases)
    problems = check_database(args.database_url, expected)
    problems += server_log_problems(log)
    errors = sum(n for s, n in answers.items() if s >= 500 or s == NO_ANSWER)
    if errors:
        problems.insert(0, f"{errors} answers were 5xx or none")
    print(f"\nwhole run {time.monotonic() - began:.0f} s, client CPU "
          f"{time.process_time() + sum(p.client_cpu for p in phases):.0f} s "
          f"(load average {_uptime()})")
    if problems:
        print("FAILED: " + "; ".join(problems) + f" (server log kept in {log})")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("passed: no 5xx, every request answered, no overlap, every 201 in the database")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
