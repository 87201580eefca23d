"""« Connexion des établissements »: the identity providers an admin configures,
each establishment's local passwords, and an account's links to providers.

The service (booking.services.accounts.providers) checks everything, the
protocol's own settings included; these handlers load, call, and put a refusal
next to the field it names ("settings.issuer" next to the issuer).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from booking.admin.blueprint import bp
from booking.admin.provider_forms import (
    KIND_LABELS,
    KIND_SETTINGS,
    REQUIRED_SETTINGS,
    ChooseKindForm,
    DeleteProviderForm,
    EditProviderForm,
    LinkForm,
    LocalPasswordsForm,
    NewProviderForm,
    ProviderFields,
    UnlinkForm,
)
from booking.auth.sso.urls import callback_url, metadata_url
from booking.extensions import db
from booking.handlers import field_of, get_or_404, submit
from booking.services.accounts import providers as service
from booking.services.accounts.provisioning import link_account
from booking.services.errors import DomainError
from booking.timeutil import utc_now
from models import Establishment, IdentityLink, IdentityProvider, User


def _provider(provider_id: int) -> IdentityProvider:
    return get_or_404(IdentityProvider, provider_id, current_user, "manage")


def addresses(provider: IdentityProvider) -> dict[str, str]:
    """What the establishment's IT staff configure on their side."""
    if provider.kind == "saml":
        return {"metadata": metadata_url(provider)}
    if provider.kind in ("oidc", "cas"):
        return {"callback": callback_url(provider)}
    return {}


@bp.route("/identity-providers")
def providers() -> str:
    rows = list(db.session.scalars(
        select(IdentityProvider).options(selectinload(IdentityProvider.establishment))
        .join(Establishment).order_by(Establishment.name, IdentityProvider.label)))
    counts = service.linked_accounts(db.session, [p.id for p in rows])
    # Passwords can only be turned off where a provider exists; where they are
    # off, the switch to turn them back on is shown too.
    places = list(db.session.scalars(
        select(Establishment).where(
            Establishment.id.in_({p.establishment_id for p in rows})
            | Establishment.local_passwords.is_(False))
        .order_by(Establishment.name)))
    return render_template(
        "admin/providers.html", providers=rows, counts=counts, places=places,
        addresses={p.id: addresses(p) for p in rows}, provider_kinds=KIND_LABELS,
        enabled_in={p.establishment_id for p in rows if p.enabled})


def _establishment_choices() -> list[tuple[int, str]]:
    return [(e.id, f"{e.name} ({e.city})") for e in
            db.session.scalars(select(Establishment).order_by(Establishment.name))]


