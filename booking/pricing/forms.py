"""The forms of the pricing pages: which list to show, a new price, the
billing profile, a machine's analytic code."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from booking import labels
from booking.forms import Form, QueryForm
from booking.labels import PRICE_KIND_LABELS, PUBLIC_LABELS
from booking.services.pricing.operations import (
    ANALYTIC_CODE_MAX_LENGTH,
    LABEL_MAX_LENGTH,
    MAX_UNIT_PRICE_CENTS,
    PROFILE_TEXTS,
    UNIT_MAX_LENGTH,
    VALIDITY_DAYS,
    VAT_RATES_BP,
)
from models import PriceKind, Public

# Where a service's refusal goes on the price form (``details["field"]`` → field).
PRICE_FIELDS = {"equipment_id": "machine", "unit_price_cents": "unit_price",
                "vat_rate_bp": "vat_rate", "price_exists": "valid_from"}
# Euros as people type them: « 12,50 », « 1 234,5 », « 12.50 », « 12 ».
_EUROS = re.compile(r"([0-9]{1,6})(?:[.,]([0-9]{1,2}))?")
_SPACES = re.compile(r"[\s\u00a0\u202f']")


def cents_of(text: str | None) -> int | None:
    """Euros written with a decimal comma or point as cents, or None."""
    if text is None:
        return None
    match = _EUROS.fullmatch(_SPACES.sub("", text).removesuffix("€"))
    if match is None:
        return None
    return int(Decimal(f"{match[1]}.{match[2] or '0'}") * 100)


class EstablishmentChoiceForm(QueryForm):
    """Which establishment's list, in force on which day."""

    establishment = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
    on = DateField(_l("In force on"), validators=[Optional()])


class PriceForm(Form):
    kind = SelectField(_l("Kind"), coerce=str, default=PriceKind.MACHINE_HOUR.value,
                       choices=[SelectChoice(k.value, PRICE_KIND_LABELS[k]) for k in PriceKind])
    machine = SelectField(_l("Machine"), coerce=int, validators=[Optional()],
                          description=_l("For a machine hour only."))
    public = SelectField(_l("Public"), coerce=str,
                         choices=[SelectChoice(p.value, PUBLIC_LABELS[p]) for p in Public])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=LABEL_MAX_LENGTH)],
                        description=_l("What is sold: required for a consumable or a flat "
                                       "fee."))
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=UNIT_MAX_LENGTH)],
                       description=_l("For example: hour, bottle, session."))
    unit_price = StringField(_l("Unit price excluding VAT (euros)"),
                             validators=[DataRequired(), Length(max=20)],
                             description=_l("For example: 12,50"))
    vat_rate = SelectField(_l("VAT rate"), coerce=int, default=2000)
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    submit = SubmitField(_l("Add the price"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        locale = get_locale() or "fr"
        self.vat_rate.choices = [(bp, labels.rate(bp, locale)) for bp in VAT_RATES_BP]

    def validate_unit_price(self, field: StringField) -> None:
        cents = cents_of(field.data)
        if cents is None or cents > MAX_UNIT_PRICE_CENTS:
            raise ValidationError(_l("Write an amount in euros, for example 12,50 "
                                     "(at most 100 000 €)."))

    @property
    def cents(self) -> int:
        return cents_of(self.unit_price.data) or 0


class WithdrawForm(Form):
    submit = SubmitField(_l("Withdraw"))


def _profile_text(name: str, label: Any, description: Any = None) -> Any:
    longest, multiline = PROFILE_TEXTS[name]
    field = TextAreaField if multiline else StringField
    return field(label, validators=[Optional(), Length(max=longest)], description=description)


class BillingProfileForm(Form):
    legal_name = _profile_text("legal_name", _l("Legal name"))
    address = _profile_text("address", _l("Address"))
    siret = _profile_text("siret", _l("SIRET number"), _l("14 digits."))
    vat_number = _profile_text("vat_number", _l("VAT number"))
    training_declaration = _profile_text(
        "training_declaration", _l("Training body declaration number"),
        _l("The « numéro de déclaration d'activité » printed on training agreements."))
    email = _profile_text("email", _l("E-mail"))
    phone = _profile_text("phone", _l("Phone"))
    signatory_name = _profile_text("signatory_name", _l("Signatory"))
    signatory_title = _profile_text("signatory_title", _l("Signatory's title"))
    quote_validity_days = IntegerField(
        _l("Quote validity (days)"), default=30,
        validators=[DataRequired(), NumberRange(min=VALIDITY_DAYS[0], max=VALIDITY_DAYS[1])])
    payment_terms = _profile_text("payment_terms", _l("Payment terms"))
    analytic_code = _profile_text("analytic_code", _l("Analytic code of the establishment"))
    account_machine_hour = _profile_text("account_machine_hour",
                                         _l("Revenue account: machine hours"))
    account_trainer_hour = _profile_text("account_trainer_hour",
                                         _l("Revenue account: trainer hours"))
    account_consumable = _profile_text("account_consumable", _l("Revenue account: consumables"))
    account_flat_fee = _profile_text("account_flat_fee", _l("Revenue account: flat fees"))
    submit = SubmitField(_l("Save the billing details"))

    def values(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: (getattr(self, name).data or "").strip()
                                for name in PROFILE_TEXTS}
        data["quote_validity_days"] = self.quote_validity_days.data
        return data


class AnalyticCodeForm(Form):
    code = StringField(_l("Analytic code"),
                       validators=[Optional(), Length(max=ANALYTIC_CODE_MAX_LENGTH)],
                       description=_l("Empty: the establishment's code applies."))
    submit = SubmitField(_l("Save"))
