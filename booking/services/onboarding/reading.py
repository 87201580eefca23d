"""The rows of an uploaded CSV or XLSX file, as texts keyed by column.

Files come from spreadsheets of any origin, so the reader accepts what they
write (a UTF-8 BOM, UTF-16 "Unicode text", Windows-1252, ";" or "," or tab
between fields, headers in English or French, in any order) and refuses with
a message naming the line what no person meant: binary junk, a workbook whose
parts would unpack to more than :data:`MAX_UNZIPPED` bytes, a DTD in its XML
(entity bombs), more than :data:`MAX_ROWS` lines or :data:`MAX_COLUMNS`
columns, a cell holding a formula. Nothing here reads the database: the
values stay texts until each kind (accounts, equipment...) reads them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from booking.services.errors import N_, DomainError, ValidationError
from booking.services.inputs import text_problem

MAX_BYTES = 2 * 1024 * 1024  # below config.MAX_CONTENT_LENGTH, which adds the form around it
MAX_ROWS = 5000  # lines of data, the header aside
MAX_COLUMNS = 60
MAX_CELL = 5000  # characters: the longest field (a description)
MAX_UNZIPPED = 40 * 1024 * 1024  # a workbook's parts once unpacked, all together
MAX_MEMBERS = 500
# Blank rows a sheet may hold among its lines (a spreadsheet's formatting
# reaches far below the data); past this many rows read, the file is refused.
MAX_SHEET_ROWS = 4 * MAX_ROWS
# What a spreadsheet would take for a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@")
XLSX_MAGIC = b"PK\x03\x04"
SEPARATORS = (";", ",", "\t")


@dataclass(frozen=True)
class Column:
    """A column of a kind's file: ``key`` in code and the API, ``title`` its
    header (English, marked for translation: the French header is its
    translation); either is recognised, accents, case and punctuation aside."""

    key: str
    title: str
    required: bool = False  # the header must name it
    example: Any = ""  # the template's example row (an enumeration: its label)
    multiline: bool = False


@dataclass
class Row:
    line: int  # as a spreadsheet numbers it: the header is line 1
    values: dict[str, str] = field(default_factory=dict)  # the cells not blank
    present: frozenset[str] = frozenset()  # the columns of the header
    errors: list[DomainError] = field(default_factory=list)


def refuse(template: str, line: int | None = None, **params: Any) -> ValidationError:
    details: dict[str, Any] = {"field": "file"}
    if line is not None:
        details["line"] = line
    return ValidationError(template, details, line=line, **params)


def normalised(header: str) -> str:
    """A header as compared: no accents, case, blanks or punctuation."""
    plain = unicodedata.normalize("NFKD", header)
    return "".join(c for c in plain.casefold() if c.isalnum())


def _header_names(column: Column) -> set[str]:
    """The key, the English title and its translation in each language of the app."""
    names = {normalised(column.key), normalised(column.title)}
    from flask import current_app, has_app_context
    from flask_babel import force_locale, gettext

    if has_app_context():
        for language in current_app.config.get("LANGUAGES", ("fr", "en")):
            with force_locale(language):
                names.add(normalised(gettext(column.title)))
    return names


# --- the file's text ------------------------------------------------------------------


def _text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with its BOM, else Windows-1252: what
    French spreadsheet programs write when saving "CSV"."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as error:
                raise _not_text(data, error.start) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:  # 0x81, 0x8d... have no character there
        raise _not_text(data, error.start) from None


def _not_text(data: bytes, position: int) -> ValidationError:
    return refuse(N_("Line %(line)d is not text: save the file as CSV (UTF-8) or as an "
                     "Excel workbook (.xlsx)."), data.count(b"\n", 0, position) + 1)


def _separator(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {sep: first.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    text = _text(data)
    if "\x00" in text:  # no spreadsheet writes a NUL into a CSV file
        raise refuse(N_("This file is neither a CSV file nor an Excel workbook (.xlsx)."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text),
                        strict=False)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error:  # a field past csv's own limit, a quote where none may be
        raise refuse(N_("Line %(line)d cannot be read as CSV."), number + 1) from None


# --- workbooks ------------------------------------------------------------------------


def _check_archive(data: bytes) -> None:
    """Refuse a zip bomb and DTDs before openpyxl parses anything: the sizes its
    members declare bound what they unpack to (zipfile stops there and checks
    the CRC), and a workbook's XML never declares entities."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise refuse(N_("This workbook unpacks to more than %(size)d MB."),
                             size=MAX_UNZIPPED // (1024 * 1024))
            for member in members:
                if member.filename.endswith((".xml", ".rels")):
                    body = archive.read(member)
                    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
                        raise refuse(N_("This workbook cannot be read."))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            OSError, ValueError, RuntimeError):  # RuntimeError: an encrypted member
        raise refuse(N_("This workbook cannot be read.")) from None


