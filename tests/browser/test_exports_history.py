"""Exports where the data is, and history pages, in a real browser (issue 11),
in French and English, on a desktop (1366×768) and a phone (390×844): the
export buttons of « Mes réservations », the site calendar, the approval list
and the reports download files in the reader's language (the workbook read
back with openpyxl); a coordinator opens the history of a booking, a machine
and a project from their pages.

Nothing is written to the demo database (downloads and reads only), so no
dates are taken from other tests."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.helpers import COORD_ORLEANS, shoot

CASES = [("fr", "desktop"), ("fr", "phone"), ("en", "desktop"), ("en", "phone")]
# The first headers of each download, as the reader's spreadsheet shows them.
BOOKING_HEADS = {"fr": ["Date", "Début", "Fin"], "en": ["Date", "Start", "End"]}
REPORT_HEADS = {"fr": ["Équipement", "Heures réservées"], "en": ["Equipment", "Booked hours"]}
HISTORY = {"fr": "Historique", "en": "History"}


def download(page: Any, kind: str) -> bytes:
    button = page.locator(f".export-buttons a[data-export={kind}]")
    expect(button).to_be_visible()
    with page.expect_download() as info:
        button.click()
    assert info.value.suggested_filename.endswith(f".{kind}")
    return Path(info.value.path()).read_bytes()


def csv_rows(body: bytes, lang: str) -> list[list[str]]:
    text = body.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";" if lang == "fr" else ","))


def workbook(body: bytes) -> Any:
    return load_workbook(io.BytesIO(body))


def sheet_rows(body: bytes) -> list[tuple[Any, ...]]:
    return list(workbook(body).worksheets[0].iter_rows(values_only=True))


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_export_buttons_download_in_the_readers_language(open_page, live_server, lang,
                                                         size) -> None:
    page = open_page(COORD_ORLEANS, lang, size, accept_downloads=True)
    heads = BOOKING_HEADS[lang]

    page.goto("/bookings/mine")
    shoot(page, "exports", "my-bookings", lang, size, full_page=True)
    assert list(sheet_rows(download(page, "xlsx"))[0][:3]) == heads

    orleans = live_server.query(
        "SELECT establishment_id FROM user_account WHERE email = ?", COORD_ORLEANS)[0][0]
    page.goto(f"/sites/{orleans}?view=week")
    expect(page.locator(".export-buttons a[data-export=ics]")).to_be_visible()
    shoot(page, "exports", "site-calendar", lang, size, full_page=True)
    assert csv_rows(download(page, "csv"), lang)[0][:3] == heads

    page.goto("/coordination/approvals")
    href = page.locator(".export-buttons a[data-export=csv]").get_attribute("href")
    assert "status=pending" in href
    assert f"establishment_id={orleans}" in href
    shoot(page, "exports", "approvals", lang, size, full_page=True)
    rows = csv_rows(download(page, "csv"), lang)
    assert rows[0][:3] == heads
    pending = {"fr": "En attente", "en": "Pending"}[lang]
    assert all(row[9] == pending for row in rows[1:])

    page.goto("/reports")
    shoot(page, "exports", "reports", lang, size, full_page=True)
    assert csv_rows(download(page, "csv"), lang)[0][:2] == REPORT_HEADS[lang]
    sheets = workbook(download(page, "xlsx")).sheetnames
    assert sheets[0] == REPORT_HEADS[lang][0]


@pytest.mark.parametrize(("lang", "size"), CASES)
def test_a_coordinator_reads_histories(open_page, live_server, lang, size) -> None:
    page = open_page(COORD_ORLEANS, lang, size)
    booking_id, equipment_id = live_server.query(
        "SELECT b.id, e.id FROM booking b JOIN equipment e ON e.id = b.equipment_id "
        "JOIN user_account u ON u.establishment_id = e.establishment_id "
        "WHERE u.email = ? ORDER BY b.id LIMIT 1", COORD_ORLEANS)[0]
    page.goto(f"/bookings/{booking_id}")
    page.locator("#history-link").click()
    expect(page).to_have_url(re.compile(rf"/history/bookings/{booking_id}$"))
    expect(page.locator("h1")).to_contain_text(HISTORY[lang])
    expect(page.locator("#history tbody tr").first).to_be_visible()
    shoot(page, "exports", "booking-history", lang, size, full_page=True)

    page.goto(f"/equipment/{equipment_id}")
    page.locator("#history-link").click()
    expect(page).to_have_url(re.compile(rf"/history/equipment/{equipment_id}$"))
    expect(page.locator("h1")).to_contain_text(HISTORY[lang])
    if size == "desktop":
        shoot(page, "exports", "machine-history", lang, size, full_page=True)

    project_id = live_server.query("SELECT id FROM project ORDER BY id LIMIT 1")[0][0]
    page.goto(f"/projects/{project_id}")
    page.locator("#history-link").click()
    expect(page).to_have_url(re.compile(rf"/history/projects/{project_id}$"))
    expect(page.locator("h1")).to_contain_text(HISTORY[lang])
    if size == "desktop":
        shoot(page, "exports", "project-history", lang, size, full_page=True)
