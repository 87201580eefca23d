"""Setting price lists, billing profiles and analytic codes (issue 15).

A price row is never edited: a change of price is a new row with its own
``valid_from``, so the list in force on an earlier date stays as it was, and
quotes copy their prices into their lines anyway. A new price takes effect
today (the campus's day) or later: a past date's list is history. A price may
be withdrawn (deleted) only while it is not in force yet and no quote line
names it; after that it stays, and a later row replaces it.

Every operation starts with its permission check (booking.services.pricing.access),
validates everything before writing (a refusal writes nothing and names its
field in ``details["field"]``), flushes and audits.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, Conflict, InvalidState, ValidationError
from booking.services.inputs import text_problem
from booking.services.policy import LAST_DAY, campus_today
from models import (
    AnalyticCode,
    BillingProfile,
    Equipment,
    Establishment,
    Price,
    PriceKind,
    Public,
    QuoteLine,
    User,
)

# The dearest unit price taken: 100 000,00 € (a typing slip beyond it).
MAX_UNIT_PRICE_CENTS = 10_000_000
# VAT rates in basis points: the French rates offered first, any 0 to 100 % taken.
VAT_RATES_BP = (2000, 1000, 550, 0)
MAX_VAT_RATE_BP = 10_000
LABEL_MAX_LENGTH = 200
UNIT_MAX_LENGTH = 40
ANALYTIC_CODE_MAX_LENGTH = 40
# Kinds that name what is sold (a consumable, a flat fee).
LABELLED_KINDS = (PriceKind.CONSUMABLE, PriceKind.FLAT_FEE)

# The billing profile's text fields: (longest, several lines allowed).
PROFILE_TEXTS: dict[str, tuple[int, bool]] = {
    "legal_name": (200, False), "address": (1000, True), "siret": (20, False),
    "vat_number": (20, False), "training_declaration": (20, False), "email": (254, False),
    "phone": (40, False), "signatory_name": (200, False), "signatory_title": (200, False),
    "payment_terms": (2000, True), "analytic_code": (40, False),
    "account_machine_hour": (20, False), "account_trainer_hour": (20, False),
    "account_consumable": (20, False), "account_flat_fee": (20, False),
}
PROFILE_FIELDS = (*PROFILE_TEXTS, "quote_validity_days")
VALIDITY_DAYS = (1, 365)
_SIRET = re.compile(r"[0-9]{14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- prices -----------------------------------------------------------------------------


def add_price(session: Session, *, actor: User, now: datetime, establishment: Establishment,
              kind: PriceKind, public: Public, unit_price_cents: int, vat_rate_bp: int,
              valid_from: date, equipment_id: int | None = None, label: str = "",
              unit: str = "") -> Price:
    """A new row of the establishment's price list, in force from ``valid_from``."""
    require(actor, "set_prices", establishment,
            N_("You may only set the prices of the establishment you coordinate."))
    kind, public = PriceKind(kind), Public(public)
    label, unit = _line("label", label, LABEL_MAX_LENGTH), _line("unit", unit, UNIT_MAX_LENGTH)
    if kind is PriceKind.MACHINE_HOUR:
        if equipment_id is None:
            raise ValidationError(N_("Choose the machine this hourly rate is for."),
                                  {"field": "equipment_id"})
        machine = session.get(Equipment, equipment_id)
        if machine is None or machine.establishment_id != establishment.id:
            raise ValidationError(N_("Choose a machine of %(establishment)s."),
                                  {"field": "equipment_id", "equipment_id": equipment_id},
                                  establishment=establishment.name)
    elif equipment_id is not None:
        raise ValidationError(N_("Only a machine hour names a machine."),
                              {"field": "equipment_id"})
    if kind in LABELLED_KINDS and not label:
        raise ValidationError(N_("Say what is sold (a consumable, a flat fee) in the label."),
                              {"field": "label"})
    _bounded_int("unit_price_cents", unit_price_cents, 0, MAX_UNIT_PRICE_CENTS,
                 N_("A unit price is between 0 and 100,000 euros."))
    _bounded_int("vat_rate_bp", vat_rate_bp, 0, MAX_VAT_RATE_BP,
                 N_("A VAT rate is between 0 and 100 percent."))
    today = campus_today(now)
    if not isinstance(valid_from, date) or isinstance(valid_from, datetime):
        raise ValidationError(N_("Choose the first day of the price."), {"field": "valid_from"})
    if valid_from < today or valid_from > LAST_DAY:
        raise ValidationError(N_("A new price takes effect today or later (the list in force "
                                 "on a past day stays as it was): choose a day from %(today)s."),
                              {"field": "valid_from", "valid_from": valid_from.isoformat()},
                              today=today)
    # One writer per establishment's list at a time (PostgreSQL; SQLite has one
    # writer anyway), so that two requests cannot both pass the check below.
    session.execute(select(Establishment.id).where(Establishment.id == establishment.id)
                    .with_for_update())
    same = session.scalar(select(Price.id).where(
        Price.establishment_id == establishment.id, Price.kind == kind,
        Price.public == public, Price.label == label, Price.valid_from == valid_from,
        Price.equipment_id.is_(None) if equipment_id is None
        else Price.equipment_id == equipment_id))
    if same is not None:
        raise Conflict(N_("This item already has a price for this public from %(day)s: "
                          "withdraw that one first, or choose another day."),
                       {"field": "valid_from", "price_id": same}, code="price_exists",
                       day=valid_from)
    price = Price(establishment_id=establishment.id, equipment_id=equipment_id, kind=kind,
                  public=public, label=label, unit=unit, unit_price_cents=unit_price_cents,
                  vat_rate_bp=vat_rate_bp, valid_from=valid_from, created_by_id=actor.id,
                  created_at=now)
    session.add(price)
    session.flush()
    audit.record(session, actor=actor, action="price.add", object_type="price",
                 object_id=price.id, now=now, establishment_id=establishment.id,
                 kind=kind.value, public=public.value, equipment_id=equipment_id, label=label,
                 unit=unit, unit_price_cents=unit_price_cents, vat_rate_bp=vat_rate_bp,
                 valid_from=valid_from.isoformat())
    return price


