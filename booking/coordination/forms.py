"""Forms of the coordinator pages: decisions, closures, equipment status, hours and
booking windows."""

from __future__ import annotations

import re
from datetime import time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    Field,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from booking.admin.forms import booking_window_fields, check_in_fields
from booking.forms import Form, QueryForm
from booking.labels import CLOSURE_KIND_LABELS, EQUIPMENT_STATUS_LABELS
from models import ClosureKind

WEEKDAY_LABELS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                  _l("Saturday"), _l("Sunday"))

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class RejectForm(Form):
    reason = TextAreaField(_l("Reason for the rejection"),
                           validators=[DataRequired(), Length(max=2000)],
                           description=_l("The booker reads this reason."))
    submit = SubmitField(_l("Reject the booking"))


class ClosureForm(Form):
    target = SelectField(_l("What closes"), validators=[DataRequired()])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label)
                                            for k, label in CLOSURE_KIND_LABELS.items()],
                       default=ClosureKind.MAINTENANCE.value)
    start = DateTimeLocalField(_l("From"), format=DATETIME_FORMAT,
                               validators=[DataRequired()],
                               description=_l("Paris time."))
    end = DateTimeLocalField(_l("Until"), format=DATETIME_FORMAT,
                             validators=[DataRequired()],
                             description=_l("Paris time; the closure ends at this moment."))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("Shown to those who try to book in this period."))
    submit = SubmitField(_l("Declare the closure"))


class DeleteForm(Form):
    submit = SubmitField(_l("Delete the closure"))


HOURS_PATTERN = re.compile(
    r"^\s*(\d{1,2})(?:[:h](\d{2})?)?\s*[-–—à]\s*(\d{1,2})(?:[:h](\d{2})?)?\s*$")


def parse_hours(text: str) -> list[tuple[time, time]]:
    """ "08:00–12:00, 13:30–17:00" (also "8h-12h") into intervals; "" is closed.
    Raises ValueError with the part it could not read."""
    intervals = []
    for part in re.split(r"[,;/]", text or ""):
        if not part.strip():
            continue
        match = HOURS_PATTERN.match(part)
        if match is None:
            raise ValueError(part.strip())
        h1, m1, h2, m2 = match.groups()
        try:
            intervals.append((time(int(h1), int(m1 or 0)), time(int(h2), int(m2 or 0))))
        except ValueError:
            raise ValueError(part.strip()) from None
    return intervals


def format_hours(intervals: list[tuple[time, time]]) -> str:
    return ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in intervals)


def _valid_hours(form: FlaskForm, field: Field) -> None:
    try:
        parse_hours(field.data)
    except ValueError as error:
        raise ValidationError(_l("“%(part)s” is not read as hours such as 08:00–12:00.",
                                 part=str(error))) from None


def _hours_field(label: str) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=100), _valid_hours])


class EquipmentForm(Form):
    status = SelectField(_l("Status"), choices=[SelectChoice(s.value, label)
                                                for s, label in EQUIPMENT_STATUS_LABELS.items()])
    status_reason = TextAreaField(
        _l("Reason for the status"), validators=[Optional(), Length(max=2000)],
        description=_l("Required when the equipment is not active: trainers read it."))
    hours_0 = _hours_field(WEEKDAY_LABELS[0])
    hours_1 = _hours_field(WEEKDAY_LABELS[1])
    hours_2 = _hours_field(WEEKDAY_LABELS[2])
    hours_3 = _hours_field(WEEKDAY_LABELS[3])
    hours_4 = _hours_field(WEEKDAY_LABELS[4])
    hours_5 = _hours_field(WEEKDAY_LABELS[5])
    hours_6 = _hours_field(WEEKDAY_LABELS[6])
    # The owning establishment's coordinators set these (issue 13), as admins do.
    notice_minutes, max_advance_days, cancel_deadline_hours, others_open_days = (
        booking_window_fields())
    check_in_required, check_in_grace_minutes = check_in_fields()
    submit = SubmitField(_l("Save"))

    def hours_fields(self) -> list[Field]:
        return [self[f"hours_{day}"] for day in range(7)]


class EstablishmentFilterForm(QueryForm):
    """The admin's choice of establishment (a GET form: nothing is written)."""

    establishment = SelectField(_l("Establishment"), coerce=int, validators=[Optional()])
