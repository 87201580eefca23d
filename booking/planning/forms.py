"""The planning search (a GET form, no CSRF): period, length, what to search,
and whom."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField
from wtforms.validators import Optional

from booking.forms import QueryForm


class SlotSearchForm(QueryForm):
    free_from = DateField(_l("From"), validators=[Optional()])
    free_to = DateField(_l("To (included)"), validators=[Optional()])
    minutes = SelectField(_l("Length"), coerce=int, validators=[Optional()])
    equipment = SelectMultipleField(_l("Machines"), coerce=int, validators=[Optional()])
    category = SelectField(_l("Category"), coerce=str, validators=[Optional()])
    site = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
    trainer = SelectField(_l("Trainer"), coerce=int, validators=[Optional()])
    with_trainer = BooleanField(_l("With a trainer available"), validators=[Optional()])
