"""The preview of an import, and the import itself: the same run.

Each line goes through the services the pages use (invitations, equipment,
certifications), so every rule of theirs applies; the run happens inside a
savepoint, each line in a savepoint of its own, so that a refused line is
undone alone and the next lines are still checked. A preview (or a file with
any error) rolls the outer savepoint back: nothing is written. An import of
a valid file releases it, and the caller commits once.

Running the services rather than re-checking their rules beside them is the
point: a preview cannot say « créé » for a line the import would refuse.
What it costs is the work of the writes, bounded by reading.MAX_ROWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, DomainError, Nn_, NotFound, ValidationError
from booking.services.onboarding.access import Onboarding
from booking.services.onboarding.reading import Column, Row, read_rows, refuse
from booking.services.onboarding.values import CellError
from models import User

CREATED, UPDATED, UNCHANGED, REFUSED = "created", "updated", "unchanged", "error"
# The seconds a page or an API request spends on a file's lines (each a few
# to 20 ms), well under gunicorn's timeout; the command line has none.
REQUEST_SECONDS = 20.0


@dataclass(frozen=True)
class Change:
    """One value a line changes: ``column``'s title, before and after (typed
    values, shown in the reader's conventions by the pages)."""

    column: str
    before: Any
    after: Any


@dataclass
class Line:
    number: int
    key: str  # what the line is matched by: an e-mail, a code...
    status: str = UNCHANGED
    changes: list[Change] = field(default_factory=list)
    errors: list[DomainError] = field(default_factory=list)


@dataclass(frozen=True)
class Kind:
    """What one kind of file holds and how each of its lines is applied."""

    name: str
    title: str  # for the pages, marked for translation
    columns: tuple[Column, ...]
    key: Callable[[Row], str]
    # Applies a row through the services; answers the status and the changes,
    # raises a DomainError (or CellError, the row's errors already noted).
    apply: Callable[[Session, User, Row, datetime], tuple[str, list[Change]]]
    # Lines applied first (a pilot line before its components): a sort key.
    order: Callable[[Row], Any] = lambda row: 0


@dataclass
class Plan:
    kind: str
    lines: list[Line] = field(default_factory=list)
    errors: list[DomainError] = field(default_factory=list)  # of the whole file

    @property
    def valid(self) -> bool:
        return not self.errors and not any(line.errors for line in self.lines)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED, REFUSED), 0)
        for line in self.lines:
            counts[REFUSED if line.errors else line.status] += 1
        return counts


class ImportRefused(ValidationError):
    """A file with errors: nothing was written; ``plan`` has every line's errors."""

    def __init__(self, plan: Plan) -> None:
        super().__init__(N_("The file has errors: nothing was imported."), {"field": "file"})
        self.plan = plan


def kind_named(name: str) -> Kind:
    from booking.services.onboarding import accounts, certifications, equipment

    kinds = {k.name: k for k in (accounts.KIND, equipment.KIND, certifications.KIND)}
    if name not in kinds:
        raise NotFound(N_("Not found."))
    return kinds[name]


def preview(session: Session, *, actor: User, kind: str, data: bytes, now: datetime,
            seconds: float | None = None) -> Plan:
    """What importing ``data`` would do, line by line; nothing written. With
    ``seconds``, lines not reached by then are not checked (a file error)."""
    return _run(session, actor=actor, kind=kind_named(kind), data=data, now=now, write=False,
                seconds=seconds)


def import_file(session: Session, *, actor: User, kind: str, data: bytes, now: datetime,
                source_name: str | None = None, seconds: float | None = None) -> Plan:
    """Write every line of ``data``, or nothing (ImportRefused) if any is refused."""
    spec = kind_named(kind)
    plan = _run(session, actor=actor, kind=spec, data=data, now=now, write=True,
                seconds=seconds)
    if not plan.valid:
        raise ImportRefused(plan)
    # Filed under the importer: each created or changed row has its own entry too.
    audit.record(session, actor=actor, action="onboarding.import", object_type="user",
                 object_id=actor.id, now=now, kind=spec.name, file=source_name, **plan.counts)
    return plan


def _run(session: Session, *, actor: User, kind: Kind, data: bytes, now: datetime,
         write: bool, seconds: float | None) -> Plan:
    require(actor, "import", Onboarding, N_("Only an admin or a coordinator imports files."))
    plan = Plan(kind.name)
    try:
        rows = read_rows(data, kind.columns)
    except ValidationError as error:
        plan.errors.append(error)
        return plan
    if not rows:
        plan.errors.append(refuse(N_("The file has no line under its header.")))
        return plan
    lines = {row.line: Line(row.line, kind.key(row)) for row in rows}
    plan.lines = list(lines.values())
    _mark_repeats(rows, lines)
    # A duration, not a date: the monotonic counter, not booking.timeutil's clock.
    started = time.monotonic()
    outer = session.begin_nested()
    try:
        ordered = sorted(rows, key=kind.order)
        for index, row in enumerate(ordered):
            if seconds is not None and time.monotonic() - started > seconds:
                _stop_early(plan, ordered[index:])
                break
            line = lines[row.line]
            if not row.errors and not line.errors:
                _apply_row(session, actor, kind, row, line, now)
            line.errors = [*row.errors, *line.errors]
            if line.errors:
                line.status, line.changes = REFUSED, []
    finally:
        if write and plan.valid:
            outer.commit()
        else:
            outer.rollback()
    return plan


def _stop_early(plan: Plan, left: Sequence[Row]) -> None:
    """Lines not reached in time: left out of the plan, which is refused."""
    skipped = {row.line for row in left}
    plan.lines = [line for line in plan.lines if line.number not in skipped]
    plan.errors.append(ValidationError(Nn_(
        "The file is too long to check in one request: %(n)d line was not checked. Split "
        "the file, or import it with the command line (flask onboarding import).",
        "The file is too long to check in one request: %(n)d lines were not checked. Split "
        "the file, or import it with the command line (flask onboarding import)."),
        {"field": "file"}, n=len(skipped)))


def _mark_repeats(rows: Sequence[Row], lines: dict[int, Line]) -> None:
    """A key twice in one file: the second line is refused (which would win?)."""
    first: dict[str, int] = {}
    for row in rows:
        key = lines[row.line].key.casefold()
        if not key:
            continue
        if key in first:
            lines[row.line].errors.append(refuse(
                N_("Line %(line)d: %(key)s is already on line %(first)d."), row.line,
                key=lines[row.line].key, first=first[key]))
        else:
            first[key] = row.line


def _apply_row(session: Session, actor: User, kind: Kind, row: Row, line: Line,
               now: datetime) -> None:
    savepoint = session.begin_nested()
    try:
        line.status, line.changes = kind.apply(session, actor, row, now)
        savepoint.commit()
    except CellError:
        savepoint.rollback()
    except DomainError as error:
        savepoint.rollback()
        for refusal in getattr(error, "refusals", None) or [error]:
            line.errors.append(refuse(N_("Line %(line)d: %(problem)s"), row.line,
                                      problem=refusal))
    except IntegrityError:  # a rule only the database keeps, or a concurrent writer
        savepoint.rollback()
        line.errors.append(refuse(N_("Line %(line)d: the database refused this line; "
                                     "check its values."), row.line))
