"""The hostile-value catalogue, the page forms read back from their HTML, and
the check that nothing hostile was stored (tests/test_hostile_inputs.py).

Each value is what an outside probe sent and saw answered with a 500 (issue
10): NUL, a lone surrogate, a control character, a line break, script, a
64 KB string, a JSON value of the wrong type, far dates and a huge integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Base

SCRIPT = "<script>alert(1)</script>"
# A value a browser could never send and a form could never read: never stored.
NEVER_STORED = ("nul", "surrogate", "bell")
# Years a stored date may have (the API's bounds, booking.api.fields).
FIRST_YEAR, LAST_YEAR = 1900, 2999
HUGE = 10**30

# name -> value as text (pages, query strings; dates and numbers as typed).
TEXT_VALUES: dict[str, str] = {
    "nul": "a\x00b",
    "surrogate": "\ud800",
    "bell": "a\x07b",
    "crlf": "a\r\nb",
    "script": SCRIPT,
    "64k": "x" * 65536,
    "date_min": "0001-01-01",
    "date_max": "9999-12-31",
    "huge_int": str(HUGE),
}


def json_value(name: str, schema: dict[str, Any]) -> Any:
    """The value of ``name`` for a JSON field of this (resolved) schema: far
    dates in the field's own format, a true number for the huge integer, and
    for "wrong_type" whatever the schema does not say."""
    fmt = schema.get("format")
    if name == "date_min":
        return "0001-01-01T00:00:00+14:00" if fmt == "date-time" else "0001-01-01"
    if name == "date_max":
        return "9999-12-31T23:59:59-14:00" if fmt == "date-time" else "9999-12-31"
    if name == "huge_int":
        return HUGE
    if name == "wrong_type":
        return "not-a-list" if schema.get("type") in ("array", "object") else {"$ne": 1}
    return TEXT_VALUES[name]


JSON_VALUES = (*TEXT_VALUES, "wrong_type")

# Judged by the application alone: script shown escaped, a line break in a
# one-line column, a control character the databases both store as it is. The
# answer is the same on every database, so they are sent on the first (SQLite,
# always tested) only. NUL, surrogates, 64 KB, far dates and huge numbers meet
# each database's own limits (PostgreSQL refuses NUL, overflows its integers
# and years): sent on every one.
SAME_ON_EVERY_DATABASE = ("bell", "crlf", "script")
# Only text there: far dates and huge numbers are a title like any other.
NOT_FOR_FREE_TEXT = ("date_min", "date_max", "huge_int")
# Read by a parser, not kept as typed: a control character or a line break
# fails it as NUL does.
NOT_FOR_PARSED = ("bell", "crlf")
DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
INTEGER_LIKE = re.compile(r"^-?\d+$")


def values_on(database: str) -> tuple[str, ...]:
    """The hostile values sent on this database (see SAME_ON_EVERY_DATABASE)."""
    if database == "sqlite":
        return JSON_VALUES
    return tuple(v for v in JSON_VALUES if v not in SAME_ON_EVERY_DATABASE)


def parsed_values(*, dates: bool, numbers: bool) -> list[str]:
    """The values for a field read by a parser: one per path through it (a
    NUL, a lone surrogate, 64 KB, script), and the far dates and the huge
    number where the field may read a date or a number (elsewhere they fail
    the parser as script does)."""
    skipped = {*NOT_FOR_PARSED, *(() if dates else ("date_min", "date_max")),
               *(() if numbers else ("huge_int",))}
    return [v for v in TEXT_VALUES if v not in skipped]


def json_values_for(schema: dict[str, Any]) -> list[str]:
    """The values for a JSON field of this (resolved) schema, chosen as for a
    page's field (:meth:`PageForm.values_for`), "wrong_type" for every one."""
    kind, fmt = schema.get("type"), schema.get("format")
    dates = fmt in ("date", "date-time", "time")
    if kind == "string" and not dates and "enum" not in schema:  # an e-mail, a URL too
        values = [v for v in TEXT_VALUES if v not in NOT_FOR_FREE_TEXT]
    elif kind in ("integer", "number", "string", "boolean"):
        values = parsed_values(dates=dates, numbers=kind in ("integer", "number"))
    else:  # arrays, objects, a schema that does not say: everything
        values = list(TEXT_VALUES)
    return [*values, "wrong_type"]


def encode(pairs: list[tuple[str, str]]) -> str:
    """application/x-www-form-urlencoded, lone surrogates included (as the
    bytes a hostile client sends: they are not UTF-8)."""
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


