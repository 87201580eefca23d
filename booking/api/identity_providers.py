"""The establishments' identity providers and the accounts' links to them:
the same service as the pages « Connexion des établissements » (admins only).

Secrets (``client_secret``, ``bind_password``) are written, never read back:
an answer says ``client_secret_set``; a PATCH whose settings leave a secret out
keeps the stored one (``forget_secrets`` drops it).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load, local_iso, page
from booking.api.fields import (
    DATE_TIME,
    PageArgs,
    Text,
    object_id,
    page_of,
    required_text,
)
from booking.auth.sso.urls import callback_url, metadata_url
from booking.extensions import db
from booking.handlers import commit
from booking.services.accounts import providers as service
from booking.services.accounts.providers import MAX_RULES, SECRETS
from booking.services.accounts.provisioning import link_account
from booking.services.errors import N_, NotFound
from booking.services.inputs import text_problem
from booking.timeutil import utc_now
from models import PROVIDER_KINDS, Establishment, IdentityLink, IdentityProvider, User

blp = Blueprint("IdentityProviders", __name__, url_prefix="/api/v1",
                description="Sign-in through the establishments' identity providers "
                            "(OpenID Connect, CAS, SAML, LDAP); admins only.")
BLUEPRINTS = [blp]

ROLES = ("trainer", "coordinator")
MAX_SETTINGS = 30
# A SAML IdP's metadata given inline; every other setting is a line.
MAX_SETTING_TEXT = 60000


# PEM and XML settings hold line breaks; every other setting is one line.
MULTILINE_SETTINGS = ("idp_metadata_xml", "ca_certificates")


class Settings(fields.Dict):
    """The protocol's settings: names to text, true/false, or a list of texts
    (OIDC scopes), each through the input boundary; what each must be is the
    protocol's check (a 422 naming ``settings.<key>``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        settings = super()._deserialize(value, attr, data, **kwargs)
        if len(settings) > MAX_SETTINGS:
            raise ValidationError(f"At most {MAX_SETTINGS} settings.")
        for key, item in settings.items():
            if not isinstance(key, str) or not 0 < len(key) <= 64 or text_problem(key):
                raise ValidationError(f"Setting names are short texts: {key!r}.")
            texts = item if isinstance(item, list) else [item]
            if isinstance(item, list) and len(item) > 50:
                raise ValidationError(f"{key}: at most 50 values.")
            for one in texts:
                if isinstance(one, bool) and not isinstance(item, list):
                    continue
                if not isinstance(one, str) or len(one) > MAX_SETTING_TEXT:
                    raise ValidationError(f"{key}: a text, a list of texts or true/false.")
                problem = text_problem(one, multiline=key in MULTILINE_SETTINGS)
                if problem is not None:
                    raise ValidationError(f"{key}: {problem}")
        return settings


class RoleRuleSchema(Schema):
    attribute = required_text(200)
    value = required_text(200)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class ProviderSchema(Schema):
    id = fields.Integer(dump_only=True)
    establishment_id = object_id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROVIDER_KINDS))
    code = required_text(40, metadata={
        "description": "2 to 40 lower-case letters, digits or dashes: /auth/sso/<code>/..."})
    label = required_text(120, metadata={"description": "« Se connecter avec <label> »."})
    enabled = fields.Boolean(load_default=True)
    settings = Settings(required=True, metadata={
        "description": "The protocol's settings (docs/authentication.md); answered without "
                       "its secrets."})
    role_rules = fields.List(fields.Nested(RoleRuleSchema), load_default=list,
                             validate=validate.Length(max=MAX_RULES))
    default_role = fields.String(load_default=None, allow_none=True,
                                 validate=validate.OneOf(ROLES))
    client_secret_set = fields.Boolean(dump_only=True, metadata={
        "description": "OpenID Connect: a client secret is stored (never answered)."})
    bind_password_set = fields.Boolean(dump_only=True, metadata={
        "description": "LDAP: the service account's password is stored (never answered)."})
    callback_url = fields.String(dump_only=True, metadata={
        "description": "OpenID Connect and CAS: the redirect URL to give the provider."})
    metadata_url = fields.String(dump_only=True, metadata={
        "description": "SAML: our SP metadata, to give the IdP."})
    linked_accounts = fields.Integer(dump_only=True)
    created_at = fields.String(dump_only=True, metadata=DATE_TIME)


