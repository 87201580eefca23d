"""The forms of the check-in pages (each a POST with its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from booking.forms import Form
from booking.services.checkin.operations import INCIDENT_MAX_LENGTH, REASON_MAX_LENGTH


class CheckInForm(Form):
    submit = SubmitField(_l("I'm starting"))


class CheckOutForm(Form):
    """One per booking checked in on the page (the view makes its ids unique)."""

    incident = TextAreaField(
        _l("Problem on the machine"), validators=[Optional(), Length(max=INCIDENT_MAX_LENGTH)],
        description=_l("Leave empty if all went well. Otherwise, the establishment's "
                       "coordinators are told at once."))
    submit = SubmitField(_l("I'm done"))


class MaintenanceForm(Form):
    reason = TextAreaField(_l("Reason shown to users"),
                           validators=[DataRequired(), Length(max=REASON_MAX_LENGTH)])
    submit = SubmitField(_l("Put the machine in maintenance"))


class ResolveForm(Form):
    submit = SubmitField(_l("Mark as resolved"))
