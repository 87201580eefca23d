"""Security headers on every kind of answer (booking.security_headers), and
templates with no inline script or style, which the Content-Security-Policy
forbids (the browser tests check that the pages really satisfy it)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from booking.equipment.week import display_step
from booking.reports.svg import Bar, bar_chart, column_chart
from models import Role
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secure(response) -> None:
    """The headers every answer carries, whatever its kind."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    csp = _directives(header)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert "unsafe" not in header
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # off unless configured


def _no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


def _token(client, user) -> dict[str, str]:
    answer = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": PASSWORD})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_pages_forms_and_redirects_carry_the_headers(client, make, login) -> None:
    login_page = client.get("/auth/login")  # a form, before logging in
    assert login_page.status_code == 200
    assert_secure(login_page)
    redirect = client.get("/dashboard")
    assert redirect.status_code == 302
    assert_secure(redirect)
    login(make.user(Role.TRAINER))
    for path in ("/dashboard", "/bookings/new", "/equipment", "/api/v1/docs"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert_secure(page)


def test_json_answers_carry_the_headers(client, make) -> None:
    trainer = make.user(Role.TRAINER)
    token = client.post("/api/v1/auth/tokens",
                        json={"email": trainer.email, "password": PASSWORD})
    assert token.status_code == 201
    answers = [token,
               client.get("/api/v1/equipment", headers=_token(client, trainer)),
               client.get("/api/v1/openapi.json"),
               client.get("/healthz"),
               client.get("/api/v1/equipment"),  # 401
               client.get("/api/v1/nothing-here")]  # 404 in JSON
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 401, 404]
    for answer in answers:
        assert answer.is_json
        assert_secure(answer)


def test_error_pages_carry_the_headers(app, client, make, login, monkeypatch) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert_secure(missing)
    login(make.user(Role.TRAINER))
    forbidden = client.get("/admin")
    assert forbidden.status_code == 403
    assert_secure(forbidden)

    def boom() -> None:
        raise RuntimeError("an unexpected failure")

    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    monkeypatch.setitem(app.view_functions, "main.dashboard", boom)
    monkeypatch.setitem(app.view_functions, "api-docs.openapi_json", boom)
    for path in ("/dashboard", "/api/v1/openapi.json"):
        failed = client.get(path)
        assert failed.status_code == 500, path
        assert_secure(failed)
        assert _no_store(failed)


def test_static_files_carry_the_headers_and_stay_cacheable(client) -> None:
    for path, kind in (("/static/css/app.css", "text/css"),
                       ("/static/js/copy.js", "text/javascript"),
                       ("/static/img/logo.svg", "image/svg+xml")):
        with client.get(path) as answer:  # closed: a static file is an open file
            assert answer.status_code == 200, path
            assert answer.mimetype == kind
            assert_secure(answer)
            # Static files keep Flask's revalidation (ETag), never no-store.
            assert not _no_store(answer)
        with client.get(path, headers={"If-None-Match": answer.headers["ETag"]}) as again:
            assert again.status_code == 304
            assert_secure(again)


def test_feeds_carry_the_headers_and_keep_their_own_cache_rule(client, make, now) -> None:
    trainer = make.user(Role.TRAINER)
    feed = client.post("/api/v1/feeds", headers=_token(client, trainer),
                       json={"scope": "trainer", "scope_id": trainer.id})
    assert feed.status_code == 201, feed.get_json()
    assert_secure(feed)
    assert _no_store(feed)  # the answer holds the secret URL
    path = "/" + feed.get_json()["url"].split("://", 1)[1].split("/", 1)[1]
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.mimetype == "text/calendar"
    assert_secure(answer)
    assert answer.headers["Cache-Control"] == "private, max-age=300"  # the feed's own rule


@pytest.mark.parametrize("path", [
    "/calendars",  # the secret feed URLs
    "/auth/password",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/accounts/{user}/password",
])
def test_pages_that_show_secrets_are_never_stored(client, make, login, path) -> None:
    admin = make.user(Role.ADMIN)
    login(admin)
    answer = client.get(path.format(user=admin.id))
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"


def test_api_token_answer_is_never_stored(client, make) -> None:
    trainer = make.user(Role.TRAINER)
    answer = client.post("/api/v1/auth/tokens",
                         json={"email": trainer.email, "password": PASSWORD})
    assert answer.status_code == 201
    assert answer.headers["Cache-Control"] == "no-store"


def test_hsts_only_when_configured(app, client, monkeypatch) -> None:
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    monkeypatch.setitem(app.config, "HSTS_SECONDS", 31536000)
    for path in ("/auth/login", "/static/css/app.css", "/healthz"):
        with client.get(path) as answer:
            assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


# What the policy (script-src and style-src 'self', no 'unsafe-inline') refuses
# in markup: <script> without src, <style>, style="…", on…= handlers and
# javascript: URLs.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
    re.IGNORECASE)


def test_the_pattern_finds_inline_code() -> None:
    for markup in ('<script>alert(1)</script>', '<style>p{}</style>', '<p style="x">',
                   '<a onclick="x()">', '<body onload=x()>', '<a href="javascript:x()">',
                   '<div class="a" style="{{ place }}">'):
        assert INLINE.search(markup), markup
    for markup in ('<script src="/static/js/copy.js" defer></script>', '<p class="stylish">',
                   '<a data-copy="x">', '<link rel="stylesheet" href="/static/css/app.css">'):
        assert not INLINE.search(markup), markup


def test_templates_have_no_inline_script_or_style() -> None:
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 50
    found = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: "
             f"{match.group(0).strip()}"
             for path in templates
             for text in [path.read_text()]
             for match in INLINE.finditer(text)]
    assert not found, "inline code the Content-Security-Policy refuses:\n" + "\n".join(found)


def test_charts_have_no_inline_style() -> None:
    bars = [Bar(f"Machine {n}", n * 3.0, f"{n * 3} h") for n in range(1, 15)]
    for chart in (bar_chart(bars, chart_id="c1", title="t", desc="d", axis_label="h"),
                  column_chart(bars, chart_id="c2", title="t", desc="d", axis_label="h")):
        assert not INLINE.search(str(chart)), str(chart)[:300]


def test_placement_classes_cover_every_grid_size() -> None:
    """The calendars place their blocks with the classes of placement.css, not
    style="--day: …": one class for every value a day's grid can reach."""
    shortest = min(display_step(SimpleNamespace(slot_minutes=m)) for m in range(1, 24 * 60 + 1))
    most = math.ceil(24 * 60 / shortest)  # rows (week) or columns (site day) in a day
    css = (ROOT / "static" / "css" / "placement.css").read_text()
    defined = set(re.findall(r"^\.([a-z]+-[a-z]+-\d+) \{ (--[a-z-]+): (\d+); \}$", css, re.M))
    families = [("cal-day", "--day", most), ("cal-row", "--row", most),
                ("cal-span", "--span", most), ("cal-rows", "--cal-rows", most),
                ("site-cols", "--site-cols", most), ("site-days", "--site-days", 7)]
    missing = {(f"{name}-{n}", prop, str(n)) for name, prop, top in families
               for n in range(1, top + 1)} - defined
    assert not missing, sorted(missing)