class ProviderPatchSchema(Schema):
    """Any of these; the kind and the establishment stay."""

    code = required_text(40)
    label = required_text(120)
    enabled = fields.Boolean()
    settings = Settings(metadata={
        "description": "Replaces the settings; a secret left out or empty is kept."})
    role_rules = fields.List(fields.Nested(RoleRuleSchema),
                             validate=validate.Length(max=MAX_RULES))
    default_role = fields.String(allow_none=True, validate=validate.OneOf(ROLES))
    forget_secrets = fields.List(fields.String(validate=validate.OneOf(tuple(SECRETS))),
                                 validate=validate.Length(max=len(SECRETS)), metadata={
                                     "description": "Secrets to drop, e.g. [\"client_secret\"]."})


class IdentityLinkSchema(Schema):
    id = fields.Integer(dump_only=True)
    provider_id = object_id(required=True)
    subject = Text(required=True, validate=validate.Length(min=1, max=255), metadata={
        "description": "The provider's stable identifier of the person (OIDC sub, CAS user, "
                       "SAML NameID, LDAP entryUUID)."})
    user_id = fields.Integer(dump_only=True)
    created_at = fields.String(dump_only=True, metadata=DATE_TIME)
    last_sign_in_at = fields.String(dump_only=True, allow_none=True, metadata=DATE_TIME)


def _out(provider: IdentityProvider, linked: int | None = None) -> dict[str, Any]:
    zone = current_app.config["DISPLAY_TIMEZONE"]
    answer = {
        "id": provider.id, "establishment_id": provider.establishment_id,
        "kind": provider.kind, "code": provider.code, "label": provider.label,
        "enabled": provider.enabled, "settings": service.public_settings(provider),
        "role_rules": provider.role_rules or [], "default_role": provider.default_role,
        "created_at": local_iso(provider.created_at, zone),
        "linked_accounts": linked if linked is not None else service.linked_accounts(
            db.session, [provider.id]).get(provider.id, 0),
    }
    for key, is_set in _secret_flags(provider).items():
        answer[f"{key}_set"] = is_set
    if provider.kind == "saml":
        answer["metadata_url"] = metadata_url(provider)
    elif provider.kind in ("oidc", "cas"):
        answer["callback_url"] = callback_url(provider)
    return answer


def _secret_flags(provider: IdentityProvider) -> dict[str, bool]:
    """Each secret of the provider's kind, set or not."""
    own = {"oidc": ("client_secret",), "ldap": ("bind_password",)}.get(provider.kind, ())
    stored = service.secrets_set(provider)
    return {key: stored.get(key, False) for key in own}


def _link_out(link: IdentityLink) -> dict[str, Any]:
    zone = current_app.config["DISPLAY_TIMEZONE"]
    return {"id": link.id, "provider_id": link.provider_id, "subject": link.subject,
            "user_id": link.user_id, "created_at": local_iso(link.created_at, zone),
            "last_sign_in_at": local_iso(link.last_sign_in_at, zone)}


# --- providers ------------------------------------------------------------------------------


@blp.route("/identity-providers", methods=["GET"])
@allow("list", IdentityProvider)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ProviderSchema))
def list_identity_providers(args: dict[str, Any]) -> dict[str, Any]:
    """Every provider, by code; secrets left out."""
    result = page(select(IdentityProvider).order_by(IdentityProvider.code), args)
    counts = service.linked_accounts(db.session, [p.id for p in result["items"]])
    result["items"] = [_out(p, counts.get(p.id, 0)) for p in result["items"]]
    return result


