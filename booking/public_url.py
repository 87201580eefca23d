"""The site's address in links that leave the page (feed URLs, .ics files).

A deployment names its public address (BASE_URL, config ``PUBLIC_URL``): behind a
proxy the request's host may be an internal one. Without it (`make run`, any
PORT), a page links to the host and port it was asked on, and work outside a
request (the scheduler's e-mails) to ``BASE_URL``, built from PORT.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request


def public_url() -> str:
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return str(current_app.config["BASE_URL"]).rstrip("/")
