"""Forms of the account pages: integration tokens and preferences."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from booking.forms import Form
from booking.services.accounts.integration_tokens import MAX_NAME


class IntegrationTokenForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=MAX_NAME)],
                       description=_l("What the token is for, e.g. the program that uses it."))
    scope = SelectField(_l("Access"), choices=[
        SelectChoice("read", _l("Read only")),
        SelectChoice("book", _l("Read, and book for myself")),
    ], default="read")
    expires_on = DateField(_l("Valid until"), validators=[Optional()],
                           description=_l("Leave empty for a token without an expiry date."))
    submit = SubmitField(_l("Create the token"))


class RevokeForm(Form):
    submit = SubmitField(_l("Revoke"))


class PreferencesForm(Form):
    reminder_hours = SelectField(_l("Reminder before a booking"), coerce=int, choices=[
        SelectChoice(0, _l("No reminder")),
        SelectChoice(2, _l("2 hours before")),
        SelectChoice(24, _l("24 hours before")),
        SelectChoice(48, _l("48 hours before")),
    ])
    end_reminder_minutes = SelectField(_l("Reminder before a booking ends"), coerce=int,
                                       choices=[
        SelectChoice(0, _l("No reminder")),
        SelectChoice(15, _l("15 minutes before")),
        SelectChoice(30, _l("30 minutes before")),
        SelectChoice(60, _l("1 hour before")),
    ], description=_l("For the bookings you train or made without a trainer, once they "
                      "have started."))
    notify_bookings = BooleanField(_l("E-mail me when my bookings are confirmed, moved or "
                                      "cancelled"))
    locale = SelectField(_l("Language"), choices=[
        SelectChoice("fr", "Français"), SelectChoice("en", "English"),
    ])
    notify_digest = BooleanField(_l("Send me the daily digest of what waits for me"))
    digest_hour = SelectField(_l("Digest hour"), coerce=int,
                              choices=[SelectChoice(h, f"{h:02d}:00") for h in range(24)],
                              description=_l("Paris time. The digest comes once a day, at "
                                             "this hour or a little later."))
    submit = SubmitField(_l("Save"))