def quote_path(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


# --- nothing hostile stored --------------------------------------------------------------

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Columns of one line: a line break there breaks an iCalendar line, a mail
# header or a CSV cell.
SINGLE_LINE = {"code", "name", "title", "email", "city", "department", "contact_name",
               "contact_email", "contact_phone", "location", "timezone", "uid", "scope"}


def hostile_rows(db: Session, tables: list[str]) -> list[str]:
    """What no table should hold: NUL, surrogates and control characters, a
    line break in a one-line column, a string of 64 KB, a date out of the
    supported years."""
    found = []
    by_name = {t.name: t for t in Base.metadata.sorted_tables}
    for name in tables:
        table = by_name[name]
        for row in db.execute(select(table)).mappings():
            for column, value in row.items():
                problem = _problem(column, value)
                if problem:
                    found.append(f"{name}.{column}: {problem}")
    return sorted(set(found))


def _problem(column: str, value: Any) -> str | None:
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            return "control character, NUL or surrogate stored"
        if len(value) >= 65536:
            return f"{len(value)} characters stored"
        if column in SINGLE_LINE and ("\n" in value or "\r" in value):
            return "line break stored in a one-line column"
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):  # JSON (audit details): each value as its own column
        return next(filter(None, (_problem(column, v) for v in value)), None)
    if isinstance(value, datetime | date) and not FIRST_YEAR <= value.year <= LAST_YEAR:
        return f"date {value.isoformat()} stored"
    return None


# --- forms read from a page --------------------------------------------------------------


@dataclass
class PageForm:
    """One <form> of a page: where it goes, its fields, and the pairs a browser
    would send when its first button is pressed."""

    page: str
    method: str
    action: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # field name -> input type
    buttons: list[tuple[str, str]] = field(default_factory=list)
    # A link's query string is a form too (a hand-edited link): only the
    # parameters no form or earlier link of its page had are tried.
    only: set[str] | None = None

    def fuzzable(self) -> list[str]:
        return [n for n, kind in self.kinds.items()
                if n != "csrf_token" and kind not in BUTTONS and not SAME_AS_FIRST.match(n)
                and (self.only is None or n in self.only)]

    def values_for(self, name: str) -> list[str]:
        """The values for this field: free text gets every text value (far
        dates and huge numbers are only text there); a field that parses (a
        date, a number, a choice) one value per path through its parser (see
        :func:`parsed_values`): the far dates where it may read a date (a date
        input, a hidden field or a link, a choice whose value is a date), the
        huge number where it may read a number (a number input, a hidden field
        or a link, a choice of ids)."""
        kind = self.kinds.get(name, "")
        if kind in FREE_TEXT:
            return [v for v in TEXT_VALUES if v not in NOT_FOR_FREE_TEXT]
        default = dict(self.pairs).get(name) or ""
        # Nothing to go by (a hidden field, a link, a file, a box unchecked):
        # it may read anything.
        unknown = kind in UNTYPED or not default
        return parsed_values(
            dates=unknown or kind in DATE_INPUTS or bool(DATE_LIKE.match(default)),
            numbers=unknown or kind == "number" or bool(INTEGER_LIKE.match(default)))

    @property
    def path(self) -> str:
        return urlsplit(self.action).path

    def key(self) -> tuple:
        """Forms of five fields or more that have the same fields are one form
        class on two pages (a new and an edit page): tried once."""
        fields = tuple(sorted(self.fuzzable()))
        return (self.method, fields) if len(fields) >= 5 else (self.method, self.path, fields)

    def with_value(self, name: str, value: str) -> list[tuple[str, str]]:
        """The default pairs, ``name`` holding ``value`` instead (once)."""
        return [(n, v) for n, v in self.pairs if n != name] + [(name, value)]

    def press(self) -> None:
        """Add the button a person presses: "submit" (WTForms' name for the
        main action, rather than a preview), else the first."""
        named = [b for b in self.buttons if b[0] == "submit"] or self.buttons[:1]
        self.pairs += named


BUTTONS = ("submit", "button", "image", "reset")
NOT_PAGES = ("/static/", "/ical/", "/api/")
FREE_TEXT = ("text", "textarea", "email", "password", "search", "tel", "url")
DATE_INPUTS = ("date", "datetime-local", "month", "week")
UNTYPED = ("hidden", "link", "file")
# The six other days of a week of opening hours are the same fields as Monday's;
# the rows of role rules after the first (one loop makes them all) as the first's.
SAME_AS_FIRST = re.compile(r"^(d[1-6]_\w+|hours_[1-6]|rule_[1-9]\d*_\w+)$")
# What a person would have typed in an empty field, by input type (ends after
# starts): the hostile value is then the only wrong one of the request.
FILLED = {"date": "2027-02-15", "time": "10:00", "datetime-local": "2027-01-14T10:00",
          "number": "2", "email": "nouveau@example.org", "password": "une phrase assez longue 42",
          "text": "Texte", "textarea": "Texte", "tel": "0102030405", "url": "https://example.org"}
