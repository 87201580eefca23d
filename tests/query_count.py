"""Counting the SQL statements a page or a job sends (the query budgets).

Every session of a test, the test's own and those of the requests and jobs it
runs, works on the one connection of the ``db`` fixture (tests/conftest.py),
so a ``before_cursor_execute`` listener on that connection sees each statement
that reaches the driver: queries, writes and savepoints alike. Counts, never
timings: a count does not depend on the machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session


@dataclass
class Statements:
    """The SQL sent while counting, in order."""

    sql: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sql)

    def touching(self, table: str) -> list[str]:
        """The statements that name ``table`` (a quoted or bare name)."""
        names = (table, f'"{table}"')
        return [s for s in self.sql if any(f" {n}" in s or f"({n}" in s for n in names)]

    def __str__(self) -> str:
        return "\n".join(f"{n:3d}. {' '.join(s.split())[:160]}"
                         for n, s in enumerate(self.sql, start=1))


@contextmanager
def count_statements(session: Session) -> Iterator[Statements]:
    """Record every statement sent on ``session``'s connection (the ``db``
    fixture's, shared by the test client's requests) inside the block."""
    connection = session.get_bind()
    if not isinstance(connection, Connection):
        raise TypeError("count_statements needs the db fixture's session (bound to a "
                        f"connection), not one bound to {connection!r}")
    seen = Statements()

    def record(conn: Connection, cursor: Any, statement: str, parameters: Any,
               context: Any, executemany: bool) -> None:
        seen.sql.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)
