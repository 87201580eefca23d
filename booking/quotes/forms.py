"""The forms of the quote pages: draft from a project, edit a draft's lines
and settings, issue, revise, accept, decline, and the list's filter.

Quantities, prices and percentages are typed as people write them (« 7,5 »,
« 120,50 », « 10 »): two decimals at most, read into hundredths exactly."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from booking.forms import Form, QueryForm, selected_id
from booking.labels import PRICE_KIND_LABELS, PUBLIC_LABELS, QUOTE_STATUS_LABELS
from booking.services.quotes.editing import LABEL_MAX, NOTES_MAX, UNIT_MAX
from booking.services.quotes.operations import REASON_MAX
from models import PriceKind, Public

DECIMAL = re.compile(r"\s*([0-9]{1,9})(?:[.,]([0-9]{1,2}))?\s*")
NUMBER_MESSAGE = _l("A number with at most two decimals, such as 7,5.")


def hundredths(text: str | None) -> int | None:
    """« 7,5 » → 750, « 120.05 » → 12005; None when empty or not such a number."""
    match = DECIMAL.fullmatch(text or "")
    if match is None:
        return None
    units, decimals = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(units) * 100 + int(decimals)


def number(label: object, *, required: bool = True, description: object = None) -> StringField:
    checks = [DataRequired()] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=16),
                                          Regexp(DECIMAL.pattern, message=NUMBER_MESSAGE)],
                       description=description)


class NewQuoteForm(Form):
    establishment = SelectField(_l("Issuing establishment"), coerce=selected_id)
    public = SelectField(_l("Prices for"), choices=[
        SelectChoice(p.value, PUBLIC_LABELS[p]) for p in Public], default=Public.COMPANY.value)
    price_date = DateField(_l("Prices in force on"), validators=[Optional()],
                           description=_l("Empty: today."))
    submit = SubmitField(_l("Draft the quote"))


class PriceLineForm(Form):
    """A line from the price list in force on the quote's price date."""

    price = SelectField(_l("Item of the price list"), coerce=selected_id,
                        validators=[DataRequired(_l("Choose an item."))])
    quantity = number(_l("Quantity"))
    submit = SubmitField(_l("Add the line"))


class FreeLineForm(Form):
    """A line of its own: a designation, a unit, a price and a VAT rate."""

    kind = SelectField(_l("Kind"), choices=[
        SelectChoice(k.value, PRICE_KIND_LABELS[k]) for k in PriceKind],
        default=PriceKind.FLAT_FEE.value)
    label = StringField(_l("Designation"), validators=[DataRequired(), Length(max=LABEL_MAX)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=UNIT_MAX)],
                       description=_l("For example: hour, package, batch."))
    quantity = number(_l("Quantity"))
    unit_price = number(_l("Unit price excl. VAT (€)"))
    vat_rate = number(_l("VAT rate (%)"), description=_l("For example: 20 or 5,5."))
    submit = SubmitField(_l("Add the line"))


class LineForm(Form):
    """One line's quantity and discount (the view gives each line's fields ids of their own)."""

    quantity = number(_l("Quantity"))
    discount = number(_l("Discount (%)"), required=False)
    submit = SubmitField(_l("Update"))


class RemoveLineForm(Form):
    submit = SubmitField(_l("Remove"))


class SettingsForm(Form):
    discount = number(_l("Discount on the whole quote (%)"), required=False)
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    notes = TextAreaField(_l("Notes printed on the quote"),
                          validators=[Optional(), Length(max=NOTES_MAX)])
    submit = SubmitField(_l("Save"))


class IssueForm(Form):
    submit = SubmitField(_l("Issue and send to the company"))


class ReviseForm(Form):
    submit = SubmitField(_l("Revise (new version)"))


class AcceptForm(Form):
    submit = SubmitField(_l("I accept this quote"))


class DeclineForm(Form):
    reason = TextAreaField(_l("Why do you decline it?"),
                           validators=[DataRequired(_l("Say why you decline the quote.")),
                                       Length(max=REASON_MAX)],
                           description=_l("The establishment's coordinators read it and may "
                                          "send you a revised quote."))
    submit = SubmitField(_l("Decline the quote"))


class FilterForm(QueryForm):
    status = SelectField(_l("Status"), choices=[SelectChoice("", _l("All"))] + [
        SelectChoice(k.value, v) for k, v in QUOTE_STATUS_LABELS.items()], default="",
        validators=[Optional()])
