"""The retention period of learners' personal data (GDPR).

Once a project is over (completed, cancelled or rejected) for more than
``LEARNER_RETENTION_DAYS`` days, its learners are erased as on request
(booking.services.attendance.learners.blank): names and e-mail blanked, the
rows and their marks kept, so that counts and hours stay. A project is over
since its last session's end (the latest end of its bookings, whatever their
status) or, when it has no session, since it last changed (``updated_at``,
set when it was completed, cancelled or rejected).

Idempotent (only learners not erased yet are taken) and batched: at most
``batch`` learners a call; the scheduler's daily run calls it until done.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.services import audit
from booking.services.attendance.learners import blank
from booking.services.projects.access import FINAL
from models import Booking, Learner, Project

BATCH = 200


def _over_since() -> object:
    last_session = (select(func.max(Booking.end_at)).where(Booking.project_id == Project.id)
                    .correlate(Project).scalar_subquery())
    return func.coalesce(last_session, Project.updated_at)


def erase_expired(session: Session, *, now: datetime, days: int, batch: int = BATCH) -> int:
    """Erase up to ``batch`` learners of projects over for more than ``days``
    days; the number erased."""
    cutoff = now - timedelta(days=days)
    over = (select(Project.id).where(Project.status.in_(FINAL))
            .where(_over_since() < cutoff))
    learners = list(session.scalars(
        select(Learner).where(Learner.erased_at.is_(None), Learner.project_id.in_(over))
        .order_by(Learner.id).limit(batch)))
    for learner in learners:
        blank(session, learner, now)
        audit.record(session, actor=None, action="learner.erase", object_type="learner",
                     object_id=learner.id, now=now, project_id=learner.project_id,
                     reason="retention")
    session.flush()
    return len(learners)


def erase_all_expired(session: Session, *, now: datetime, days: int,
                      batch: int = BATCH) -> int:
    """Every learner past the retention period, ``batch`` at a time."""
    total = 0
    while True:
        erased = erase_expired(session, now=now, days=days, batch=batch)
        total += erased
        if erased < batch:
            return total
