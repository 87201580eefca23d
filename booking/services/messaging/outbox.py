"""The e-mail outbox: messages written in the transaction of the change they
report, delivered afterwards by the scheduler.

Delivery locks one due message, sends it and marks it sent in the same
transaction, so two schedulers never send the same message, and a message is
marked sent only once it was handed to the mail server. A failure schedules
a retry with exponential backoff; after MAX_ATTEMPTS the message is failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from booking.services.inputs import single_line
from booking.services.messaging import invitations
from models import OutboxMessage, OutboxStatus

# INSERT … ON CONFLICT DO NOTHING, per dialect.
INSERTS: dict[str, Callable[..., Any]] = {"postgresql": postgresql.insert,
                                          "sqlite": sqlite.insert}
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    ics: str | None = None
    ics_method: str | None = None


def enqueue(session: Session, mail: Mail, *, now: datetime,
            dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue a message; with ``dedupe_key``, a second call queues nothing (jobs
    that run twice send one reminder)."""
    values = dict(
        dedupe_key=dedupe_key, to_addr=single_line(mail.to),
        # A header: one line (a title with a line feed would fail at delivery).
        subject=single_line(mail.subject)[:255], body_text=mail.body,
        ics=mail.ics, ics_method=mail.ics_method, status=OutboxStatus.PENDING, attempts=0,
        next_attempt_at=now, created_at=now)
    insert = INSERTS.get(session.connection().dialect.name)
    if dedupe_key is not None and insert is not None:
        # One statement instead of a look-up and an insert, and a concurrent
        # twin waits for this one instead of failing on the unique key.
        session.flush()  # what the session holds reaches the database first
        return session.scalars(
            insert(OutboxMessage).values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage)
        ).first()
    if dedupe_key is not None and session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None:
        return None
    message = OutboxMessage(**values)
    session.add(message)
    session.flush()
    return message


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** attempts), MAX_BACKOFF)


def deliver_one(session: Session, send: Callable[[OutboxMessage], None], *,
                now: datetime) -> OutboxMessage | None:
    """Lock the oldest due message, send it, record the outcome; None when no
    message is due. The caller commits right after (one message a transaction)."""
    message = session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True))
    if message is None:
        return None
    message.attempts += 1
    try:
        invitations.render(session, message)  # the request stored a reference
        send(message)
    except Exception as exc:  # any transport failure is retried
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
        else:
            message.next_attempt_at = now + backoff(message.attempts)
    else:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = None
    session.flush()
    return message
