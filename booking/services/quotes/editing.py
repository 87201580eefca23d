"""Editing a draft quote: its lines (from the price list or free), their
quantities and discounts, the whole quote's discount, notes and validity
date. Only a draft changes; each change recomputes its totals and is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, InvalidState, NotFound, ValidationError
from booking.services.inputs import text_problem
from booking.services.messaging.notifications import render_in
from booking.services.policy import campus_today
from booking.services.quotes.totals import refresh_totals
from models import Price, PriceKind, Quote, QuoteLine, QuoteStatus, User

# The language of the designations written into a quote's lines: the
# document's (issue 15: quotes are French documents).
DOCUMENT_LOCALE = "fr"
MAX_LINES = 100
MAX_QUANTITY = 10_000_000  # hundredths: 100 000 units or hours
MAX_UNIT_PRICE = 100_000_000  # cents: 1 000 000 €
LABEL_MAX = 200
UNIT_MAX = 40
NOTES_MAX = 5000

MACHINE_LABEL = N_("Machine time — %(equipment)s")
TRAINER_LABEL = N_("Trainer hours")
HOURS_UNIT = N_("hour")


@dataclass(frozen=True)
class LineSpec:
    """A line to add: from a price of the list (``price_id``: its kind, label,
    unit, price and VAT are copied) or free (everything given)."""

    quantity_cents: int
    price_id: int | None = None
    kind: PriceKind = PriceKind.FLAT_FEE
    label: str = ""
    unit: str = ""
    unit_price_cents: int = 0
    vat_rate_bp: int = 2000
    discount_bp: int = 0


def line_from_price(price: Price, quantity_cents: int, discount_bp: int = 0,
                     label: str | None = None) -> QuoteLine:
    if label is None:
        label = price.label
        if price.kind is PriceKind.MACHINE_HOUR and price.equipment is not None:
            label = render_in(DOCUMENT_LOCALE, MACHINE_LABEL, equipment=price.equipment.name)
        elif not label:
            label = render_in(DOCUMENT_LOCALE, TRAINER_LABEL)
    unit = price.unit or (render_in(DOCUMENT_LOCALE, HOURS_UNIT)
                          if price.kind in (PriceKind.MACHINE_HOUR, PriceKind.TRAINER_HOUR)
                          else "")
    return QuoteLine(kind=price.kind, equipment_id=price.equipment_id, price_id=price.id,
                     label=label[:LABEL_MAX], unit=unit[:UNIT_MAX],
                     quantity_cents=quantity_cents, unit_price_cents=price.unit_price_cents,
                     vat_rate_bp=price.vat_rate_bp, discount_bp=discount_bp)


# --- editing a draft ------------------------------------------------------------------


def editable(actor: User, quote: Quote) -> None:
    require(actor, "manage", quote, N_("Only the issuing establishment's coordinators "
                                       "change its quotes."))
    if quote.status is not QuoteStatus.DRAFT:
        raise InvalidState(N_("This quote is “%(status)s”: only a draft can be changed."),
                           {"status": quote.status.value}, status=quote.status)


BOUNDS = {  # field: lowest, highest, the refusal
    "quantity": (1, MAX_QUANTITY, N_("Enter a quantity above zero and below 100,000.")),
    "unit_price": (0, MAX_UNIT_PRICE, N_("Enter a unit price from 0 to 1,000,000 €.")),
    "vat_rate": (0, 10000, N_("A VAT rate is from 0 to 100 percent.")),
    "discount": (0, 10000, N_("A discount is from 0 to 100 percent.")),
}


def _bounded(value: int, field: str) -> int:
    low, high, refusal = BOUNDS[field]
    if not low <= value <= high:
        raise ValidationError(refusal, {"field": field})
    return value


def text_field(value: str, limit: int, field: str, *, required: bool = False,
               multiline: bool = False) -> str:
    text = value.strip()
    if required and not text:
        raise ValidationError(N_("This field is required."), {"field": field})
    if len(text) > limit:
        raise ValidationError(N_("At most %(max)d characters."), {"field": field}, max=limit)
    problem = text_problem(text, multiline=multiline)
    if problem is not None:
        raise ValidationError(problem, {"field": field})
    return text


def _line(session: Session, quote: Quote, spec: LineSpec) -> QuoteLine:
    quantity = _bounded(spec.quantity_cents, "quantity")
    discount = _bounded(spec.discount_bp, "discount")
    if spec.price_id is not None:
        price = session.get(Price, spec.price_id)
        if price is None or price.establishment_id != quote.establishment_id \
                or price.public is not quote.public or price.valid_from > quote.price_date:
            raise ValidationError(N_("This price is not in the quote's price list."),
                                  {"field": "price_id", "price_id": spec.price_id})
        label = text_field(spec.label, LABEL_MAX, "label") or None
        return line_from_price(price, quantity, discount, label)
    return QuoteLine(kind=spec.kind, equipment_id=None, price_id=None,
                     label=text_field(spec.label, LABEL_MAX, "label", required=True),
                     unit=text_field(spec.unit, UNIT_MAX, "unit"), quantity_cents=quantity,
                     unit_price_cents=_bounded(spec.unit_price_cents, "unit_price"),
                     vat_rate_bp=_bounded(spec.vat_rate_bp, "vat_rate"),
                     discount_bp=discount)


def _touched(session: Session, quote: Quote, now: datetime) -> None:
    for position, line in enumerate(quote.lines, start=1):
        line.position = position
    quote.updated_at = now
    refresh_totals(quote)
    session.flush()


def add_line(session: Session, quote: Quote, *, actor: User, now: datetime,
             spec: LineSpec) -> QuoteLine:
    editable(actor, quote)
    if len(quote.lines) >= MAX_LINES:
        raise ValidationError(N_("A quote has at most %(max)d lines."), {"field": "lines"},
                              max=MAX_LINES)
    line = _line(session, quote, spec)
    quote.lines.append(line)
    _touched(session, quote, now)
    audit.record(session, actor=actor, action="quote.line_add", object_type="quote",
                 object_id=quote.id, now=now, line_id=line.id, price_id=line.price_id,
                 quantity_cents=line.quantity_cents, unit_price_cents=line.unit_price_cents)
    return line


def _line_of(quote: Quote, line_id: int) -> QuoteLine:
    for line in quote.lines:
        if line.id == line_id:
            return line
    raise NotFound(N_("This quote has no line %(id)s."), {"line_id": line_id}, id=line_id)


def update_line(session: Session, quote: Quote, *, actor: User, now: datetime, line_id: int,
                quantity_cents: int, discount_bp: int = 0) -> QuoteLine:
    """Change a line's quantity and discount (its price is the list's, or the
    free line's: remove it and add it again to change it)."""
    editable(actor, quote)
    line = _line_of(quote, line_id)
    before = {"quantity_cents": line.quantity_cents, "discount_bp": line.discount_bp}
    line.quantity_cents = _bounded(quantity_cents, "quantity")
    line.discount_bp = _bounded(discount_bp, "discount")
    _touched(session, quote, now)
    audit.record(session, actor=actor, action="quote.line_update", object_type="quote",
                 object_id=quote.id, now=now, line_id=line.id, before=before,
                 quantity_cents=line.quantity_cents, discount_bp=line.discount_bp)
    return line


