"""The scheduler's jobs, declared once with fixed ids.

Each job is a thin wrapper: an app context, a writer transaction, a check that
this process still holds the lease, one service call, a JobRun row, a commit.
The services are idempotent, so a retried or duplicated run changes nothing.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from booking.database import begin_write
from booking.extensions import db
from booking.mail import sender_from_config
from booking.services.attendance.retention import erase_all_expired
from booking.services.bookings.lifecycle import (
    advance_projects,
    complete_past_bookings,
    expire_overdue_pending,
)
from booking.services.bookings.no_show import release_no_shows
from booking.services.certifications.watch import flag_uncertified_bookings, warn_expiring
from booking.services.feeds.exports import write_exports
from booking.services.messaging.outbox import deliver_one
from booking.services.messaging.reminders import (
    send_digests,
    send_end_reminders,
    send_reminders,
)
from booking.services.policy import CERTIFICATION_WARNING_DAYS, Policy
from booking.services.satisfaction.surveys import send_surveys
from booking.services.waitlist import operations as waitlist
from booking.timeutil import utc_now
from models import JobRun, OutboxStatus, SchedulerLease
from scheduler.lease import LEASE_NAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    run: Callable[[Session, datetime], str]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    # The name of an app setting giving the interval in minutes, read when the
    # scheduler starts (trigger_args is fixed at import, before any config).
    config_minutes: str | None = None


def _expire_pending(session: Session, now: datetime) -> str:
    return f"{len(expire_overdue_pending(session, now=now))} pending booking(s) expired"


def _complete_past(session: Session, now: datetime) -> str:
    return f"{len(complete_past_bookings(session, now=now))} booking(s) completed"


def _advance_projects(session: Session, now: datetime) -> str:
    started, completed = advance_projects(session, now=now)
    return f"{started} project(s) started, {completed} completed"


def _export_calendars(session: Session, now: datetime) -> str:
    return str(write_exports(session, now=now, export_dir=Path(current_app.config["EXPORT_DIR"]),
                             base_url=current_app.config["BASE_URL"]))


def _reminders(session: Session, now: datetime) -> str:
    return f"{send_reminders(session, now=now)} reminder(s) queued"


def _end_reminders(session: Session, now: datetime) -> str:
    return f"{send_end_reminders(session, now=now)} reminder(s) queued"


def _digest(session: Session, now: datetime) -> str:
    return (f"{send_digests(session, now=now, policy=Policy.from_config(current_app.config))} "
            "digest(s) queued")


def _certifications(session: Session, now: datetime) -> str:
    warned = warn_expiring(session, now=now)
    # The bookings to check reach as far as bookings are accepted: the app's horizon.
    flagged, cleared = flag_uncertified_bookings(
        session, now=now, policy=Policy.from_config(current_app.config))
    return f"{warned} warning(s) queued, {flagged} booking(s) flagged, {cleared} cleared"


def _waitlist(session: Session, now: datetime) -> str:
    result = waitlist.run(session, now=now, policy=Policy.from_config(current_app.config),
                          claim_hours=float(current_app.config.get(
                              "WAITLIST_CLAIM_HOURS", waitlist.DEFAULT_CLAIM_HOURS)))
    return (f"{result.offers_expired} offer(s) expired, {result.entries_expired} "
            f"entry(ies) expired, {len(result.offered)} slot(s) offered")


def _no_show_release(session: Session, now: datetime) -> str:
    result = release_no_shows(session, now=now, policy=Policy.from_config(current_app.config),
                              claim_hours=float(current_app.config.get(
                                  "WAITLIST_CLAIM_HOURS", waitlist.DEFAULT_CLAIM_HOURS)))
    return (f"{len(result.released)} booking(s) released as no-shows, "
            f"{len(result.offered)} slot(s) offered")


def _satisfaction_surveys(session: Session, now: datetime) -> str:
    sent = send_surveys(session, now, key=current_app.config["SECRET_KEY"],
                        valid_days=int(current_app.config.get("SURVEY_VALID_DAYS", 30)))
    return f"{sent} satisfaction questionnaire(s) sent"


def _deliver_outbox(session: Session, now: datetime) -> str:
    """One message a transaction: each is marked sent in the transaction that
    locked it, and committed before the next is taken."""
    send = sender_from_config(current_app.config)
    sent = failed = 0
    for _ in range(OUTBOX_BATCH):
        message = deliver_one(session, send, now=now)
        if message is None:
            break
        if message.status is OutboxStatus.SENT:
            sent += 1
        else:
            failed += 1
        session.commit()
        begin_write(session)
    return f"{sent} message(s) sent, {failed} to retry or failed"


def _learner_retention(session: Session, now: datetime) -> str:
    erased = erase_all_expired(session, now=now,
                               days=int(current_app.config["LEARNER_RETENTION_DAYS"]))
    return f"{erased} learner(s) erased"


OUTBOX_BATCH = 200

JOBS: tuple[JobSpec, ...] = (
    JobSpec("deliver_outbox", "Send the e-mails of the outbox (retries with backoff)",
            _deliver_outbox, "interval", {"minutes": 1}),
    JobSpec("reminders", "Reminders before bookings (each user's delay, 24 h by default)",
            _reminders, "interval", {"minutes": 15}),
    # Every 5 minutes: a reminder 15 minutes before the end leaves at most 5 late.
    JobSpec("end_reminders", "Reminders before bookings end (each user's delay, none by "
            "default)", _end_reminders, "interval", {"minutes": 5}),
    JobSpec("approval_digest",
            "Daily digest for coordinators, each at their hour (07:00 by default)",
            _digest, "interval", {"minutes": 30}),
    JobSpec("certification_expiry",
            "Certification warnings at {} days; flag bookings of uncertified trainers".format(
                " and ".join(map(str, CERTIFICATION_WARNING_DAYS))),
            _certifications, "interval", {"hours": 6}),
    JobSpec("expire_pending", "Expire pending bookings past their decision deadline",
            _expire_pending, "interval", {"minutes": 5}),
    # Every 5 minutes: a booking nobody checked in is released at most that
    # long after its grace period, and what it frees offered in the same run.
    JobSpec("no_show_release", "Release bookings nobody checked in by the end of the grace "
            "period (no-shows) and offer their slots", _no_show_release, "interval",
            {"minutes": 5}),
    # Every 5 minutes: a freed slot waits at most that long for its offer.
    JobSpec("waitlist", "Waiting lists: expire unclaimed offers and passed entries, offer "
            "freed slots", _waitlist, "interval", {"minutes": 5}),
    JobSpec("complete_past", "Mark past confirmed bookings completed",
            _complete_past, "interval", {"minutes": 15}),
    JobSpec("advance_projects",
            "Projects in progress at their first session, completed after their last",
            _advance_projects, "interval", {"minutes": 15}),
    JobSpec("satisfaction_surveys",
            "Satisfaction questionnaires to the contact and learners of completed projects",
            _satisfaction_surveys, "interval", {"hours": 1}),
    JobSpec("export_calendars", "Write the export files (.ics, .csv) that changed",
            _export_calendars, "interval", config_minutes="SCHEDULER_EXPORT_MINUTES"),
    JobSpec("learner_retention", "Erase the personal data of learners of projects over for "
            "longer than the retention period", _learner_retention, "interval", {"days": 1}),
)


def run_job(app: Flask, spec: JobSpec, holder: str | None, *,
            requested_by_id: int | None = None) -> JobRun | None:
    """Run one job now; None when another scheduler holds the lease."""
    with app.app_context():
        session = db.session
        now = utc_now()
        begin_write(session)
        if holder is not None:
            lease = session.get(SchedulerLease, LEASE_NAME, with_for_update=True)
            if lease is None or lease.holder != holder or lease.expires_at < now:
                session.rollback()
                log.warning("job %s skipped: this scheduler no longer holds the lease", spec.id)
                return None
        run = JobRun(job_id=spec.id, started_at=now, requested_by_id=requested_by_id)
        try:
            run.summary = spec.run(session, now)
        except Exception:
            session.rollback()
            log.exception("job %s failed", spec.id)
            run = JobRun(job_id=spec.id, started_at=now, requested_by_id=requested_by_id,
                         error=traceback.format_exc(limit=5))
        run.finished_at = utc_now()
        session.add(run)
        session.commit()
        log.info("job %s: %s", spec.id, run.summary or run.error)
        return run


def job_by_id(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_SECONDS = 20
