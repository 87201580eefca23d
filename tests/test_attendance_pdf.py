"""The attendance PDFs (issue 15, part 4), read back with pypdf: the sheets of
a project or a session (one table per half-day, marks, lateness, signatures
and who signed), a learner's certificate of attendance with the hours
attended; the company's and staff's only; erased learners named nowhere."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest

from booking.services.attendance import learners as learner_ops
from booking.services.attendance import sheets as ops
from booking.services.attendance.sheets import MarkInput
from booking.timeutil import frozen
from models import Presence
from tests.attendance_world import AFTERNOON, END, MORNING, PATH, attendance_world
from tests.world import logged_in


@pytest.fixture
def w(make: Any, db: Any) -> Any:
    w = attendance_world(make, db)
    w.morning, w.afternoon = ops.ensure_sheets(db, w.booking)
    ops.record_marks(db, actor=w.trainer, sheet=w.morning, now=MORNING, marks=[
        MarkInput(w.jeanne.id, Presence.PRESENT), MarkInput(w.karim.id, Presence.LATE, 30)])
    ops.sign(db, actor=w.trainer, sheet=w.morning, now=MORNING, drawn=PATH)
    ops.countersign(db, actor=w.company, sheet=w.morning, now=AFTERNOON,
                    typed="Denise Laborde")
    ops.record_marks(db, actor=w.trainer, sheet=w.afternoon, now=END, marks=[
        MarkInput(w.jeanne.id, Presence.ABSENT), MarkInput(w.karim.id, Presence.PRESENT)])
    ops.sign(db, actor=w.trainer, sheet=w.afternoon, now=END, typed="Alice Martin")
    db.flush()
    return w


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def get_pdf(app: Any, user: Any, url: str) -> Any:
    with frozen(AFTERNOON):
        return logged_in(app, user).get(url)


def test_the_projects_sheets(app, db, w) -> None:
    answer = get_pdf(app, w.company, f"/attendance/projects/{w.project.id}/sheets.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    text = " ".join(text_of(answer.data).split())
    assert "Feuilles d’émargement" in text
    assert "Crèmes solaires" in text
    assert "Laboratoire A" in text
    assert "jeudi 14 janvier 2027 · Matin" in text
    assert "jeudi 14 janvier 2027 · Après-midi" in text
    assert "Dupuis Jeanne" in text
    assert "Benali Karim" in text
    assert "30 minutes de retard" in text
    assert "Absent" in text
    assert "Signé par Alice Martin" in text
    assert "Signé par Denise Laborde" in text
    assert "Denise Laborde" in text  # the typed countersignature
    assert "Pas encore signée" in text  # the afternoon's countersignature
    assert "Lycée du Parc" in text  # the issuer


def test_a_sessions_sheets(app, db, w) -> None:
    answer = get_pdf(app, w.coordinator, f"/attendance/sessions/{w.booking.id}/sheets.pdf")
    assert answer.status_code == 200
    assert "Émulsion" in text_of(answer.data)


def test_the_certificate_counts_the_hours_attended(app, db, w) -> None:
    answer = get_pdf(app, w.company, f"/attendance/learners/{w.karim.id}/certificate.pdf")
    assert answer.status_code == 200
    text = " ".join(text_of(answer.data).split())
    assert "Attestation d’assiduité" in text
    assert "Karim Benali" in text
    assert "Crèmes solaires" in text
    # Late by 30 minutes in the morning (4 h − 0.5 h), present in the afternoon (4 h).
    assert "7,5 h" in text
    assert "8 h" in text  # the hours signed
    assert "14 janvier 2027" in text
    jeanne = " ".join(text_of(get_pdf(
        app, w.company, f"/attendance/learners/{w.jeanne.id}/certificate.pdf").data).split())
    assert "4 h" in jeanne


@pytest.mark.parametrize(("who", "status"), [
    ("company", 200), ("colleague", 200), ("coordinator", 200), ("admin", 200),
    ("trainer", 403), ("other_trainer", 404), ("other_company", 404)])
def test_who_gets_the_pdfs(app, db, w, who, status) -> None:
    user = getattr(w, who)
    assert get_pdf(app, user, f"/attendance/projects/{w.project.id}/sheets.pdf").status_code \
        == status
    certificate = get_pdf(app, user, f"/attendance/learners/{w.jeanne.id}/certificate.pdf")
    assert certificate.status_code == status


def test_an_erased_learner_is_named_nowhere_and_has_no_certificate(app, db, w) -> None:
    with app.app_context():
        learner_ops.erase_learner(db, actor=w.company, learner=w.jeanne, now=AFTERNOON)
    db.flush()
    text = " ".join(text_of(get_pdf(
        app, w.company, f"/attendance/projects/{w.project.id}/sheets.pdf").data).split())
    assert "Dupuis" not in text
    assert "Jeanne" not in text
    assert f"Apprenant {w.jeanne.id} (données personnelles effacées)" in text
    assert "Benali Karim" in text
    assert get_pdf(app, w.company,
                   f"/attendance/learners/{w.jeanne.id}/certificate.pdf").status_code == 404
