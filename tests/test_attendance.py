"""Attendance sheets (issue 15, part 4): one per half-day of a project's
session (Europe/Paris, 13:00 splits the day, daylight saving included), marked
and signed by the session's trainer, countersigned by the company; who may;
marks locked after the signature; the trainer's phone page and the sheet page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.services.attendance import sheets as ops
from booking.services.attendance.sheets import MarkInput, half_days
from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from booking.timeutil import frozen
from models import AttendanceMark, AttendanceSheet, AuditEntry, HalfDay, Presence
from tests.attendance_world import (
    AFTERNOON,
    END,
    MORNING,
    PARIS,
    PATH,
    START,
    attendance_world,
    session_of,
)
from tests.conftest import csrf_token_of
from tests.world import logged_in


@pytest.fixture
def w(make: Any, db: Any) -> Any:
    return attendance_world(make, db)


def sheets(db: Any, w: Any) -> list[AttendanceSheet]:
    return ops.ensure_sheets(db, w.booking)


def mark_all(db: Any, w: Any, sheet: AttendanceSheet, at: datetime = MORNING) -> None:
    ops.record_marks(db, actor=w.trainer, sheet=sheet, now=at, marks=[
        MarkInput(w.jeanne.id, Presence.PRESENT), MarkInput(w.karim.id, "late", 20)])


# --- half-days -------------------------------------------------------------------------------


def test_a_day_session_gives_a_morning_and_an_afternoon() -> None:
    slots = half_days(START, END)
    assert [(s.day, s.half_day, s.minutes, s.hours_cents) for s in slots] == [
        (date(2027, 1, 14), HalfDay.MORNING, 240, 400),
        (date(2027, 1, 14), HalfDay.AFTERNOON, 240, 400)]


def test_a_session_crossing_13_00_is_split_there() -> None:
    start = datetime(2027, 1, 14, 11, 30, tzinfo=PARIS)
    slots = half_days(start, start + timedelta(hours=2))
    assert [(s.half_day, s.minutes, s.hours_cents) for s in slots] == [
        (HalfDay.MORNING, 90, 150), (HalfDay.AFTERNOON, 30, 50)]
    assert slots[1].start == datetime(2027, 1, 14, 13, tzinfo=PARIS)


def test_a_morning_only_session_gives_one_sheet() -> None:
    slots = half_days(START, datetime(2027, 1, 14, 13, tzinfo=PARIS))
    assert [(s.half_day, s.minutes) for s in slots] == [(HalfDay.MORNING, 240)]


@pytest.mark.parametrize(("day", "minutes"), [
    (date(2027, 3, 28), 240),   # spring forward: 02:00 becomes 03:00
    (date(2027, 10, 31), 360),  # fall back: 03:00 becomes 02:00 again
    (date(2027, 1, 14), 300),
])
def test_daylight_saving_days_count_real_minutes(day: date, minutes: int) -> None:
    """A night session 00:30–05:30 on the wall clock: its real minutes."""
    start = datetime.combine(day, time(0, 30), tzinfo=PARIS)
    end = datetime.combine(day, time(5, 30), tzinfo=PARIS)
    [slot] = half_days(start, end)
    assert slot.day == day
    assert slot.half_day is HalfDay.MORNING
    assert slot.minutes == minutes
    assert slot.hours_cents == minutes * 100 // 60


def test_the_afternoon_of_a_dst_day_starts_at_13_00_local() -> None:
    start = datetime(2027, 3, 28, 12, tzinfo=PARIS)
    morning, afternoon = half_days(start, datetime(2027, 3, 28, 14, tzinfo=PARIS))
    assert (morning.minutes, afternoon.minutes) == (60, 60)
    assert afternoon.start == datetime(2027, 3, 28, 11, tzinfo=UTC)  # 13:00 in summer time


def test_sheets_are_created_once_on_demand(db, w) -> None:
    first = sheets(db, w)
    assert [(s.day, s.half_day, s.hours_cents) for s in first] == [
        (date(2027, 1, 14), HalfDay.MORNING, 400), (date(2027, 1, 14), HalfDay.AFTERNOON, 400)]
    again = sheets(db, w)
    assert [s.id for s in again] == [s.id for s in first]
    assert db.scalar(select(func.count()).select_from(AttendanceSheet)) == 2


def test_a_pending_session_has_no_sheet(db, w, make) -> None:
    w.booking.status = w.booking.status.__class__.PENDING
    assert sheets(db, w) == []


# --- marks, signatures ----------------------------------------------------------------------


def test_the_trainer_marks_signs_and_the_company_countersigns(db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    marks = {m.learner_id: (m.presence, m.minutes_late) for m in morning.marks}
    assert marks == {w.jeanne.id: (Presence.PRESENT, 0), w.karim.id: (Presence.LATE, 20)}
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, drawn=PATH)
    assert morning.trainer_signature == "path:" + PATH
    assert morning.trainer_signed_by_id == w.trainer.id
    ops.countersign(db, actor=w.company, sheet=morning, now=AFTERNOON, typed="Denise Laborde")
    assert morning.company_signature == "name:Denise Laborde"
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "attendance_sheet")).all()
    assert actions == ["attendance.marks", "attendance.sign", "attendance.countersign"]
    assert ops.sheet_state(morning, AFTERNOON) == "countersigned"


def test_marks_are_locked_once_the_trainer_signed(db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    with pytest.raises(InvalidState):
        ops.record_marks(db, actor=w.trainer, sheet=morning, now=MORNING,
                         marks=[MarkInput(w.karim.id, Presence.ABSENT)])
    with pytest.raises(InvalidState):
        ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    assert {m.presence for m in morning.marks} == {Presence.PRESENT, Presence.LATE}


def test_countersigning_waits_for_the_trainer(db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    with pytest.raises(InvalidState, match="not signed"):
        ops.countersign(db, actor=w.company, sheet=morning, now=MORNING, typed="Denise")
    assert morning.company_signed_at is None
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    ops.countersign(db, actor=w.colleague, sheet=morning, now=MORNING, typed="Émile")
    with pytest.raises(InvalidState, match="already"):
        ops.countersign(db, actor=w.company, sheet=morning, now=MORNING, typed="Denise")


def test_signing_needs_every_learner_marked(db, w) -> None:
    morning = sheets(db, w)[0]
    ops.record_marks(db, actor=w.trainer, sheet=morning, now=MORNING,
                     marks=[MarkInput(w.jeanne.id, Presence.PRESENT)])
    with pytest.raises(ValidationError) as refused:
        ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    assert refused.value.details["learner_ids"] == [w.karim.id]
    assert morning.trainer_signed_at is None


def test_marking_opens_at_the_half_day_and_closes_a_week_after(db, w) -> None:
    afternoon = sheets(db, w)[1]
    with pytest.raises(InvalidState, match="from"):
        mark_all(db, w, afternoon, at=MORNING)
    late = END + timedelta(days=ops.MARKING_DAYS, minutes=1)
    with pytest.raises(InvalidState, match="until"):
        mark_all(db, w, afternoon, at=late)
    mark_all(db, w, afternoon, at=END + timedelta(days=ops.MARKING_DAYS))
    assert len(afternoon.marks) == 2


@pytest.mark.parametrize(("marks", "field"), [
    ([MarkInput(999999, Presence.PRESENT)], "marks"),
    ([MarkInput(0, "maybe")], "marks"),
    ([MarkInput(-1, Presence.LATE, 0)], "marks"),
    ([MarkInput(-1, Presence.LATE, 241)], "marks"),
])
def test_bad_marks_are_refused_and_nothing_written(db, w, marks, field) -> None:
    morning = sheets(db, w)[0]
    fixed = [MarkInput(m.learner_id if m.learner_id > 0 else w.jeanne.id, m.presence,
                       m.minutes_late) for m in marks]
    if fixed[0].presence == "maybe":
        fixed = [MarkInput(w.jeanne.id, "maybe")]
    with pytest.raises(ValidationError) as refused:
        ops.record_marks(db, actor=w.trainer, sheet=morning, now=MORNING, marks=fixed)
    assert refused.value.details["field"] == field
    assert db.scalar(select(func.count()).select_from(AttendanceMark)) == 0


@pytest.mark.parametrize("drawn", [
    "M 10 20", "L 1 2 L 3 4", "M 10 20 L 30 40 Z", "M 10 20 C 1 2 3 4 5 6",
    "M 10 20 L 30 <script>", "M 10 20 L 9999 40", "M " + "1 1 L " * 5000 + "1 1",
    "M 10 20 L 30 40\" onload=\"x",
])
def test_a_drawn_signature_is_path_data_only(db, w, drawn) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    with pytest.raises(ValidationError) as refused:
        ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, drawn=drawn)
    assert refused.value.details["field"] == "signature"
    assert morning.trainer_signed_at is None


def test_a_signature_needs_a_drawing_or_a_name(db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    with pytest.raises(ValidationError) as refused:
        ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, drawn="", typed="  ")
    assert refused.value.details["field"] == "typed_name"


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "error"), [
    ("other_trainer", NotFound), ("company", Forbidden), ("other_company", NotFound)])
def test_only_the_sessions_trainer_or_staff_mark(db, w, who, error) -> None:
    morning = sheets(db, w)[0]
    with pytest.raises(error):
        ops.record_marks(db, actor=getattr(w, who), sheet=morning, now=MORNING,
                         marks=[MarkInput(w.jeanne.id, Presence.PRESENT)])
    assert morning.marks == []


def test_staff_mark_and_sign_too(db, w) -> None:
    morning = sheets(db, w)[0]
    ops.record_marks(db, actor=w.coordinator, sheet=morning, now=MORNING, marks=[
        MarkInput(w.jeanne.id, Presence.PRESENT), MarkInput(w.karim.id, Presence.ABSENT)])
    ops.sign(db, actor=w.coordinator, sheet=morning, now=MORNING, typed="Claire Roux")
    assert morning.trainer_signed_by_id == w.coordinator.id


def test_the_bookings_own_trainer_takes_the_attendance(db, w, make) -> None:
    """A session with another trainer than the project's: theirs to mark."""
    booking = session_of(make, db, w, datetime(2027, 1, 15, 9, tzinfo=PARIS),
                         datetime(2027, 1, 15, 12, tzinfo=PARIS), trainer=w.other_trainer)
    [sheet] = ops.ensure_sheets(db, booking)
    at = datetime(2027, 1, 15, 10, tzinfo=PARIS)
    with pytest.raises(Forbidden):
        ops.record_marks(db, actor=w.trainer, sheet=sheet, now=at,
                         marks=[MarkInput(w.jeanne.id, Presence.PRESENT)])
    ops.record_marks(db, actor=w.other_trainer, sheet=sheet, now=at,
                     marks=[MarkInput(w.jeanne.id, Presence.PRESENT)])


