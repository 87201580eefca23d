"""Pages of satisfaction (issue 15).

``/survey/<token>`` is the questionnaire a respondent opens from their mail:
no login; its form carries a CSRF token bound to the session cookie (as the
mailed password links' page does). It is shown in the language chosen with
the switch, else the browser's if it prefers English, else French. An unknown
token answers 404, an answered or expired one 410, both with a page saying so.

The project page's « Satisfaction » card (templates/satisfaction/_project.html)
reads :func:`satisfaction_card`; coordinators send the questionnaires of a
completed project from it. ``/satisfaction/`` aggregates the answers per
machine, trainer and establishment for staff, with a CSV download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from booking import labels
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.labels import RESPONDENT_LABELS
from booking.permissions import may, require
from booking.request_memo import per_request
from booking.satisfaction.forms import (
    QUESTIONS,
    RATING_LABELS,
    PeriodForm,
    SendSurveysForm,
    SurveyForm,
)
from booking.services.errors import N_, DomainError, ValidationError
from booking.services.satisfaction import results as satisfaction
from booking.services.satisfaction import surveys
from booking.services.satisfaction.access import SatisfactionResults
from booking.services.tables import Column, Table, csv_bytes, layout_for
from booking.timeutil import utc_now
from models import Project, ProjectStatus
from models.satisfaction import RATINGS

bp = Blueprint("satisfaction", __name__)

GROUP_TITLES: dict[str, Any] = {
    "equipment": _l("Per machine"),
    "trainer": _l("Per trainer"),
    "establishment": _l("Per establishment"),
}
GROUP_HEADS: dict[str, Any] = {
    "equipment": _l("Equipment"),
    "trainer": _l("Trainer"),
    "establishment": _l("Establishment"),
}


@bp.app_template_filter("satisfaction_mark")
def _mark(value: float | None) -> str:
    """An average mark, « 4,25 » (a dash without answers)."""
    return "—" if value is None else labels.quantity(round(value * 100), get_locale())


@bp.app_template_filter("satisfaction_share")
def _share(value: float | None) -> str:
    """A fraction as a per cent, « 66,67 % » (a dash without figures)."""
    return "—" if value is None else labels.rate(round(value * 10000), get_locale())


# --- the questionnaire -----------------------------------------------------------------------


def _survey_locale() -> str:
    """The switch's choice, else English when the browser prefers it, else French."""
    languages = list(current_app.config["LANGUAGES"])
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or "fr"


def _private(answer: Response) -> Response:
    # The address is a secret: kept out of search engines, caches and referrers.
    answer.headers["X-Robots-Tag"] = "noindex, nofollow"
    answer.headers["Cache-Control"] = "private, no-store"
    answer.headers["Referrer-Policy"] = "no-referrer"
    return answer


def _answer(form: SurveyForm) -> surveys.Answer:
    return surveys.Answer(
        ratings={name: getattr(form, name).data for name in RATINGS},
        would_recommend=form.would_recommend.data == "yes",
        comment=form.comment.data or "")


@bp.route("/survey/<survey_token>", methods=["GET", "POST"], endpoint="survey")
def survey(survey_token: str) -> Response:
    with force_locale(_survey_locale()):
        now = utc_now()
        try:
            found = surveys.survey_for_token(db.session, survey_token, now=now)
        except DomainError as exc:  # NotFound (404) or SurveyGone (410)
            db.session.rollback()
            return _private(make_response(render_template(
                "satisfaction/gone.html", message=exc.message, code=exc.status), exc.status))
        form = SurveyForm()
        if form.validate_on_submit():
            done = submit(lambda: surveys.answer_survey(db.session, survey_token, _answer(form),
                                                        now=now), form=form)
            if done:
                return _private(make_response(render_template("satisfaction/thanks.html")))
            if done.error is not None and done.error.status in (404, 410):
                return _private(make_response(render_template(
                    "satisfaction/gone.html", message=done.error.message,
                    code=done.error.status), done.error.status))
        return _private(make_response(render_template(
            "satisfaction/survey.html", form=form, survey=found, project=found.project,
            ratings=RATINGS, questions=QUESTIONS)))