@blp.route("/identity-providers", methods=["POST"])
@allow("create", IdentityProvider)
@blp.arguments(ProviderSchema)
@blp.response(201, ProviderSchema)
def create_identity_provider(body: dict[str, Any]) -> dict[str, Any]:
    """Add a provider to an establishment; its settings are checked by its
    protocol (422 with ``details.field`` such as ``settings.issuer``)."""
    establishment = load(Establishment, body.pop("establishment_id"), api_user(), "manage")
    provider = service.create_provider(db.session, actor=api_user(), now=utc_now(),
                                       establishment=establishment, **body)
    commit()
    return _out(provider, 0)


@blp.route("/identity-providers/<id:provider_id>", methods=["GET"])
@allow("view", IdentityProvider)
@blp.response(200, ProviderSchema)
def get_identity_provider(provider_id: int) -> dict[str, Any]:
    return _out(load(IdentityProvider, provider_id, api_user()))


@blp.route("/identity-providers/<id:provider_id>", methods=["PATCH"])
@allow("manage", IdentityProvider)
@blp.arguments(ProviderPatchSchema(partial=True))
@blp.response(200, ProviderSchema)
def update_identity_provider(body: dict[str, Any], provider_id: int) -> dict[str, Any]:
    """Change any of its fields; ``settings`` replaces them, secrets aside."""
    provider = load(IdentityProvider, provider_id, api_user(), "manage")
    service.update_provider(db.session, provider, actor=api_user(), now=utc_now(), **body)
    commit()
    return _out(provider)


@blp.route("/identity-providers/<id:provider_id>", methods=["DELETE"])
@allow("manage", IdentityProvider)
@blp.response(204)
def delete_identity_provider(provider_id: int) -> None:
    """The accounts stay, without their link to it."""
    provider = load(IdentityProvider, provider_id, api_user(), "manage")
    service.delete_provider(db.session, provider, actor=api_user(), now=utc_now())
    commit()


# --- an account's links ---------------------------------------------------------------------


@blp.route("/users/<id:user_id>/identity-links", methods=["GET"])
@allow("manage", IdentityProvider)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(IdentityLinkSchema))
def list_identity_links(args: dict[str, Any], user_id: int) -> dict[str, Any]:
    """The providers the account signs in through, oldest link first."""
    user = load(User, user_id, api_user(), "manage")
    result = page(select(IdentityLink).where(IdentityLink.user_id == user.id)
                  .order_by(IdentityLink.created_at, IdentityLink.id), args)
    result["items"] = [_link_out(link) for link in result["items"]]
    return result


@blp.route("/users/<id:user_id>/identity-links", methods=["POST"])
@allow("manage", IdentityProvider)
@blp.arguments(IdentityLinkSchema)
@blp.response(201, IdentityLinkSchema)
def create_identity_link(body: dict[str, Any], user_id: int) -> dict[str, Any]:
    """Vouch that ``subject`` at the provider is this account (an account that
    existed before its establishment's provider); a subject already linked is 422."""
    user = load(User, user_id, api_user(), "manage")
    provider = load(IdentityProvider, body["provider_id"], api_user(), "manage")
    link = link_account(db.session, provider, body["subject"], user, actor=api_user(),
                        now=utc_now())
    commit()
    return _link_out(link)


@blp.route("/identity-links/<id:identity_link_id>", methods=["DELETE"])
@allow("manage", IdentityProvider)
@blp.response(204)
def delete_identity_link(identity_link_id: int) -> None:
    """The account no longer signs in through that subject; it stays."""
    link = db.session.get(IdentityLink, identity_link_id)
    if link is None:
        raise NotFound(N_("Not found."))
    service.unlink_account(db.session, link, actor=api_user(), now=utc_now())
    commit()

