"""HTML to PDF with WeasyPrint, offline and tagged.

Documents are ``templates/paperwork/*.html`` extending ``_document.html``,
which links ``static/css/paperwork.css``. WeasyPrint fetches what a document
refers to through :func:`_fetch`, which serves the application's static files
and nothing else: a value typed by a user (a company's name, a learner's) can
never make the server fetch a URL. Fonts are Debian's (DejaVu, Liberation),
found by fontconfig. The PDF is PDF/UA-1 (tagged: headings, tables, reading
order, the document's language and title), so screen readers can read it and
tests can read its text back (pypdf).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import current_app, render_template

STATIC_PREFIX = "static:/"


def _fetch(url: str, **_: Any) -> dict[str, Any]:
    """Only ``static:/…`` (or a relative path: WeasyPrint cannot join one onto
    that opaque base) under the application's static folder; anything else
    refused (WeasyPrint then leaves the resource out and warns)."""
    if ":" not in url:
        url = STATIC_PREFIX + url
    if not url.startswith(STATIC_PREFIX):
        raise ValueError(f"paperwork fetches nothing outside the static files: {url[:80]}")
    root = Path(current_app.static_folder or "static").resolve()
    path = (root / url.removeprefix(STATIC_PREFIX)).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise ValueError(f"no static file {url[:80]}")
    return {"string": path.read_bytes(),
            "mime_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream"}


def render_pdf(template: str, **context: Any) -> bytes:
    """The PDF of ``template`` (a paperwork template) with ``context``, in the
    current locale (the template's ``lang`` and its messages follow it)."""
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=_fetch).write_pdf(
        pdf_variant="pdf/ua-1")
