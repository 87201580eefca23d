"""Forms of the calendar feeds page; each POST carries its CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SubmitField
from wtforms.validators import DataRequired

from booking.forms import Form


class NewFeedForm(Form):
    # Values are "scope:id"; choices are grouped by scope and limited to what
    # the user may open (booking.permissions.open_feed_scope).
    target = SelectField(_l("Calendar to follow"), validators=[DataRequired()])
    submit = SubmitField(_l("Create the link"))


class RevokeFeedForm(Form):
    submit = SubmitField(_l("Revoke the link"))


class RegenerateFeedForm(Form):
    submit = SubmitField(_l("Replace the link"))
