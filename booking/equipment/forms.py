"""Filters of the catalogue and of the week calendar (GET forms, no CSRF)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectField, StringField
from wtforms.validators import Length, Optional


class CatalogueForm(FlaskForm):
    class Meta:
        csrf = False  # a search: nothing is written

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    establishment = SelectField(_l("Establishment"), coerce=str, validators=[Optional()])
    category = SelectField(_l("Category"), coerce=str, validators=[Optional()])
    certification = SelectField(_l("Required certification"), coerce=str,
                                validators=[Optional()])
    free_from = DateTimeLocalField(_l("Free from"), validators=[Optional()],
                                   format="%Y-%m-%dT%H:%M")
    free_to = DateTimeLocalField(_l("until"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class WeekForm(FlaskForm):
    class Meta:
        csrf = False

    week = DateField(_l("Show the week of"), validators=[Optional()])
