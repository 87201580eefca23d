"""The upload of a document or photo, and the one-button forms beside each."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from booking.forms import Form
from models import DocumentKind

KIND_LABELS = {
    DocumentKind.SAFETY: _lp("document kind", "Safety instructions"),
    DocumentKind.PROCEDURE: _lp("document kind", "Operating procedure"),
    DocumentKind.OTHER: _lp("document kind", "Other document"),
    DocumentKind.PHOTO: _lp("document kind", "Photo"),
}


class DocumentForm(Form):
    kind = SelectField(_l("Kind"), validators=[DataRequired()], choices=[
        SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file."))],
                     description=_l("A PDF file for a document; a PNG, JPEG or WebP image "
                                    "for a photo."))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)],
                        description=_l("The file's name when left empty."))
    required = BooleanField(_l("Required reading before a session"),
                            description=_l("Shown on each booking of this equipment and in "
                                           "its confirmation e-mail."))
    submit = SubmitField(_l("Add"))


class DeleteForm(Form):
    submit = SubmitField(_l("Delete"))


class MarkForm(Form):
    required = HiddenField(validators=[AnyOf(("0", "1"))])