def _place(form: ProviderFields | Any, error: DomainError, rows: list[int]) -> None:
    """Next to its field: settings.issuer → issuer, role_rules.2.value → the
    value of the third filled row, establishment_id → establishment."""
    name = field_of(error) or ""
    target: str | None = None
    if name.startswith("settings.") and name.removeprefix("settings.") in form:
        target = name.removeprefix("settings.")
    elif name.startswith("role_rules."):
        parts = name.split(".")
        if parts[1].isdigit() and int(parts[1]) < len(rows):
            part = parts[2] if len(parts) > 2 else "role"
            target = f"rule_{rows[int(parts[1])]}_{part}"
    elif name in ("label", "code", "default_role", "enabled"):
        target = name
    elif name in ("establishment", "establishment_id"):
        target = "establishment"
    if target is not None and target in form:
        form[target].errors = [*form[target].errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/identity-providers/new", methods=["GET", "POST"])
def provider_new() -> str | Response:
    """First the protocol (it decides the fields), then the provider."""
    chooser = ChooseKindForm(request.args)
    if "kind" not in request.args or not chooser.validate():
        if request.method == "POST":
            abort(400)
        return render_template("admin/provider_choose.html", form=chooser)
    kind = chooser.kind.data
    form = NewProviderForm()
    form.establishment.choices = _establishment_choices()
    if form.validate_on_submit():
        rules, rows = form.rules()
        done = submit(lambda: service.create_provider(
            db.session, actor=current_user, now=utc_now(),
            establishment=_chosen_establishment(form.establishment.data), kind=kind,
            code=form.code.data, label=form.label.data, settings=form.settings(kind),
            role_rules=rules, default_role=form.default_role.data or None,
            enabled=form.enabled.data), on_error=lambda error: _place(form, error, rows),
            success=lambda p: _("Identity provider %(label)s added.", label=p.label))
        if done:
            return redirect(url_for("admin.providers"))
    return render_template("admin/provider_form.html", form=form, kind=kind, provider=None,
                           fields=KIND_SETTINGS[kind], provider_kinds=KIND_LABELS, secrets={},
                           required=REQUIRED_SETTINGS[kind])


def _chosen_establishment(establishment_id: int) -> Establishment:
    return get_or_404(Establishment, establishment_id, current_user, "manage")


@bp.route("/identity-providers/<id:provider_id>/edit", methods=["GET", "POST"])
def provider_edit(provider_id: int) -> str | Response:
    provider = _provider(provider_id)
    form = EditProviderForm()
    secrets = service.secrets_set(provider)
    if request.method == "GET":
        form.fill_from(provider, service.public_settings(provider))
    if form.validate_on_submit():
        rules, rows = form.rules()
        changes: dict[str, Any] = {
            "code": form.code.data, "label": form.label.data,
            "settings": form.settings(provider.kind), "role_rules": rules,
            "default_role": form.default_role.data or None, "enabled": form.enabled.data}
        if form.forget_secret.data:
            changes["forget_secrets"] = list(service.SECRETS)
        done = submit(lambda: service.update_provider(
            db.session, provider, actor=current_user, now=utc_now(), **changes),
            on_error=lambda error: _place(form, error, rows),
            success=lambda p: _("Identity provider %(label)s saved.", label=p.label))
        if done:
            return redirect(url_for("admin.providers"))
    return render_template("admin/provider_form.html", form=form, kind=provider.kind,
                           provider=provider, fields=KIND_SETTINGS[provider.kind],
                           provider_kinds=KIND_LABELS, secrets=secrets,
                           required=REQUIRED_SETTINGS[provider.kind],
                           addresses=addresses(provider))


@bp.route("/identity-providers/<id:provider_id>/delete", methods=["GET", "POST"])
def provider_delete(provider_id: int) -> str | Response:
    """Asks to confirm; the accounts stay, without their link to it."""
    provider = _provider(provider_id)
    form = DeleteProviderForm()
    label = provider.label
    if form.validate_on_submit() and submit(
            lambda: service.delete_provider(db.session, provider, actor=current_user,
                                            now=utc_now()),
            success=_("Identity provider %(label)s deleted.", label=label)):
        return redirect(url_for("admin.providers"))
    linked = service.linked_accounts(db.session, [provider.id]).get(provider.id, 0)
    return render_template("admin/provider_delete.html", provider=provider, form=form,
                           linked=linked)


@bp.route("/establishments/<id:establishment_id>/local-passwords", methods=["POST"])
def local_passwords(establishment_id: int) -> Response:
    """Turn the establishment's local passwords on or off; the service refuses
    « off » while no provider of it is enabled (said in a flash)."""
    establishment = get_or_404(Establishment, establishment_id, current_user, "manage")
    form = LocalPasswordsForm()
    if not form.validate_on_submit():
        flash(_("Choose whether local passwords are allowed."), "error")
        return redirect(url_for("admin.providers"))
    allowed = form.allowed.data == "on"
    submit(lambda: service.set_local_passwords(
        db.session, establishment, allowed, actor=current_user, now=utc_now()),
        success=(_("%(name)s: local passwords allowed.", name=establishment.name)
                 if allowed else
                 _("%(name)s: local passwords turned off; its people sign in through "
                   "its identity providers.", name=establishment.name)))
    return redirect(url_for("admin.providers"))


# --- an account's links ---------------------------------------------------------------


@bp.route("/accounts/<id:user_id>/sign-in", methods=["GET", "POST"])
def account_identities(user_id: int) -> str | Response:
    """The providers this account signs in through, and linking one more (an
    account that existed before its establishment's provider)."""
    user = get_or_404(User, user_id, current_user, "manage")
    form = LinkForm()
    form.provider.choices = [
        (p.id, f"{p.label} — {p.establishment.name} ({KIND_LABELS[p.kind]})")
        for p in db.session.scalars(
            select(IdentityProvider).options(selectinload(IdentityProvider.establishment))
            .order_by(IdentityProvider.label))]
    if form.validate_on_submit():
        provider = _provider(form.provider.data)
        if submit(lambda: link_account(db.session, provider, form.subject.data, user,
                                       actor=current_user, now=utc_now()),
                  form=form, fields={"subject": "subject", "provider": "provider"},
                  success=_("%(name)s is linked to %(provider)s.", name=user.name,
                            provider=provider.label)):
            return redirect(url_for("admin.account_identities", user_id=user.id))
    links = list(db.session.scalars(
        select(IdentityLink).options(selectinload(IdentityLink.provider))
        .where(IdentityLink.user_id == user.id).order_by(IdentityLink.created_at)))
    return render_template("admin/account_identities.html", user=user, form=form,
                           links=links, unlink=UnlinkForm(), provider_kinds=KIND_LABELS)


@bp.route("/identity-links/<id:identity_link_id>/remove", methods=["POST"])
def identity_link_remove(identity_link_id: int) -> Response:
    link = db.session.get(IdentityLink, identity_link_id)
    if link is None:
        abort(404)
    user = get_or_404(User, link.user_id, current_user, "manage")
    label = link.provider.label
    form = UnlinkForm()
    if form.validate_on_submit():
        submit(lambda: service.unlink_account(db.session, link, actor=current_user,
                                              now=utc_now()),
               success=_("The link of %(name)s to %(provider)s is removed.", name=user.name,
                         provider=label))
    return redirect(url_for("admin.account_identities", user_id=user.id))