ENDS = {"date": "2027-06-30", "time": "11:00", "datetime-local": "2027-01-14T18:00"}
END_NAMES = re.compile(r"^(end|to|free_to|wanted_to|valid_until|until|\w*closes)$")
# Left empty: a second range of opening hours, a closed day, a company to create.
LEFT_EMPTY = re.compile(r"^(d\d_(opens2|closes2)|hours_\d|new_company)$")


def filled(name: str, kind: str) -> str:
    if LEFT_EMPTY.match(name):
        return ""
    if END_NAMES.match(name) and kind in ENDS:
        return ENDS[kind]
    return FILLED.get(kind, "")


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PageForm] = []
        self.links: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "?" in a.get("href", ""):
            self._link(a["href"])
        if tag == "form":
            action = urljoin(self.page, a.get("action") or self.page)
            self._form = PageForm(self.page, (a.get("method") or "get").upper(), action)
            self.forms.append(self._form)
            return
        form, name = self._form, a.get("name")
        if form is None or not name:
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            form.kinds.setdefault(name, kind)
            if kind in BUTTONS:
                form.buttons.append((name, a.get("value", "")))
            elif kind == "checkbox":
                if "checked" in a:
                    form.pairs.append((name, a.get("value", "on")))
            elif kind == "radio":
                if "checked" in a or name not in dict(form.pairs):
                    form.pairs = [(n, v) for n, v in form.pairs if n != name]
                    form.pairs.append((name, a.get("value", "on")))
            else:
                form.pairs.append((name, a.get("value") or filled(name, kind)))
        elif tag == "button" and a.get("type", "submit") == "submit":
            form.kinds.setdefault(name, "submit")
            form.buttons.append((name, a.get("value", "")))
        elif tag == "select":
            form.kinds.setdefault(name, "select")
            self._select, self._options = name, []
        elif tag == "textarea":
            form.kinds.setdefault(name, "textarea")
            self._textarea, self._text = name, []

    def _link(self, href: str) -> None:
        target = urlsplit(urljoin(self.page, href))
        if target.netloc not in ("", "localhost") or target.path.startswith(NOT_PAGES):
            return
        link = PageForm(self.page, "GET", target.path)
        link.pairs = parse_qsl(target.query, keep_blank_values=True)
        link.kinds = {name: "link" for name, _ in link.pairs}
        self.links.append(link)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "form" and form is not None:
            form.press()
            self._form = None
        elif tag == "select" and self._select is not None and form is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options if v not in ("", "0")] or [
                v for v, _ in self._options] or [""]
            form.pairs.append((self._select, chosen[0]))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form is not None:
            form.pairs.append((self._textarea, "".join(self._text).strip()
                               or FILLED["textarea"]))
            self._textarea = None


def forms_of(page: str, html: str) -> list[PageForm]:
    """The forms of a page, then its links with a query string, as GET forms."""
    parser = _FormParser(page)
    parser.feed(html)
    return parser.forms + parser.links


def ics_with(value: str) -> bytes:
    """An iCalendar file of one event carrying the hostile value (dates in
    DTSTART/DTEND for the far dates, SUMMARY otherwise)."""
    start, end, summary = "20270301T080000Z", "20270301T180000Z", value
    if value in ("0001-01-01", "9999-12-31"):
        start = end = value.replace("-", "") + "T000000Z"
        if value == "0001-01-01":
            end = "99991231T000000Z"
        summary = "Vacances"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//hostile//FR", "BEGIN:VEVENT",
             "UID:hostile@example.org", f"DTSTART:{start}", f"DTEND:{end}",
             f"SUMMARY:{summary}", "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode("utf-8", "surrogatepass")


def stored_script(db: Session, tables: list[str]) -> bool:
    """Whether one of these tables holds the script value (then kept)."""
    by_name = {t.name: t for t in Base.metadata.sorted_tables}
    for name in tables:
        for row in db.execute(select(by_name[name])):
            if any(isinstance(v, str) and SCRIPT in v for v in row):
                return True
    return False