def withdraw_reason(session: Session, price: Price, now: datetime) -> str | None:
    """Why the price may not be withdrawn ("price_in_use", "price_in_force"), or None."""
    if session.scalar(select(QuoteLine.id).where(QuoteLine.price_id == price.id).limit(1)):
        return "price_in_use"
    if price.valid_from <= campus_today(now):
        return "price_in_force"
    return None


def withdraw_price(session: Session, *, actor: User, now: datetime, price: Price) -> None:
    """Delete a price that is not in force yet and that no quote names."""
    require(actor, "set", price,
            N_("You may only set the prices of the establishment you coordinate."))
    reason = withdraw_reason(session, price, now)
    if reason == "price_in_use":
        raise Conflict(N_("A quote uses this price: it stays. Add a new price from a later "
                          "day to change it."), {"price_id": price.id}, code="price_in_use")
    if reason == "price_in_force":
        raise InvalidState(N_("This price is in force since %(day)s: it stays in the list's "
                              "history. Add a new price from a later day to change it."),
                           {"price_id": price.id, "valid_from": price.valid_from.isoformat()},
                           code="price_in_force", day=price.valid_from)
    details = {"establishment_id": price.establishment_id, "kind": price.kind.value,
               "public": price.public.value, "equipment_id": price.equipment_id,
               "label": price.label, "unit_price_cents": price.unit_price_cents,
               "valid_from": price.valid_from.isoformat()}
    price_id = price.id
    session.delete(price)
    session.flush()
    audit.record(session, actor=actor, action="price.withdraw", object_type="price",
                 object_id=price_id, now=now, **details)


def price_history(session: Session, *, establishment_id: int,
                  equipment_id: int | None = None) -> list[Price]:
    """Every row (of one machine, or of the establishment), newest first."""
    stmt = select(Price).where(Price.establishment_id == establishment_id)
    if equipment_id is not None:
        stmt = stmt.where(Price.equipment_id == equipment_id)
    return list(session.scalars(stmt.order_by(Price.valid_from.desc(), Price.public,
                                              Price.id.desc())))


