"""Forms of the travel times page: the campus default, and a pair of
establishments (given its minutes, or back to the default)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from booking.forms import Form
from models import MAX_TRAVEL_MINUTES

# The service's field names, and the fields of these forms they belong next to.
TRAVEL_ERRORS = {"establishment_a_id": "establishment_a",
                 "establishment_b_id": "establishment_b", "minutes": "minutes"}


class TravelDefaultForm(Form):
    # InputRequired, not DataRequired: 0 is a time (establishments next door). Not
    # named "minutes": the pair form of the same page has that field (one id a page).
    default_minutes = IntegerField(
        _l("Default travel time (minutes)"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_TRAVEL_MINUTES)],
        description=_l("Between two establishments that have no time of their own below."))
    submit = SubmitField(_l("Save the default"))


class TravelPairForm(Form):
    establishment_a = SelectField(_l("Establishment"), coerce=int)
    establishment_b = SelectField(_l("Other establishment"), coerce=int)
    minutes = IntegerField(_l("Travel time (minutes)"),
                           validators=[InputRequired(),
                                       NumberRange(min=0, max=MAX_TRAVEL_MINUTES)],
                           description=_l("Either way."))
    submit = SubmitField(_l("Save"))


class TravelClearForm(Form):
    establishment_a = SelectField(_l("Establishment"), coerce=int)
    establishment_b = SelectField(_l("Other establishment"), coerce=int)
    submit = SubmitField(_l("Use the default"))