# --- the project page's card ------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    results: satisfaction.ProjectResults
    unsent: int
    may_send: bool


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    @per_request
    def satisfaction_card(project: Project) -> Card | None:
        """None for those who may not read the project's results (trainers)."""
        if not may(current_user, "satisfaction", project):
            return None
        results = satisfaction.project_results(db.session, project, actor=current_user)
        may_send = (may(current_user, "send_surveys", project)
                    and project.status is ProjectStatus.COMPLETED)
        unsent = len(surveys.unsent(db.session, project)) if may_send else 0
        return Card(results, unsent, may_send)

    return {"satisfaction_card": satisfaction_card, "satisfaction_send_form": SendSurveysForm,
            "satisfaction_ratings": RATINGS, "satisfaction_rating_labels": RATING_LABELS,
            "respondent_labels": RESPONDENT_LABELS}


@bp.route("/projects/<id:project_id>/satisfaction/send", methods=["POST"], endpoint="send")
@login_required
def send(project_id: int) -> Response:
    project = get_or_404(Project, project_id, current_user, "send_surveys")
    form = SendSurveysForm()
    if form.validate_on_submit():
        submit(lambda: surveys.send_project_surveys(
            db.session, project, actor=current_user, now=utc_now(),
            key=current_app.config["SECRET_KEY"],
            valid_days=int(current_app.config.get("SURVEY_VALID_DAYS", 30))),
            success=lambda sent: _sent_message(len(sent)))
    return redirect(url_for("projects.show", project_id=project.id, _anchor="satisfaction"))


def _sent_message(count: int) -> str:
    return ngettext("%(num)d questionnaire sent.", "%(num)d questionnaires sent.", count)


# --- the aggregate ----------------------------------------------------------------------------


def _period() -> tuple[PeriodForm, date | None, date | None]:
    form = PeriodForm(request.args)
    form.validate()
    start, end = form.start.data, form.end.data
    if start is not None and end is not None and start > end:
        form.end.errors = [*form.end.errors, _("The period ends before it begins.")]
        start = end = None
    return form, start, end


@bp.route("/satisfaction/", endpoint="index")
@login_required
def index() -> str:
    require(current_user, "view", SatisfactionResults,
            N_("The satisfaction results of the campus are for coordinators and admins."))
    form, start, end = _period()
    groups = {group: satisfaction.aggregate(db.session, current_user, group, start, end)
              for group in satisfaction.GROUPS}
    query = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    return render_template("satisfaction/index.html", form=form, groups=groups,
                           titles=GROUP_TITLES, heads=GROUP_HEADS, ratings=RATINGS,
                           rating_labels=RATING_LABELS, query=query)


def _table(group: str, rows: list[satisfaction.Row]) -> Table:
    columns = [Column(str(GROUP_HEADS[group]), width=30), Column(_("Projects"), width=10),
               Column(_("Sent"), width=10), Column(_("Answered"), width=10),
               Column(_("Response rate"), percent=True, decimals=4),
               *(Column(str(RATING_LABELS[name])) for name in RATINGS),
               Column(_("Would recommend"), percent=True, decimals=4)]
    return Table(str(GROUP_TITLES[group]), columns, [
        [row.label, row.projects, row.sent, row.answered, row.response_rate,
         *(row.averages[name] for name in RATINGS), row.recommend_rate] for row in rows])


@bp.route("/satisfaction/export.csv", endpoint="export_csv")
@login_required
def export_csv() -> Response:
    """One group's rows (``group_by``, machines by default) for the period."""
    require(current_user, "view", SatisfactionResults,
            N_("The satisfaction results of the campus are for coordinators and admins."))
    group = request.args.get("group_by", "equipment")
    if group not in satisfaction.GROUPS:
        abort(400, description=_("group_by is one of %(groups)s.",
                                 groups=", ".join(satisfaction.GROUPS)))
    _form, start, end = _period()
    try:
        rows = satisfaction.aggregate(db.session, current_user, group, start, end)
    except ValidationError as exc:
        abort(400, description=exc.message)
    body = csv_bytes(_table(group, rows), layout_for(get_locale()))
    name = f"satisfaction-{group}.csv"
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "private, no-store",
                             "Content-Disposition": f'attachment; filename="{name}"'})

