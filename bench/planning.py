"""Benchmark of the planning search, « Quand puis-je ? » (issue 13: within 10×
the availability of one machine).

Generates the campus of bench/engine.py (by default 40 establishments, 2,000
machines, one trainer per machine, bookings over three years) and adds what
the search reads beyond availability: one certification type per
establishment, required by each of its machines and held by each of its
trainers, and one coordinator. Then it measures, with ``time.perf_counter``
medians over alternated repetitions from an empty session (bench.engine's
``paired``), over the same four weeks of history:

* the planning search over one establishment's machines (about 50) and its
  trainers, as a coordinator (every range with the certified free trainers
  listed), as a coordinator asking only ranges with a trainer, and as one
  trainer searching for themselves;
* beside each, availability of one machine of that establishment over the
  same four weeks (its machine loaded untimed, as bench/engine.py does);
* for reference, availability alone of the establishment's machines (loaded
  untimed), the part of the search's time that is availability's.

The ratio printed is search over availability; the issue's aim is 10× or less.

    .venv/bin/python bench/planning.py                      # SQLite, temporary file
    .venv/bin/python bench/planning.py --bookings 500000 --repeat 30
    .venv/bin/python bench/planning.py --database postgresql \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench   # an empty database
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.campus import NOW, TRAINER_PASSWORD, Campus, create_campus, loading
from bench.engine import FOUR_WEEKS, Result, code_version, make_app, migrate, paired, table
from booking.auth.passwords import hash_password
from booking.extensions import db
from booking.services.bookings.availability import availability, load_with_hours
from booking.services.planning.slots import find_slots
from booking.timeutil import frozen
from config import database_url
from models import Certification, CertificationType, Equipment, Role, User
from models.equipment import equipment_certification_type

MINUTES = 120


def add_certifications(session: Session, campus: Campus) -> int:
    """One type per establishment, required by its machines, held by its
    trainers for the whole history; and a coordinator of the establishment
    measured. Answers the coordinator's id."""
    created = NOW.replace(year=NOW.year - 4)
    session.execute(insert(CertificationType), [
        {"code": f"HAB-{n:03d}", "name": f"Habilitation {n}", "validity_months": 60,
         "created_at": created} for n, _ in enumerate(campus.establishment_ids)])
    types = dict(zip(campus.establishment_ids, session.scalars(
        select(CertificationType.id).order_by(CertificationType.id)), strict=True))
    session.execute(insert(equipment_certification_type), [
        {"equipment_id": m.id, "certification_type_id": types[m.establishment_id]}
        for m in campus.machines])
    session.execute(insert(Certification), [
        {"user_id": trainer_id, "certification_type_id": types[machine.establishment_id],
         "valid_from": date(2022, 1, 1), "valid_until": date(2027, 12, 31),
         "created_at": created}
        for trainer_id, machine in zip(campus.trainer_ids, campus.machines, strict=True)])
    establishment = measured_establishment(campus)
    session.execute(insert(User), [{
        "email": "bench.coordinator@plateforme.invalid", "name": "Bench Coordinator",
        "role": Role.COORDINATOR, "password_hash": hash_password(TRAINER_PASSWORD),
        "establishment_id": establishment, "company_id": None, "active": True,
        "locale": "fr", "reminder_hours": 24, "created_at": created,
        "password_changed_at": created}])
    session.commit()
    return session.scalar(select(User.id).where(
        User.email == "bench.coordinator@plateforme.invalid"))


