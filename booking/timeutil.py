"""The clock, read at the edges only: services receive ``now`` as an argument."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

# Tests freeze the edges' clock with :func:`frozen`; nothing else sets this.
_frozen: list[datetime] = []


def utc_now() -> datetime:
    if _frozen:
        return _frozen[-1]
    return datetime.now(UTC)


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Make :func:`utc_now` answer ``at`` (aware) inside the block."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    _frozen.append(at.astimezone(UTC))
    try:
        yield at
    finally:
        _frozen.pop()
