"""Attendance on a phone (issue 15, part 4): the trainer marks each learner of
the session's half-day, draws their signature with the mouse on the canvas and
signs; the company's contact countersigns the sheet the same way."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import (
    COORD_ORLEANS,
    LIGERIENS,
    SIZES,
    WEDNESDAY,
    at,
    log_in,
    shoot,
    weekdays_from,
)

# Sophie Lefèvre (Dreux): no other browser test books her, so her session moved to
# now never meets another test's trainer at the same time (the check-in test's
# is Julien's).
SOPHIE = "formatrice.dreux@plateforme.test"
SAVE = re.compile(r"^(Enregistrer les présences|Save the attendance)$")
SIGN = re.compile(r"^(Signer la feuille|Sign the sheet)$")
COUNTERSIGN = re.compile(r"^(Contresigner|Countersign)$")


def _sql(server: Any, sql: str, *params: Any) -> None:
    with contextlib.closing(sqlite3.connect(server.database, timeout=30)) as conn, conn:
        conn.execute(sql, params)


def _project_with_a_session_now(server: Any) -> tuple[int, int]:
    """A machine of Orléans of this test's own; Les Laboratoires ligériens'
    project on it, approved with Sophie as trainer and needing no agreement;
    its session, booked for a later day then moved to have begun ten minutes
    ago (the server runs on the real clock); two learners."""
    coordinator, company = server.token(COORD_ORLEANS), server.token(LIGERIENS)
    orleans = server.query("SELECT establishment_id FROM user_account WHERE email = ?",
                           COORD_ORLEANS)[0][0]
    status, machine = server.api("POST", "/api/v1/equipment", {
        "code": f"EMG-{uuid.uuid4().hex[:8]}", "name": "Banc d'émargement",
        "category": "training_equipment", "establishment_id": orleans,
        "open_on_holidays": True,
        "opening_hours": [{"weekday": d, "opens": "08:00", "closes": "18:00"}
                          for d in range(7)]}, token=coordinator)
    assert status == 201, machine
    day = weekdays_from(50, WEDNESDAY)[0]
    status, project = server.api("POST", "/api/v1/projects", {
        "title": f"Émargement {uuid.uuid4().hex[:6]}", "learners": 2,
        "wanted_from": day.isoformat(), "wanted_to": (day + timedelta(days=30)).isoformat(),
        "equipment_ids": [machine["id"]]}, token=company)
    assert status == 201, project
    trainer = server.id_of("user_account", "email", SOPHIE)
    status, answer = server.api("POST", f"/api/v1/projects/{project['id']}/approve",
                                {"trainer_id": trainer}, token=coordinator)
    assert status == 200, answer
    coordinator_id = server.id_of("user_account", "email", COORD_ORLEANS)
    _sql(server, "INSERT INTO agreement_waiver (project_id, waived_by_id, waived_at, reason) "
                 "VALUES (?, ?, ?, ?)", project["id"], coordinator_id,
         datetime.now(UTC).replace(tzinfo=None).isoformat(" "), "Action interne")
    for hour in range(9, 17):
        status, booking = server.api("POST", "/api/v1/bookings", {
            "equipment_id": machine["id"], "start": at(day, hour), "end": at(day, hour + 1),
            "title": "Séance d'émargement", "trainer_id": trainer,
            "purpose": "industrial_project", "project_id": project["id"]}, token=coordinator)
        if status == 201:
            break
    assert status == 201, booking
    assert booking["status"] == "confirmed", booking
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=10)
    _sql(server, "UPDATE booking SET start_at = ?, end_at = ? WHERE id = ?",
         start.isoformat(" "), (start + timedelta(hours=1)).isoformat(" "), booking["id"])
    for first, last, public in (("Jeanne", "Dupuis", "employee"),
                                ("Karim", "Benali", "apprentice")):
        status, answer = server.api("POST", f"/api/v1/projects/{project['id']}/learners",
                                    {"first_name": first, "last_name": last,
                                     "public": public}, token=company)
        assert status == 201, answer
    return project["id"], booking["id"]


def _draw(page: Any, canvas: Any) -> None:
    """A signature with the mouse: two strokes across the box."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for row in (0.35, 0.65):
        page.mouse.move(x + w * 0.1, y + h * row)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(x + w * (0.1 + 0.08 * step), y + h * (row + 0.1 * (step % 2)),
                            steps=2)
        page.mouse.up()


def test_the_trainer_signs_and_the_company_countersigns_on_a_phone(
        new_context, live_server) -> None:
    project, booking = _project_with_a_session_now(live_server)

    phone = log_in(new_context(**SIZES["phone"]).new_page(), SOPHIE)
    phone.goto(f"/attendance/sessions/{booking}")
    sheet = phone.locator("section.attendance-sheet[data-state=open]").first
    expect(sheet).to_be_visible()
    sheet_id = int(sheet.get_attribute("id").removeprefix("sheet-"))
    jeanne, karim = (live_server.id_of("learner", "last_name", name)
                     for name in ("Dupuis", "Benali"))
    present = sheet.locator(f"label[for=presence-{sheet_id}-{jeanne}-present]")
    box = present.bounding_box()
    assert box is not None
    assert box["height"] >= 44, box  # a thumb's size
    present.click()
    sheet.locator(f"label[for=presence-{sheet_id}-{karim}-late]").click()
    sheet.locator(f"#late-{sheet_id}-{karim}").fill("12")
    shoot(phone, "attendance", "session-phone-marks", full_page=True)
    sheet.get_by_role("button", name=SAVE).click()
    sheet = phone.locator(f"#sheet-{sheet_id}")
    expect(sheet.locator(f"#presence-{sheet_id}-{karim}-late")).to_be_checked()
    assert sorted(live_server.query(
        "SELECT learner_id, presence, minutes_late FROM attendance_mark WHERE sheet_id = ?",
        sheet_id)) == sorted([(jeanne, "present", 0), (karim, "late", 12)])

    _draw(phone, sheet.locator("canvas.signature-canvas"))
    drawn = sheet.locator("input[name=signature]").input_value()
    assert re.fullmatch(r"M [0-9. ]+( [ML] [0-9. ]+)+", drawn), drawn
    shoot(phone, "attendance", "session-phone-signature", full_page=True)
    sheet.get_by_role("button", name=SIGN).click()
    expect(phone.locator(f"#signed-{sheet_id}")).to_be_visible()
    [(signature,)] = live_server.query(
        "SELECT trainer_signature FROM attendance_sheet WHERE id = ?", sheet_id)
    assert signature.startswith("path:M ")

    contact = log_in(new_context(**SIZES["phone"]).new_page(), LIGERIENS)
    contact.goto(f"/projects/{project}")
    expect(contact.locator("#to-countersign")).to_be_visible()
    contact.goto(f"/attendance/sheets/{sheet_id}")
    expect(contact.locator("#trainer-signature svg path")).to_have_count(1)
    _draw(contact, contact.locator("canvas.signature-canvas"))
    contact.get_by_role("button", name=COUNTERSIGN).click()
    expect(contact.locator("#countersigned")).to_be_visible()
    shoot(contact, "attendance", "sheet-phone-countersigned", full_page=True)
    [(countersigned,)] = live_server.query(
        "SELECT company_signature FROM attendance_sheet WHERE id = ?", sheet_id)
    assert countersigned.startswith("path:M ")
