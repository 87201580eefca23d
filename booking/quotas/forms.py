"""Forms of the quota pages, and the labels of a quota's settings."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from booking.forms import Form, QueryForm, selected_id
from booking.services.sharing.quota_admin import MAX_FUTURE_BOOKINGS
from models import QuotaAppliesTo, QuotaOver, QuotaPeriod

APPLIES_TO_LABELS = {
    QuotaAppliesTo.ESTABLISHMENT: _lp("quota counted for", "Each establishment"),
    QuotaAppliesTo.USER: _lp("quota counted for", "Each user"),
}
PERIOD_LABELS = {
    QuotaPeriod.WEEK: _l("Per week"),
    QuotaPeriod.MONTH: _l("Per month"),
    QuotaPeriod.SCHOOL_YEAR: _l("Per school year"),
}
OVER_LABELS = {
    QuotaOver.REFUSE: _l("Refuse the booking"),
    QuotaOver.APPROVAL: _l("Send it for approval"),
}
# Hours as typed in French or English: 12, 7,5 or 7.5.
HOURS = re.compile(r"^\s*\d{1,5}(?:[.,]\d{1,2})?\s*$")


def read_hours(text: str | None) -> float | None:
    """The hours typed in the form (validated by :data:`HOURS`); empty: None."""
    if text is None or not text.strip():
        return None
    return float(text.strip().replace(",", "."))


class QuotaSettingsForm(Form):
    """What a quota counts, how much and what happens past it (its machine or
    category is chosen once, at creation)."""

    applies_to = SelectField(_l("Counted for"), choices=[
        SelectChoice(k.value, label) for k, label in APPLIES_TO_LABELS.items()],
        default=QuotaAppliesTo.ESTABLISHMENT.value,
        description=_l("Each establishment: the hours of all its users together. Each "
                       "user: every person on their own."))
    beneficiary = SelectField(_l("Which establishments"), coerce=selected_id,
                              validators=[Optional()], default=0)
    period = SelectField(_l("Period"), choices=[
        SelectChoice(k.value, label) for k, label in PERIOD_LABELS.items()],
        default=QuotaPeriod.MONTH.value,
        description=_l("Paris time: weeks from Monday, school years from 1 September."))
    max_hours = StringField(_l("Hours per period"), validators=[
        Optional(), Length(max=12),
        Regexp(HOURS, message=_l("A number of hours, such as 12 or 7,5."))],
        description=_l("Empty: no limit of hours."))
    max_future_bookings = IntegerField(_l("Future bookings at once"), validators=[
        Optional(), NumberRange(min=0, max=MAX_FUTURE_BOOKINGS)],
        description=_l("Bookings not yet begun; empty: no limit."))
    over = SelectField(_l("Past the quota"), choices=[
        SelectChoice(k.value, label) for k, label in OVER_LABELS.items()],
        default=QuotaOver.REFUSE.value)
    submit = SubmitField(_l("Save the quota"))


class QuotaForm(QuotaSettingsForm):
    target = SelectField(_l("What it limits"), validators=[DataRequired()])


class DeleteForm(Form):
    submit = SubmitField(_l("Delete the quota"))


class SharesForm(QueryForm):
    """The period the report shows: the one that contains this day."""

    day = DateField(_l("Period containing"), validators=[Optional()])
