"""The invoicing page's filter: an establishment and a period (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from booking.forms import QueryForm


class PeriodForm(QueryForm):
    # Both days included, as on the other pages: ``until`` is the last day.
    establishment_id = SelectField(_l("Establishment"), validate_choice=False,
                                   validators=[Optional()])
    first = DateField(_l("From"), name="from", validators=[Optional()])
    last = DateField(_l("To"), name="until", validators=[Optional()])
