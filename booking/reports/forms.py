"""The report's filter: a date range and an establishment (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from booking.forms import QueryForm

ALL = "all"  # the establishment choice that means the whole campus


class ReportForm(QueryForm):
    # Both days included, as everywhere else on the pages: ``until`` is the last
    # day. (The API's ``to`` is excluded; the page still reads it in old links.)
    first = DateField(_l("From"), name="from", validators=[Optional()])
    last = DateField(_l("To"), name="until", validators=[Optional()])
    establishment_id = SelectField(_l("Establishment"), validate_choice=False,
                                   validators=[Optional()])
