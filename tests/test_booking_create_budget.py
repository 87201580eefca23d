"""The statement budget of booking creation through the API (issue 16).

POST /api/v1/bookings checks every rule and writes the booking, its
occupancy row, its audit entry and the outbox message; the invitation is
rendered when the outbox sends (tests/test_invitation_at_send.py), so the
request neither builds it nor reloads anything after the commit. Counts,
never timings.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking.services.messaging import invitations
from models import Booking, OutboxMessage
from tests.api_helpers import Callers, Campus, assert_error, body
from tests.query_count import count_statements

# The request's own statements, between its BEGIN and COMMIT (here the test's
# SAVEPOINT and RELEASE): the token, the machine with its hours, site, line,
# components and certifications (one statement), closures, the machine's
# occupancy, the trainer's bookings, quotas, the savepoint, booking and
# occupancy rows, its release, the audit entry, the machine's required
# reading, and the outbox message (its dedupe check inside the INSERT).
# Before issue 16: 18, then 3 reads after the commit.
BUDGET = 13


@pytest.fixture
def campus(make, db, now):
    return Campus(make, db)


@pytest.fixture
def eq(make, campus):
    return make.equipment(code="BUDGET-1", establishment=campus.home, changeover_minutes=30)


def test_api_creation_statements(client, campus, eq, db) -> None:
    caller = Callers(client)(campus["trainer"])
    caller.post("/api/v1/bookings", json=body(eq, day="01-14"))  # token checked, caches warm
    wanted = body(eq)
    db.expire_all()
    with count_statements(db) as seen:
        answer = caller.post("/api/v1/bookings", json=wanted)
    assert answer.status_code == 201, answer.json
    first, *inside, last = seen.sql
    assert (first.split()[0], last.split()[0]) == ("SAVEPOINT", "RELEASE"), str(seen)
    assert len(inside) == BUDGET, str(seen)
    # Nothing read back after the commit; no calendar built in the request.
    assert not [s for s in inside if s.lstrip().startswith("SELECT booking.")], str(seen)
    message = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert message.ics == f"{invitations.REFERENCE}{answer.json['id']}"
    assert answer.json["start"] == wanted["start"]  # the answer, from the session's objects


def test_refused_creation_writes_nothing(client, campus, eq, db) -> None:
    caller = Callers(client)(campus["trainer"])
    caller.post("/api/v1/bookings", json=body(eq))
    counts = (db.scalar(select(func.count()).select_from(Booking)),
              db.scalar(select(func.count()).select_from(OutboxMessage)))
    with count_statements(db) as seen:
        answer = caller.post("/api/v1/bookings", json=body(eq))
    assert_error(answer, 409, "conflict")
    assert not [s for s in seen.sql if s.lstrip().startswith("INSERT")], str(seen)
    assert (db.scalar(select(func.count()).select_from(Booking)),
            db.scalar(select(func.count()).select_from(OutboxMessage))) == counts
