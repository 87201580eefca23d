"""One scheduler at a time: the lease, the fencing check, idempotent jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from models import AuditEntry, Booking, BookingPurpose, BookingStatus, JobRun, SchedulerLease
from scheduler.jobs import job_by_id, run_job
from scheduler.lease import acquire, release

T0 = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_second_scheduler_waits_while_the_first_lives(db) -> None:
    assert acquire(db, "first", now=T0, ttl=TTL)
    assert not acquire(db, "second", now=T0 + timedelta(seconds=30), ttl=TTL)
    assert acquire(db, "first", now=T0 + timedelta(seconds=30), ttl=TTL)  # renewal
    assert db.get(SchedulerLease, "scheduler").holder == "first"


def test_standby_takes_over_when_the_lease_expires(db) -> None:
    assert acquire(db, "first", now=T0, ttl=TTL)
    assert acquire(db, "second", now=T0 + TTL + timedelta(seconds=1), ttl=TTL)
    assert not acquire(db, "first", now=T0 + TTL + timedelta(seconds=2), ttl=TTL)


def test_release_lets_the_standby_in_at_once(db) -> None:
    assert acquire(db, "first", now=T0, ttl=TTL)
    release(db, "first", now=T0 + timedelta(seconds=1))
    assert acquire(db, "second", now=T0 + timedelta(seconds=2), ttl=TTL)


def test_job_of_a_scheduler_without_the_lease_runs_nothing(app, db) -> None:
    acquire(db, "other", now=datetime.now(UTC), ttl=TTL)
    db.commit()
    assert run_job(app, job_by_id("complete_past"), holder="me") is None
    assert db.scalar(select(func.count()).select_from(JobRun)) == 0


def _booking(make, status: BookingStatus, start: datetime, **kw) -> Booking:
    user = make.user("trainer")
    booking = Booking(uid=f"{status}-{start.isoformat()}@t", equipment=make.equipment(),
                      title="Séance", purpose=BookingPurpose.TRAINING, status=status,
                      booked_by=user, start_at=start, end_at=start + timedelta(hours=2), **kw)
    make.session.add(booking)
    make.session.flush()
    return booking


def test_expire_and_complete_jobs_are_idempotent(app, db, make) -> None:
    past = datetime.now(UTC) - timedelta(days=2)
    overdue = _booking(make, BookingStatus.PENDING, past + timedelta(days=5),
                       decision_deadline=past)
    undecided = _booking(make, BookingStatus.PENDING, past + timedelta(days=6),
                         decision_deadline=past + timedelta(days=10))
    finished = _booking(make, BookingStatus.CONFIRMED, past)
    db.commit()

    first = run_job(app, job_by_id("expire_pending"), holder=None)
    second = run_job(app, job_by_id("expire_pending"), holder=None)
    run_job(app, job_by_id("complete_past"), holder=None)
    run_job(app, job_by_id("complete_past"), holder=None)

    assert first.summary.startswith("1 ")
    assert second.summary.startswith("0 ")
    db.expire_all()
    assert db.get(Booking, overdue.id).status is BookingStatus.EXPIRED
    assert db.get(Booking, overdue.id).sequence == 1
    assert db.get(Booking, undecided.id).status is BookingStatus.PENDING
    assert db.get(Booking, finished.id).status is BookingStatus.COMPLETED
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["booking.expire", "booking.complete"]
    assert db.scalar(select(func.count()).select_from(JobRun)) == 4


def test_outbox_job_sends_each_message_once(app, db, make, caplog) -> None:
    from booking.services.messaging.outbox import Mail, enqueue
    from models import OutboxMessage, OutboxStatus

    enqueue(db, Mail("a@example.org", "Sujet", "Corps"), now=datetime.now(UTC))
    db.commit()
    with caplog.at_level("INFO", logger="plateforme.mail"):
        first = run_job(app, job_by_id("deliver_outbox"), holder=None)
        second = run_job(app, job_by_id("deliver_outbox"), holder=None)
    assert first.summary.startswith("1 message(s) sent")
    assert second.summary.startswith("0 message(s) sent")
    assert [r.getMessage().count("a@example.org") for r in caplog.records] == [1]
    db.expire_all()
    assert db.scalar(select(OutboxMessage.status)) is OutboxStatus.SENT


def test_every_job_runs_and_records_its_run(app, db) -> None:
    from scheduler.jobs import JOBS

    for spec in JOBS:
        run = run_job(app, spec, holder=None)
        assert run is not None, spec.id
        assert run.error is None, (spec.id, run.error)
    assert db.scalar(select(func.count()).select_from(JobRun)) == len(JOBS)
