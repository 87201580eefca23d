"""/api/v1 quotes (devis, issue 15): the quotes the caller may see, a draft
from a project's price list, its lines and settings while a draft, then
issue, revise, accept, decline (booking.services.quotes).

Who: the issuing establishment's coordinators and admins draft, change,
issue and revise; the project's company sees its quotes once issued and
accepts or declines them; others get 404 (403 for what they see but may not
do). Errors: 409 ``invalid_state`` (not a draft, not awaiting an answer),
409 ``quote_expired`` (past its validity date), 409
``quote_already_accepted`` (another quote of the project is accepted), 422
``validation`` (a field: ``details.field``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import load, local_iso, page
from booking.api.fields import (
    DATE_TIME,
    Day,
    PageArgs,
    integer,
    object_id,
    optional_text,
    page_of,
    required_text,
    text,
)
from booking.extensions import db
from booking.handlers import commit
from booking.services.policy import CAMPUS_ZONE
from booking.services.quotes import operations as quotes
from booking.services.quotes.access import visible_quotes
from booking.services.quotes.editing import (
    LABEL_MAX,
    MAX_LINES,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    NOTES_MAX,
    UNIT_MAX,
)
from booking.services.quotes.operations import REASON_MAX, LineSpec, Origin
from booking.services.quotes.totals import quote_totals
from booking.timeutil import utc_now
from models import PriceKind, Project, Public, Quote, QuoteStatus

PARIS = CAMPUS_ZONE.key

blp = Blueprint("Quotes", __name__, url_prefix="/api/v1",
                description="Quotes (devis) of company projects: drafted and issued by the "
                            "issuing establishment's staff, accepted or declined by the "
                            "project's company.")
BLUEPRINTS = [blp]


class QuoteLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    position = fields.Integer(dump_only=True)
    kind = fields.Enum(PriceKind, by_value=True, dump_only=True)
    equipment_id = fields.Integer(dump_only=True, allow_none=True)
    price_id = fields.Integer(dump_only=True, allow_none=True)
    label = fields.String(dump_only=True)
    unit = fields.String(dump_only=True)
    quantity_cents = fields.Integer(dump_only=True, metadata={
        "description": "Hundredths: 150 is 1.5 (hours or units)."})
    unit_price_cents = fields.Integer(dump_only=True, metadata={"description": "Euro cents."})
    vat_rate_bp = fields.Integer(dump_only=True, metadata={
        "description": "Basis points: 2000 is 20 %."})
    discount_bp = fields.Integer(dump_only=True)
    total_excl_cents = fields.Integer(dump_only=True, metadata={
        "description": "After the line's and the quote's discounts."})


class VatSchema(Schema):
    rate_bp = fields.Integer(dump_only=True)
    base_cents = fields.Integer(dump_only=True)
    vat_cents = fields.Integer(dump_only=True)


class QuoteSchema(Schema):
    id = fields.Integer(dump_only=True)
    project_id = fields.Integer(dump_only=True)
    establishment_id = fields.Integer(dump_only=True)
    public = fields.Enum(Public, by_value=True, dump_only=True)
    status = fields.Enum(QuoteStatus, by_value=True, dump_only=True)
    number = fields.String(dump_only=True, allow_none=True)
    version = fields.Integer(dump_only=True)
    reference = fields.String(dump_only=True, metadata={
        "description": "DEV-<establishment>-2027-0001, with -v2 for a revision; empty for a "
                       "first draft."})
    revises_id = fields.Integer(dump_only=True, allow_none=True)
    price_date = fields.Date(dump_only=True)
    valid_until = fields.Date(dump_only=True, allow_none=True)
    discount_bp = fields.Integer(dump_only=True)
    notes = fields.String(dump_only=True)
    total_excl_cents = fields.Integer(dump_only=True)
    vat_cents = fields.Integer(dump_only=True)
    total_incl_cents = fields.Integer(dump_only=True)
    vat = fields.List(fields.Nested(VatSchema), dump_only=True, metadata={
        "description": "The VAT per rate, on the sum of the lines at that rate."})
    lines = fields.List(fields.Nested(QuoteLineSchema), dump_only=True)
    created_at = fields.Function(lambda q: local_iso(q.created_at, PARIS), dump_only=True,
                                 metadata=DATE_TIME)
    issued_at = fields.Function(lambda q: local_iso(q.issued_at, PARIS), dump_only=True,
                                metadata={**DATE_TIME, "nullable": True})
    decided_at = fields.Function(lambda q: local_iso(q.decided_at, PARIS), dump_only=True,
                                 metadata={**DATE_TIME, "nullable": True})
    decided_by_id = fields.Integer(dump_only=True, allow_none=True)
    decline_reason = fields.String(dump_only=True, allow_none=True)

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr in ("vat", "lines"):
            found = quote_totals(obj)
            if attr == "vat":
                return found.vat
            return [_line(line, amount.excl_cents)
                    for line, amount in zip(obj.lines, found.lines, strict=True)]
        return super().get_attribute(obj, attr, default)


def _line(line: Any, excl: int) -> dict[str, Any]:
    keys = ("id", "position", "equipment_id", "price_id", "label", "unit", "quantity_cents",
            "unit_price_cents", "vat_rate_bp", "discount_bp")
    return {**{k: getattr(line, k) for k in keys}, "kind": line.kind, "total_excl_cents": excl}


class QuoteQuerySchema(PageArgs):
    project_id = object_id(strict=False)
    status = fields.Enum(QuoteStatus, by_value=True)


class QuoteDraftSchema(Schema):
    establishment_id = object_id(metadata={
        "description": "The issuer: a coordinator's own establishment (the default); an "
                       "admin's default is the establishment of the project's first machine."})
    public = fields.Enum(Public, by_value=True, load_default=Public.COMPANY)
    price_date = Day(metadata={"description": "The prices in force on this day; default today."})


class LineInSchema(Schema):
    price_id = object_id(metadata={
        "description": "A price of the quote's list: its kind, label, unit, price and VAT "
                       "are copied. Without it, the line is free: give label, unit_price_cents "
                       "and vat_rate_bp."})
    kind = fields.Enum(PriceKind, by_value=True, load_default=PriceKind.FLAT_FEE)
    label = optional_text(LABEL_MAX)
    unit = optional_text(UNIT_MAX)
    quantity_cents = integer(1, MAX_QUANTITY, required=True)
    unit_price_cents = integer(0, MAX_UNIT_PRICE, load_default=0)
    vat_rate_bp = integer(0, 10000, load_default=2000)
    discount_bp = integer(0, 10000, load_default=0)


class QuoteUpdateSchema(Schema):
    lines = fields.List(fields.Nested(LineInSchema), validate=validate.Length(max=MAX_LINES),
                        metadata={"description": "Every line, in order (replaces them all)."})
    discount_bp = integer(0, 10000, metadata={"description": "On the whole quote."})
    notes = text(NOTES_MAX, strip=False)
    valid_until = Day()


class DeclineSchema(Schema):
    reason = required_text(REASON_MAX)


def _origin() -> Origin:
    return Origin(request.remote_addr, request.headers.get("User-Agent"))


@blp.route("/quotes", methods=["GET"])
@blp.arguments(QuoteQuerySchema, location="query")
@blp.response(200, page_of(QuoteSchema))
def list_quotes(args: dict[str, Any]) -> dict[str, Any]:
    """The quotes the caller may see (a company: its projects' quotes once issued),
    newest first; filters ``project_id``, ``status``."""
    stmt = (visible_quotes(api_user()).options(selectinload(Quote.lines))
            .order_by(Quote.created_at.desc(), Quote.id.desc()))
    for name in ("project_id", "status"):
        if name in args:
            stmt = stmt.where(getattr(Quote, name) == args[name])
    return page(stmt, args)


@blp.route("/quotes/<id:quote_id>", methods=["GET"])
@blp.response(200, QuoteSchema)
def get_quote(quote_id: int) -> Quote:
    """A quote with its lines and totals."""
    return load(Quote, quote_id, api_user())


@blp.route("/projects/<id:project_id>/quotes", methods=["POST"])
@blp.arguments(QuoteDraftSchema)
@blp.response(201, QuoteSchema)
def draft_quote(body: dict[str, Any], project_id: int) -> Quote:
    """Draft a quote from the issuer's price list (staff): a machine-hour line per
    priced machine of the project and a trainer-hour line."""
    user = api_user()
    project = load(Project, project_id, user)
    quote = quotes.draft_quote(db.session, actor=user, now=utc_now(), project=project, **body)
    commit()
    return quote


@blp.route("/quotes/<id:quote_id>", methods=["PUT"])
@blp.arguments(QuoteUpdateSchema)
@blp.response(200, QuoteSchema)
def update_quote(body: dict[str, Any], quote_id: int) -> Quote:
    """Change a draft: its lines (all of them, in order), its discount, notes and
    validity date; what is left out stays as it was."""
    user = api_user()
    quote = load(Quote, quote_id, user)
    now = utc_now()
    if "lines" in body:
        quotes.set_lines(db.session, quote, actor=user, now=now,
                         specs=[LineSpec(**line) for line in body["lines"]])
    settings = {k: body[k] for k in ("discount_bp", "notes", "valid_until") if k in body}
    if settings or "lines" not in body:
        quotes.update_quote(db.session, quote, actor=user, now=now, **settings)
    commit()
    return quote


@blp.route("/quotes/<id:quote_id>/issue", methods=["POST"])
@blp.response(200, QuoteSchema)
def issue_quote(quote_id: int) -> Quote:
    """Number the draft, freeze its totals and mail it to the project's contact."""
    user = api_user()
    quote = load(Quote, quote_id, user)
    quotes.issue_quote(db.session, quote, actor=user, now=utc_now())
    commit()
    return quote


@blp.route("/quotes/<id:quote_id>/revise", methods=["POST"])
@blp.response(201, QuoteSchema)
def revise_quote(quote_id: int) -> Quote:
    """A new draft version of an issued or declined quote, under the same number."""
    user = api_user()
    quote = load(Quote, quote_id, user)
    revision = quotes.revise_quote(db.session, quote, actor=user, now=utc_now())
    commit()
    return revision


@blp.route("/quotes/<id:quote_id>/accept", methods=["POST"])
@blp.response(200, QuoteSchema)
def accept_quote(quote_id: int) -> Quote:
    """The project's company accepts the issued quote (its address and browser are
    recorded): it fixes the project's price."""
    user = api_user()
    quote = load(Quote, quote_id, user)
    quotes.accept_quote(db.session, quote, actor=user, now=utc_now(), origin=_origin())
    commit()
    return quote


@blp.route("/quotes/<id:quote_id>/decline", methods=["POST"])
@blp.arguments(DeclineSchema)
@blp.response(200, QuoteSchema)
def decline_quote(body: dict[str, Any], quote_id: int) -> Quote:
    """The project's company declines the issued quote, saying why."""
    user = api_user()
    quote = load(Quote, quote_id, user)
    quotes.decline_quote(db.session, quote, actor=user, now=utc_now(), reason=body["reason"],
                         origin=_origin())
    commit()
    return quote
