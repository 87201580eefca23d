"""Login and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from booking.forms import Form
from booking.services.accounts.password_policy import MIN_PASSWORD_LENGTH
from booking.validators import EmailAddress


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(Form):
    # Checked here: the page answers the same for any well-formed address, so a
    # malformed one is the only mistake it can point out.
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class LinkPasswordForm(Form):
    """The password chosen through a mailed link (a reset or an invitation)."""

    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Save the password"))


class PasswordForm(LinkPasswordForm):
    """A signed-in change: the same new password, proven by the current one."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=1024)]
    )
    submit = SubmitField(_l("Change password"))


class InvitationForm(Form):
    """Choices set by the view: the roles, establishments and companies the inviter may give."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), EmailAddress(), Length(max=254)])
    role = SelectField(_l("Role"))
    establishment = SelectField(_l("Establishment"), coerce=int, default=0,
                                description=_l("Required for a coordinator."))
    company = SelectField(_l("Company"), coerce=int, default=0,
                          description=_l("Required for a company account."))
    submit = SubmitField(_l("Send the invitation"))
