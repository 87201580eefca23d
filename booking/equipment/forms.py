"""Filters of the catalogue and of the week calendar (GET forms, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, SelectField, StringField
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


class WeekForm(QueryForm):
    week = DateField(_l("Show the week of"), validators=[Optional()])