def measured_establishment(campus: Campus) -> int:
    return campus.establishment_ids[len(campus.establishment_ids) // 2]


def planning_case(session: Session, name: str, actor_id: int, establishment_id: int,
                  machine_id: int, repeat: int, **search: Any) -> Result:
    start, end = FOUR_WEEKS

    def actor() -> User:
        session.close()  # an empty identity map, as in a new request
        return session.get(User, actor_id)

    def plan(user: User) -> Any:
        return find_slots(session, actor=user, now=start, start=start, end=end,
                          minutes=MINUTES, establishment_id=establishment_id, **search)

    def machine() -> list[Equipment]:
        session.close()
        return load_with_hours(session, [machine_id])

    found = plan(actor())
    op, floor = paired(repeat, actor, plan, machine,
                       lambda m: availability(session, m, start, end))
    return Result(name, "availability of one machine, same 4 weeks", len(found.items),
                  op, floor)


def availability_case(session: Session, ids: list[int], machine_id: int,
                      repeat: int) -> Result:
    """For reference: availability alone of the establishment's machines, the
    part of the search that is not the search's own."""
    start, end = FOUR_WEEKS

    def loaded(wanted: list[int]) -> Any:
        def load() -> list[Equipment]:
            session.close()
            return load_with_hours(session, wanted)
        return load

    op, floor = paired(repeat, loaded(ids), lambda m: availability(session, m, start, end),
                       loaded([machine_id]), lambda m: availability(session, m, start, end))
    return Result(f"availability alone, {len(ids)} machines (reference)",
                  "availability of one machine, same 4 weeks", 0, op, floor)


def run(args: argparse.Namespace, url: str) -> None:
    app = make_app(url)
    migrate(app)
    with app.app_context():
        with loading(db.engine) as conn:
            campus = create_campus(conn, establishments=args.establishments,
                                   equipment=args.equipment, target=args.bookings,
                                   password_hash=hash_password(TRAINER_PASSWORD))
        started = time.perf_counter()
        with loading(db.engine) as conn:
            campus.grow(conn, args.bookings)
        session = db.session
        coordinator = add_certifications(session, campus)
        print(f"{args.bookings:,} bookings generated in {time.perf_counter() - started:.0f} s;"
              " measuring...", file=sys.stderr, flush=True)
        establishment = measured_establishment(campus)
        machines = campus.machines_of(establishment)
        one = machines[len(machines) // 2]
        trainer = campus.trainer_ids[campus.machines.index(one)]
        gc.collect()
        gc.freeze()
        results = [
            planning_case(session, f"planning, {len(machines)} machines, coordinator",
                          coordinator, establishment, one.id, args.repeat),
            planning_case(session, f"planning, {len(machines)} machines, with_trainer",
                          coordinator, establishment, one.id, args.repeat,
                          with_trainer=True),
            planning_case(session, f"planning, {len(machines)} machines, one trainer",
                          trainer, establishment, one.id, args.repeat),
            availability_case(session, [m.id for m in machines], one.id, args.repeat),
        ]
        session.remove()
    print()
    table(["operation", "ranges", "median ms", "availability ms", "ratio",
           "noise op / floor", "best ratio"],
          [[r.operation, str(r.rows), f"{r.op.median:.3f}", f"{r.floor.median:.3f}",
            f"{r.ratio:.2f}", f"{r.op.spread:.0%} / {r.floor.spread:.0%}",
            f"{r.best_ratio:.2f}"] for r in results])
    print(f"\nplanning search / availability of one machine, 4 weeks: {results[0].ratio:.1f}× "
          "(aim: 10× or less)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bookings", type=int, default=200000)
    parser.add_argument("--establishments", type=int, default=40)
    parser.add_argument("--equipment", type=int, default=2000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL: an empty database")
    parser.add_argument("--repeat", type=int, default=30,
                        help="timed repetitions per operation (default 30)")
    args = parser.parse_args(argv)
    if args.database == "postgresql" and not args.database_url:
        parser.error("--database postgresql needs --database-url")
    if args.repeat < 4:
        parser.error("need --repeat 4 or more")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(f"code: {code_version()}")
    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), "
          f"{args.establishments} establishments, {args.equipment} machines, "
          f"{args.bookings:,} bookings, {args.repeat} repetitions")
    workdir = None
    if args.database == "sqlite":
        workdir = tempfile.mkdtemp(prefix="plateforme-bench-")
        url = f"sqlite:///{workdir}/bench.sqlite"
    else:
        url = database_url(args.database_url)
    try:
        with frozen(NOW):
            run(args, url)
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
