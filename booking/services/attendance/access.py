"""Who may do what with a project's learners and its attendance sheets.

A project's learners are entered by its company's accounts and by staff, while
the project is not over; their personal data is erased (GDPR) by the same
people at any time. They are seen by whoever sees the project.

A sheet (one half-day of one session) is seen by staff, the project's company,
the session's trainer and the project's trainer; anyone else gets a 404. The
session's trainer (the booking's, else the project's) or staff record the
marks and sign; a company account of the project countersigns. The PDFs (the
sheets, the certificates) are the company's and staff's documents.
"""

from __future__ import annotations

from booking.permissions import is_company, is_staff, of_company, rule
from booking.services.projects.access import FINAL
from models import AttendanceSheet, Booking, Learner, Project, User


def session_trainer_id(booking: Booking) -> int | None:
    """Who takes a session's attendance: its trainer, else the project's."""
    if booking.trainer_id is not None:
        return booking.trainer_id
    return booking.project.trainer_id if booking.project is not None else None


def _company_or_staff(user: User, project: Project) -> bool:
    return is_staff(user) or of_company(user, project.company_id)


@rule(Project, "manage_learners")
def manage_learners(user: User, project: Project) -> bool:
    """Add, edit or remove learners: the company or staff, until the project is over."""
    return project.status not in FINAL and _company_or_staff(user, project)


@rule(Project, "attendance_documents")
def attendance_documents(user: User, project: Project) -> bool:
    """The attendance sheets' PDF: the company and staff."""
    return _company_or_staff(user, project)


@rule(Learner, "view")
def view_learner(user: User, learner: Learner) -> bool:
    project = learner.project
    if _company_or_staff(user, project):
        return True
    return not is_company(user) and project.trainer_id == user.id


@rule(Learner, "edit", "remove")
def edit_learner(user: User, learner: Learner) -> bool:
    return learner.erased_at is None and manage_learners(user, learner.project)


@rule(Learner, "erase")
def erase_learner(user: User, learner: Learner) -> bool:
    """Erasure on request: the company or staff, whatever the project's state."""
    return _company_or_staff(user, learner.project)


@rule(Learner, "certificate")
def certificate(user: User, learner: Learner) -> bool:
    """An erased learner has no certificate (nobody to name on it)."""
    return learner.erased_at is None and _company_or_staff(user, learner.project)


@rule(Booking, "take_attendance")
def take_attendance(user: User, booking: Booking) -> bool:
    """The session page: a project's session, for its trainer or staff."""
    if booking.project_id is None:
        return False
    return is_staff(user) or session_trainer_id(booking) == user.id


@rule(Booking, "attendance_documents")
def session_documents(user: User, booking: Booking) -> bool:
    return booking.project is not None and _company_or_staff(user, booking.project)


@rule(Booking, "view_attendance")
def view_attendance(user: User, booking: Booking) -> bool:
    """A session's sheets: those who see its sheets (:func:`view_sheet`)."""
    project = booking.project
    if project is None:
        return False
    if _company_or_staff(user, project):
        return True
    return not is_company(user) and user.id in (session_trainer_id(booking), project.trainer_id)


@rule(AttendanceSheet, "view")
def view_sheet(user: User, sheet: AttendanceSheet) -> bool:
    return view_attendance(user, sheet.booking)


@rule(AttendanceSheet, "mark", "sign")
def mark(user: User, sheet: AttendanceSheet) -> bool:
    return take_attendance(user, sheet.booking)


@rule(AttendanceSheet, "countersign")
def countersign(user: User, sheet: AttendanceSheet) -> bool:
    """A company account of the project: staff see the sheet but do not sign for it."""
    project = sheet.booking.project
    return project is not None and is_company(user) and of_company(user, project.company_id)
