"""Learners of a project and their attendance, signed per half-day.

The company enters its learners; per session (a booking of the project) and
half-day, the trainer marks each learner present, absent or late and signs
the sheet; the company contact countersigns. A learner's personal data is
erased on request and after the retention period (GDPR): the row stays,
anonymised (``erased_at`` set, names blanked), so counts and hours remain.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, str_enum, utcnow

if TYPE_CHECKING:
    from models.booking import Booking
    from models.project import Project
    from models.user import User


class LearnerPublic(enum.StrEnum):
    APPRENTICE = "apprentice"
    STUDENT = "student"
    EMPLOYEE = "employee"
    JOB_SEEKER = "job_seeker"


class HalfDay(enum.StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"


class Presence(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"


class Learner(Base):
    __tablename__ = "learner"
    __table_args__ = (
        CheckConstraint("erased_at IS NOT NULL OR length(last_name) > 0",
                        name="named_unless_erased"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"),
                                            index=True)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    public: Mapped[LearnerPublic] = mapped_column(str_enum(LearnerPublic, "public"))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None]

    project: Mapped[Project] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class AttendanceSheet(Base):
    """One half-day of one session: its marks and its two signatures."""

    __tablename__ = "attendance_sheet"
    __table_args__ = (
        UniqueConstraint("booking_id", "day", "half_day", name="one_per_half_day"),
        CheckConstraint("company_signed_at IS NULL OR trainer_signed_at IS NOT NULL",
                        name="trainer_signs_first"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("booking.id", ondelete="RESTRICT"),
                                            index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"),
                                            index=True)
    day: Mapped[date]
    half_day: Mapped[HalfDay] = mapped_column(str_enum(HalfDay, "half_day"))
    # Hours of training the half-day counts (its part of the session), hundredths.
    hours_cents: Mapped[int] = mapped_column(default=0)
    # A signature is the signer's drawn strokes (SVG path data, bounded) or, when
    # they typed it, their name; with who and when.
    trainer_signed_at: Mapped[datetime | None]
    trainer_signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    trainer_signature: Mapped[str | None] = mapped_column(Text)
    company_signed_at: Mapped[datetime | None]
    company_signed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    company_signature: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    booking: Mapped[Booking] = relationship()
    marks: Mapped[list[AttendanceMark]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan")
    trainer_signed_by: Mapped[User | None] = relationship(foreign_keys=[trainer_signed_by_id])
    company_signed_by: Mapped[User | None] = relationship(foreign_keys=[company_signed_by_id])


class AttendanceMark(Base):
    __tablename__ = "attendance_mark"
    __table_args__ = (
        UniqueConstraint("sheet_id", "learner_id", name="one_per_learner"),
        CheckConstraint("minutes_late BETWEEN 0 AND 720", name="late_bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("attendance_sheet.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("learner.id", ondelete="CASCADE"),
                                            index=True)
    presence: Mapped[Presence] = mapped_column(str_enum(Presence, "presence"))
    minutes_late: Mapped[int] = mapped_column(default=0)

    sheet: Mapped[AttendanceSheet] = relationship(back_populates="marks")
    learner: Mapped[Learner] = relationship()
