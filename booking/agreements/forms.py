"""The forms of the training agreement: generate it, upload its signed copy,
waive it or lift the waiver."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DecimalField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from booking.forms import Form
from booking.services.agreements.operations import MAX_ADDRESS, MAX_HOURS_CENTS, MAX_TEXT


class HoursField(DecimalField):
    """Hours as a person types them: « 12,5 » as well as « 12.5 »."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([v.replace(",", ".").strip() if isinstance(v, str) else v
                                  for v in valuelist])


class GenerateForm(Form):
    company_address = TextAreaField(
        _l("Company's address"), validators=[Optional(), Length(max=MAX_ADDRESS)],
        description=_l("As it should appear on the agreement (the project does not hold it)."))
    programme = TextAreaField(
        _l("Programme"), validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("Prefilled from the project's description."))
    duration_hours = HoursField(
        _l("Duration (hours)"), places=2,
        validators=[DataRequired(_l("Give the training's duration in hours.")),
                    NumberRange(min=Decimal("0.01"), max=MAX_HOURS_CENTS // 100)],
        description=_l("Prefilled from the accepted quote's trainer hours."))
    place = TextAreaField(
        _l("Place"), validators=[Optional(), Length(max=MAX_ADDRESS)],
        description=_l("Prefilled from the machines' establishments and locations."))
    replace_signed = BooleanField(
        _l("Replace the signed agreement"),
        description=_l("The signed agreement is cancelled; the new one must be signed "
                       "before further sessions are scheduled."))
    submit = SubmitField(_l("Generate the agreement"))


class SignedForm(Form):
    file = FileField(_l("Signed agreement"),
                     validators=[FileRequired(_l("Choose a file."))],
                     description=_l("The scan of the agreement signed by both parties: a PDF "
                                    "file or a PNG or JPEG image."))
    submit = SubmitField(_l("Record the signed agreement"))


class WaiveForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why.")),
                                                     Length(max=2000)],
                           description=_l("For example: an internal action, a free "
                                          "discovery session."))
    submit = SubmitField(_l("No agreement needed"))


class LiftForm(Form):
    submit = SubmitField(_l("Require the agreement again"))
