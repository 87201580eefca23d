"""Forms of the kiosk links page; each POST carries its CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from booking.forms import Form
from booking.services.kiosk.operations import MAX_LABEL_LENGTH


class NewKioskForm(Form):
    # Values are "scope:id", limited to the sites and machines the user coordinates.
    target = SelectField(_l("Screen of"), validators=[DataRequired()])
    label = StringField(_l("Where the screen stands"),
                        validators=[Length(max=MAX_LABEL_LENGTH)],
                        description=_l("For example: Hall B, screen 2."))
    submit = SubmitField(_l("Create the link"))


class RevokeKioskForm(Form):
    submit = SubmitField(_l("Revoke the link"))
