"""Integration tokens through the API: the same service as the page.

Only a login token (scope 'full') may create or revoke one: the scope check
of booking/api/auth.py refuses these writes to integration tokens, so a token
never mints a longer-lived one. Another's tokens answer 404, an admin's
excepted.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import local_iso, page
from booking.api.fields import DATE_TIME, Day, PageArgs, page_of, required_text
from booking.extensions import db
from booking.handlers import commit, get_or_404
from booking.permissions import may
from booking.services.accounts import integration_tokens as tokens
from booking.services.accounts.integration_tokens import INTEGRATION, MAX_NAME, SCOPES
from booking.services.errors import N_, NotFound
from booking.timeutil import utc_now
from models import ApiToken, User

blp = Blueprint("IntegrationTokens", __name__, url_prefix="/api/v1",
                description="Long-lived, named and scoped tokens for a program.")
BLUEPRINTS = [blp]


class IntegrationTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = required_text(MAX_NAME)
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    expires_on = Day(load_only=True, load_default=None, metadata={
        "description": "The last day (Europe/Paris) the token works; none by default."})
    expires_at = fields.String(dump_only=True, allow_none=True, metadata=DATE_TIME)
    created_at = fields.String(dump_only=True, metadata=DATE_TIME)
    last_used_at = fields.String(dump_only=True, allow_none=True, metadata=DATE_TIME)
    revoked_at = fields.String(dump_only=True, allow_none=True, metadata=DATE_TIME)
    token = fields.String(dump_only=True, metadata={
        "description": "The secret, answered once, at creation."})


def _out(row: ApiToken, secret: str | None = None) -> dict[str, Any]:
    zone = current_app.config["DISPLAY_TIMEZONE"]
    answer = {"id": row.id, "name": row.name, "scope": row.scope,
              "expires_at": local_iso(row.expires_at, zone),
              "created_at": local_iso(row.created_at, zone),
              "last_used_at": local_iso(row.last_used_at, zone),
              "revoked_at": local_iso(row.revoked_at, zone)}
    if secret is not None:
        answer["token"] = secret
    return answer


def _owner(user_id: int) -> User:
    owner = db.session.get(User, user_id)
    if owner is None or not may(api_user(), "manage_tokens", owner):
        raise NotFound(N_("Not found."))
    return owner


@blp.route("/users/<id:user_id>/integration-tokens", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(IntegrationTokenSchema))
def list_integration_tokens(args: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The account's integration tokens, newest first, revoked ones included."""
    owner = _owner(user_id)
    stmt = (select(ApiToken).where(ApiToken.user_id == owner.id, ApiToken.kind == INTEGRATION)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    result = page(stmt, args)
    result["items"] = [_out(row) for row in result["items"]]
    return result


@blp.route("/users/<id:user_id>/integration-tokens", methods=["POST"])
@blp.arguments(IntegrationTokenSchema)
@blp.response(201, IntegrationTokenSchema)
def post_integration_token(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A new token; its secret is in this answer only."""
    owner = _owner(user_id)
    secret, row = tokens.create_integration_token(
        db.session, actor=api_user(), owner=owner, name=body["name"], scope=body["scope"],
        expires_on=body.get("expires_on"), now=utc_now())
    commit()
    return _out(row, secret)


@blp.route("/integration-tokens/<id:token_id>", methods=["DELETE"])
@blp.response(204)
def delete_integration_token(token_id: int) -> None:
    """Revoke a token: programs using it are refused from the next request."""
    row = get_or_404(ApiToken, token_id, api_user(), "revoke")
    if row.kind != INTEGRATION:
        raise NotFound(N_("Not found."))
    tokens.revoke_integration_token(db.session, actor=api_user(), token=row, now=utc_now())
    commit()
