"""``flask --app wsgi onboarding``: the bulk imports from the command line.

``import`` prints the preview of a file, line by line, then imports it
unless ``--dry-run``; the exit code is 1 when any line is refused (nothing is
written then). ``template`` writes a kind's template to standard output.
The command acts as an account (``--as``), so that the rules of the pages
apply and the audit trail names someone: by default the first admin.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from booking.extensions import db
from booking.onboarding.shown import KINDS, counts_sentence, line_view
from booking.services.accounts.operations import normalise_email
from booking.services.errors import DomainError
from booking.services.onboarding.plan import ImportRefused, Plan, import_file, preview
from booking.services.onboarding.template import FORMATS, template_file
from booking.services.tables import layout_for
from booking.timeutil import utc_now
from models import Role, User

onboarding_cli = AppGroup("onboarding", help="Import accounts, equipment, certifications.")
KIND = click.Choice([k for k, _title in KINDS])


def _actor(email: str | None) -> User:
    if email is None:
        user = db.session.scalar(select(User).where(User.role == Role.ADMIN,
                                                    User.active.is_(True)).order_by(User.id))
        if user is None:
            raise click.ClickException("no active admin account: name one with --as")
        return user
    try:
        address = normalise_email(email)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.active:
        raise click.ClickException(f"no active account uses {address}")
    return user


def _print(plan: Plan) -> None:
    for error in plan.errors:
        click.echo(f"error: {error.message}", err=True)
    for line in sorted(plan.lines, key=lambda x: x.number):
        shown = line_view(line)
        click.echo(f"{shown.number}\t{shown.status_label}\t{shown.key}")
        for column, before, after in shown.changes:
            click.echo(f"\t{column}: {before} → {after}")
        for error in shown.errors:
            click.echo(f"\t{error}")
    click.echo(counts_sentence(plan.counts))


@onboarding_cli.command("import")
@click.argument("kind", type=KIND)
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Print the preview; write nothing.")
@click.option("--as", "email", default=None, help="The account the import acts as.")
@click.option("--lang", default="en", type=click.Choice(["en", "fr"]),
              help="The language of the messages.")
def import_command(kind: str, file: click.File, email: str | None, dry_run: bool,
                   lang: str) -> None:
    """Import FILE (CSV or XLSX) of KIND: accounts, equipment or certifications."""
    data = file.read()  # type: ignore[attr-defined]
    with force_locale(lang):
        actor = _actor(email)
        now = utc_now()
        try:
            if dry_run:
                plan = preview(db.session, actor=actor, kind=kind, data=data, now=now)
                db.session.rollback()
            else:
                plan = import_file(db.session, actor=actor, kind=kind, data=data, now=now,
                                   source_name=getattr(file, "name", None))
                db.session.commit()
        except ImportRefused as refused:
            db.session.rollback()
            plan = refused.plan
        except DomainError as error:  # not allowed to import
            db.session.rollback()
            raise click.ClickException(error.message) from None
        _print(plan)
        if not plan.valid:
            sys.exit(1)


@onboarding_cli.command("template")
@click.argument("kind", type=KIND)
@click.option("--format", "file_format", default="csv", type=click.Choice(FORMATS))
@click.option("--lang", default="fr", type=click.Choice(["en", "fr"]),
              help="The language of the headers.")
def template_command(kind: str, file_format: str, lang: str) -> None:
    """Write the template of KIND to standard output."""
    with force_locale(lang):
        body, _mimetype, _name = template_file(kind, file_format, layout_for(lang))
    click.echo(body, nl=False)  # bytes: written as they are
