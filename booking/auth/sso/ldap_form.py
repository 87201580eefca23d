"""The sign-in form of an LDAP provider: the directory's own username and password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from booking.forms import Form

# Longer than any directory's uid or sAMAccountName; bounds the filter and the DN
# built from it.
MAX_USERNAME = 256


class LdapSignInForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=MAX_USERNAME)])
    # An LDAP simple bind with an empty password is an unauthenticated bind, which
    # a directory accepts as anonymous: refused here, and again before any bind
    # (booking.auth.sso.ldap.authenticate), whatever calls it.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Log in"))
