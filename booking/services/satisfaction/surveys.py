"""Satisfaction questionnaires: sent at a project's completion, answered once
through a link that needs no account.

Each respondent of a completed project (the company contact, each learner
with an e-mail whose data is not erased) gets one survey row and one mail.
The link's token is ``sealed_token("survey", project_id, secret, key)``
(booking.services.feeds: HMAC-SHA256 under SECRET_KEY), with a random secret
kept nowhere: only the token's SHA-256 is stored, so neither the database nor
the app can show the link again. Answering consumes it (``answered_at``).

Sending is idempotent per respondent: the project's row is locked first
(PostgreSQL ``SELECT … FOR UPDATE``; SQLite writers are serialised by
booking.database.begin_write), then the respondents already surveyed are
skipped, so two runs (the job twice, the job and a coordinator) send once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from booking.permissions import require
from booking.services import audit
from booking.services.errors import N_, InvalidState, NotFound, ValidationError
from booking.services.feeds.operations import digest, sealed_token, usable_token
from booking.services.messaging.notifications import SITE, render_in
from booking.services.messaging.outbox import Mail, enqueue
from models import Project, ProjectStatus, User
from models.attendance import Learner
from models.satisfaction import RATINGS, Respondent, SatisfactionSurvey

PURPOSE = "survey"
DEFAULT_VALID_DAYS = 30
COMMENT_MAX_LENGTH = 2000
# A completed project older than this (by its last change, the completion) is
# left to the coordinators: the job does not survey projects completed before
# the feature existed, months after their end.
JOB_WINDOW = timedelta(days=30)
JOB_BATCH = 200

SUBJECT = N_("Your opinion on the training “%(title)s”")
BODY = N_(
    "Hello,\n\nThe training “%(title)s” is over. Would you tell us what you thought of it? "
    "The questionnaire has six questions and takes two minutes; it needs no account.\n\n"
    "Your link works once, until %(until)s:\n\n%(link)s\n\n"
    "The learners' answers are anonymous: nobody sees who answered what.\n\n"
    "Thank you,\nThe Plateforme team")


class SurveyGone(InvalidState):
    """A link that existed but can no longer be used (answered or expired)."""

    code = "survey_gone"
    status = 410


@dataclass(frozen=True)
class Recipient:
    respondent: Respondent
    email: str
    locale: str
    learner_id: int | None = None


def survey_path(token: str) -> str:
    return f"/survey/{token}"


def recipients(session: Session, project: Project) -> list[Recipient]:
    """Who is asked: the contact (the project's contact e-mail, else its
    requester's), in the requester's language (French when unknown); each
    learner with an e-mail and not erased, in French (a learner has no account)."""
    found: list[Recipient] = []
    requester = project.requested_by
    locale = (requester.locale if requester is not None else None) or "fr"
    contact = project.contact_email.strip() or (
        requester.email if requester is not None and requester.active else "")
    if contact:
        found.append(Recipient(Respondent.CONTACT, contact, locale))
    learners = session.scalars(
        select(Learner).where(Learner.project_id == project.id, Learner.erased_at.is_(None),
                              Learner.email.is_not(None), func.length(Learner.email) > 0)
        .order_by(Learner.id))
    found.extend(Recipient(Respondent.LEARNER, learner.email.strip(), "fr", learner.id)
                 for learner in learners if learner.email and learner.email.strip())
    return found


def _already(session: Session, project: Project) -> tuple[bool, set[int]]:
    """Whether the contact was surveyed, and which learners were."""
    rows = session.execute(select(SatisfactionSurvey.respondent, SatisfactionSurvey.learner_id)
                           .where(SatisfactionSurvey.project_id == project.id)).all()
    contact = any(r.respondent is Respondent.CONTACT for r in rows)
    return contact, {r.learner_id for r in rows if r.learner_id is not None}


def unsent(session: Session, project: Project) -> list[Recipient]:
    """The respondents of a completed project not surveyed yet (what « send now » sends)."""
    if project.status is not ProjectStatus.COMPLETED:
        return []
    contact_done, learners_done = _already(session, project)
    return [r for r in recipients(session, project)
            if not (r.respondent is Respondent.CONTACT and contact_done)
            and not (r.learner_id is not None and r.learner_id in learners_done)]


def _send_project(session: Session, project: Project, *, now: datetime, key: str,
                  valid_days: int, notify: bool = True) -> list[SatisfactionSurvey]:
    # The lock first: a concurrent sender waits here, then sees the rows written.
    session.refresh(project, with_for_update=True)
    expires = now + timedelta(days=valid_days)
    sent: list[SatisfactionSurvey] = []
    for recipient in unsent(session, project):
        token = sealed_token(PURPOSE, project.id, secrets.token_urlsafe(32), key)
        survey = SatisfactionSurvey(
            project_id=project.id, respondent=recipient.respondent,
            learner_id=recipient.learner_id, email=recipient.email[:254],
            locale=recipient.locale, token_digest=digest(token), sent_at=now,
            expires_at=expires)
        session.add(survey)
        session.flush()
        sent.append(survey)
        if not notify:  # the demo: the rows, no mail (its answers are written for it)
            continue
        enqueue(session, Mail(
            to=recipient.email,
            subject=render_in(recipient.locale, SUBJECT, title=project.title),
            body=render_in(recipient.locale, BODY, title=project.title, until=expires.date(),
                           link=SITE + survey_path(token))),
            now=now, dedupe_key=f"survey:{survey.id}")
    return sent


def send_surveys(session: Session, now: datetime, *, key: str,
                 valid_days: int = DEFAULT_VALID_DAYS) -> int:
    """The job: survey each project completed lately that has no survey yet;
    answers the number of surveys sent. Run twice, it sends nothing more."""
    surveyed = exists().where(SatisfactionSurvey.project_id == Project.id)
    projects = list(session.scalars(
        select(Project).where(Project.status == ProjectStatus.COMPLETED,
                              Project.updated_at >= now - JOB_WINDOW, ~surveyed)
        .order_by(Project.id).limit(JOB_BATCH)))
    count = 0
    for project in projects:
        sent = _send_project(session, project, now=now, key=key, valid_days=valid_days)
        if sent:
            audit.record(session, actor=None, action="project.surveys_sent",
                         object_type="project", object_id=project.id, now=now,
                         survey_ids=[s.id for s in sent])
        count += len(sent)
    return count


def send_project_surveys(session: Session, project: Project, *, actor: User, now: datetime,
                         key: str, valid_days: int = DEFAULT_VALID_DAYS, notify: bool = True
                         ) -> list[SatisfactionSurvey]:
    """A coordinator sends a completed project's questionnaires now: to each
    respondent not surveyed yet (a learner added since is asked too)."""
    require(actor, "send_surveys", project,
            N_("Only coordinators and admins send the satisfaction questionnaires."))
    if project.status is not ProjectStatus.COMPLETED:
        raise InvalidState(N_("The questionnaires are sent once the project is completed."),
                           {"status": project.status.value})
    sent = _send_project(session, project, now=now, key=key, valid_days=valid_days,
                         notify=notify)
    if not sent:
        raise InvalidState(N_("Every respondent of this project has already received the "
                              "questionnaire (a learner needs an e-mail address to receive it)."),
                           {"project_id": project.id})
    audit.record(session, actor=actor, action="project.surveys_sent", object_type="project",
                 object_id=project.id, now=now, survey_ids=[s.id for s in sent])
    return sent


def forget_learner(session: Session, learner_id: int) -> int:
    """GDPR erasure of a learner: blank the address their surveys keep (the
    answers stay, anonymous). Answers the number of surveys changed. The
    learner's erasure (booking.services.attendance) calls it."""
    changed = 0
    for survey in session.scalars(select(SatisfactionSurvey).where(
            SatisfactionSurvey.learner_id == learner_id, SatisfactionSurvey.email != "")):
        survey.email = ""
        changed += 1
    session.flush()
    return changed


# --- answering --------------------------------------------------------------------------------


def survey_for_token(session: Session, token: str, *, now: datetime) -> SatisfactionSurvey:
    """The open survey of ``token``: NotFound for a token no survey has (or one
    not worth looking up), SurveyGone once answered or expired."""
    if not isinstance(token, str) or not usable_token(token):
        raise NotFound(N_("This link is unknown. Check that you copied all of it."))
    survey = session.scalar(select(SatisfactionSurvey)
                            .where(SatisfactionSurvey.token_digest == digest(token)))
    if survey is None:
        raise NotFound(N_("This link is unknown. Check that you copied all of it."))
    if survey.answered_at is not None:
        raise SurveyGone(N_("This questionnaire has already been answered. Thank you!"))
    if survey.expires_at <= now:
        raise SurveyGone(N_("This questionnaire closed on %(date)s."),
                         date=survey.expires_at.date())
    return survey


@dataclass(frozen=True)
class Answer:
    ratings: dict[str, int]  # each of RATINGS, 1 to 5
    would_recommend: bool
    comment: str = ""


def check_answer(answer: Answer) -> None:
    for name in RATINGS:
        value = answer.ratings.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise ValidationError(N_("Each question is answered with a mark from 1 to 5."),
                                  {"field": name})
    if not isinstance(answer.would_recommend, bool):
        raise ValidationError(N_("Say whether you would recommend this training."),
                              {"field": "would_recommend"})
    if len(answer.comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(N_("The comment is limited to %(max)d characters."),
                              {"field": "comment"}, max=COMMENT_MAX_LENGTH)


def answer_survey(session: Session, token: str, answer: Answer, *,
                  now: datetime) -> SatisfactionSurvey:
    """Record the answer and consume the link. The row is locked and checked
    again, so of two submissions of one link the second is refused (SurveyGone)."""
    survey = survey_for_token(session, token, now=now)
    check_answer(answer)
    session.refresh(survey, with_for_update=True)
    survey = survey_for_token(session, token, now=now)
    for name in RATINGS:
        setattr(survey, name, answer.ratings[name])
    survey.would_recommend = answer.would_recommend
    survey.comment = answer.comment.strip() or None
    survey.answered_at = now
    session.flush()
    return survey
