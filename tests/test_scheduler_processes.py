"""Two scheduler processes started by mistake: one runs the jobs, the other
waits, and takes over when the first dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from models import JobRun, SchedulerLease

ROOT = Path(__file__).resolve().parent.parent


def _start(database, export_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database.url, "FLASK_CONFIG": "development",
           "SCHEDULER_POLL_SECONDS": "0.3", "SCHEDULER_LEASE_SECONDS": "2",
           "EXPORT_DIR": str(export_dir)}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_second_scheduler_waits_then_takes_over(committed_db, database, tmp_path) -> None:
    session = committed_db.session

    def holder() -> str | None:
        session.rollback()
        lease = session.get(SchedulerLease, "scheduler")
        session.expire_all()
        return lease.holder if lease is not None else None

    def runs() -> int:
        session.rollback()
        return session.scalar(select(func.count()).select_from(JobRun)) or 0

    first = _start(database, tmp_path / "a")
    second = None
    try:
        _wait_for(lambda: holder() is not None and runs() > 0)
        first_holder = holder()
        second = _start(database, tmp_path / "b")
        time.sleep(3)  # the standby polls several times meanwhile
        assert holder() == first_holder
        jobs_before = runs()
        _stop(first, signal.SIGKILL)  # dies: no release, the lease must expire
        _wait_for(lambda: holder() not in (None, first_holder))
        _wait_for(lambda: runs() > jobs_before)
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
    session.rollback()

