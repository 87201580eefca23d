"""Sentences that read as French, and as English: refusals and pages driven through
the test client in both languages, asserting the sentence a reader meets.

One date style in both languages, through booking.labels: long in sentences
(« lundi 1er février 2027 à 14:00 », "Monday 1 February 2027, 14:00"), short in
tables (« lun. 1er févr. 2027, 14:00 », "Mon 1 Feb 2027, 14:00"); « 1er » for the
first of a month; holiday names in the reader's language; counts by ngettext; a
no-break space (U+00A0) before « : ; ! ? » in French."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale

from booking.labels import Period, Span, format_pattern, format_span, format_when
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.errors import N_, ValidationError
from booking.services.policy import Policy
from models import Booking, Closure, JobRun, Role
from tests.conftest import NOW, ROOT, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FEB1 = date(2027, 2, 1)  # a Monday, the first of its month
FEB3 = date(2027, 2, 3)  # a Wednesday


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def text_of(html: str) -> str:
    """The page's words (attributes, URLs and form values dropped), blanks folded."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture
def w(make: Any, now: datetime) -> SimpleNamespace:
    """A machine whose name starts with a vowel and whose gender French cannot guess,
    open Monday to Friday 08:00–18:00 with a 15-minute changeover; a trainer
    reading French and one reading English."""
    est = make.establishment()
    return SimpleNamespace(
        est=est, other=make.user(Role.TRAINER, establishment=est),
        fr=make.user(Role.TRAINER, establishment=est, locale="fr"),
        en=make.user(Role.TRAINER, establishment=est, locale="en"),
        coord=make.user(Role.COORDINATOR, establishment=est),
        eq=make.equipment(establishment=est, name="Étiqueteuse", changeover_minutes=15))


def book(app: Flask, db: Any, user: Any, eq: Any, start: datetime, end: datetime) -> Booking:
    with app.app_context():
        booking = create_booking(db, actor=user, now=NOW, policy=Policy(), request=BookingRequest(
            eq.id, start.astimezone(UTC), end.astimezone(UTC), "Étiquetage"))
    db.flush()
    return booking


def refused(client: Any, eq: Any, day: date, start: str, end: str) -> str:
    """Submit the booking form (someone logged in); the refusal's page, as words."""
    token = csrf_token_of(client.get(f"/bookings/new?equipment={eq.id}").get_data(as_text=True))
    answer = client.post("/bookings/new", data={
        "csrf_token": token, "equipment": eq.id, "day": day.isoformat(), "start": start,
        "end": end, "title": "Étiquetage", "purpose": "training", "submit": "1"})
    assert answer.status_code == 200, answer.status_code
    return text_of(answer.get_data(as_text=True))


def assert_no_iso(page: str) -> None:
    assert not ISO_DAY.search(page), ISO_DAY.search(page).group(0)  # type: ignore[union-attr]


# -- refusals --------------------------------------------------------------------------

@pytest.mark.parametrize(("reader", "sentence"), [
    ("fr", "Créneau déjà pris sur Étiqueteuse le lundi 1er février 2027 de 14:00 à 17:15 "
           "(réservation {id}, temps de changement compris)."),
    ("en", "Slot already taken on Étiqueteuse on Monday 1 February 2027, 14:00–17:15 "
           "(booking {id}, changeover included)."),
])
def test_a_conflict_names_the_slot_in_the_readers_words(app, db, client, login, w, reader,
                                                         sentence) -> None:
    taken = book(app, db, w.other, w.eq, paris(FEB1, 14), paris(FEB1, 17))
    login(getattr(w, reader))
    page = refused(client, w.eq, FEB1, "15:00", "16:00")
    assert sentence.format(id=taken.id) in page, page
    assert "occupé" not in page
    assert_no_iso(page)


@pytest.mark.parametrize(("day", "reader", "sentence"), [
    (date(2027, 3, 29), "fr", "Le lundi 29 mars 2027 est un jour férié (Lundi de Pâques)"
                              f"{NBSP}: Étiqueteuse n’ouvre pas les jours fériés."),
    (date(2027, 3, 29), "en", "Monday 29 March 2027 is a public holiday (Easter Monday): "
                              "Étiqueteuse does not open on public holidays."),
    (date(2027, 11, 1), "fr", "Le lundi 1er novembre 2027 est un jour férié (Toussaint)"),
    (date(2027, 11, 1), "en", "Monday 1 November 2027 is a public holiday (All Saints' Day)"),
])
def test_a_public_holiday_is_named_in_the_readers_language(client, login, w, day, reader,
                                                           sentence) -> None:
    login(getattr(w, reader))
    page = refused(client, w.eq, day, "09:00", "10:00")
    assert sentence in page, page
    assert_no_iso(page)


