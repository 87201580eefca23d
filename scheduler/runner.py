"""``flask --app wsgi scheduler run``: APScheduler in the foreground.

The process first takes the database lease; without it, it waits in standby
and retries. While it holds the lease it runs the jobs of ``scheduler.jobs``
and renews the lease; if a renewal fails it stops its jobs and goes back to
standby, so two schedulers never run the same job at once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from booking.database import begin_write
from booking.extensions import db
from booking.timeutil import utc_now
from scheduler.jobs import JOBS, LEASE_RENEW_SECONDS, LEASE_TTL, run_job
from scheduler.lease import acquire, release

log = logging.getLogger(__name__)


def _try_lease(app: Flask, holder: str) -> bool:
    with app.app_context():
        begin_write(db.session)
        ttl = timedelta(seconds=app.config.get("SCHEDULER_LEASE_SECONDS",
                                               LEASE_TTL.total_seconds()))
        held = acquire(db.session, holder, now=utc_now(), ttl=ttl)
        db.session.commit()
        return held


def _build(app: Flask, holder: str) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for spec in JOBS:
        trigger_args = dict(spec.trigger_args)
        if spec.config_minutes is not None:
            trigger_args["minutes"] = int(app.config[spec.config_minutes])
        # Run at start, then on the job's own trigger.
        scheduler.add_job(run_job, spec.trigger, args=(app, spec, holder), id=spec.id,
                          name=spec.description, replace_existing=True,
                          next_run_time=utc_now(), **trigger_args)
    return scheduler


def run(app: Flask, *, stop: threading.Event | None = None, poll_seconds: float | None = None,
        holder: str | None = None) -> None:
    stop = stop or threading.Event()
    holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    poll = poll_seconds if poll_seconds is not None else app.config.get(
        "SCHEDULER_POLL_SECONDS", LEASE_RENEW_SECONDS)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler: BackgroundScheduler | None = None
    log.info("scheduler %s starting", holder)
    try:
        while not stop.is_set():
            held = _try_lease(app, holder)
            if held and scheduler is None:
                log.info("scheduler %s holds the lease: running %d jobs", holder, len(JOBS))
                scheduler = _build(app, holder)
                scheduler.start()
            elif not held and scheduler is not None:
                log.warning("scheduler %s lost the lease: standing by", holder)
                scheduler.shutdown(wait=True)
                scheduler = None
            elif not held:
                log.info("scheduler %s in standby: another scheduler holds the lease", holder)
            stop.wait(poll)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            with app.app_context():
                begin_write(db.session)
                release(db.session, holder, now=utc_now())
                db.session.commit()
        log.info("scheduler %s stopped", holder)
