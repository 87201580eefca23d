"""The forms of the attendance pages (each a POST with its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from booking.forms import Form
from booking.labels import LEARNER_PUBLIC_LABELS
from booking.services.attendance.learners import EMAIL_MAX, NAME_MAX
from booking.services.attendance.sheets import SIGNATURE_MAX, TYPED_NAME_MAX
from models import LearnerPublic


class LearnerForm(Form):
    first_name = StringField(_l("First name"), validators=[DataRequired(),
                                                           Length(max=NAME_MAX)])
    last_name = StringField(_l("Last name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=EMAIL_MAX)],
                       description=_l("Optional: the satisfaction questionnaire is sent to it."))
    public = SelectField(_l("Public"), validators=[DataRequired()],
                         choices=[SelectChoice(p.value, LEARNER_PUBLIC_LABELS[p])
                                  for p in LearnerPublic])
    submit = SubmitField(_l("Add the learner"))


class ActionForm(Form):
    """A button (remove, erase): the CSRF token only."""


class MarksForm(Form):
    """The half-day's marks: one radio group per learner (``presence-<id>``,
    ``late-<id>``), read by the view; the CSRF token here."""

    submit = SubmitField(_l("Save the attendance"))


class SignatureForm(Form):
    """A drawn signature (signature.js fills ``signature`` with SVG path data)
    or, without a script, the typed full name."""

    signature = HiddenField(validators=[Optional(), Length(max=SIGNATURE_MAX)])
    typed_name = StringField(_l("Or type your full name"),
                             validators=[Optional(), Length(max=TYPED_NAME_MAX)],
                             render_kw={"autocomplete": "name"})
    submit = SubmitField(_l("Sign"))