@pytest.mark.parametrize(("reader", "sentences"), [
    ("fr", [f"Fermeture le mercredi 3 février 2027 de 08:00 à 12:00{NBSP}: Nettoyage annuel",
            "Le créneau demandé le mercredi 3 février 2027 de 17:00 à 19:00 dépasse les "
            f"horaires d’ouverture{NBSP}: Étiqueteuse ouvre lun.–ven. 08:00–18:00."]),
    ("en", ["Closed on Wednesday 3 February 2027, 08:00–12:00: Nettoyage annuel",
            "Étiqueteuse is not open throughout the slot asked on Wednesday 3 February 2027, "
            "17:00–19:00; its opening hours are Mon–Fri 08:00–18:00."]),
])
def test_a_closure_and_the_opening_hours_in_the_readers_words(db, client, login, w, reader,
                                                              sentences) -> None:
    db.add(Closure(start_at=paris(FEB3, 8), end_at=paris(FEB3, 12), reason="Nettoyage annuel",
                   equipment_id=w.eq.id))
    db.flush()
    login(getattr(w, reader))
    closed = refused(client, w.eq, FEB3, "09:00", "10:00")
    outside = refused(client, w.eq, FEB3, "17:00", "19:00")
    assert sentences[0] in closed, closed
    assert sentences[1] in outside, outside
    for page in (closed, outside):
        assert_no_iso(page)
        assert "Fermé:" not in page


@pytest.mark.parametrize(("reader", "sentences"), [
    ("fr", [f"Jour férié{NBSP}: Lundi de Pâques", f"Fermé{NBSP}: Nettoyage annuel",
            "jeu. 1er avr."]),
    ("en", ["Public holiday: Easter Monday", "Closed: Nettoyage annuel", "Thu 1 Apr"]),
])
def test_the_week_calendar_names_closures_and_holidays_in_the_readers_language(
        db, client, login, w, reader, sentences) -> None:
    db.add(Closure(start_at=paris(date(2027, 3, 30), 8), end_at=paris(date(2027, 3, 30), 12),
                   reason="Nettoyage annuel", equipment_id=w.eq.id))
    db.flush()
    login(getattr(w, reader))
    page = text_of(client.get(f"/equipment/{w.eq.id}?week=2027-03-29").get_data(as_text=True))
    for sentence in sentences:
        assert sentence in page, sentence
    assert "Fermé:" not in page
    assert ("Easter Monday" in page) is (reader == "en")


# -- counts and dates in pages -----------------------------------------------------------

@pytest.mark.parametrize(("reader", "flash", "row"), [
    ("fr", "1 réservation annulée.", "lun. 1er févr. 2027, 09:00"),
    ("en", "1 booking cancelled.", "Mon 1 Feb 2027, 09:00"),
])
def test_one_cancelled_booking_is_told_in_the_singular(app, db, client, login, w, reader,
                                                       flash, row) -> None:
    user = getattr(w, reader)
    kept = book(app, db, user, w.eq, paris(FEB1, 9), paris(FEB1, 10))
    gone = book(app, db, user, w.eq, paris(FEB3, 9), paris(FEB3, 10))
    login(user)
    url = f"/bookings/{gone.id}/cancel"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    answer = client.post(url, data={"csrf_token": token, "scope": "occurrence",
                                    "reason": "Plus besoin"}, follow_redirects=True)
    page = text_of(answer.get_data(as_text=True))
    assert flash in page, page
    assert "(s)" not in page
    assert row in page  # « Mes réservations »: the short style, « 1er » included
    assert kept.id


@pytest.mark.parametrize(("reader", "words", "leaks"), [
    ("fr", ["Clôture des réservations passées", "3 réservations terminées", "Réussie",
            "Envoi des e-mails", "1 message envoyé, 0 à réessayer ou en échec"],
     ["booking(s)", "message(s)", "complete_past Mark", "Last run"]),
    ("en", ["Completion of past bookings", "3 bookings completed", "Succeeded",
            "E-mail delivery", "1 message sent, 0 to retry or failed"],
     ["booking(s)", "message(s)"]),
])
def test_the_jobs_page_speaks_the_readers_language(db, client, login, make, reader, words,
                                                   leaks) -> None:
    admin = make.user(Role.ADMIN, locale=reader)
    for job_id, summary in (("complete_past", "3 booking(s) completed"),
                            ("deliver_outbox", "1 message(s) sent, 0 to retry or failed")):
        db.add(JobRun(job_id=job_id, started_at=NOW - timedelta(minutes=5), finished_at=NOW,
                      summary=summary))
    db.flush()
    login(admin)
    page = text_of(client.get("/jobs").get_data(as_text=True))
    for word in words:
        assert word in page, (word, page)
    for leak in leaks:
        assert leak not in page, leak
    assert_no_iso(page)


ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//\r\nnot a content line\r\n"
       "END:VCALENDAR\r\n")


