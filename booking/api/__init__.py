"""The JSON API under /api/v1, documented by the OpenAPI document that
flask-smorest builds from the schemas."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Request
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from booking import json_bodies
from booking.api.fields import ErrorSchema


class Api(SmorestApi):
    # Every error response of the document (the "Error" schema of the default
    # and of the 422 responses) is the body booking.errors answers.
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # booking.errors answers every error, in the uniform body of API.md.
        pass


class ArgumentsParser(FlaskParser):
    """webargs' parser, reading JSON bodies with bounded work (booking.json_bodies):
    its refusals are webargs' own "invalid JSON", a 400."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:  # as webargs' core.parse_json
            raise json.JSONDecodeError(
                f"Bytes decoding error : {exc.reason}", doc=str(exc.object), pos=exc.start
            ) from exc
        return json_bodies.loads(text)


class Blueprint(SmorestBlueprint):
    """Every API blueprint: flask-smorest's, with that parser."""

    ARGUMENTS_PARSER = ArgumentsParser()


API_CONFIG = {
    "API_TITLE": "Plateforme API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}


def init_api(app: Flask) -> None:
    from booking.api.auth import authenticate_api_requests
    from booking.extensions import csrf

    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    # One Api per app: the spec and its registered views belong to that app.
    api = Api()
    api.init_app(app, spec_kwargs={"info": {
        "description": "Booking of the CosmetoPharma campus equipment. Times carry an offset.",
    }})
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    from booking.api import (
        agreements,
        attendance,
        auth,
        bookings,
        checkin,
        directory,
        equipment,
        evaluation,
        feeds,
        identity_providers,
        integration_tokens,
        invoicing,
        onboarding,
        pricing,
        projects,
        quotas,
        quotes,
        reports,
        satisfaction,
        slots,
        travel_times,
        waitlist,
    )

    for module in (auth, integration_tokens, directory, equipment, bookings, projects, feeds,
                   reports, identity_providers, onboarding, travel_times, slots, quotas,
                   waitlist, checkin, pricing, quotes, agreements, attendance, satisfaction,
                   invoicing, evaluation):
        for blueprint in module.BLUEPRINTS:
            csrf.exempt(blueprint)  # bearer tokens, never cookies: no CSRF to fear
            api.register_blueprint(blueprint)
    authenticate_api_requests(app)
    from booking.api.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
