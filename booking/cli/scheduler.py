"""``flask --app wsgi scheduler run`` and ``scheduler run-job ID``."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup

scheduler_cli = AppGroup("scheduler", help="Background jobs.")


@scheduler_cli.command("run")
def run_command() -> None:
    """Run the scheduler in the foreground until stopped (Ctrl-C, SIGTERM)."""
    from scheduler.runner import run

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("run-job")
@click.argument("job_id")
def run_job_command(job_id: str) -> None:
    """Run one job once, now, outside the lease (for operators and tests)."""
    from scheduler.jobs import job_by_id, run_job

    try:
        spec = job_by_id(job_id)
    except KeyError:
        raise click.ClickException(f"no job {job_id!r}") from None
    result = run_job(current_app._get_current_object(), spec, holder=None)  # type: ignore[attr-defined]
    if result is not None and result.error:
        raise click.ClickException(result.error)
    click.echo(result.summary if result else "skipped")
