"""Security headers on every answer: pages, API, feeds, errors, static files.

One ``after_request`` hook rather than flask-talisman: Talisman's last
release (1.1.0, August 2023) predates Flask 3, its defaults (redirect to
HTTPS, secure cookie, SAMEORIGIN framing) would each need overriding here,
and it has no cache rule, which we need anyway. The whole policy fits in the
constants below, read in one place.

- ``Content-Security-Policy``: nothing but this site's own files; no inline
  script or style anywhere (templates keep none: tests/test_security_headers.py
  scans them, and the browser tests load every role's pages and fail on any
  violation), no plug-ins, no ``<base>``, forms only to this site, and no
  framing (``frame-ancestors 'none'``; ``X-Frame-Options: DENY`` for older
  browsers): a one-button confirmation form cannot be clicked through a frame.
- ``X-Content-Type-Options: nosniff``: an uploaded or exported file is never
  run as a script or a style sheet.
- ``Referrer-Policy: same-origin``: no URL of this site (some hold secrets, such
  as feed links) is ever sent to another site. Not ``no-referrer``: over HTTPS,
  Flask-WTF refuses a form posted without a same-origin ``Referer``.
- ``Strict-Transport-Security`` only when ``HSTS_SECONDS`` is set (behind
  HTTPS in production); never in development or tests.
- ``Cache-Control: no-store`` on every answer whose view set no cache rule of
  its own: every page shows a user's own data (feed links on /calendars, the
  token of ``POST /api/v1/auth/tokens``, accounts), campus computers are
  shared, and a page left in a browser's cache would outlive the logout.
  Kept: static files (revalidated by ETag), feeds (``private, max-age=300``)
  and exports (``private, no-store``).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        hsts_seconds = int(app.config.get("HSTS_SECONDS") or 0)
        if hsts_seconds > 0:
            response.headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
