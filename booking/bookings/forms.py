"""The booking form, and the cancel and move forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from booking.forms import Form
from booking.labels import PURPOSE_LABELS
from models import BookingPurpose

# WTForms 3.3 wants SelectChoice objects, not tuples, for static choices.
SCOPE_CHOICES = [
    SelectChoice("occurrence", _l("This occurrence only")),
    SelectChoice("following", _l("This and the following occurrences")),
    SelectChoice("series", _l("The whole series")),
]


class BookingForm(Form):
    equipment = SelectField(_lp("form field", "Equipment"), coerce=int,
                            validators=[DataRequired()])
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Start"), validators=[DataRequired()])
    end = TimeField(_l("End"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)],
                        description=_l("For example the class or the session."))
    purpose = SelectField(_l("Purpose"), choices=[SelectChoice(p.value, label)
                                                  for p, label in PURPOSE_LABELS.items()],
                          default=BookingPurpose.TRAINING.value)
    trainer = SelectField(_l("Trainer"), coerce=int, validators=[Optional()])
    project = SelectField(_l("Industrial project"), coerce=int, validators=[Optional()])
    participants = IntegerField(_l("Participants"),
                                validators=[Optional(), NumberRange(min=0, max=10000)])
    repeat = SelectField(_l("Repeat"), choices=[
        SelectChoice("none", _l("Does not repeat")), SelectChoice("weekly", _l("Every week")),
        SelectChoice("custom", _l("Custom rule (RRULE)"))], default="none")
    until = DateField(_l("Until"), validators=[Optional()],
                      description=_l("Last day of the repetition, included."))
    rrule = StringField(_l("Rule"), validators=[Optional(), Length(max=500)],
                        description=_l("RFC 5545, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630"))
    skip_conflicts = BooleanField(_l("Book the occurrences that fit and skip the others"))
    override_reason = TextAreaField(
        _l("Override a missing certification, because…"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Coordinators only; the reason is kept in the audit log."))
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Book"))


class CancelForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    scope = SelectField(_l("Apply to"), choices=SCOPE_CHOICES, default="occurrence")
    submit = SubmitField(_l("Cancel the booking"))


class MoveForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    day = DateField(_l("Date"), validators=[DataRequired()])
    start = TimeField(_l("Start"), validators=[DataRequired()])
    end = TimeField(_l("End"), validators=[DataRequired()])
    scope = SelectField(_l("Apply to"), choices=SCOPE_CHOICES, default="occurrence")
    submit = SubmitField(_l("Save"))
