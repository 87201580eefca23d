"""The project request form, and the coordinators' decision forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from booking.admin.forms import MultiCheckboxField
from booking.forms import Form, QueryForm
from booking.labels import SECTOR_LABELS
from booking.validators import EmailAddress
from models import Sector

# Where a service's refusal goes on these forms (``details["field"]`` → field).
FORM_FIELDS = {"equipment_ids": "equipment", "trainer_id": "trainer"}


class ProjectForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)],
                        description=_l("For example: Packaging line operation for our "
                                       "new operators."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10000)],
                                description=_l("The context, the learners' profile."))
    objectives = TextAreaField(_l("Teaching objectives"),
                               validators=[Optional(), Length(max=10000)])
    sector = SelectField(_l("Sector"), coerce=str, default=Sector.OTHER.value,
                         choices=[SelectChoice(s.value, SECTOR_LABELS[s]) for s in Sector])
    learners = IntegerField(_l("Number of learners"),
                            validators=[DataRequired(), NumberRange(min=1, max=100000)])
    equipment = MultiCheckboxField(_l("Equipment wanted"), coerce=int, validators=[Optional()],
                                   description=_l("A coordinator confirms what fits."))
    wanted_from = DateField(_l("Wanted from"), validators=[DataRequired()])
    wanted_to = DateField(_l("Wanted until"), validators=[DataRequired()],
                          description=_l("Last day, included."))
    contact_name = StringField(_l("Contact name"), validators=[Optional(), Length(max=255)])
    contact_email = EmailField(_l("Contact e-mail"),
                               validators=[Optional(), EmailAddress(), Length(max=254)])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Send the request"))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if (self.wanted_from.data and self.wanted_to.data
                and self.wanted_to.data < self.wanted_from.data):
            self.wanted_to.errors.append(_l("Choose a last day after the first."))
            return False
        return valid


class ApproveForm(Form):
    trainer = SelectField(_l("Trainer"), coerce=int, validators=[DataRequired()],
                          description=_l("Only the trainers certified for every machine "
                                         "wanted, over the whole period."))
    reason = TextAreaField(_l("Note to the company"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Approve and assign the trainer"))


class RejectForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("The company reads it."))
    submit = SubmitField(_l("Reject the project"))


class ReviewFilterForm(QueryForm):
    status = SelectField(_l("Status"), validators=[Optional()])
