"""axe-core on the main pages of each role, at 1366x768 and 390x844: no violation
at all, whatever its impact (minor and moderate included), with axe's default
rules (WCAG 2.x A and AA, and its best practices).

axe.min.js comes from the pinned axe-playwright-python package (axe-core 4.12.1,
docs/dependencies.md); without it this module fails on import, never skips. It is
injected as a file into a context that bypasses the Content-Security-Policy (the
policy forbids the inline script Playwright would add); only this test does so.
Per page the violation counts are printed (a table at the end of the run) and a
screenshot is saved under screenshots/accessibility/.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.helpers import (
    COORD_ORLEANS,
    JULIEN,
    LIGERIENS,
    SCREENSHOTS,
    SIZES,
    log_in,
    shoot,
    weekdays_from,
)

AXE = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
SHOTS = SCREENSHOTS / "accessibility"
ADMIN = "admin@plateforme.test"
ROLES = {"anonymous": "", "trainer": JULIEN, "company": LIGERIENS,
         "coordinator": COORD_ORLEANS, "admin": ADMIN}


def pages_of(role: str, server: LiveServer) -> dict[str, str]:
    cobot = server.id_of("equipment", "code", "ORL-COBOT-01")
    orleans = server.id_of("establishment", "code", "ORL-LYC")
    (tuesday,) = weekdays_from(400, 1)  # a day no test books: the form stays as it is
    [(booking,)] = server.query(
        "SELECT b.id FROM booking b JOIN user_account u ON u.id = b.trainer_id "
        "WHERE u.email = ? ORDER BY b.id LIMIT 1", JULIEN)
    [(project,)] = server.query(
        "SELECT p.id FROM project p JOIN user_account u ON u.company_id = p.company_id "
        "WHERE u.email = ? ORDER BY p.id LIMIT 1", LIGERIENS)
    # The demo's company project carried through every step (issue 15): its page
    # with the quotes, agreement, attendance, satisfaction and invoicing cards.
    [(done,)] = server.query("SELECT id FROM project WHERE title LIKE 'Bonnes pratiques%'")
    tours = server.id_of("establishment", "code", "TRS-PHA")
    # Pages that every role sees alike are checked once, as the trainer.
    return {
        "anonymous": {"login": "/auth/login"},
        "trainer": {"dashboard": "/dashboard", "catalogue": "/equipment",
                    "catalogue filtered": "/equipment?q=cobot",
                    "machine": f"/equipment/{cobot}", "my bookings": "/bookings/mine",
                    "booking form": f"/bookings/new?equipment={cobot}&date={tuesday}"
                                    "&start=09:00&end=12:00",
                    "booking": f"/bookings/{booking}",
                    "site calendar": f"/sites/{orleans}", "calendar links": "/calendars",
                    "waiting lists": "/waitlist"},
        "company": {"dashboard": "/dashboard", "catalogue": "/equipment",
                    "my bookings": "/bookings/mine", "projects": "/projects",
                    "project": f"/projects/{project}", "new project": "/projects/new",
                    "quotes": "/quotes/", "project paperwork": f"/projects/{done}"},
        "coordinator": {"dashboard": "/dashboard", "machine": f"/equipment/{cobot}",
                        "approvals": "/coordination/approvals",
                        "projects": "/projects/review", "certifications": "/certifications",
                        "reports": "/reports", "site calendar": f"/sites/{orleans}",
                        "closures": "/coordination/closures", "inbox": "/coordination/inbox",
                        "booking history": f"/history/bookings/{booking}",
                        "prices": "/pricing/", "evaluation": "/evaluation/",
                        "satisfaction": "/satisfaction/"},
        "admin": {"dashboard": "/dashboard", "admin": "/admin",
                  "equipment": "/admin/equipment",
                  "equipment form": f"/admin/equipment/{cobot}/edit",
                  "accounts": "/admin/accounts", "establishments": "/admin/establishments",
                  "certification types": "/admin/certification-types", "jobs": "/jobs",
                  "project paperwork": f"/projects/{done}", "quotes": "/quotes/",
                  "billing profile": f"/pricing/profile/{tours}", "invoicing": "/invoicing/"},
    }[role]


RESULTS: list[tuple[str, str, str, int, str]] = []  # page, role, viewport, count, detail


def table(rows: list[tuple[str, str, str, int, str]]) -> list[str]:
    lines = [f"{'page':<22} {'role':<12} {'viewport':<9} violations"]
    return lines + [f"{page:<22} {role:<12} {size:<9} {count}" + (f"  {detail}" if detail else "")
                    for page, role, size, count, detail in rows]


@pytest.fixture(scope="module", autouse=True)
def _table_file() -> Iterator[None]:
    """Every page's count in screenshots/accessibility/axe-results.txt."""
    yield
    if RESULTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / "axe-results.txt").write_text("\n".join(table(RESULTS)) + "\n")


def axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    # Every rule still runs; only the violations are gathered and reported
    # (the passes and the inapplicable rules, unread here, cost as much again).
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", list(ROLES))
def test_no_axe_violation(new_context: Callable[..., Any], live_server: LiveServer,
                          capsys: pytest.CaptureFixture[str], role: str, size: str) -> None:
    assert AXE.is_file(), f"axe-core is missing at {AXE}: pip install -r requirements-dev.txt"
    page = new_context(**SIZES[size], bypass_csp=True).new_page()
    if ROLES[role]:
        log_in(page, ROLES[role])
    found, rows = {}, []
    for name, path in pages_of(role, live_server).items():
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, f"{role} {path}: {answer.status}"
        violations = axe(page)
        shoot(page, "accessibility", role, name.replace(" ", "-"), size)
        detail = ", ".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])})" for v in violations)
        rows.append((name, role, size, len(violations), detail))
        if violations:
            found[path] = [(v["id"], v["impact"], v["help"],
                            [n["target"] for n in v["nodes"][:3]]) for v in violations]
    RESULTS.extend(rows)
    with capsys.disabled():  # the table is wanted in every run's output, not on failure only
        print("\n" + "\n".join(table(rows)))
    assert not found, found
