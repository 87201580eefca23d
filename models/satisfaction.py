"""Satisfaction questionnaires sent at a project's completion.

Each respondent (the company contact, each learner with an e-mail) gets a
single-use link: only the token's digest is stored, and the answer consumes
it. The answers stay with the project when a learner's data is erased (the
row keeps no name; the e-mail is blanked).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.project import Project

RATINGS = ("overall", "content", "trainer", "equipment", "organisation", "objectives")


class Respondent(enum.StrEnum):
    CONTACT = "contact"
    LEARNER = "learner"


class SatisfactionSurvey(Base):
    __tablename__ = "satisfaction_survey"
    __table_args__ = (
        *(CheckConstraint(f"{name} IS NULL OR {name} BETWEEN 1 AND 5", name=f"{name}_rating")
          for name in RATINGS),
        CheckConstraint("answered_at IS NULL OR overall IS NOT NULL", name="answer_has_overall"),
        # Behind the project's row lock: one questionnaire per respondent, ever.
        Index("uq_satisfaction_survey_contact", "project_id", unique=True,
              sqlite_where=text("respondent = 'contact'"),
              postgresql_where=text("respondent = 'contact'")),
        Index("uq_satisfaction_survey_learner", "project_id", "learner_id", unique=True,
              sqlite_where=text("learner_id IS NOT NULL"),
              postgresql_where=text("learner_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"),
                                            index=True)
    respondent: Mapped[Respondent] = mapped_column(str_enum(Respondent, "respondent"))
    learner_id: Mapped[int | None] = mapped_column(ForeignKey("learner.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(8), default="fr")
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    overall: Mapped[int | None]
    content: Mapped[int | None]
    trainer: Mapped[int | None]
    equipment: Mapped[int | None]
    organisation: Mapped[int | None]
    objectives: Mapped[int | None]
    would_recommend: Mapped[bool | None]
    comment: Mapped[str | None] = mapped_column(Text)

    project: Mapped[Project] = relationship()
