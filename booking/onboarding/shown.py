"""A plan as the reader reads it, on the pages and in the API: the counts in a
sentence (each with its own plural), each line's status, changes and errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from flask_babel import get_locale, npgettext, pgettext
from flask_babel import gettext as _

from booking.labels import format_day, label
from booking.services.errors import N_
from booking.services.onboarding.plan import CREATED, REFUSED, UNCHANGED, UPDATED, Line, Plan

KINDS = (("accounts", N_("Accounts")), ("equipment", N_("Equipment")),
         ("certifications", N_("Certifications")))


def kind_title(kind: str) -> str:
    return _(dict(KINDS)[kind])


def status_label(status: str) -> str:
    return {CREATED: pgettext("import line", "created"),
            UPDATED: pgettext("import line", "changed"),
            UNCHANGED: pgettext("import line", "unchanged"),
            REFUSED: pgettext("import line", "error")}[status]


def counts_sentence(counts: dict[str, int]) -> str:
    """Each count with its own plural (French agrees each word with its number)."""
    return ", ".join((
        npgettext("import lines", "%(num)d line created", "%(num)d lines created",
                  counts[CREATED]),
        npgettext("import lines", "%(num)d changed", "%(num)d changed", counts[UPDATED]),
        npgettext("import lines", "%(num)d unchanged", "%(num)d unchanged",
                  counts[UNCHANGED]),
        npgettext("import lines", "%(num)d with errors", "%(num)d with errors",
                  counts[REFUSED])))


def value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, Enum):
        return str(label(value))
    if isinstance(value, date):
        return format_day(value, get_locale() or "fr", "short")
    return str(value)


@dataclass(frozen=True)
class LineView:
    number: int
    key: str
    status: str
    status_label: str
    changes: list[tuple[str, str, str]]
    errors: list[str]


def line_view(line: Line) -> LineView:
    return LineView(line.number, line.key, line.status, status_label(line.status),
                    [(_(c.column), value_text(c.before), value_text(c.after))
                     for c in line.changes],
                    [e.message for e in line.errors])


def plan_json(plan: Plan) -> dict[str, Any]:
    """The API's body of a plan: raw values where a program reads them (ISO
    dates), the messages in the reader's language."""

    def raw(value: Any) -> Any:
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, date):
            return value.isoformat()
        return value

    return {
        "kind": plan.kind,
        "valid": plan.valid,
        "counts": plan.counts,
        "errors": [e.message for e in plan.errors],
        "lines": [{"line": line.number, "key": line.key, "status": line.status,
                   "changes": [{"column": _(c.column), "before": raw(c.before),
                                "after": raw(c.after)} for c in line.changes],
                   "errors": [e.message for e in line.errors]}
                  for line in sorted(plan.lines, key=lambda x: x.number)],
    }
