"""``flask --app wsgi demo load``: the demo campus, loaded idempotently."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from booking.database import begin_write
from booking.extensions import db
from booking.services.policy import Policy
from booking.timeutil import utc_now

demo_cli = AppGroup("demo", help="Demo campus.")


@demo_cli.command("load")
def load() -> None:
    """Load the demo campus; existing rows are kept, nothing is duplicated."""
    from booking.demo.campus import load_demo_campus

    begin_write(db.session)
    created = load_demo_campus(db.session, now=utc_now(),
                               policy=Policy.from_config(current_app.config))
    db.session.commit()
    total = sum(created.values())
    if total == 0:
        click.echo("demo campus already loaded: nothing to add")
    else:
        click.echo("demo campus loaded: " + ", ".join(f"{n} {k}" for k, n in created.items() if n))
