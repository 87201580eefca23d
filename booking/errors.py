"""Error pages in the site's layout, JSON errors under /api."""

from __future__ import annotations

import math

from flask import Flask, jsonify, make_response, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from booking.extensions import db
from booking.services.errors import DomainError

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "validation",
          429: "rate_limited"}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _json_error(status: int, code: str, message: str, details: dict | None = None) -> Response:
    # The OpenAPI document describes this body by booking.api.fields.ErrorSchema
    # (tests/test_api_style.py compares the two): change both together.
    response = jsonify({"error": code, "message": message, "details": details or {}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int] | Response:
        db.session.rollback()
        if _wants_json():
            return _json_error(400, "csrf", error.description)
        return render_template("errors/csrf.html", reason=error.description), 400

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(error: RateLimitExceeded) -> Response:
        # Raised by booking.ratelimit before the view ran: nothing was done.
        from booking.ratelimit import retry_after_seconds

        db.session.rollback()
        seconds = retry_after_seconds()
        if _wants_json():
            response = _json_error(429, "rate_limited",
                                   f"too many requests: retry in {seconds} seconds",
                                   {"retry_after": seconds})
        else:
            response = make_response(render_template(
                "errors/429.html", minutes=math.ceil(seconds / 60)), 429)
        response.headers["Retry-After"] = str(seconds)
        return response

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int] | Response:
        db.session.rollback()
        if _wants_json():
            return _json_error(error.status, error.code, error.message, error.details)
        template = {403: "errors/403.html", 404: "errors/404.html"}.get(
            error.status, "errors/404.html"
        )
        return render_template(template, message=error.message), error.status

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        db.session.rollback()
        status = error.code or 500
        if _wants_json():
            # webargs puts the field errors of a refused body in ``data``.
            messages = getattr(error, "data", {}).get("messages")
            details = {"errors": messages} if messages else {}
            message = error.description or ""
            if status == 422:
                message = "the request's fields are not valid"
            return _json_error(status, _CODES.get(status, "error"), message, details)
        if status in (403, 404):
            return render_template(f"errors/{status}.html"), status
        if status == 413:  # MAX_CONTENT_LENGTH: nothing of the body was read
            # The route's own limit where it set one (the documents' upload).
            size = (request.max_content_length or app.config["MAX_CONTENT_LENGTH"]) \
                // (1024 * 1024)
            return render_template("errors/413.html", size=size), status
        if status >= 500:
            return render_template("errors/500.html"), status
        return error.get_response()

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> tuple[str, int] | Response:
        # Logged with its traceback; the user gets the 500 page, never a stack.
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if app.testing and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        if _wants_json():
            return _json_error(500, "internal", InternalServerError.description)
        return render_template("errors/500.html"), 500
