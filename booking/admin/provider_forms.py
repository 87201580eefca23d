"""Forms of the identity providers' pages (booking/admin/providers.py).

One form for the four kinds: the page shows only the fields of the provider's
kind, and :meth:`ProviderForm.settings` reads only those. The forms check
shapes; what each setting must be (an https issuer, an ldap:// address, a DN)
is the protocol module's ``check_settings``, whose refusal comes back as
``settings.<key>`` and is put next to the field of that name.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from booking.forms import Form, QueryForm
from booking.labels import ROLE_LABELS
from booking.services.accounts.providers import MAX_RULES
from models import IdentityProvider, Role

KIND_LABELS = {"oidc": "OpenID Connect", "cas": "CAS", "saml": "SAML 2.0", "ldap": "LDAP"}
KIND_CHOICES = [SelectChoice(kind, label) for kind, label in KIND_LABELS.items()]
# Each kind's own settings, as named in its check_settings (booking/auth/sso/<kind>.py).
KIND_SETTINGS = {
    "oidc": ("issuer", "client_id", "client_secret", "scopes"),
    "cas": ("server_url",),
    "saml": ("idp_metadata_url", "idp_metadata_xml", "idp_entity_id", "subject_attribute"),
    "ldap": ("url", "start_tls", "user_dn_template", "search_base", "search_filter",
             "bind_dn", "bind_password", "subject_attribute"),
}
# What the protocol's check requires (the page does not call them optional).
REQUIRED_SETTINGS = {"oidc": ("issuer", "client_id"), "cas": ("server_url",), "saml": (),
                     "ldap": ("url",)}
COMMON_SETTINGS = ("email_attribute", "name_attribute")
BOOLEAN_SETTINGS = ("start_tls",)
ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS[role])
                for role in (Role.TRAINER, Role.COORDINATOR)]
# Empty rows offered below the rules already set.
EMPTY_RULE_ROWS = 3
# An IdP's metadata with its certificates fits well within this; a federation's
# aggregate (many megabytes) is given by its URL.
MAX_METADATA_XML = 60000


def _url(label: Any, description: Any = None) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=500)], description=description)


class ChooseKindForm(QueryForm):
    kind = SelectField(_l("Protocol"), choices=KIND_CHOICES)


class ProviderFields:
    """The fields and readers the new and the edit form share (WTForms collects
    the fields of a mixin); each form adds its own."""

    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=120)],
                        description=_l("The login page's button says « Se connecter avec » and "
                                       "this label."))
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("2 to 40 lower-case letters, digits or dashes; part of "
                                      "the addresses given to the provider, so change it "
                                      "only with them."))
    enabled = BooleanField(_l("Offered on the login page"), default=True)
    # OpenID Connect
    issuer = _url(_l("Issuer"), _l("For example https://login.example.org/realms/staff; "
                                   "the discovery document is read under it."))
    client_id = StringField(_l("Client id"), validators=[Optional(), Length(max=500)])
    client_secret = PasswordField(_l("Client secret"), validators=[Optional(), Length(max=500)])
    scopes = StringField(_l("Scopes"), validators=[Optional(), Length(max=500)],
                         description=_l("Separated by spaces; openid email profile by "
                                        "default."))
    # CAS
    server_url = _url(_l("CAS server address"), _l("For example https://cas.example.org/cas/."))
    # SAML
    idp_metadata_url = _url(_l("Metadata URL of the IdP"))
    idp_metadata_xml = TextAreaField(
        _l("…or its metadata (XML)"), validators=[Optional(), Length(max=MAX_METADATA_XML)])
    idp_entity_id = StringField(
        _l("Entity id of the IdP"), validators=[Optional(), Length(max=500)],
        description=_l("Needed when the metadata lists several IdPs (a federation's)."))
    # LDAP
    url = _url(_l("Directory address"), _l("ldap://host[:port] or ldaps://host[:port]."))
    start_tls = BooleanField(_l("StartTLS (encrypt an ldap:// connection)"))
    user_dn_template = StringField(
        _l("DN of a user"), validators=[Optional(), Length(max=500)],
        description=_l("With {username}, e.g. uid={username},ou=people,dc=example,dc=org; "
                       "or leave empty and search below."))
    search_base = StringField(_l("Search base"), validators=[Optional(), Length(max=500)])
    search_filter = StringField(_l("Search filter"), validators=[Optional(), Length(max=500)],
                                description=_l("With {username}, e.g. (uid={username})."))
    bind_dn = StringField(_l("Service account DN"), validators=[Optional(), Length(max=500)],
                          description=_l("To search; empty: anonymous search."))
    bind_password = PasswordField(_l("Service account password"),
                                  validators=[Optional(), Length(max=500)])
    # SAML and LDAP
    subject_attribute = StringField(
        _l("Attribute of the stable identifier"), validators=[Optional(), Length(max=200)],
        description=_l("Default: the persistent NameID (SAML), entryUUID (LDAP)."))
    # Every kind
    email_attribute = StringField(_l("Attribute of the e-mail address"),
                                  validators=[Optional(), Length(max=200)],
                                  description=_l("Default: email, mail."))
    name_attribute = StringField(_l("Attribute of the full name"),
                                 validators=[Optional(), Length(max=200)],
                                 description=_l("Default: name, displayName, cn."))
    default_role = SelectField(
        _l("Role when no rule matches"),
        choices=[SelectChoice("", _l("None: refuse the sign-in")), *ROLE_CHOICES])
    submit = SubmitField(_l("Save"))

    def settings(self, kind: str) -> dict[str, Any]:
        """The settings of ``kind`` as the service takes them: the fields filled
        in (a secret left empty is kept by the service), booleans always."""
        settings: dict[str, Any] = {}
        for key in (*KIND_SETTINGS[kind], *COMMON_SETTINGS):
            value = self[key].data
            if key in BOOLEAN_SETTINGS:
                settings[key] = bool(value)
            elif isinstance(value, str) and value.strip():
                settings[key] = value if key in ("client_secret", "bind_password") \
                    else value.strip()
        return settings

    def rules(self) -> tuple[list[dict[str, str]], list[int]]:
        """The filled rows as the service's role rules, and the row of each (so
        that a refusal of rule 2 goes next to the row it came from)."""
        rules, rows = [], []
        for row in range(MAX_RULES):
            attribute = (self[f"rule_{row}_attribute"].data or "").strip()
            value = (self[f"rule_{row}_value"].data or "").strip()
            if attribute or value:
                rules.append({"attribute": attribute, "value": value,
                              "role": self[f"rule_{row}_role"].data})
                rows.append(row)
        return rules, rows

    def rows_shown(self) -> list[tuple[Any, Any, Any]]:
        """The rows the page shows: the filled ones, then a few empty ones."""
        last = max((row for row in range(MAX_RULES)
                    if self[f"rule_{row}_attribute"].data or self[f"rule_{row}_value"].data
                    or self[f"rule_{row}_attribute"].errors
                    or self[f"rule_{row}_value"].errors or self[f"rule_{row}_role"].errors),
                   default=-1)
        count = min(MAX_RULES, last + 1 + EMPTY_RULE_ROWS)
        return [(self[f"rule_{row}_attribute"], self[f"rule_{row}_value"],
                 self[f"rule_{row}_role"]) for row in range(count)]

    def fill_from(self, provider: IdentityProvider, public: dict[str, Any]) -> None:
        """The provider's values, secrets aside (never sent to a browser)."""
        self.label.data, self.code.data = provider.label, provider.code
        self.enabled.data = provider.enabled
        self.default_role.data = provider.default_role or ""
        for key in (*KIND_SETTINGS[provider.kind], *COMMON_SETTINGS):
            if key in public and key in self:
                value = public[key]
                self[key].data = " ".join(value) if isinstance(value, list) else value
        for row, rule in enumerate((provider.role_rules or [])[:MAX_RULES]):
            self[f"rule_{row}_attribute"].data = rule.get("attribute", "")
            self[f"rule_{row}_value"].data = rule.get("value", "")
            self[f"rule_{row}_role"].data = rule.get("role", "trainer")


