"""Bearer-token authentication of the API, and the token endpoints."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, g, request
from marshmallow import Schema, fields

from booking.api import Blueprint
from booking.api.fields import text
from booking.extensions import db
from booking.handlers import commit
from booking.permissions import may
from booking.services.accounts.authentication import authenticate
from booking.services.accounts.integration_tokens import note_use
from booking.services.accounts.tokens import issue_token, revoke, user_for_token
from booking.services.errors import N_, DomainError, Forbidden
from booking.timeutil import utc_now
from models import ApiToken, Booking, User

blp = Blueprint("auth-tokens", __name__, url_prefix="/api/v1/auth",
                description="Bearer tokens")
BLUEPRINTS = [blp]

# Endpoints answered without a token.
PUBLIC_ENDPOINTS = {"auth-tokens.create_token", "api-docs.openapi_json", "api-pages.docs"}


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class CredentialsSchema(Schema):
    # Not stripped nor refused when empty: a wrong e-mail or password is a 401.
    email = text(254, required=True, strip=False)
    password = text(1024, required=True, strip=False)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.AwareDateTime()


def authenticate_api_requests(app: Flask) -> None:
    @app.before_request
    def _authenticate() -> None:
        if not request.path.startswith("/api/v1/"):
            return
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("missing bearer token")
        found = user_for_token(db.session, token.strip(), now=utc_now())
        if found is None:
            raise Unauthorized("invalid, expired or revoked token")
        g.api_user, g.api_token = found
        check_scope(*found)
        if note_use(g.api_token, now=utc_now()):
            commit()


# What a 'book' integration token may write besides reading: the token user's
# own bookings. Revoking the token in use is allowed to every token.
BOOKING_WRITES = {"Bookings.post_booking", "Bookings.patch_booking", "Bookings.cancel"}
ANY_SCOPE = {"auth-tokens.delete_current_token"}
READS = {"GET", "HEAD", "OPTIONS"}


def check_scope(user: User, token: ApiToken) -> None:
    """The one place where a token's scope is enforced, before any view runs."""
    if token.scope == "full" or request.method in READS or request.endpoint in ANY_SCOPE:
        return
    if token.scope == "read":
        raise Forbidden(N_("This token is read only: it may not change anything."))
    if request.endpoint not in BOOKING_WRITES:
        raise Forbidden(N_("This token may only create, move and cancel your own bookings."))
    booking_id = (request.view_args or {}).get("booking_id")
    booking = db.session.get(Booking, booking_id) if booking_id is not None else None
    # Another's booking that the user may not see stays a 404 of the view.
    if booking is not None and may(user, "view", booking) \
            and user.id not in (booking.booked_by_id, booking.trainer_id):
        raise Forbidden(N_("This token may only create, move and cancel your own bookings."))


def api_user() -> User:
    return g.api_user


@blp.route("/tokens", methods=["POST"])
@blp.arguments(CredentialsSchema)
@blp.response(201, TokenSchema)
def create_token(credentials: dict) -> dict:
    """Exchange an e-mail and password for a bearer token."""
    user = authenticate(db.session, credentials["email"], credentials["password"])
    if user is None:
        raise Unauthorized("unknown e-mail or wrong password")
    now = utc_now()
    token, row = issue_token(
        db.session, user, now=now,
        lifetime=timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
    )
    commit()
    return {"token": token, "expires_at": row.expires_at}


@blp.route("/tokens/current", methods=["DELETE"])
@blp.response(204)
def delete_current_token() -> None:
    """Revoke the token of this request."""
    revoke(g.api_token, now=utc_now())
    commit()
