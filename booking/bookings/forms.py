"""The booking form, and the cancel and move forms."""

from __future__ import annotations

from datetime import date, datetime, time

from dateutil.rrule import DAILY, FR, MO, TH, TU, WE, WEEKLY, rrule, weekday
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_babel import ngettext
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

from booking.admin.forms import MultiCheckboxField
from booking.forms import Form
from booking.labels import PURPOSE_LABELS
from models import BookingPurpose

# WTForms 3.3 wants SelectChoice objects, not tuples, for static choices.
SCOPE_CHOICES = [
    SelectChoice("occurrence", _l("This occurrence only")),
    SelectChoice("following", _l("This and the following occurrences")),
    SelectChoice("series", _l("The whole series")),
]
# A session over several machines (booking.services.bookings.groups): the
# machine alone, or every machine of the session still to come.
MACHINE_ONLY = SelectChoice("occurrence", _l("Only this machine"))


def scope_choices(in_series: bool, machines: int) -> list[SelectChoice]:
    """What a change may address: a series' occurrences and, for a session of
    several machines (``machines`` of it still to come), the whole session."""
    if machines < 2:
        return SCOPE_CHOICES
    whole = SelectChoice("group", ngettext("The whole session (%(num)d machine)",
                                           "The whole session (%(num)d machines)", machines))
    return [*SCOPE_CHOICES, whole] if in_series else [MACHINE_ONLY, whole]


# The simple repetitions, each a dateutil rule: (frequency, interval, weekdays).
REPETITIONS: dict[str, tuple[int, int, tuple[weekday, ...] | None]] = {
    "daily": (DAILY, 1, None),
    "weekdays": (DAILY, 1, (MO, TU, WE, TH, FR)),
    "weekly": (WEEKLY, 1, None),
    "biweekly": (WEEKLY, 2, None),
}
REPEAT_CHOICES = [
    SelectChoice("none", _l("Does not repeat")),
    SelectChoice("daily", _l("Every day")),
    SelectChoice("weekdays", _l("Every weekday (Monday to Friday)")),
    SelectChoice("weekly", _l("Every week")),
    SelectChoice("biweekly", _l("Every 2 weeks")),
    SelectChoice("custom", _l("Custom rule (RRULE)")),
]
MAX_COUNT = 366


def repetition_rule(repeat: str, first_day: date, count: int | None,
                    until: date | None) -> str:
    """The RRULE of a simple repetition (built by dateutil, without DTSTART):
    ``count`` times, or up to ``until`` included (its whole local day)."""
    freq, interval, days = REPETITIONS[repeat]
    last = datetime.combine(until, time(23, 59, 59)) if until else None
    rule = rrule(freq, interval=interval, byweekday=days, count=count, until=last,
                 dtstart=datetime.combine(first_day, time()))
    # str() gives "DTSTART:…\nRRULE:…"; the series takes its start from the booking.
    return str(rule).splitlines()[-1].removeprefix("RRULE:")


class BookingForm(Form):
    equipment = SelectField(_lp("form field", "Equipment"), coerce=int,
                            validators=[DataRequired()])
    # The API's name: the other machines of the equipment's establishment,
    # booked with it as one session (all or nothing).
    equipment_ids = MultiCheckboxField(
        _l("Other machines for the same session"), coerce=int, validators=[Optional()],
        description=_l("One booking per machine, all made or none; each machine's rules "
                       "apply to its own booking."))
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
    repeat = SelectField(_l("Repeat"), choices=REPEAT_CHOICES, default="none")
    count = IntegerField(_l("Number of times"),
                         validators=[Optional(), NumberRange(min=1, max=MAX_COUNT)],
                         description=_l("The first booking included."))
    until = DateField(_l("Or until"), validators=[Optional()],
                      description=_l("Last day of the repetition, included."))
    rrule = StringField(_l("Rule"), validators=[Optional(), Length(max=500)],
                        description=_l("RFC 5545, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630. "
                                       "Used instead of the repetition above."))
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