class NewProviderForm(ProviderFields, Form):
    establishment = SelectField(_l("Establishment"), coerce=int)


class EditProviderForm(ProviderFields, Form):
    """The kind and the establishment stay: accounts are linked to them."""

    forget_secret = BooleanField(_l("Forget the stored secret"),
                                 description=_l("For a public client, or a directory searched "
                                                "anonymously."))


# Set on the mixin before either form is first built, so both have the rows.
for _row in range(MAX_RULES):
    setattr(ProviderFields, f"rule_{_row}_attribute",
            StringField(_l("Attribute"), validators=[Optional(), Length(max=200)]))
    setattr(ProviderFields, f"rule_{_row}_value",
            StringField(_l("Value"), validators=[Optional(), Length(max=200)]))
    setattr(ProviderFields, f"rule_{_row}_role",
            SelectField(_l("Role given"), choices=ROLE_CHOICES, default="trainer"))


class DeleteProviderForm(Form):
    submit = SubmitField(_l("Delete the provider"))


class LocalPasswordsForm(Form):
    """One button per establishment: the change it makes is in ``allowed``."""

    allowed = HiddenField(validators=[AnyOf(("on", "off"))])


class LinkForm(Form):
    provider = SelectField(_l("Identity provider"), coerce=int)
    subject = StringField(_l("Identifier at the provider"),
                          validators=[DataRequired(), Length(max=255)],
                          description=_l("Its stable identifier (OIDC sub, CAS user, SAML "
                                         "NameID, LDAP entryUUID), not the e-mail address."))
    submit = SubmitField(_l("Link"))


class UnlinkForm(Form):
    submit = SubmitField(_l("Remove the link"))
