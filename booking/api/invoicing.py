"""/api/v1 routes of invoicing (issue 15): the invoice lines of completed
projects, for the issuing establishment's accounting (booking.services.invoicing).

``GET /api/v1/projects/{id}/invoice-lines``: one project's lines;
``GET /api/v1/invoice-lines?establishment_id=&from=&to=``: the lines of the
completed projects whose accepted quote the establishment issued and whose
last session ended between ``from`` and ``to`` (both included, Europe/Paris).
Amounts in integer cents, rates in basis points, quantities and hours in
hundredths. Admins, and coordinators of the issuing establishment (others 403;
a project the caller may not see 404).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from marshmallow import Schema, fields

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load
from booking.api.fields import Day, object_id
from booking.extensions import db
from booking.services.invoicing.access import Invoicing
from booking.services.invoicing.lines import InvoiceLine, invoice_lines, period_lines, totals
from models import Project

blp = Blueprint("Invoicing", __name__, url_prefix="/api/v1",
                description="Invoice lines of completed projects, for the issuing "
                            "establishment's accounting software (admins and its "
                            "coordinators).")
BLUEPRINTS = [blp]


class PeriodArgs(Schema):
    establishment_id = object_id(strict=False, required=True, metadata={
        "description": "the establishment that issued the accepted quotes"})
    from_ = Day(required=True, data_key="from",
                metadata={"description": "first day, Europe/Paris, included"})
    to = Day(required=True, metadata={"description": "last day, Europe/Paris, included "
                                                     "(366 days at most)"})


class InvoiceLineSchema(Schema):
    establishment_id = fields.Integer()
    establishment_code = fields.String()
    establishment_name = fields.String()
    company_id = fields.Integer()
    customer = fields.String(metadata={"description": "the company invoiced"})
    project_id = fields.Integer()
    project_title = fields.String()
    quote_id = fields.Integer()
    quote_reference = fields.String(metadata={"description": "DEV-2027-0001, or "
                                                             "DEV-2027-0001-v2 for a revision"})
    quote_date = fields.Date(allow_none=True, metadata={
        "description": "the day the quote was issued, Europe/Paris"})
    last_session = fields.Date(allow_none=True, metadata={
        "description": "the day the project's last session ended, Europe/Paris"})
    position = fields.Integer()
    label = fields.String()
    kind = fields.String(metadata={"description": "machine_hour, trainer_hour, consumable "
                                                  "or flat_fee"})
    equipment_id = fields.Integer(allow_none=True)
    analytic_code = fields.String(metadata={
        "description": "the machine's analytic code, else the establishment's"})
    revenue_account = fields.String(metadata={
        "description": "the establishment's revenue account for the line's kind"})
    quantity_cents = fields.Integer(metadata={"description": "hundredths (150 = 1.5)"})
    unit = fields.String()
    unit_price_cents = fields.Integer()
    discount_bp = fields.Integer(metadata={"description": "the line's discount"})
    quote_discount_bp = fields.Integer(metadata={
        "description": "the quote's discount, applied after the line's"})
    gross_cents = fields.Integer(metadata={"description": "quantity × unit price"})
    excl_cents = fields.Integer(metadata={"description": "after both discounts, excl. VAT"})
    vat_rate_bp = fields.Integer()
    vat_cents = fields.Integer()
    incl_cents = fields.Integer()
    learners_attended = fields.Integer(metadata={
        "description": "the project's learners present or late at least once (the same "
                       "on each of its lines)"})
    attended_hours_cents = fields.Integer(metadata={
        "description": "the project's attended hours, all learners, in hundredths: each "
                       "half-day's hours less the minutes late (the same on each of its lines)"})


class InvoiceTotalsSchema(Schema):
    lines = fields.Integer()
    projects = fields.Integer()
    excl_cents = fields.Integer()
    vat_cents = fields.Integer()
    incl_cents = fields.Integer()


class InvoiceLinesSchema(Schema):
    items = fields.List(fields.Nested(InvoiceLineSchema), required=True)
    totals = fields.Nested(InvoiceTotalsSchema, required=True)


def _answer(lines: list[InvoiceLine]) -> dict[str, Any]:
    items = [{**asdict(line), "kind": line.kind.value} for line in lines]
    return {"items": items, "totals": asdict(totals(lines))}


@blp.route("/projects/<id:project_id>/invoice-lines", methods=["GET"])
@blp.response(200, InvoiceLinesSchema)
def project_invoice_lines(project_id: int) -> dict[str, Any]:
    """A completed project's invoice lines, one per line of its accepted quote.
    409 ``invalid_state`` while the project is not completed, 409
    ``no_accepted_quote`` without an accepted quote; 403 for companies,
    trainers and other establishments' coordinators."""
    user = api_user()
    project = load(Project, project_id, user)
    return _answer(invoice_lines(db.session, actor=user, project=project))


@blp.route("/invoice-lines", methods=["GET"])
@allow("view", Invoicing)
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, InvoiceLinesSchema)
def period_invoice_lines(args: dict[str, Any]) -> dict[str, Any]:
    """An establishment's invoice lines of a period (both days included): the
    completed projects whose accepted quote it issued, by the end of their last
    session. 404 for an unknown establishment, 403 for anyone but an admin or
    its coordinators, 422 ``validation`` for ``to`` before ``from`` or a period
    over 366 days."""
    user = api_user()
    return _answer(period_lines(db.session, actor=user,
                                establishment_id=args["establishment_id"],
                                first=args["from_"], last=args["to"]))
