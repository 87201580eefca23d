"""The rules of the one input boundary, shared by the pages' forms
(booking.forms), the query strings (booking.query) and the imported calendars
(booking.services.closures.imports); and the cleaning of names where they are
written into a file format or a header (iCalendar, e-mail, file names).

Text is refused, not repaired, when it comes in: a NUL (PostgreSQL refuses
it), a lone surrogate (no UTF-8 codec writes it), a control character (a bell,
an escape: nothing a person types), and a line break in a single-line value (a
name that breaks the iCalendar line, or the e-mail header, it is written to).
Values stored before the boundary existed are cleaned where they are written
(:func:`single_line`), so one old row cannot break a feed or a mail.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from booking.services.errors import N_
from booking.services.policy import FIRST_YEAR, LAST_YEAR, MAX_ID

# Surrogates, C0 and C1 controls, DEL, and the Unicode line and paragraph
# separators (str.splitlines, hence some header and calendar code, breaks on them).
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Several lines: tab, line feed and carriage return are welcome.
_NOT_IN_A_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What single_line replaces by one space: a run of those, with the blanks around it.
_BREAKS = re.compile("\\s*[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+\\s*")
_ID = re.compile(r"[0-9]{1,10}")

ONE_LINE = N_("Write this on one line, without control characters.")
NO_CONTROLS = N_("Remove the control characters from this text.")
NOT_UNICODE = N_("This text is not valid Unicode.")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be taken (a message template), or None.
    ``multiline``: line breaks and tabs are allowed (a description, a reason)."""
    if _SURROGATE.search(value):
        return NOT_UNICODE
    if (_NOT_IN_A_TEXT if multiline else _NOT_IN_A_LINE).search(value):
        return NO_CONTROLS if multiline else ONE_LINE
    return None


def in_supported_years(value: date) -> bool:
    """A date (or date-time) of :data:`FIRST_YEAR` to :data:`LAST_YEAR`."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def parse_id(raw: str | None) -> int | None:
    """An id written in ASCII digits, 1 to :data:`MAX_ID`; None otherwise
    (``str.isdigit`` accepts "²", which ``int`` refuses, and ``int`` reads
    "١٢" or "1_2": neither is an id)."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def single_line(value: str | None) -> str:
    """``value`` as one printable line: each run of control characters and line
    breaks becomes one space. For names written into a header, an iCalendar
    property or a file, whatever the database holds."""
    if not value:
        return ""
    return _BREAKS.sub(" ", value).strip()


def ascii_file_name(value: str, *, fallback: str = "download") -> str:
    """A file name for a Content-Disposition header: ASCII letters, digits,
    ``.``, ``_`` and ``-`` (accents dropped), never empty nor hidden."""
    plain = unicodedata.normalize("NFKD", single_line(value)).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", plain).strip("._")
    return name[:120] or fallback
