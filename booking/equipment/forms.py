"""Filters of the catalogue and of the week calendar (GET forms, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from booking.forms import QueryForm


class CatalogueForm(QueryForm):
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    establishment = SelectField(_l("Establishment"), coerce=str, validators=[Optional()])
    category = SelectField(_l("Category"), coerce=str, validators=[Optional()])
    certification = SelectField(_l("Required certification"), coerce=str,
                                validators=[Optional()])
    free_from = DateTimeLocalField(_l("Free from"), validators=[Optional()],
                                   format="%Y-%m-%dT%H:%M")
    free_to = DateTimeLocalField(_l("until"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


VIEWS = ("day", "week", "month")


class WeekForm(QueryForm):
    """The machine page's calendar: a view and a date (``week`` is the older
    name of the date, kept for the links already out there)."""

    view = SelectField(_l("View"), choices=[SelectChoice("day", _l("Day")),
                                            SelectChoice("week", _l("Week")),
                                            SelectChoice("month", _l("Month"))],
                       default="week", validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])
    week = DateField(_l("Show the week of"), validators=[Optional()])
