"""The report's filter: a date range and an establishment (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from booking.forms import QueryForm

ALL = "all"  # the establishment choice that means the whole campus


class ReportForm(QueryForm):
    # The query string speaks the API's words: ``from`` included, ``to`` excluded.
    # The page's lead says the last day included.
    first = DateField(_l("From"), name="from", validators=[Optional()])
    last_excluded = DateField(_l("To (excluded)"), name="to", validators=[Optional()])
    establishment_id = SelectField(_l("Establishment"), validate_choice=False,
                                   validators=[Optional()])
