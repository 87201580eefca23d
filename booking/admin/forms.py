"""Forms of the administration pages.

The forms check shapes (required, lengths, ranges, times); the rules that
need the database (unique codes, lines of the same establishment, overlapping
hours) are the services', whose refusals :func:`place_error` puts back next to
the field they concern.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from functools import partial
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from booking.forms import Form, QueryForm
from booking.labels import EQUIPMENT_STATUS_LABELS as STATUS_LABELS
from booking.labels import KIND_LABELS, ROLE_LABELS
from booking.services.accounts.password_policy import MIN_PASSWORD_LENGTH
from booking.services.errors import DomainError
from booking.validators import EmailAddress
from models import Equipment, EquipmentCategory, EquipmentStatus, Role

# The départements of the Centre-Val de Loire region; names are proper nouns.
DEPARTMENTS = [SelectChoice(value, label) for value, label in (
    ("45", "45 — Loiret"), ("28", "28 — Eure-et-Loir"), ("37", "37 — Indre-et-Loire"),
    ("41", "41 — Loir-et-Cher"), ("18", "18 — Cher"), ("36", "36 — Indre"))]

ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS[role])
                for role in (Role.TRAINER, Role.COORDINATOR, Role.COMPANY, Role.ADMIN)]

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as check boxes (macros.render_field knows the name)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def place_error(form: FlaskForm, error: DomainError, fields: dict[str, str]) -> None:
    """Show a service's refusal next to its field, else at the top of the form."""
    name = fields.get(str(error.details.get("field", "")))
    if name is not None and name in form:
        form[name].errors = [*form[name].errors, error.message]
    else:
        form.form_errors.append(error.message)


# --- establishments and certification types ---------------------------------------


class EstablishmentForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Short and unique, for example TOURS-PHARMA."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=120)])
    department = SelectField(_l("Department"), choices=DEPARTMENTS)
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label)
                                            for k, label in KIND_LABELS.items()])
    timezone = StringField(_l("Time zone"), default="Europe/Paris",
                           validators=[DataRequired(), Length(max=64)],
                           description=_l("A zone of the IANA database, e.g. Europe/Paris."))
    submit = SubmitField(_l("Save"))

    def with_department(self, department: str | None) -> EstablishmentForm:
        """Keep an existing value outside the region selectable."""
        if department and department not in {choice.value for choice in DEPARTMENTS}:
            self.department.choices = [*DEPARTMENTS, SelectChoice(department)]
        return self


class CertificationTypeForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Short and unique, for example GMP-CLEANROOM."))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    validity_months = IntegerField(_l("Validity (months)"), default=12,
                                   validators=[DataRequired(), NumberRange(min=1, max=240)],
                                   description=_l("Default length of a certification of "
                                                  "this type."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Create"))


# --- equipment --------------------------------------------------------------------------

# What an empty booking window tells the service (issue 13): no minimum notice,
# the campus horizon, cancellation until the start, no owner's priority window.
# Check-in at the machine (issue 14) is set beside them, in both forms: whether
# the machine requires it, and its grace period (the same default as the table's).
WINDOW_WHEN_EMPTY: dict[str, int | None] = {
    "notice_minutes": 0, "max_advance_days": None, "cancel_deadline_hours": 0,
    "others_open_days": None, "check_in_required": False, "check_in_grace_minutes": 15,
}


def booking_window_fields() -> tuple[IntegerField, IntegerField, IntegerField, IntegerField]:
    """The four booking windows, for each form that edits them (the admin's and
    the coordinator's): made anew at each call, so that every form keeps them
    where its class declares them."""
    return (
        IntegerField(
            _l("Minimum notice (minutes)"), default=0,
            validators=[Optional(), NumberRange(min=0, max=129600)],
            description=_l("A booking starts at least this long after it is made (0: none; "
                           "1440 is a day). The establishment's coordinators are not held.")),
        IntegerField(
            _l("Furthest ahead (days)"), validators=[Optional(), NumberRange(min=1, max=3650)],
            description=_l("How far ahead a booking may start. Empty: the campus horizon.")),
        IntegerField(
            _l("Cancellation deadline (hours before the start)"), default=0,
            validators=[Optional(), NumberRange(min=0, max=8760)],
            description=_l("Later, only a coordinator may cancel (0: the booker may cancel "
                           "until the start).")),
        IntegerField(
            _l("Open to other establishments (days before)"),
            validators=[Optional(), NumberRange(min=0, max=3650)],
            description=_l("The establishment's priority: other establishments and companies "
                           "book a slot only from this many days before its day. Empty: no "
                           "priority window.")),
    )


def check_in_fields() -> tuple[BooleanField, IntegerField]:
    """Check-in at the machine, for each form that edits the booking windows."""
    return (
        BooleanField(_l("Check-in required at the machine"),
                     description=_l("The trainer checks in with the machine's QR code; a "
                                    "booking not checked in by the end of the grace period "
                                    "is released.")),
        IntegerField(
            _l("Check-in grace period (minutes after the start)"), default=15,
            validators=[Optional(), NumberRange(min=0, max=240)],
            description=_l("Check-in opens 15 minutes before the start and closes this long "
                           "after it (0 to 240).")),
    )


def window_value(form: FlaskForm, name: str) -> int | None:
    """One window of a submitted form as the service reads it."""
    data = form[name].data
    return WINDOW_WHEN_EMPTY[name] if data is None else data


def window_data(form: FlaskForm) -> dict[str, int | None]:
    return {name: window_value(form, name) for name in WINDOW_WHEN_EMPTY}


def fill_windows(form: FlaskForm, equipment: Equipment) -> None:
    for name in WINDOW_WHEN_EMPTY:
        form[name].data = getattr(equipment, name)


class EquipmentForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=255)],
                           description=_l("Building, room…"))
    category = SelectField(_l("Category"))
    status = SelectField(_l("Status"), default=EquipmentStatus.ACTIVE.value,
                         choices=[SelectChoice(s.value, label)
                                  for s, label in STATUS_LABELS.items()])
    status_reason = StringField(_l("Why it is not active"),
                                validators=[Optional(), Length(max=2000)],
                                description=_l("Required for maintenance or retirement; "
                                               "shown to users."))
    parent = SelectField(_l("Component of the line"), coerce=int, default=0,
                         description=_l("Only the pilot lines of the same establishment."))
    capacity = IntegerField(_l("Capacity (learners)"),
                            validators=[Optional(), NumberRange(min=0, max=10000)])
    certification_types = MultiCheckboxField(_l("Required certifications"), coerce=int,
                                             validators=[Optional()])
    slot_minutes = IntegerField(_l("Slot (minutes)"), default=30,
                                validators=[DataRequired(), NumberRange(min=1, max=1440)],
                                description=_l("Bookings start and end on this grid."))
    min_minutes = IntegerField(_l("Minimum duration (minutes)"), default=30,
                               validators=[DataRequired(), NumberRange(min=1, max=10080)])
    max_minutes = IntegerField(_l("Maximum duration (minutes)"), default=480,
                               validators=[DataRequired(), NumberRange(min=1, max=10080)])
    changeover_minutes = IntegerField(
        _l("Changeover (minutes)"), default=0,
        validators=[Optional(), NumberRange(min=0, max=1440)],
        description=_l("Kept free after each use: line clearance, cleaning."))
    approval_deadline_hours = IntegerField(
        _l("Approval deadline (hours)"), default=72,
        validators=[DataRequired(), NumberRange(min=1, max=10000)],
        description=_l("A pending booking not decided in time expires."))
    notice_minutes, max_advance_days, cancel_deadline_hours, others_open_days = (
        booking_window_fields())
    check_in_required, check_in_grace_minutes = check_in_fields()
    requires_approval = BooleanField(_l("Bookings need a coordinator's approval"))
    open_on_holidays = BooleanField(_l("Open on public holidays"))
    line_hours = BooleanField(_l("A component opens when its line does"), default=True,
                              description=_l("The hours below then apply only to "
                                             "equipment that is not a component."))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hours_errors: list[str] = []  # the service's refusals of the hours

    def day_rows(self) -> list[tuple[Any, list[Any]]]:
        """(weekday name, [opens, closes, second opens, second closes]) for the editor."""
        return [(WEEKDAYS[d], [self[f"d{d}_{key}"] for key in HOUR_KEYS]) for d in range(7)]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for day in range(7):
            opens, closes, opens2, closes2 = (self[f"d{day}_{key}"] for key in HOUR_KEYS)
            valid &= _check_interval(opens, closes)
            valid &= _check_interval(opens2, closes2)
            if opens2.data is not None and opens.data is None:
                opens2.errors.append(_l("Fill in the first interval first."))
                valid = False
            elif (opens2.data is not None and closes.data is not None
                  and opens2.data < closes.data):
                opens2.errors.append(_l("The second interval starts after the first ends."))
                valid = False
        return bool(valid)

    def opening_hours(self) -> list[dict[str, Any]]:
        """The rows of the services' ``opening_hours`` ("HH:MM" strings)."""
        rows = []
        for day in range(7):
            for first, second in (("opens", "closes"), ("opens2", "closes2")):
                opens, closes = self[f"d{day}_{first}"].data, self[f"d{day}_{second}"].data
                if opens is not None and closes is not None:
                    rows.append({"weekday": day, "opens": f"{opens:%H:%M}",
                                 "closes": f"{closes:%H:%M}"})
        return rows

    def fill_default_hours(self) -> None:
        """A new machine opens Monday to Friday, 08:00–18:00, until told otherwise."""
        for day in range(5):
            self[f"d{day}_opens"].data, self[f"d{day}_closes"].data = time(8), time(18)

    def fill_from(self, equipment: Equipment) -> bool:
        """Load the equipment's values; False when a day has more than two
        intervals (the editor keeps two)."""
        for name in ("code", "name", "description", "location", "status_reason", "capacity",
                     "slot_minutes", "min_minutes", "max_minutes", "changeover_minutes",
                     "approval_deadline_hours", "requires_approval", "open_on_holidays"):
            self[name].data = getattr(equipment, name)
        fill_windows(self, equipment)
        self.category.data = equipment.category.value
        self.status.data = equipment.status.value
        self.parent.data = equipment.parent_id or 0
        self.certification_types.data = [t.id for t in equipment.required_certification_types]
        fits = True
        by_day: dict[int, list[tuple[time, time]]] = {}
        for hours in equipment.opening_hours:
            by_day.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
        for day, intervals in by_day.items():
            intervals.sort()
            fits &= len(intervals) <= 2
            for (opens, closes), (first, second) in zip(
                    intervals, (("opens", "closes"), ("opens2", "closes2")), strict=False):
                self[f"d{day}_{first}"].data = opens
                self[f"d{day}_{second}"].data = closes
        return fits

    def data_for_service(self) -> dict[str, Any]:
        """The data dict of booking.services.equipment (keys of EquipmentInSchema)."""
        return {key: value() for key, (_, value) in self._service_values().items()}

    def for_new_equipment(self, data: dict[str, Any]) -> dict[str, Any]:
        """Without opening hours when a new component takes its line's (the service
        copies them)."""
        if self.line_hours.data and data.get("parent_id"):
            return {key: value for key, value in data.items() if key != "opening_hours"}
        return data

    def checked_data_for_service(self) -> dict[str, Any]:
        """The part of :meth:`data_for_service` whose fields passed the form's checks:
        the service's rules are checked on it too, to show every mistake at once."""
        wrong = {name for name, field in self._fields.items() if field.errors}
        data = {}
        for key, (fields, value) in self._service_values().items():
            if wrong.isdisjoint(fields):
                try:
                    data[key] = value()
                except (AttributeError, TypeError, ValueError):  # a choice off the list
                    continue
        return data

    def _service_values(self) -> dict[str, tuple[tuple[str, ...], Callable[[], Any]]]:
        """Each key of the service's data: the fields it is read from, and how."""
        hours = tuple(f"d{day}_{key}" for day in range(7) for key in HOUR_KEYS)
        return {
            "code": (("code",), lambda: self.code.data.strip()),
            "name": (("name",), lambda: self.name.data.strip()),
            "description": (("description",), lambda: self.description.data or ""),
            "location": (("location",), lambda: self.location.data or ""),
            "category": (("category",), lambda: EquipmentCategory(self.category.data)),
            "status": (("status",), lambda: EquipmentStatus(self.status.data)),
            "status_reason": (("status_reason",),
                              lambda: (self.status_reason.data or "").strip()),
            "parent_id": (("parent",), lambda: self.parent.data or None),
            "capacity": (("capacity",), lambda: self.capacity.data),
            "slot_minutes": (("slot_minutes",), lambda: self.slot_minutes.data),
            "min_minutes": (("min_minutes",), lambda: self.min_minutes.data),
            "max_minutes": (("max_minutes",), lambda: self.max_minutes.data),
            "changeover_minutes": (("changeover_minutes",),
                                   lambda: self.changeover_minutes.data or 0),
            "approval_deadline_hours": (("approval_deadline_hours",),
                                        lambda: self.approval_deadline_hours.data),
            **{name: ((name,), partial(window_value, self, name)) for name in WINDOW_WHEN_EMPTY},
            "requires_approval": (("requires_approval",), lambda: self.requires_approval.data),
            "open_on_holidays": (("open_on_holidays",), lambda: self.open_on_holidays.data),
            "required_certification_type_ids": (
                ("certification_types",), lambda: list(self.certification_types.data or [])),
            "opening_hours": (hours, self.opening_hours),
        }

