"""Forms of the satisfaction pages: the questionnaire (public, CSRF through the
session cookie like the mailed password links), the period filter of
/satisfaction/, and the coordinators' « send now » button."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from wtforms import DateField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from booking.forms import Form, QueryForm
from booking.services.satisfaction.surveys import COMMENT_MAX_LENGTH

# The questions, and the short names of the results' columns.
QUESTIONS: dict[str, Any] = {
    "overall": _l("Overall, how satisfied are you with the training?"),
    "content": _l("The content of the training"),
    "trainer": _l("The trainer"),
    "equipment": _l("The equipment and the machines"),
    "organisation": _l("The organisation (schedule, place, information)"),
    "objectives": _l("Did the training reach its objectives?"),
}
RATING_LABELS: dict[str, Any] = {
    "overall": _lp("satisfaction rating", "Overall"),
    "content": _lp("satisfaction rating", "Content"),
    "trainer": _lp("satisfaction rating", "Trainer"),
    "equipment": _lp("satisfaction rating", "Equipment"),
    "organisation": _lp("satisfaction rating", "Organisation"),
    "objectives": _lp("satisfaction rating", "Objectives"),
}
MARKS = [
    SelectChoice(1, _l("1 – Very dissatisfied")),
    SelectChoice(2, _l("2 – Dissatisfied")),
    SelectChoice(3, _l("3 – Neither satisfied nor dissatisfied")),
    SelectChoice(4, _l("4 – Satisfied")),
    SelectChoice(5, _l("5 – Very satisfied")),
]
CHOOSE_A_MARK = _l("Choose a mark from 1 to 5.")


def _mark(value: Any) -> int | None:
    """A mark from the form, strictly "1" to "5" (anything else is no choice)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value in {"1", "2", "3", "4", "5"}:
        return int(value)
    if value in (None, ""):
        return None
    raise ValueError(value)


def _rating(name: str) -> RadioField:
    return RadioField(QUESTIONS[name], choices=MARKS, coerce=_mark,
                      validators=[InputRequired(message=CHOOSE_A_MARK)])


class SurveyForm(Form):
    overall = _rating("overall")
    content = _rating("content")
    trainer = _rating("trainer")
    equipment = _rating("equipment")
    organisation = _rating("organisation")
    objectives = _rating("objectives")
    would_recommend = RadioField(
        _l("Would you recommend this training?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[InputRequired(message=_l("Answer yes or no."))])
    comment = TextAreaField(
        _l("Comment"), validators=[Optional(), Length(max=COMMENT_MAX_LENGTH)],
        description=_l("What you liked, what could be better (at most %(max)d characters).",
                       max=COMMENT_MAX_LENGTH))
    submit = SubmitField(_l("Send my answers"))


class PeriodForm(QueryForm):
    """The projects whose end falls in the period (both days included)."""

    start = DateField(_l("Projects ended from"), validators=[Optional()])
    end = DateField(_l("Projects ended until"), validators=[Optional()])


class SendSurveysForm(Form):
    submit = SubmitField(_l("Send the questionnaires now"))
