"""Kiosk screens and QR labels in a real browser (issue 14): a coordinator makes
a screen link on /kiosks; the screen shows the booking running now in large
type and reloads itself, showing a booking added while it is open; the site's
sheet of labels shows one QR label per active machine, and eight a page when
printed.

The bookings of these tests run now (whatever day the tests run), so they are
written straight into the live database, on a machine of Orléans free around
now, and deleted afterwards: the API refuses a start in the past.
"""

from __future__ import annotations

import contextlib
import math
import re
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import expect

from tests.browser.helpers import COORD_ORLEANS

KEEP = {"id": None, "series_id": None, "group_id": None, "project_id": None,
        "checked_in_at": None, "checked_out_at": None, "cancelled_at": None,
        "cancelled_by_id": None, "cancel_reason": None, "decided_at": None,
        "decided_by_id": None, "decision_reason": None, "decision_deadline": None,
        "override_reason": None, "participants": None,
        # No trainer: one copied from a demo booking may be held elsewhere now
        # (another browser test's booking), and the trainer guard would refuse.
        "trainer_id": None}


def stamp(value: datetime) -> str:
    """As SQLAlchemy stores an aware UTC datetime in SQLite."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def orleans(live_server: Any) -> int:
    return int(live_server.query(
        "SELECT establishment_id FROM equipment WHERE code = 'ORL-COBOT-01'")[0][0])


def free_machine(live_server: Any, start: datetime, end: datetime) -> int:
    """An active machine of Orléans (not a line, not a component) with no
    booking from ``start`` to ``end``."""
    rows = live_server.query(
        "SELECT id FROM equipment e WHERE establishment_id = ? AND status = 'active'"
        " AND parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM equipment c WHERE c.parent_id = e.id)"
        " AND NOT EXISTS (SELECT 1 FROM booking b WHERE b.equipment_id = e.id"
        " AND b.start_at < ? AND b.end_at > ?) ORDER BY id",
        orleans(live_server), stamp(end), stamp(start))
    assert rows, "no free machine in Orléans around now"
    return int(rows[0][0])


def insert_booking(live_server: Any, equipment_id: int, start: datetime, end: datetime,
                   title: str) -> int:
    """A confirmed booking copied from a demo one (every column filled as the
    app fills it), on ``equipment_id`` from ``start`` to ``end``."""
    with contextlib.closing(sqlite3.connect(live_server.database, timeout=30)) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(booking)")]
        values = {**KEEP, "uid": f"kiosk-{uuid.uuid4()}@test", "equipment_id": equipment_id,
                  "start_at": stamp(start), "end_at": stamp(end), "title": title,
                  "status": "confirmed"}
        chosen = [c for c in columns if c in values]
        copied = [c for c in columns if c not in values]
        conn.execute(
            f"INSERT INTO booking ({', '.join(chosen + copied)}) "
            f"SELECT {', '.join('?' for _ in chosen)}{', ' if copied else ''}{', '.join(copied)}"
            " FROM booking WHERE status = 'confirmed' AND trainer_id IS NOT NULL"
            " AND project_id IS NULL ORDER BY id LIMIT 1",
            [values[c] for c in chosen])
        conn.commit()
        return int(conn.execute("SELECT id FROM booking WHERE uid = ?",
                                (values["uid"],)).fetchone()[0])


def delete_bookings(live_server: Any, ids: list[int]) -> None:
    with contextlib.closing(sqlite3.connect(live_server.database, timeout=30)) as conn:
        conn.executemany("DELETE FROM booking WHERE id = ?", [(i,) for i in ids])
        conn.commit()


def make_screen(page: Any, target: str, label: str) -> str:
    """Make a screen link on /kiosks as the logged-in coordinator: its URL."""
    page.goto("/kiosks")
    page.locator("#target").select_option(target)
    page.locator("#label").fill(label)
    page.locator("#new-kiosk [type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    card = page.locator("#kiosks li.feed").filter(has_text=label)
    url = card.locator("input[readonly]").input_value()
    assert re.search(r"/kiosk/[A-Za-z0-9_-]{43}$", url), url
    return url


def test_a_screen_shows_now_in_large_type_and_reloads_itself(login, live_server,
                                                             new_context) -> None:
    now = datetime.now(UTC)
    machine = free_machine(live_server, now - timedelta(hours=1), now + timedelta(hours=4))
    title = f"Séance en cours {uuid.uuid4().hex[:6]}"
    added: list[int] = [insert_booking(live_server, machine, now - timedelta(minutes=30),
                                       now + timedelta(minutes=90), title)]
    try:
        page = login(COORD_ORLEANS)
        url = make_screen(page, f"equipment:{machine}", f"Écran test {uuid.uuid4().hex[:6]}")
        # The screen needs no session: a browser of its own, without cookies.
        screen = new_context().new_page()
        messages: list[str] = []
        screen.on("console", lambda m: messages.append(m.text))
        screen.goto(url)
        current = screen.locator(f".kiosk-current [data-booking-id='{added[0]}']")
        expect(current.locator(".kiosk-title")).to_have_text(title)
        size = current.locator(".kiosk-title").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 32, size
        assert screen.locator("meta[http-equiv=refresh]").get_attribute("content") == "60"
        assert screen.locator("meta[name=robots]").get_attribute("content") == \
            "noindex, nofollow"
        # A booking added while the screen is open appears once it reloads itself.
        later = f"Séance suivante {uuid.uuid4().hex[:6]}"
        added.append(insert_booking(live_server, machine, now + timedelta(minutes=120),
                                    now + timedelta(minutes=180), later))
        expect(screen.locator(f".kiosk-next [data-booking-id='{added[1]}'] .kiosk-title")
               ).to_have_text(later, timeout=90_000)
        assert not [m for m in messages if "Content Security Policy" in m], messages
        # Two loads later (and the icon fetched), still no cookie.
        assert screen.context.cookies() == []
    finally:
        delete_bookings(live_server, added)


def test_the_label_sheet_shows_each_machine_and_prints_eight_a_page(login,
                                                                    live_server) -> None:
    site = orleans(live_server)
    active = {int(r[0]) for r in live_server.query(
        "SELECT id FROM equipment WHERE establishment_id = ? AND status = 'active'", site)}
    assert active
    page = login(COORD_ORLEANS)
    page.goto(f"/sites/{site}")
    page.locator(f"a[href='/sites/{site}/labels']").click()
    labels = page.locator(".label-cell svg.qr-label")
    expect(labels).to_have_count(len(active))
    shown = {int(i) for i in page.locator(".label-cell").evaluate_all(
        "cells => cells.map(c => c.dataset.equipmentId)")}
    assert shown == active
    for n in range(len(active)):
        box = labels.nth(n).bounding_box()
        assert box is not None, box
        assert box["width"] > 200, box
        assert box["height"] > 100, box
        assert labels.nth(n).locator("svg.qr-code path").get_attribute("d")
    page.emulate_media(media="print")
    expect(page.locator(".site-top")).to_be_hidden()
    expect(page.locator(".sheet-intro")).to_be_hidden()
    visible = labels.evaluate_all("svgs => svgs.filter(s => s.getBoundingClientRect().width > 0)"
                                  ".length")
    assert visible == len(active)
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == math.ceil(len(active) / 8), pages


def test_the_screen_and_the_links_page_have_no_axe_violation(new_context, live_server) -> None:
    """axe-core, every rule (contrast included), on the screen and on /kiosks;
    but the meta refresh on the screen: an unattended display of real-time
    information, which WCAG 2.2.1 exempts (the rule is for pages people read
    and fill in, and the screen has nothing to fill in)."""
    from tests.browser.helpers import log_in
    from tests.browser.test_accessibility import AXE

    page = log_in(new_context(bypass_csp=True).new_page(), COORD_ORLEANS)
    url = make_screen(page, f"establishment:{orleans(live_server)}",
                      f"Hall {uuid.uuid4().hex[:6]}")
    for path in ("/kiosks", url):
        page.goto(path)
        page.add_script_tag(path=str(AXE))
        options = {} if path == "/kiosks" else {"rules": {"meta-refresh": {"enabled": False}}}
        violations = page.evaluate(
            "async (options) => (await axe.run(document, options)).violations", options)
        assert [(v["id"], [n["html"][:100] for n in v["nodes"][:3]]) for v in violations] \
            == [], path
