"""``flask --app wsgi providers ...``: the establishments' identity providers
from the command line (the same service as the admin's pages and the API)."""

from __future__ import annotations

import json
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from booking.extensions import db
from booking.services.accounts.providers import (
    create_provider,
    delete_provider,
    provider_by_code,
    set_local_passwords,
)
from booking.services.accounts.provisioning import link_account
from booking.services.errors import DomainError
from booking.timeutil import utc_now
from models import PROVIDER_KINDS, Establishment, IdentityProvider, User

providers_cli = AppGroup("providers", help="Sign-in through the establishments' identity "
                                           "providers (docs/authentication.md).")


def _json(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"{what} is not JSON: {exc}") from None


def _establishment(code: str) -> Establishment:
    place = db.session.scalar(select(Establishment).where(Establishment.code == code))
    if place is None:
        raise click.ClickException(f"no establishment has the code {code!r}")
    return place


def _provider(code: str) -> IdentityProvider:
    provider = provider_by_code(db.session, code)
    if provider is None:
        raise click.ClickException(f"no identity provider has the code {code!r}")
    return provider


@providers_cli.command("add")
@click.option("--establishment", "establishment_code", required=True)
@click.option("--kind", required=True, type=click.Choice(PROVIDER_KINDS))
@click.option("--code", required=True, help="Its part of the URLs: /auth/sso/<code>/...")
@click.option("--label", required=True, help="The button says « Se connecter avec <label> ».")
@click.option("--settings", "settings_json", required=True, help="The protocol's settings, JSON.")
@click.option("--rules", "rules_json", default=None,
              help='JSON list: [{"attribute": "eduPersonAffiliation", "value": "staff", '
                   '"role": "trainer"}]')
@click.option("--default-role", type=click.Choice(["trainer", "coordinator"]), default=None)
@click.option("--disabled", is_flag=True)
def add(establishment_code: str, kind: str, code: str, label: str, settings_json: str,
        rules_json: str | None, default_role: str | None, disabled: bool) -> None:
    """Add an identity provider; prints its id."""
    try:
        provider = create_provider(
            db.session, actor=None, establishment=_establishment(establishment_code), kind=kind,
            code=code, label=label, settings=_json(settings_json, "--settings"),
            role_rules=_json(rules_json, "--rules"), default_role=default_role,
            enabled=not disabled, now=utc_now())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message} {exc.details or ''}".strip()) from None
    click.echo(provider.id)


@providers_cli.command("list")
def list_() -> None:
    rows = db.session.scalars(select(IdentityProvider).order_by(IdentityProvider.code))
    for p in rows:
        state = "on" if p.enabled else "off"
        click.echo(f"{p.id}\t{p.code}\t{p.kind}\t{state}\t{p.establishment.code}\t{p.label}")


@providers_cli.command("remove")
@click.argument("code")
def remove(code: str) -> None:
    """Remove a provider; its accounts stay, without their link to it."""
    delete_provider(db.session, _provider(code), actor=None, now=utc_now())
    db.session.commit()


@providers_cli.command("local-passwords")
@click.argument("establishment_code")
@click.argument("state", type=click.Choice(["on", "off"]))
def local_passwords(establishment_code: str, state: str) -> None:
    """Let an establishment's trainers and coordinators use passwords, or not."""
    try:
        set_local_passwords(db.session, _establishment(establishment_code), state == "on",
                            actor=None, now=utc_now())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None


@providers_cli.command("link")
@click.argument("code")
@click.argument("subject")
@click.argument("email")
def link(code: str, subject: str, email: str) -> None:
    """Link an existing account to its identifier (subject) at a provider."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account uses {email!r}")
    try:
        link_account(db.session, _provider(code), subject, user, actor=None, now=utc_now())
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
