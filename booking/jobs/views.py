"""GET /jobs: each job, its last run, its next run, its last error; an admin
may run one now (in this request, through the same wrapper as the scheduler:
jobs are idempotent, so a run beside the scheduler's changes nothing twice).

A coordinator reads which exception ended a failed run, an admin its traceback
too: a traceback names server paths, and its message hosts or accounts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from booking.extensions import db
from booking.jobs import labels
from booking.permissions import require
from booking.timeutil import utc_now
from models import JobRun, SchedulerLease

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
EXCEPTION = re.compile(r"([A-Za-z_][\w.]*)(:|$)")


def error_summary(error: str) -> str:
    """The class of the exception that ended a run, without its module nor its
    message: the line after the traceback's last frame (indented lines)."""
    lines = error.strip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith(" ")]
    line = lines[frames[-1] + 1] if frames and frames[-1] + 1 < len(lines) else (
        lines[0] if lines else "")
    found = EXCEPTION.match(line)
    return found.group(1).rsplit(".", 1)[-1] if found else "Error"


def _interval(spec: Any) -> timedelta | None:
    minutes = spec.trigger_args.get("minutes")
    key = getattr(spec, "config_minutes", None)
    if key:
        minutes = current_app.config.get(key, minutes)
    hours = spec.trigger_args.get("hours")
    if minutes:
        return timedelta(minutes=minutes)
    return timedelta(hours=hours) if hours else None


@bp.route("")
@login_required
def index() -> str:
    require(current_user, "view", JobRun)
    from scheduler.jobs import JOBS

    last_ids = dict(db.session.execute(
        select(JobRun.job_id, func.max(JobRun.id)).group_by(JobRun.job_id)).all())
    runs = {run.job_id: run for run in db.session.scalars(
        select(JobRun).where(JobRun.id.in_(list(last_ids.values()))))} if last_ids else {}
    errors = {run.job_id: run for run in db.session.scalars(
        select(JobRun).where(JobRun.error.is_not(None)).order_by(JobRun.id))}
    rows = []
    for spec in JOBS:
        last = runs.get(spec.id)
        interval = _interval(spec)
        failed = errors.get(spec.id)
        rows.append({
            "spec": spec, "last": last, "last_error": failed,
            "error_summary": error_summary(failed.error or "") if failed else None,
            "next": (last.started_at + interval) if last and interval else None,
            "title": labels.title(spec.id),
            "description": labels.description(spec.id, spec.description),
            "summary": labels.summary(spec.id, last.summary) if last else "",
        })
    lease = db.session.get(SchedulerLease, "scheduler")
    alive = lease is not None and lease.expires_at > utc_now()
    return render_template("jobs/index.html", rows=rows, lease=lease, alive=alive)


@bp.route("/<job_id>/run", methods=["POST"])
@login_required
def run_now(job_id: str) -> Response:
    require(current_user, "run", JobRun)
    from scheduler.jobs import job_by_id, run_job

    try:
        spec = job_by_id(job_id)
    except KeyError:
        abort(404)
    db.session.rollback()  # the job opens its own writer transaction
    run = run_job(current_app._get_current_object(), spec, holder=None,  # type: ignore[attr-defined]
                  requested_by_id=current_user.id)
    if run is not None and run.error:
        flash(_("The job failed: see its last error."), "error")
    else:
        flash(_("%(job)s run: %(summary)s", job=labels.title(spec.id),
                summary=labels.summary(spec.id, run.summary) if run else "-"), "success")
    return redirect(url_for("jobs.index"))
