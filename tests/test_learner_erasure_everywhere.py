"""Erasing a learner (on request or at the end of the retention period) also
blanks the address their satisfaction questionnaire keeps; the answer stays,
anonymous (GDPR, issue 15)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from booking.services.attendance.learners import erase_learner
from booking.services.attendance.retention import erase_expired
from models import (
    Learner,
    LearnerPublic,
    Project,
    ProjectStatus,
    Respondent,
    SatisfactionSurvey,
)
from tests.conftest import NOW


def _project(db, make, company_user, status=ProjectStatus.COMPLETED) -> Project:
    project = Project(company_id=company_user.company_id, requested_by=company_user,
                      title="Émulsions", learners=2, wanted_from=NOW.date(),
                      wanted_to=NOW.date(), status=status, updated_at=NOW)
    db.add(project)
    db.flush()
    return project


def _learner_with_answer(db, project, email: str) -> tuple[Learner, SatisfactionSurvey]:
    learner = Learner(project_id=project.id, first_name="Léa", last_name="Garnier",
                      email=email, public=LearnerPublic.EMPLOYEE, created_at=NOW)
    db.add(learner)
    db.flush()
    survey = SatisfactionSurvey(
        project_id=project.id, respondent=Respondent.LEARNER, learner_id=learner.id,
        email=email, token_digest=email.encode().hex()[:64], sent_at=NOW,
        expires_at=NOW + timedelta(days=30), answered_at=NOW, overall=5, content=4,
        trainer=5, equipment=4, organisation=4, objectives=5, would_recommend=True,
        comment="Très concret")
    db.add(survey)
    db.flush()
    return learner, survey


def test_erasure_on_request_blanks_the_survey_address_and_keeps_the_answer(
        app, db, make) -> None:
    company = make.user(role="company")
    project = _project(db, make, company)
    learner, survey = _learner_with_answer(db, project, "lea@labo.example")
    with app.app_context():
        erase_learner(db, actor=company, learner=learner, now=NOW)
    db.expire_all()
    assert (learner.first_name, learner.last_name, learner.email) == ("", "", None)
    assert survey.email == ""
    assert (survey.overall, survey.comment) == (5, "Très concret")
    assert db.scalar(select(SatisfactionSurvey.id).where(
        SatisfactionSurvey.email == "lea@labo.example")) is None


def test_the_retention_job_blanks_the_survey_address_too(app, db, make) -> None:
    company = make.user(role="company")
    project = _project(db, make, company)
    learner, survey = _learner_with_answer(db, project, "old@labo.example")
    with app.app_context():
        assert erase_expired(db, now=NOW + timedelta(days=400), days=365) == 1
        assert erase_expired(db, now=NOW + timedelta(days=400), days=365) == 0
    db.expire_all()
    assert learner.erased_at is not None
    assert survey.email == ""
    assert survey.answered_at is not None
    assert survey.overall == 5
