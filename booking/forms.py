"""The base of every form of the pages: the one input boundary of the web side.

Every field of every form is guarded when the form binds it (WTForms'
``Meta.bind_field``, so a field added to a class after its definition is
guarded too). Before any other validator of the field sees the value:

- each text submitted is checked by the rules of booking.services.inputs (no
  NUL, no lone surrogate, no control character, line breaks only in a
  TextAreaField) and, in a field without a ``Length`` of its own, bounded to
  :data:`DEFAULT_MAX_LENGTH` characters;
- each date is within the supported years (booking.services.policy);
- a select of ids (``coerce=int``) reads ASCII digits within a database integer
  only, so that no view ever looks up "²" or a 20-digit number.

A refusal stops the field's other validators and shows next to the field.

:class:`QueryForm` is the base of the GET filters: no CSRF token (nothing is
written), and after validation each refused value is dropped (its field goes
back to its default), so the page shows the error and an unfiltered list
rather than querying with garbage.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import Field, TextAreaField
from wtforms.fields.choices import SelectFieldBase
from wtforms.validators import Length, StopValidation

from booking.services.inputs import in_supported_years, text_problem
from booking.services.policy import FIRST_YEAR, LAST_YEAR, MAX_ID

# Fields without a Length of their own (selects, dates, checkboxes, a password's
# confirmation): no value a browser sends them comes near this; as long as the
# longest password taken.
DEFAULT_MAX_LENGTH = 1024
_SELECTED_ID = re.compile(r"[0-9]{1,10}")


class Guard:
    """The first validator of every field (see the module's docstring)."""

    def __init__(self, *, multiline: bool, max_length: int | None) -> None:
        self.multiline = multiline
        self.max_length = max_length

    def __call__(self, form: Any, field: Field) -> None:
        for raw in field.raw_data or ():
            if not isinstance(raw, str):  # an uploaded file: its own validators
                continue
            problem = text_problem(raw, multiline=self.multiline)
            if problem is not None:
                raise StopValidation(_(problem))
            if self.max_length is not None and len(raw) > self.max_length:
                raise StopValidation(field.ngettext(
                    "Field cannot be longer than %(max)d character.",
                    "Field cannot be longer than %(max)d characters.",
                    self.max_length) % {"max": self.max_length})
        if isinstance(field.data, date) and not in_supported_years(field.data):
            raise StopValidation(_("Choose a date between %(first)s and %(last)s.",
                                   first=FIRST_YEAR, last=LAST_YEAR))


def selected_id(value: Any) -> int:
    """``coerce`` of the selects of ids: 0 ("none") to MAX_ID, from ASCII digits
    only; the choices' own values (ints) as they are."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if _SELECTED_ID.fullmatch(value) and int(value) <= MAX_ID:
            return int(value)
        raise ValueError(value)
    return int(value)


def guard(field: Field) -> Field:
    """Put the boundary in front of a bound field's own validators."""
    has_length = any(isinstance(v, Length) for v in field.validators)
    field.validators = [
        Guard(multiline=isinstance(field, TextAreaField),
              max_length=None if has_length else DEFAULT_MAX_LENGTH),
        *field.validators]
    if isinstance(field, SelectFieldBase) and getattr(field, "coerce", None) is int:
        field.coerce = selected_id  # type: ignore[attr-defined]
    return field


class Form(FlaskForm):
    """The base of every form of the application (a test walks them all)."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            return guard(super().bind_field(form, unbound_field, options))  # type: ignore[misc]


class QueryForm(Form):
    """A GET filter read from the query string: shows its errors, and uses
    nothing it refused."""

    class Meta:
        csrf = False  # it only chooses what to show

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if field.errors:
                field.raw_data = []
                field.process(None)  # back to the default; the errors stay shown
        return valid