@pytest.mark.parametrize(("reader", "sentence"), [
    ("fr", f"Ligne 4 illisible{NBSP}: une ligne d’agenda s’écrit NOM:valeur"),
    ("en", "Line 4 cannot be read: a calendar line is written NAME:value"),
])
def test_an_unreadable_calendar_file_is_refused_in_our_words(client, login, make, w, reader,
                                                             sentence) -> None:
    coordinator = make.user(Role.COORDINATOR, establishment=w.est, locale=reader)
    login(coordinator)
    token = csrf_token_of(client.get("/coordination/import").get_data(as_text=True))
    answer = client.post("/coordination/import", content_type="multipart/form-data", data={
        "csrf_token": token, "target": f"establishment-{w.est.id}",
        "file": (io.BytesIO(ICS.encode()), "vacances.ics")})
    page = text_of(answer.get_data(as_text=True))
    assert sentence in page, page
    assert "Invalid content line" not in page
    assert "parsed into parts" not in page


# -- the catalogues and the sources ------------------------------------------------------

def _strings(message: Any) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


# Code, URLs and header names, where a colon or semicolon is not French punctuation.
CODE = re.compile(r"[A-Z][A-Z0-9-]*[:;][A-Za-z0-9%]|[a-z]+://|Authorization: Bearer|"
                  r"HH:MM|NOM:valeur|PARAMÈTRE=valeur:valeur|\?\w+=")


def test_french_punctuation_has_its_no_break_space() -> None:
    with (ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    wrong = []
    for message in catalogue:
        for text in _strings(message):
            if not message.id or not text:
                continue
            prose = CODE.sub("", text)
            if (re.search(r"[ \u202f][:;!?»]|«[ \u202f]", prose)
                    or re.search(r"[\w)»”%][;!?](\s|$)|[\w)»”][:](\s|$)", prose)):
                wrong.append(text)
    assert wrong == []


def test_no_count_is_written_with_a_parenthesised_plural() -> None:
    """« réservation(s) »: a count chooses its form with ngettext instead."""
    with (ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    in_catalogue = [m.id for m in catalogue if m.id and any(
        "(s)" in text for text in (*_strings(m), *(m.id if isinstance(m.id, tuple)
                                                    else (m.id,))))]
    assert in_catalogue == []
    templates = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
                 if re.search(r"\w\(s\)", p.read_text(encoding="utf-8"))]
    assert templates == []


# -- the helpers behind every sentence -------------------------------------------------

def test_one_date_style_in_two_lengths_and_both_languages(app) -> None:
    start, end = paris(FEB1, 22), paris(FEB1 + timedelta(days=1), 2)
    with app.test_request_context():
        with force_locale("fr"):
            french = [format_when(start, "fr"), format_when(start, "fr", "short"),
                      format_span(Period(start, paris(FEB1, 23)), "fr"),
                      format_span(Period(start, end), "fr"), format_span(Span(start, end), "fr"),
                      format_pattern(start, "d MMM 'd' HH:mm", "fr")]
        with force_locale("en"):
            english = [format_when(start, "en"), format_when(start, "en", "short"),
                       format_span(Period(start, paris(FEB1, 23)), "en"),
                       format_span(Period(start, end), "en")]
    assert french == ["lundi 1er février 2027 à 22:00", "lun. 1er févr. 2027, 22:00",
                      "le lundi 1er février 2027 de 22:00 à 23:00",
                      "du lundi 1er février 2027 à 22:00 au mardi 2 février 2027 à 02:00",
                      "lundi 1er février 2027 à 22:00 – mardi 2 février 2027 à 02:00",
                      "1er févr. d 22:00"]
    assert english == ["Monday 1 February 2027, 22:00", "Mon 1 Feb 2027, 22:00",
                       "on Monday 1 February 2027, 22:00–23:00",
                       "from Monday 1 February 2027, 22:00 to Tuesday 2 February 2027, 02:00"]


def test_a_domain_error_reads_as_english_in_logs_never_iso(app) -> None:
    error = ValidationError(N_("%(start)s is in the past: a booking must start in the future."),
                            start=paris(FEB1, 9))
    assert str(error) == ("Monday 1 February 2027, 09:00 is in the past: a booking must start "
                          "in the future.")
    with app.test_request_context(), force_locale("fr"):
        assert str(error) == error.args[0]
        assert error.message.startswith("Le créneau du lundi 1er février 2027 à 09:00")
