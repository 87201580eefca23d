"""The site calendar's chooser: establishment, day or week, date (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from booking.forms import QueryForm

VIEWS = ("day", "week")


class SiteCalendarForm(QueryForm):
    site = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
    view = SelectField(_l("View"), choices=[SelectChoice("day", _l("One day")),
                                            SelectChoice("week", _l("One week"))],
                       default="day", validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])
