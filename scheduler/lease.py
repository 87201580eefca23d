"""A lease in the database: whichever scheduler holds it runs the jobs.

A second scheduler started by mistake waits in standby; when the holder dies
and stops renewing, the lease expires and the standby takes over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import SchedulerLease

LEASE_NAME = "scheduler"


def acquire(session: Session, holder: str, *, now: datetime, ttl: timedelta,
            name: str = LEASE_NAME) -> bool:
    """Take or renew the lease; True when ``holder`` holds it afterwards.

    One UPDATE decides atomically on both backends: it only matches when the
    lease is ours or has expired. The caller commits.
    """
    result = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        return True
    try:
        with session.begin_nested():
            session.execute(
                insert(SchedulerLease).values(name=name, holder=holder, expires_at=now + ttl)
            )
    except IntegrityError:
        return False  # someone else holds a live lease
    return True


def release(session: Session, holder: str, *, now: datetime, name: str = LEASE_NAME) -> None:
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