def _cell_text(cell: Any) -> str:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        raise _Formula
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Formula(Exception):
    pass


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    _check_archive(data)
    from openpyxl import load_workbook  # imported here: only imports read workbooks

    try:
        with warnings.catch_warnings():  # openpyxl warns of styles and extensions it skips
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            sheets = book.worksheets
            if not sheets:
                return
            rows = sheets[0].iter_rows(max_col=MAX_COLUMNS + 1)
            for number, cells in enumerate(rows, start=1):
                if number > MAX_SHEET_ROWS:
                    raise refuse(N_("The file has more than %(max)d lines."), number,
                                 max=MAX_ROWS)
                texts = []
                for cell in cells:
                    try:
                        texts.append(_cell_text(cell))
                    except _Formula:
                        texts.append(_FORMULA)
                yield number, texts
            book.close()
    except DomainError:
        raise
    except Exception:
        raise refuse(N_("This workbook cannot be read.")) from None


# A cell that held a formula: refused with its line by the row's reading.
_FORMULA = "\x00formula"


# --- rows by column -------------------------------------------------------------------


def _header(cells: list[str], columns: Sequence[Column], line: int) -> list[Column | None]:
    known = {name: column for column in columns for name in _header_names(column)}
    if len(cells) > MAX_COLUMNS:
        raise refuse(N_("Line %(line)d: a file has at most %(max)d columns."), line,
                     max=MAX_COLUMNS)
    found: list[Column | None] = []
    for cell in cells:
        title = cell.strip()
        if not title:
            found.append(None)
            continue
        column = known.get(normalised(title))
        if column is None:
            raise refuse(N_("Line %(line)d: unknown column “%(title)s”; the template lists "
                            "the columns."), line, title=title[:100])
        if column in found:
            raise refuse(N_("Line %(line)d: the column “%(title)s” is there twice."), line,
                         title=title[:100])
        found.append(column)
    missing = [c for c in columns if c.required and c not in found]
    if missing:
        raise refuse(N_("Line %(line)d: the column “%(title)s” is missing."), line,
                     title=ColumnTitle(missing[0].title))
    return found


class ColumnTitle(str):
    """A column's title, shown translated in the reader's language."""

    __slots__ = ()

    def shown_in(self, locale: Any) -> str:
        from flask_babel import gettext

        return gettext(str(self))


def _row(line: int, cells: list[str], header: list[Column | None]) -> Row:
    row = Row(line, present=frozenset(c.key for c in header if c is not None))
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        row.errors.append(refuse(N_("Line %(line)d has more cells than the header has "
                                    "columns."), line))
    for cell, column in zip(cells, header, strict=False):
        if column is None:
            continue
        if cell == _FORMULA or (cell.strip().startswith(FORMULA_START) and \
                not _number_like(cell.strip())):
            row.errors.append(refuse(N_("Line %(line)d, %(column)s: a formula; type the "
                                        "value itself."), line, column=ColumnTitle(column.title)))
            continue
        if len(cell) > MAX_CELL:
            row.errors.append(refuse(N_("Line %(line)d, %(column)s: more than %(max)d "
                                        "characters."), line, column=ColumnTitle(column.title),
                                     max=MAX_CELL))
            continue
        value = cell.strip()
        problem = text_problem(value, multiline=column.multiline)
        if problem is not None:
            row.errors.append(refuse(N_("Line %(line)d, %(column)s: %(problem)s"), line,
                                     column=ColumnTitle(column.title),
                                     problem=ValidationError(problem)))
            continue
        if value:
            row.values[column.key] = value
    return row


_NUMBER = re.compile(r"-\d+([.,]\d+)?")


def _number_like(value: str) -> bool:
    """"-1" is a (refused later) number, not a formula."""
    return bool(_NUMBER.fullmatch(value))


def read_rows(data: bytes, columns: Sequence[Column]) -> list[Row]:
    """The file's data rows (blank ones skipped), each with the errors of its
    cells; a ValidationError for a file that cannot be read at all."""
    if len(data) > MAX_BYTES:
        raise refuse(N_("The file is larger than %(size)d MB."),
                     size=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise refuse(N_("The file is empty."))
    lines: Iterable[tuple[int, list[Any]]] = (
        _xlsx_rows(data) if data.startswith(XLSX_MAGIC) else _csv_rows(data))
    header: list[Column | None] | None = None
    rows: list[Row] = []
    for number, raw in lines:
        cells = [str(c) for c in raw]
        while cells and not cells[-1].strip():  # a workbook's rows are padded
            cells.pop()
        if not cells:
            continue
        if header is None:
            header = _header(cells, columns, number)
            continue
        if len(rows) >= MAX_ROWS:
            raise refuse(N_("The file has more than %(max)d lines."), number, max=MAX_ROWS)
        rows.append(_row(number, cells[:MAX_COLUMNS + 1], header))
    if header is None:
        raise refuse(N_("The file is empty."))
    return rows
