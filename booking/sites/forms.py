"""The site calendar's chooser: establishment, day or week, date (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from booking.forms import QueryForm

VIEWS = ("day", "week")


class SiteCalendarForm(QueryForm):
    site = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
    view = SelectField(_l("View"), choices=[SelectChoice("day", _l("One day")),
                                            SelectChoice("week", _l("One week"))],
                       default="day", validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])


class FreeRangeForm(QueryForm):
    """« Trouver N h libres »: a length in hours and the days to search."""

    hours = IntegerField(_l("Free hours needed"), validators=[Optional(), NumberRange(1, 12)])
    free_from = DateField(_l("From"), validators=[Optional()])
    free_to = DateField(_l("To"), validators=[Optional()])
