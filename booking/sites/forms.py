"""The site calendar's chooser: establishment, day or week, date (a GET form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

VIEWS = ("day", "week")


class SiteCalendarForm(FlaskForm):
    class Meta:
        csrf = False  # it only chooses what to show

    site = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
    view = SelectField(_l("View"), choices=[SelectChoice("day", _l("One day")),
                                            SelectChoice("week", _l("One week"))],
                       default="day", validators=[Optional()])
    date = DateField(_l("Date"), validators=[Optional()])
