"""``flask --app wsgi users create``: accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from booking.extensions import db
from booking.services.accounts.operations import create_user
from booking.services.errors import ValidationError
from booking.timeutil import utc_now
from models import Role

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, help="One of: " + ", ".join(r.value for r in Role))
@click.option("--password", required=True)
@click.option("--establishment", "establishment_code", default=None,
              help="Code of the user's establishment.")
@click.option("--company", "company_name", default=None, help="Name of the user's company.")
@click.option("--temporary", is_flag=True,
              help="The password is for someone else: they replace it at first sign-in.")
def create(email: str, name: str, role: str, password: str,
           establishment_code: str | None, company_name: str | None, temporary: bool) -> None:
    """Create an account; nothing is written if any field is refused."""
    try:
        user = create_user(
            db.session, email=email, name=name, role=role, password=password,
            now=utc_now(), establishment_code=establishment_code, company_name=company_name,
        )
        # The operator's own account (the first admin of a deployment) keeps its
        # password; one typed for someone else is replaced at first sign-in.
        user.must_change_password = temporary
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    click.echo(f"created user {user.id}: {user.email} ({user.role.value})")