# --- billing profile and analytic codes --------------------------------------------------


def billing_profile(session: Session, establishment: Establishment) -> BillingProfile | None:
    return session.get(BillingProfile, establishment.id)


def update_billing_profile(session: Session, *, actor: User, now: datetime,
                           establishment: Establishment, **changes: Any) -> BillingProfile:
    """Set the fields given (the others stay); the row is created when missing."""
    require(actor, "edit_billing", establishment,
            N_("Only an administrator sets an establishment's billing details."))
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "quote_validity_days":
            _bounded_int(name, value, *VALIDITY_DAYS,
                         N_("A quote stays valid 1 to 365 days."))
            clean[name] = value
        elif name in PROFILE_TEXTS:
            longest, multiline = PROFILE_TEXTS[name]
            clean[name] = _text(name, value, longest, multiline=multiline)
        else:
            raise ValidationError(N_("Unknown field %(name)s."), {"field": name}, name=name)
    siret = clean.get("siret")
    if siret and not _SIRET.fullmatch(siret.replace(" ", "")):
        raise ValidationError(N_("A SIRET number has 14 digits."), {"field": "siret"})
    if siret:
        clean["siret"] = siret.replace(" ", "")
    if clean.get("email") and not _EMAIL.fullmatch(clean["email"]):
        raise ValidationError(N_("Enter a valid e-mail address."), {"field": "email"})
    profile = session.get(BillingProfile, establishment.id)
    created = profile is None
    if profile is None:
        profile = BillingProfile(establishment_id=establishment.id, quote_validity_days=30)
        for name in PROFILE_TEXTS:
            setattr(profile, name, "")
        session.add(profile)
    changed = sorted(name for name, value in clean.items() if getattr(profile, name) != value)
    for name, value in clean.items():
        setattr(profile, name, value)
    profile.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="billing_profile.update",
                 object_type="billing_profile", object_id=establishment.id, now=now,
                 created=created, fields=changed)
    return profile


def analytic_codes(session: Session, establishment: Establishment) -> dict[int, str]:
    """The machines' own analytic codes, by equipment id."""
    rows = session.execute(select(AnalyticCode.equipment_id, AnalyticCode.code)
                           .join(Equipment, Equipment.id == AnalyticCode.equipment_id)
                           .where(Equipment.establishment_id == establishment.id))
    return {equipment_id: code for equipment_id, code in rows}


def set_analytic_code(session: Session, *, actor: User, now: datetime, equipment: Equipment,
                      code: str) -> AnalyticCode | None:
    """A machine's analytic section; empty removes it (the establishment's applies)."""
    require(actor, "edit_billing", equipment.establishment,
            N_("Only an administrator sets analytic codes."))
    code = _line("code", code, ANALYTIC_CODE_MAX_LENGTH)
    row = session.get(AnalyticCode, equipment.id)
    before = row.code if row is not None else ""
    if not code:
        if row is not None:
            session.delete(row)
        row = None
    elif row is None:
        row = AnalyticCode(equipment_id=equipment.id, code=code)
        session.add(row)
    else:
        row.code = code
    session.flush()
    audit.record(session, actor=actor, action="equipment.analytic_code", object_type="equipment",
                 object_id=equipment.id, now=now, before=before, after=code)
    return row


# --- checks ----------------------------------------------------------------------------------


def _text(field: str, value: Any, longest: int, *, multiline: bool = False) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(N_("This field takes text."), {"field": field})
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationError(problem, {"field": field})
    value = value.strip()
    if len(value) > longest:
        raise ValidationError(N_("At most %(n)d characters."), {"field": field}, n=longest)
    return value


def _line(field: str, value: Any, longest: int) -> str:
    return _text(field, value, longest)


def _bounded_int(field: str, value: Any, lowest: int, highest: int, message: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        raise ValidationError(message, {"field": field})
