"""The trainer's booking form and the booking pages (issue 11): the preview and
the refusals brought into view, a simple repetition, a refusal addressed to
the trainer with a way to ask for the certification, a company without an
approved project, cancelled bookings out of « À venir », pre-filled ends the
rules accept."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import (
    BookingRequest,
    cancel_booking,
    create_booking,
    decide_booking,
)
from booking.services.policy import Policy
from models import Booking, BookingStatus, Project, ProjectStatus, Role
from tests.conftest import NOW, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
WED = date(2027, 1, 13)  # NOW is Tuesday 12 January 2027, 09:00 in Paris


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def w(make: Any, now: datetime) -> SimpleNamespace:
    est = make.establishment()
    return SimpleNamespace(
        est=est, trainer=make.user(Role.TRAINER, establishment=est, name="Julien Moreau"),
        english=make.user(Role.TRAINER, establishment=est, locale="en"),
        coord=make.user(Role.COORDINATOR, establishment=est),
        eq=make.equipment(establishment=est, name="Cellule robotisée"))


def book(app: Any, db: Any, user: Any, eq: Any, start: datetime, end: datetime,
         **kw: Any) -> Booking:
    with app.app_context():
        booking = create_booking(db, actor=user, now=NOW, policy=Policy(), request=BookingRequest(
            eq.id, start.astimezone(UTC), end.astimezone(UTC), kw.pop("title", "TP robotique"),
            **kw))
    db.flush()
    return booking


def post_form(client: Any, eq: Any, **fields: Any) -> str:
    token = csrf_token_of(client.get(f"/bookings/new?equipment={eq.id}").get_data(as_text=True))
    data = {"csrf_token": token, "equipment": eq.id, "day": WED.isoformat(), "start": "09:00",
            "end": "10:00", "title": "TP robotique", "purpose": "training", "repeat": "none",
            "submit": "1", **fields}
    answer = client.post("/bookings/new", data={k: v for k, v in data.items() if v is not None})
    assert answer.status_code in (200, 302), answer.status_code
    return answer.get_data(as_text=True)


def summaries(html: str) -> list[str]:
    return re.findall(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)


# -- 1. the preview in view --------------------------------------------------------------

def test_the_preview_is_posted_to_its_anchor_and_takes_the_focus(db, client, login, w) -> None:
    login(w.trainer)
    form = client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*formaction="/bookings/new#preview-results"[^>]*id="preview"'
                     r'|<input[^>]*id="preview"[^>]*formaction="/bookings/new#preview-results"',
                     form)
    assert 'src="/static/js/booking-form.js"' in form
    html = post_form(client, w.eq, submit=None, preview="1")
    section = re.search(r'<section[^>]*id="preview-results"[^>]*>', html).group(0)
    assert 'tabindex="-1"' in section
    assert "autofocus" in section
    assert summaries(html) == []
    assert db.scalars(select(Booking.id)).all() == []


# -- 2. one error summary, never empty, focused, linking to the fields -------------------

def test_a_refusal_shows_one_focused_summary_linking_to_its_field(app, db, client, login,
                                                                   w) -> None:
    book(app, db, w.coord, w.eq, paris(WED, 9), paris(WED, 10))
    login(w.trainer)
    html = post_form(client, w.eq)
    (summary,) = summaries(html)
    assert 'tabindex="-1"' in summary
    assert "autofocus" in summary
    assert "Cellule robotisée" in text_of(summary)
    assert 'href="#start"' in summary
    assert "Veuillez corriger" in summary
    assert 'href="#suggestions"' in summary
    assert 'id="suggestions"' in html


def test_a_refusal_without_a_field_is_in_the_summary(client, login, w) -> None:
    login(w.trainer)
    html = post_form(client, w.eq, day="2027-01-11")  # before NOW: in the past
    (summary,) = summaries(html)
    assert "passé" in text_of(summary)


def test_field_errors_alone_are_listed_with_links(client, login, w) -> None:
    login(w.english)
    html = post_form(client, w.eq, title="")
    (summary,) = summaries(html)
    assert 'href="#title"' in summary
    assert "Title" in summary


def test_no_summary_without_an_error(client, login, w) -> None:
    login(w.trainer)
    assert summaries(client.get(f"/bookings/new?equipment={w.eq.id}").get_data(
        as_text=True)) == []


# -- 3. a simple repetition; the raw rule tucked away -------------------------------------

def _starts(db: Any, title: str) -> list[datetime]:
    return sorted(b.start_at for b in db.scalars(select(Booking).where(Booking.title == title)))


@pytest.mark.parametrize(("repeat", "extra", "days"), [
    ("weekly", {"count": "3"}, [WED, WED + timedelta(weeks=1), WED + timedelta(weeks=2)]),
    ("biweekly", {"until": (WED + timedelta(weeks=4)).isoformat()},
     [WED, WED + timedelta(weeks=2), WED + timedelta(weeks=4)]),
    ("daily", {"count": "2"}, [WED, WED + timedelta(days=1)]),
    ("weekdays", {"count": "4"},  # Friday 15, then Monday 18
     [WED, date(2027, 1, 14), date(2027, 1, 15), date(2027, 1, 18)]),
    ("weekly", {"until": (WED + timedelta(weeks=1)).isoformat()},
     [WED, WED + timedelta(weeks=1)]),  # the last day is included
])
def test_a_simple_repetition_books_its_occurrences(db, client, login, w, repeat, extra,
                                                   days) -> None:
    login(w.trainer)
    post_form(client, w.eq, repeat=repeat, title=f"Série {repeat}", **extra)
    assert _starts(db, f"Série {repeat}") == [paris(d, 9).astimezone(UTC) for d in days]


@pytest.mark.parametrize(("extra", "field"), [
    ({}, "count"),  # no end
    ({"count": "2", "until": "2027-02-01"}, "count"),  # two ends
])
def test_a_repetition_needs_one_end(db, client, login, w, extra, field) -> None:
    login(w.trainer)
    html = post_form(client, w.eq, repeat="weekly", title="Sans fin", **extra)
    assert f'id="{field}-error"' in html
    (summary,) = summaries(html)
    assert f'href="#{field}"' in summary
    assert _starts(db, "Sans fin") == []


def test_the_raw_rule_is_in_a_closed_details_and_still_works(db, client, login, w) -> None:
    login(w.trainer)
    form = client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    details = re.search(r'<details class="advanced-rule"[^>]*>.*?</details>', form,
                        re.S).group(0)
    assert 'id="rrule"' in details
    assert "RRULE" in details
    assert "open" not in details.split(">", 1)[0]
    post_form(client, w.eq, rrule="FREQ=WEEKLY;COUNT=2", title="Règle brute")
    assert len(_starts(db, "Règle brute")) == 2
    html = post_form(client, w.eq, rrule="FREQ=HOURLY;COUNT=2", title="Règle fausse")
    assert re.search(r'<details class="advanced-rule"[^>]*open', html)
    assert 'id="rrule-error"' in html


def test_a_simple_repetition_and_a_raw_rule_together_are_refused(db, client, login, w) -> None:
    login(w.trainer)
    html = post_form(client, w.eq, repeat="weekly", count="2", rrule="FREQ=DAILY;COUNT=2",
                     title="Deux règles")
    assert 'id="rrule-error"' in html
    assert _starts(db, "Deux règles") == []


# -- 4. the trainer is told « vous », with a way to ask ------------------------------------

@pytest.fixture
def certified_only(make: Any, w: SimpleNamespace) -> Any:
    ctype = make.certification_type(code="GMP-ZAC", name="Salle propre")
    w.eq.required_certification_types = [ctype]
    make.session.flush()
    return ctype


def test_an_uncertified_trainer_is_addressed_and_may_ask(db, client, login, w,
                                                         certified_only) -> None:
    login(w.trainer)
    html = post_form(client, w.eq)
    (summary,) = summaries(html)
    words = text_of(summary)
    assert "Julien Moreau" not in words
    assert "il vous manque" in words.lower()
    assert "Salle propre" in words
    assert f'action="/certifications/request/{w.eq.id}"' in summary
    assert "habilité" not in words


def test_an_uncertified_trainer_reads_english_too(db, client, login, w, certified_only) -> None:
    login(w.english)
    words = text_of(summaries(post_form(client, w.eq))[0])
    assert "you" in words.lower()
    assert w.english.name not in words


def test_a_coordinator_still_reads_the_trainers_name(db, client, login, w,
                                                     certified_only) -> None:
    login(w.coord)
    html = post_form(client, w.eq, trainer=str(w.trainer.id))
    words = text_of(html)
    assert "Julien Moreau" in words
    assert "/certifications/request/" not in html


# -- 5. a company without an approved project ---------------------------------------------

@pytest.fixture
def company(make: Any) -> Any:
    return make.user(Role.COMPANY)


def _project(db: Any, user: Any, eq: Any, status: ProjectStatus) -> Project:
    project = Project(company_id=user.company_id, requested_by_id=user.id, title="Flacons",
                      learners=4, wanted_from=date(2027, 3, 1), wanted_to=date(2027, 4, 30),
                      equipment=[eq], status=status)
    db.add(project)
    db.flush()
    return project


def test_a_company_without_a_project_is_told_to_request_one(client, login, w, company) -> None:
    login(company)
    html = client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    assert 'id="booking-form"' not in html
    assert 'href="/projects/new"' in html
    assert "projet" in text_of(html)


def test_a_company_with_a_pending_project_is_pointed_to_it(db, client, login, w,
                                                           company) -> None:
    project = _project(db, company, w.eq, ProjectStatus.REQUESTED)
    login(company)
    html = client.get("/bookings/new").get_data(as_text=True)
    assert 'id="booking-form"' not in html
    assert f'href="/projects/{project.id}"' in html
    # a POST meets the same explanation, never a 500 or a useless form
    token = csrf_token_of(html) if "csrf_token" in html else ""
    answer = client.post("/bookings/new", data={"csrf_token": token, "equipment": w.eq.id})
    assert answer.status_code == 200
    assert 'id="booking-form"' not in answer.get_data(as_text=True)


def test_a_company_with_an_approved_project_gets_the_form(db, client, login, w,
                                                          company) -> None:
    _project(db, company, w.eq, ProjectStatus.APPROVED)
    login(company)
    html = client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    assert 'id="booking-form"' in html


# -- 6. my bookings: cancelled ones are not « à venir »; no .ics for them -----------------

def test_cancelled_bookings_leave_the_upcoming_tab(app, db, client, login, w) -> None:
    kept = book(app, db, w.trainer, w.eq, paris(WED, 9), paris(WED, 10), title="Gardée")
    gone = book(app, db, w.trainer, w.eq, paris(WED, 11), paris(WED, 12), title="Annulée")
    with app.app_context():
        cancel_booking(db, actor=w.trainer, booking=gone, now=NOW, reason="plus besoin")
    db.flush()
    login(w.trainer)
    upcoming = client.get("/bookings/mine").get_data(as_text=True)
    assert f'data-booking="{kept.id}"' in upcoming
    assert f'data-booking="{gone.id}"' not in upcoming
    past = client.get("/bookings/mine?tab=past").get_data(as_text=True)
    assert f'data-booking="{gone.id}"' in past
    assert f'data-booking="{kept.id}"' not in past
    assert f"/bookings/{gone.id}.ics" not in past


@pytest.mark.parametrize("status", [BookingStatus.CANCELLED, BookingStatus.REJECTED])
def test_an_inactive_booking_offers_no_calendar_file(app, db, client, login, w,
                                                     status) -> None:
    w.eq.requires_approval = True
    booking = book(app, db, w.trainer, w.eq, paris(WED, 9), paris(WED, 10))
    login(w.trainer)
    assert f"/bookings/{booking.id}.ics" in client.get(f"/bookings/{booking.id}").get_data(
        as_text=True)
    with app.app_context():
        if status is BookingStatus.CANCELLED:
            cancel_booking(db, actor=w.trainer, booking=booking, now=NOW, reason="plus besoin")
        else:
            decide_booking(db, actor=w.coord, booking=booking, approve=False, now=NOW,
                           reason="machine prêtée")
    db.flush()
    assert booking.status is status
    assert f"/bookings/{booking.id}.ics" not in client.get(f"/bookings/{booking.id}").get_data(
        as_text=True)


# -- 7. a pre-filled end the rules accept --------------------------------------------------

def _prefilled(client: Any, eq: Any, query: str) -> tuple[str | None, str | None]:
    html = client.get(f"/bookings/new?equipment={eq.id}&date={WED.isoformat()}&{query}"
                      ).get_data(as_text=True)

    def value(name: str) -> str | None:
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
        found = re.search(r'value="([^"]*)"', tag)
        return found.group(1) if found and found.group(1) else None

    return value("start"), value("end")


@pytest.mark.parametrize(("query", "expected"), [
    ("start=09:00", ("09:00", "11:00")),  # the minimum duration
    ("start=09:00&end=09:30", ("09:00", "11:00")),  # too short: lengthened
    ("start=09:00&end=13:00", ("09:00", "13:00")),  # long enough: kept
    ("start=09:00&end=17:30", ("09:00", "13:00")),  # too long: the maximum
    ("start=15:30&end=16:00", ("15:30", "17:30")),
    ("start=16:30", ("16:30", None)),  # cannot hold 2 h before 18:00: no end offered
    ("start=17:00&end=18:30", ("17:00", None)),
])
def test_a_prefilled_end_holds_the_minimum_within_the_opening_hours(db, client, login, w, query,
                                                                     expected) -> None:
    w.eq.slot_minutes, w.eq.min_minutes, w.eq.max_minutes = 30, 120, 240
    db.flush()
    login(w.trainer)
    assert _prefilled(client, w.eq, query) == expected


def test_a_prefilled_end_is_accepted_by_the_rules(db, client, login, w) -> None:
    w.eq.slot_minutes, w.eq.min_minutes, w.eq.max_minutes = 30, 120, 240
    db.flush()
    login(w.trainer)
    start, end = _prefilled(client, w.eq, "start=10:00&end=10:30")
    post_form(client, w.eq, start=start, end=end, title="Préremplie")
    assert _starts(db, "Préremplie") == [paris(WED, 10).astimezone(UTC)]
    assert time.fromisoformat(end) == time(12)


def test_a_refused_move_has_the_same_focused_summary(app, db, client, login, w) -> None:
    booking = book(app, db, w.trainer, w.eq, paris(WED, 9), paris(WED, 10))
    book(app, db, w.coord, w.eq, paris(WED, 14), paris(WED, 15))
    login(w.trainer)
    url = f"/bookings/{booking.id}/move"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    html = client.post(url, data={"csrf_token": token, "title": "TP robotique",
                                  "day": WED.isoformat(), "start": "14:00", "end": "15:00",
                                  "scope": "occurrence"}).get_data(as_text=True)
    (summary,) = summaries(html)
    assert 'tabindex="-1"' in summary
    assert "autofocus" in summary
    assert "Cellule robotisée" in text_of(summary)
    assert 'src="/static/js/booking-form.js"' in html
    html = client.post(url, data={"csrf_token": token, "title": "", "day": WED.isoformat(),
                                  "start": "09:00", "end": "10:00", "scope": "nowhere"}
                       ).get_data(as_text=True)
    (summary,) = summaries(html)
    assert 'href="#title"' in summary
    assert 'href="#scope"' not in summary  # hidden outside a series: told as a refusal


def test_a_custom_repetition_opens_the_rule_and_needs_it(db, client, login, w) -> None:
    login(w.trainer)
    html = post_form(client, w.eq, repeat="custom", title="Personnalisée")
    assert re.search(r'<details class="advanced-rule"[^>]*open', html)
    assert 'id="rrule-error"' in html
    post_form(client, w.eq, repeat="custom", rrule="FREQ=DAILY;COUNT=2", title="Personnalisée")
    assert len(_starts(db, "Personnalisée")) == 2


def test_no_end_is_prefilled_on_a_public_holiday(db, client, login, w) -> None:
    login(w.trainer)
    html = client.get(f"/bookings/new?equipment={w.eq.id}&date=2027-03-29&start=09:00"
                      ).get_data(as_text=True)  # Easter Monday 2027
    tag = re.search(r'<input[^>]*id="end"[^>]*>', html).group(0)
    assert 'value="' not in tag or 'value=""' in tag
    w.eq.open_on_holidays = True
    db.flush()
    html = client.get(f"/bookings/new?equipment={w.eq.id}&date=2027-03-29&start=09:00"
                      ).get_data(as_text=True)
    assert 'value="09:30"' in re.search(r'<input[^>]*id="end"[^>]*>', html).group(0)
