"""What a trainer, a coordinator and a company do in a real browser, on the
demo campus, each test checking what the person sees."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from booking.labels import format_day
from tests.browser.helpers import (
    BOOK,
    CONFIRMED,
    COORD_CHARTRES,
    COORD_ORLEANS,
    JULIEN,
    LIGERIENS,
    PENDING,
    PREVIEW,
    TUESDAY,
    WEDNESDAY,
    at,
    log_in,
    weekdays_from,
)


def _my_booking_row(page, title: str):
    return page.locator("#my-bookings tbody tr").filter(has_text=title)


def test_trainer_books_a_free_slot_from_the_equipment_calendar(page, login, live_server):
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    (tuesday,) = weekdays_from(14, TUESDAY)
    login(JULIEN)
    page.goto(f"/equipment/{cobot}?week={tuesday.isoformat()}")
    slot = page.locator(f'#week-calendar a.cal-slot[href*="date={tuesday.isoformat()}"]'
                        '[href*="start=14"]')
    slot.first.click()

    page.wait_for_url(re.compile(r"/bookings/new\?"))
    expect(page.locator("#day")).to_have_value(tuesday.isoformat())
    expect(page.locator("#start")).to_have_value("14:00")
    title = "Initiation au cobot — parcours navigateur"
    page.locator("#title").fill(title)
    page.get_by_role("button", name=BOOK).click()

    page.wait_for_url(re.compile(r"/bookings/mine$"))
    expect(page.locator(".flash-success")).to_be_visible()
    row = _my_booking_row(page, title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Cellule de robotique collaborative")
    expect(row).to_contain_text("14:00")
    expect(row).to_contain_text(CONFIRMED)


def test_trainer_without_the_cleanroom_certification_is_refused(page, login, live_server):
    cleanroom = live_server.id_of("equipment", "code", "TRS-ZAC-01")
    login(JULIEN)
    page.goto(f"/equipment/{cleanroom}")
    expect(page.locator("#certification-notice")).to_contain_text(
        "zone à atmosphère contrôlée")

    (day,) = weekdays_from(21, WEDNESDAY)
    page.goto(f"/bookings/new?equipment={cleanroom}&date={day.isoformat()}"
              "&start=16:00&end=17:00")
    title = "TP habillage en salle propre — refusé"
    page.locator("#title").fill(title)
    page.get_by_role("button", name=BOOK).click()

    refusal = page.locator("[role=alert]").filter(has_text="zone à atmosphère contrôlée")
    expect(refusal.first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/bookings/new"))
    assert live_server.query("SELECT id FROM booking WHERE title = ?", title) == []


def test_weekly_series_with_a_blocked_week_is_previewed_then_booked(page, login, live_server):
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    weeks = weekdays_from(28, TUESDAY, weeks=4)
    blocked = weeks[1]
    reason = "Révision du bras robotisé (test navigateur)"
    status, answer = live_server.api(
        "POST", "/api/v1/closures",
        {"equipment_id": cobot, "start": at(blocked, 8), "end": at(blocked, 18),
         "reason": reason, "kind": "maintenance"},
        token=live_server.token(COORD_ORLEANS))
    assert status == 201, answer

    login(JULIEN)
    page.goto(f"/bookings/new?equipment={cobot}&date={weeks[0].isoformat()}"
              "&start=09:00&end=12:00")
    title = "Programmation cobot — série du mardi"
    page.locator("#title").fill(title)
    page.locator("#repeat").select_option("weekly")
    page.locator("#until").fill(weeks[-1].isoformat())
    page.get_by_role("button", name=PREVIEW).click()

    preview = page.locator("section#preview-results")
    expect(preview).to_be_visible()
    expect(preview.locator("tbody tr")).to_have_count(4)
    refused = preview.locator("tbody tr.is-refused")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text(reason)
    expect(preview.locator("tbody tr.is-ok")).to_have_count(3)
    assert live_server.query("SELECT id FROM booking WHERE title = ?", title) == []

    page.locator("#skip_conflicts").check()
    page.get_by_role("button", name=BOOK).click()

    page.wait_for_url(re.compile(r"/bookings/mine$"))
    expect(page.locator(".flash-success")).to_contain_text("3")
    # The skipped day as a French sentence writes it (« mardi 12 janvier 2027 »).
    expect(page.locator(".flash-warning")).to_contain_text(format_day(blocked, "fr"))
    rows = _my_booking_row(page, title)
    expect(rows).to_have_count(3)
    booked = {row[0][:10] for row in live_server.query(
        "SELECT start_at FROM booking WHERE title = ?", title)}
    assert blocked.isoformat() not in booked
    assert len(booked) == 3


def test_coordinator_approves_a_pending_booking_and_the_trainer_sees_it_confirmed(
        page, login, new_context, live_server):
    # Julien (Orléans) booking the Chartres cobot cell needs its coordinator's approval.
    cell = live_server.id_of("equipment", "code", "CHA-COBOT-01")
    (day,) = weekdays_from(21, WEDNESDAY)
    login(JULIEN)
    page.goto(f"/bookings/new?equipment={cell}&date={day.isoformat()}&start=14:00&end=16:00")
    title = "Cobotique de conditionnement — visite d'Orléans"
    page.locator("#title").fill(title)
    page.get_by_role("button", name=BOOK).click()
    page.wait_for_url(re.compile(r"/bookings/mine$"))
    expect(_my_booking_row(page, title)).to_contain_text(PENDING)

    coordinator = log_in(new_context().new_page(), COORD_CHARTRES)
    coordinator.goto("/coordination/approvals")
    pending = coordinator.locator("#approval-queue tbody tr").filter(has_text=title)
    expect(pending).to_have_count(1)
    pending.get_by_role("button", name=re.compile(r"^(Approuver|Approve)$")).click()
    expect(coordinator.locator(".flash-success")).to_contain_text(title)
    expect(coordinator.locator("#approval-queue tbody tr").filter(has_text=title)).to_have_count(0)

    page.goto("/bookings/mine")
    expect(_my_booking_row(page, title)).to_contain_text(CONFIRMED)


def test_company_requests_a_project(page, login, live_server):
    login(LIGERIENS)
    page.goto("/projects/new")
    title = "Remplissage de flacons airless — formation d'opérateurs"
    page.locator("#title").fill(title)
    page.locator("#description").fill("Former quatre opérateurs au remplissage de flacons.")
    page.locator("#learners").fill("4")
    page.get_by_label(re.compile(r"^Ligne pilote de conditionnement")).check()
    start = weekdays_from(42, WEDNESDAY)[0]
    page.locator("#wanted_from").fill(start.isoformat())
    page.locator("#wanted_to").fill((start + timedelta(days=14)).isoformat())
    page.get_by_role("button", name=re.compile(r"^(Envoyer la demande|Send the request)$")).click()

    expect(page.locator(".flash-success, .error-summary").first).to_be_visible()
    refusal = page.locator(".error-summary")
    assert refusal.count() == 0, f"the request was refused: {refusal.first.inner_text()}"
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    expect(page.locator("h1")).to_contain_text(title)
    rows = live_server.query("SELECT status FROM project WHERE title = ?", title)
    assert rows == [("requested",)]


def test_language_switch_changes_the_page(page):
    page.goto("/auth/login")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("label[for=password]")).to_contain_text("Mot de passe")

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=password]")).to_contain_text("Password")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")


def test_a_form_sent_without_its_csrf_token_is_refused(page, login, live_server):
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    (day,) = weekdays_from(14, WEDNESDAY)
    login(JULIEN)
    page.goto(f"/bookings/new?equipment={cobot}&date={day.isoformat()}&start=10:00&end=11:00")
    title = "Réservation sans jeton"
    page.locator("#title").fill(title)
    page.locator("#booking-form input[name=csrf_token]").evaluate("input => input.remove()")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=BOOK).click()

    assert answer.value.status == 400
    expect(page.locator("h1")).to_have_text(
        re.compile(r"Le formulaire a expiré|The form has expired"))
    assert live_server.query("SELECT id FROM booking WHERE title = ?", title) == []

    # The same from a script that never had the page: refused as well.
    refused = page.request.post("/calendars/new", form={"target": "equipment:1"})
    assert refused.status == 400