HOUR_KEYS = ("opens", "closes", "opens2", "closes2")
# Each label written out, so that the message extractor finds it.
_HOUR_LABEL_TEXT = {
    "opens": lambda day: _l("%(day)s: opens", day=day),
    "closes": lambda day: _l("%(day)s: closes", day=day),
    "opens2": lambda day: _l("%(day)s: opens again", day=day),
    "closes2": lambda day: _l("%(day)s: closes again", day=day),
}
for _day in range(7):
    for _key in HOUR_KEYS:
        setattr(EquipmentForm, f"d{_day}_{_key}",
                TimeField(_HOUR_LABEL_TEXT[_key](WEEKDAYS[_day]), validators=[Optional()]))


def _check_interval(opens: Any, closes: Any) -> bool:
    if (opens.data is None) != (closes.data is None):
        (closes if closes.data is None else opens).errors.append(
            _l("Give both the opening and the closing time, or neither."))
        return False
    if opens.data is not None and opens.data >= closes.data:
        closes.errors.append(_l("Closing time comes after opening time."))
        return False
    return True


class ChooseEstablishmentForm(QueryForm):
    establishment = SelectField(_l("Establishment"), coerce=int)


class EquipmentFilterForm(QueryForm):
    establishment = SelectField(_l("Establishment"), coerce=int, default=0)
    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])


# --- accounts ---------------------------------------------------------------------------


class AccountFilterForm(QueryForm):
    role = SelectField(_l("Role"), choices=[SelectChoice("", _l("All roles")), *ROLE_CHOICES],
                       validators=[Optional()])
    q = StringField(_l("Name or e-mail"), validators=[Optional(), Length(max=100)])


class AccountForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.TRAINER.value)
    establishment = SelectField(_l("Establishment"), coerce=int, default=0,
                                description=_l("Required for a coordinator."))
    company = SelectField(_l("Company"), coerce=int, default=0,
                          description=_l("Required for a company account."))
    new_company = StringField(_l("…or a new company"), validators=[Optional(), Length(max=255)],
                              description=_l("Creates the company with the account."))
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=_l("At least %(n)d characters; give it to the person by a safe channel.",
                       n=MIN_PASSWORD_LENGTH))
    submit = SubmitField(_l("Create the account"))


class ResetPasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])
    submit = SubmitField(_l("Set the password and end their sessions"))


class DeactivateForm(Form):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)],
                           description=_l("Kept in the audit log."))
    submit = SubmitField(_l("Deactivate the account"))


class ReactivateForm(Form):
    submit = SubmitField(_l("Reactivate the account"))
