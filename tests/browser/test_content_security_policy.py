"""The pages satisfy their Content-Security-Policy in a real browser.

Each role's main pages (every entry of its menu, and the pages behind them
that have grids, charts, scripts or forms) are loaded in Chromium with the
policy the server sends; a listener installed before any page script records
every ``securitypolicyviolation`` event, and Chromium's console reports are
collected too. One inline ``style="…"`` left in a template, one inline
script or handler, fails the role that sees it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import JULIEN, LIGERIENS, log_in, weekdays_from

ADMIN = "admin@plateforme.test"
COORD_TOURS = "coord.tours@plateforme.test"  # the packaging line, the reports of Tours
ROLES = {"trainer": JULIEN, "coordinator": COORD_TOURS, "company": LIGERIENS, "admin": ADMIN}

# Installed in every document before its own scripts (Playwright's init
# scripts are not subject to the page's policy).
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} refused `
    + `${event.blockedURI || "inline code"} (line ${event.lineNumber}): ${event.sample}`);
});
"""
# Violation events are queued as tasks: read them after the ones already queued.
READ = "() => new Promise((done) => setTimeout(() => done(window.__cspViolations), 50))"


def _pages(role: str, live_server: Any) -> list[str]:
    cobot = live_server.id_of("equipment", "code", "ORL-COBOT-01")
    line = live_server.id_of("equipment", "code", "TRS-LC-01")
    tours = live_server.id_of("establishment", "code", "TRS-PHA")
    (monday,) = weekdays_from(7, 0)
    (tuesday,) = weekdays_from(7, 1)
    common = ["/auth/password", "/api/v1/docs", "/no/such/page", "/sites",
              f"/sites/{tours}?view=day&date={monday.isoformat()}",
              f"/sites/{tours}?view=week&date={monday.isoformat()}"]
    extra = {
        "trainer": [f"/equipment/{cobot}?week={tuesday.isoformat()}",
                    f"/bookings/new?equipment={cobot}&date={tuesday.isoformat()}&start=09:00",
                    "/certifications"],
        "coordinator": [f"/equipment/{line}?week={tuesday.isoformat()}", "/reports",
                        "/coordination/closures", "/coordination/equipment",
                        f"/coordination/equipment/{line}/edit", "/coordination/import",
                        "/projects/review", "/jobs"],
        "company": ["/projects/new", f"/equipment/{line}"],
        "admin": ["/reports", "/admin/accounts", "/admin/accounts/new", "/admin/equipment",
                  f"/admin/equipment/{line}/edit", "/admin/establishments",
                  "/admin/certification-types/new"],
    }
    return common + extra[role]


@pytest.mark.parametrize("role", list(ROLES))
def test_main_pages_of_each_role_break_no_content_security_policy(new_context, live_server,
                                                                    role):
    context = new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text else None)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    log_in(page, ROLES[role])
    menu = page.locator("header .nav-list a[href]").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    assert len(menu) >= 4, menu
    paths = list(dict.fromkeys([*menu, *_pages(role, live_server)]))
    found: dict[str, str] = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None, path
        assert response.status < 500, f"{path}: {response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "style-src 'self'" in policy, f"{path} came without its policy: {policy!r}"
        violations = [*page.evaluate(READ), *console]
        console.clear()
        if violations:
            found[path] = f"{len(violations)}, first: {violations[0]}"
    assert not found, (f"{role}: pages that break their Content-Security-Policy:\n"
                       + "\n".join(f"{path}: {seen}" for path, seen in found.items()))
    assert not errors, f"{role}: script errors: {errors}"
