"""Forms of the certifications page: grant, renew, revoke, answer a request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from booking.forms import Form, QueryForm

SHOW_LABELS = {
    "all": _l("All"),
    "expiring": _l("Expiring within 30 days"),
    "expired": _l("Expired"),
    "history": _l("History, revoked included"),
}

UNTIL_HINT = _l("Leave empty for the type's usual validity.")


class FilterForm(QueryForm):
    """Which certifications the list shows (a GET form: nothing is written)."""

    show = SelectField(_l("Show"), default="all", validators=[Optional()],
                       choices=[SelectChoice(k, label) for k, label in SHOW_LABELS.items()])
    trainer = SelectField(_l("Trainer"), coerce=int, validators=[Optional()])


class GrantForm(Form):
    holder = SelectField(_l("Trainer"), coerce=int, validators=[DataRequired()])
    certification_type = SelectField(_l("Certification"), coerce=int,
                                     validators=[DataRequired()])
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()], description=UNTIL_HINT)
    submit = SubmitField(_l("Grant"))


class RenewForm(Form):
    valid_until = DateField(_l("Valid until"), validators=[Optional()], description=UNTIL_HINT)
    submit = SubmitField(_l("Renew"))


class RevokeForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)],
                           description=_l("Kept in the certification's history."))
    submit = SubmitField(_l("Revoke the certification"))


class RequestDecisionForm(Form):
    """Grant or decline a request; the page renders one per request."""

    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
