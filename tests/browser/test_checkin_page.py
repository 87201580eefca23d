"""Check-in at the machine on a phone (issue 14): the trainer opens the page of
the machine's QR label, checks in, checks out reporting a problem; the owning
coordinator reads the incident and closes it."""

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
    JULIEN,
    SIZES,
    WEDNESDAY,
    at,
    log_in,
    shoot,
    weekdays_from,
)

STARTING = re.compile(r"^(Je commence|I'm starting)$")
DONE = re.compile(r"^(J'ai terminé|J’ai terminé|I'm done)$")
RESOLVE = re.compile(r"^(Marquer comme résolu|Mark as resolved)$")


def _machine_and_booking(server: Any) -> tuple[int, int]:
    """A machine of Orléans of this test's own (no other test books it), that
    requires check-in and the cobot certification Julien holds, and Julien's
    confirmed booking of it, booked by the coordinator for a later day."""
    token = server.token(COORD_ORLEANS)
    orleans = server.query("SELECT establishment_id FROM user_account WHERE email = ?",
                           COORD_ORLEANS)[0][0]
    cobot_cert = server.id_of("certification_type", "code", "COBOT-SEC")
    status, machine = server.api("POST", "/api/v1/equipment", {
        "code": f"CHK-{uuid.uuid4().hex[:8]}", "name": "Banc d'essai du check-in",
        "category": "training_equipment", "establishment_id": orleans,
        "required_certification_type_ids": [cobot_cert], "check_in_required": True,
        "check_in_grace_minutes": 30, "open_on_holidays": True,
        "opening_hours": [{"weekday": d, "opens": "08:00", "closes": "18:00"}
                          for d in range(7)]}, token=token)
    assert status == 201, machine
    julien = server.id_of("user_account", "email", JULIEN)
    day = weekdays_from(45, WEDNESDAY)[0]
    for hour in range(9, 17):
        status, booking = server.api("POST", "/api/v1/bookings", {
            "equipment_id": machine["id"], "start": at(day, hour), "end": at(day, hour + 1),
            "title": "Mise en route du banc", "trainer_id": julien}, token=token)
        if status == 201:
            break
    assert status == 201, booking
    assert booking["status"] == "confirmed", booking
    return machine["id"], booking["id"]


def _starting_now(server: Any, booking_id: int) -> None:
    """Move the booking to start in five minutes, in the live database itself:
    the server runs on the real clock, and no booking may be made in the past
    or outside opening hours, at whatever hour the tests run."""
    start = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(minutes=5)
    with contextlib.closing(sqlite3.connect(server.database, timeout=30)) as conn, conn:
        conn.execute("UPDATE booking SET start_at = ?, end_at = ? WHERE id = ?",
                     (start.isoformat(" "), (start + timedelta(hours=1)).isoformat(" "),
                      booking_id))


def test_the_trainer_checks_in_and_out_on_a_phone(new_context, live_server) -> None:
    machine, booking = _machine_and_booking(live_server)
    _starting_now(live_server, booking)

    phone = log_in(new_context(**SIZES["phone"]).new_page(), JULIEN)
    phone.goto(f"/check-in/{machine}")
    section = phone.locator(f"#booking-{booking}")
    expect(section).to_have_attribute("data-state", "open")
    shoot(phone, "checkin", "machine-phone-open", full_page=True)
    button = phone.get_by_role("button", name=STARTING)
    box = button.bounding_box()
    assert box is not None
    assert box["height"] >= 48, box  # a thumb's size, across the phone
    assert box["width"] >= 300, box
    button.click()
    expect(phone.locator(f"#checked-in-{booking}")).to_be_visible()
    expect(section).to_have_attribute("data-state", "in")
    assert live_server.query("SELECT checked_in_at FROM booking WHERE id = ?",
                             booking)[0][0] is not None

    problem = "Le capteur de porte ne détecte plus la fermeture."
    phone.locator(f"#incident-{booking}").fill(problem)
    shoot(phone, "checkin", "machine-phone-checked-in", full_page=True)
    phone.get_by_role("button", name=DONE).click()
    expect(section).to_have_attribute("data-state", "done")
    [(incident,)] = live_server.query("SELECT id FROM incident WHERE booking_id = ?", booking)
    assert live_server.query("SELECT checked_out_at FROM booking WHERE id = ?",
                             booking)[0][0] is not None

    coordinator = log_in(new_context(**SIZES["phone"]).new_page(), COORD_ORLEANS)
    coordinator.goto(f"/incidents/{incident}")
    expect(coordinator.locator("#incident-description")).to_have_text(problem)
    expect(coordinator.locator("#reason")).to_have_value(re.compile(re.escape(problem)))
    shoot(coordinator, "checkin", "incident-phone", full_page=True)
    coordinator.get_by_role("button", name=RESOLVE).click()
    expect(coordinator.locator("#incident-status")).to_have_attribute("data-resolved", "true")
