"""Bulk onboarding: files of every origin are read, hostile ones refused with
a message (never an exception): binary junk, zip bombs, entity bombs, 10,000
columns, formulas, too many lines."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from booking.services.onboarding import reading
from booking.services.onboarding.plan import preview
from models import Certification, Role, User
from tests.conftest import NOW


@pytest.fixture
def admin(make):
    make.establishment(code="LYC-ORL")
    return make.user(Role.ADMIN)


def plan_of(db, admin, data: bytes, kind: str = "accounts"):
    return preview(db, actor=admin, kind=kind, data=data, now=NOW)


def file_error(db, admin, data: bytes) -> str:
    plan = plan_of(db, admin, data)
    assert plan.lines == [], plan
    assert len(plan.errors) == 1, plan
    return str(plan.errors[0])


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = "email;name;role;establishment"


@pytest.mark.parametrize(("encoding", "bom"), [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16-le", b"\xff\xfe")])
def test_the_encodings_spreadsheets_write_are_read(db, admin, encoding, bom) -> None:
    separator = "\t" if encoding.startswith("utf-16") else ";"
    text = f"{HEADER}\r\nelodie@example.org;Élodie Bénard;trainer;LYC-ORL\r\n"
    data = bom + text.replace(";", separator).encode(encoding)
    plan = plan_of(db, admin, data)
    assert plan.valid
    assert plan.lines[0].status == "created"
    created = preview(db, actor=admin, kind="accounts", data=data, now=NOW)
    assert created.lines[0].key == "elodie@example.org"


def test_a_comma_separated_file_with_quotes(db, admin) -> None:
    data = b'email,name,role\n"ana@example.org","Ana, la formatrice",trainer\n'
    assert plan_of(db, admin, data).lines[0].status == "created"


def test_binary_junk_is_refused(db, admin) -> None:
    junk = random.Random(7).randbytes(4096)
    assert "is not text" in file_error(db, admin, junk)
    assert "neither a CSV" in file_error(db, admin, b"email\x00name\nx\x00y\n")


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(db, admin, data) -> None:
    assert "empty" in file_error(db, admin, data)


def test_a_header_alone_is_refused(db, admin) -> None:
    assert "no line under its header" in file_error(db, admin, HEADER.encode())


def test_ten_thousand_columns(db, admin) -> None:
    wide_header = (HEADER + ";" * 10_000 + "x" + "\n").encode()
    assert "at most 60 columns" in file_error(db, admin, wide_header)
    wide_line = (HEADER + "\n" + "a@example.org;A;trainer;LYC-ORL" + ";z" * 10_000 + "\n")
    plan = plan_of(db, admin, wide_line.encode())
    assert "more cells than the header" in str(plan.lines[0].errors[0])


def test_unknown_repeated_and_missing_columns(db, admin) -> None:
    assert "unknown column “salary”" in file_error(db, admin, b"email;name;role;salary\n")
    assert "there twice" in file_error(db, admin, b"email;name;role;E-mail\n")
    assert "column “Role” is missing" in file_error(db, admin, b"email;name\n")


def test_formulas_are_refused_never_stored(db, admin) -> None:
    data = (HEADER + '\n=HYPERLINK("http://evil.test";"x")@example.org;A;trainer;\n'
            "b@example.org;@SUM(1+1);trainer;\n"
            "c@example.org;+33 6 00 00 00 00;trainer;\n").encode()
    plan = plan_of(db, admin, data)
    assert [line.status for line in plan.lines] == ["error", "error", "error"]
    assert all("formula" in str(line.errors[0]) for line in plan.lines)
    book = workbook([["email", "name", "role"], ["d@example.org", "=A1&B1", "trainer"]])
    plan = plan_of(db, admin, book)
    assert "formula" in str(plan.lines[0].errors[0])


def test_more_than_the_maximum_of_lines(db, admin, monkeypatch) -> None:
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    lines = [f"u{n}@example.org;U {n};trainer;" for n in range(4)]
    assert "more than 3 lines" in file_error(db, admin, "\n".join([HEADER, *lines]).encode())


def test_a_file_too_large(db, admin) -> None:
    assert "larger than 2 MB" in file_error(db, admin, b"x" * (reading.MAX_BYTES + 1))


def test_a_field_past_the_csv_limit(db, admin) -> None:
    data = (HEADER + '\n"' + "x" * 200_000 + '";A;trainer;\n').encode()
    assert "cannot be read as CSV" in file_error(db, admin, data)


def test_a_cell_too_long_or_with_control_characters(db, admin) -> None:
    data = (HEADER + "\na@example.org;" + "x" * 5001 + ";trainer;\n"
            "b@example.org;B\x07;trainer;\n").encode()
    plan = plan_of(db, admin, data)
    assert "more than 5000 characters" in str(plan.lines[0].errors[0])
    assert "control characters" in str(plan.lines[1].errors[0])


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_unpacked(db, admin) -> None:
    bomb = _zip({"[Content_Types].xml": b"<Types/>",
                 "xl/worksheets/sheet1.xml": b"\x00" * (reading.MAX_UNZIPPED + 1)})
    assert len(bomb) < 200_000
    assert "unpacks to more than 40 MB" in file_error(db, admin, bomb)


def test_an_entity_bomb_is_refused(db, admin) -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b"<worksheet>&lol2;</worksheet>")
    book = workbook([["email", "name", "role"]])
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["xl/worksheets/sheet1.xml"] = laughs
    assert "cannot be read" in file_error(db, admin, _zip(members))


@pytest.mark.parametrize("data", [
    b"PK\x03\x04 broken", _zip({"hello.txt": b"not a workbook"}),
])
def test_broken_workbooks_are_refused(db, admin, data) -> None:
    assert "workbook cannot be read" in file_error(db, admin, data)


def test_a_workbook_with_typed_cells(db, admin, make) -> None:
    gmp = make.certification_type(code="GMP")
    make.user(Role.TRAINER, email="t@example.org")
    book = workbook([["E-mail", "Certification (code)", "Valid from", "Valid until"],
                     # A workbook's dates are naive: what the reader typed.
                     [], ["t@example.org", "GMP", datetime(2027, 2, 1),  # noqa: DTZ001
                          date(2028, 1, 31)]])
    plan = preview(db, actor=admin, kind="certifications", data=book, now=NOW)
    assert plan.valid, plan
    assert plan.lines[0].number == 3  # the blank line 2 is skipped, the numbers kept
    assert plan.lines[0].status == "created"
    # The preview wrote nothing.
    assert db.scalar(select(func.count()).select_from(Certification)
                     .where(Certification.certification_type_id == gmp.id)) == 0
    assert db.scalar(select(func.count()).select_from(User)) == 2