def remove_line(session: Session, quote: Quote, *, actor: User, now: datetime,
                line_id: int) -> None:
    editable(actor, quote)
    line = _line_of(quote, line_id)
    quote.lines.remove(line)
    _touched(session, quote, now)
    audit.record(session, actor=actor, action="quote.line_remove", object_type="quote",
                 object_id=quote.id, now=now, line_id=line_id, label=line.label)


def set_lines(session: Session, quote: Quote, *, actor: User, now: datetime,
              specs: Sequence[LineSpec]) -> Quote:
    """Replace every line of a draft (the API's PUT), in the order given."""
    editable(actor, quote)
    if len(specs) > MAX_LINES:
        raise ValidationError(N_("A quote has at most %(max)d lines."), {"field": "lines"},
                              max=MAX_LINES)
    lines = [_line(session, quote, spec) for spec in specs]
    quote.lines = lines
    _touched(session, quote, now)
    audit.record(session, actor=actor, action="quote.lines_set", object_type="quote",
                 object_id=quote.id, now=now, lines=len(lines))
    return quote


def update_quote(session: Session, quote: Quote, *, actor: User, now: datetime,
                 discount_bp: int | None = None, notes: str | None = None,
                 valid_until: date | None = None) -> Quote:
    """The whole quote's discount, its notes, its validity date (not in the past)."""
    editable(actor, quote)
    changed: dict[str, object] = {}
    if discount_bp is not None:
        quote.discount_bp = changed["discount_bp"] = _bounded(discount_bp, "discount")
    if notes is not None:
        quote.notes = changed["notes"] = text_field(notes, NOTES_MAX, "notes", multiline=True)
    if valid_until is not None:
        if valid_until < campus_today(now):
            raise ValidationError(N_("The validity date cannot be in the past."),
                                  {"field": "valid_until"})
        quote.valid_until = valid_until
        changed["valid_until"] = valid_until.isoformat()
    _touched(session, quote, now)
    audit.record(session, actor=actor, action="quote.update", object_type="quote",
                 object_id=quote.id, now=now, **changed)
    return quote