@pytest.mark.parametrize(("who", "error"), [
    ("trainer", Forbidden), ("coordinator", Forbidden), ("other_company", NotFound)])
def test_only_the_company_countersigns(db, w, who, error) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    with pytest.raises(error):
        ops.countersign(db, actor=getattr(w, who), sheet=morning, now=MORNING, typed="X")
    assert morning.company_signed_at is None


# --- pages ----------------------------------------------------------------------------------


def test_the_trainer_records_and_signs_on_the_phone_page(app, db, w) -> None:
    browser = logged_in(app, w.trainer)
    with frozen(MORNING):
        page = browser.get(f"/attendance/sessions/{w.booking.id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        morning, afternoon = sheets(db, w)
        assert f'id="marks-{morning.id}"' in html
        assert f'id="marks-{afternoon.id}"' not in html
        assert "Dupuis Jeanne" in html
        token = csrf_token_of(html)
        answer = browser.post(f"/attendance/sheets/{morning.id}/marks", data={
            "csrf_token": token, f"presence-{w.jeanne.id}": "present",
            f"presence-{w.karim.id}": "late", f"late-{w.karim.id}": "15"})
        assert answer.status_code == 302
        answer = browser.post(f"/attendance/sheets/{morning.id}/sign", data={
            "csrf_token": token, "signature": "", "typed_name": "Alice Martin"})
        assert answer.status_code == 302
    db.expire_all()
    assert {m.learner_id: m.minutes_late for m in morning.marks} == {w.jeanne.id: 0,
                                                                    w.karim.id: 15}
    assert morning.trainer_signature == "name:Alice Martin"


def test_a_refused_mark_is_shown_on_the_page(app, db, w) -> None:
    browser = logged_in(app, w.trainer)
    with frozen(MORNING):
        html = browser.get(f"/attendance/sessions/{w.booking.id}").get_data(as_text=True)
        morning = sheets(db, w)[0]
        answer = browser.post(f"/attendance/sheets/{morning.id}/marks", data={
            "csrf_token": csrf_token_of(html), f"presence-{w.karim.id}": "late",
            f"late-{w.karim.id}": "abc"})
    assert answer.status_code == 200
    assert "minutes de retard" in answer.get_data(as_text=True)
    db.expire_all()
    assert morning.marks == []


@pytest.mark.parametrize(("who", "status"), [
    ("trainer", 200), ("coordinator", 200), ("other_trainer", 403), ("company", 403),
    ("other_company", 404)])
def test_who_opens_the_session_page(app, db, w, who, status) -> None:
    with frozen(MORNING):
        assert logged_in(app, getattr(w, who)).get(
            f"/attendance/sessions/{w.booking.id}").status_code == status


def test_the_company_countersigns_on_the_sheet_page(app, db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, drawn=PATH)
    db.flush()
    browser = logged_in(app, w.company)
    with frozen(AFTERNOON):
        page = browser.get(f"/attendance/sheets/{morning.id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert f'd="{PATH}"' in html
        assert "Contresigner" in html
        answer = browser.post(f"/attendance/sheets/{morning.id}/countersign", data={
            "csrf_token": csrf_token_of(html), "signature": "M 1 1 L 2 2 L 3 3"})
        assert answer.status_code == 302
    db.expire_all()
    assert morning.company_signature == "path:M 1 1 L 2 2 L 3 3"
    assert morning.company_signed_by_id == w.company.id


@pytest.mark.parametrize(("who", "status"), [
    ("company", 200), ("coordinator", 200), ("trainer", 200), ("other_trainer", 404),
    ("other_company", 404)])
def test_who_sees_a_sheet(app, db, w, who, status) -> None:
    morning = sheets(db, w)[0]
    with frozen(MORNING):
        assert logged_in(app, getattr(w, who)).get(
            f"/attendance/sheets/{morning.id}").status_code == status


def test_the_project_card_offers_each_what_they_may(app, db, w) -> None:
    morning = sheets(db, w)[0]
    mark_all(db, w, morning)
    ops.sign(db, actor=w.trainer, sheet=morning, now=MORNING, typed="Alice Martin")
    db.flush()
    with frozen(AFTERNOON):
        company = logged_in(app, w.company).get(f"/projects/{w.project.id}")
        trainer = logged_in(app, w.trainer).get(f"/projects/{w.project.id}")
    html = company.get_data(as_text=True)
    assert 'id="learner-form"' in html
    assert 'id="to-countersign"' in html
    assert f"/attendance/learners/{w.jeanne.id}/certificate.pdf" in html
    assert f"/attendance/sessions/{w.booking.id}\"" not in html
    html = trainer.get_data(as_text=True)
    assert f"/attendance/sessions/{w.booking.id}\"" in html
    assert 'id="learner-form"' not in html
    assert "certificate.pdf" not in html
    assert "jeanne@example.org" not in html
