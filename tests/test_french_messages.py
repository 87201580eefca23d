"""French without leaks: statuses shown by their labels, one refused booking told
its own rule, dates written by Babel in the reader's language (in pages, flashes
and e-mails), plurals by ngettext, and a French catalogue with nothing left to do."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.bookings.series import SeriesRefused, move_in_scope
from booking.services.errors import InvalidState, Nn_, OutsideOpeningHours, ValidationError
from booking.services.policy import Policy
from models import Booking, BookingStatus, OutboxMessage, Role
from tests.api_helpers import Caller, assert_error
from tests.conftest import NOW, ROOT, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
WED = date(2027, 1, 13)  # NOW is Tuesday 12 January 2027, 09:00 in Paris
NBSP = "\u00a0"  # French typography: a no-break space before « : ; ! ? »


def paris(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def text_of(html: str) -> str:
    """The page's words, tags and blanks folded (a message may wrap in the HTML)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def w(make: Any, now: datetime) -> SimpleNamespace:
    """A French trainer and a machine open Monday to Friday 08:00–18:00 (Paris)."""
    est = make.establishment()
    return SimpleNamespace(est=est, trainer=make.user(Role.TRAINER, establishment=est),
                           eq=make.equipment(establishment=est, name="Cellule robotisée"))


def book(app: Flask, db: Any, user: Any, eq: Any, start: datetime, end: datetime) -> Booking:
    with app.app_context():
        booking = create_booking(db, actor=user, now=NOW, policy=Policy(), request=BookingRequest(
            eq.id, start.astimezone(UTC), end.astimezone(UTC), "TP robotique"))
    db.flush()
    return booking


# -- a refusal of one booking names its own rule --------------------------------------

def test_a_refused_move_of_one_booking_names_its_rule_not_the_series(app, db, client, login,
                                                                     w) -> None:
    booking = book(app, db, w.trainer, w.eq, paris(WED, 9), paris(WED, 10))
    # The service: the rule's own error, not the series' wrapper.
    with app.app_context(), pytest.raises(OutsideOpeningHours) as caught:
        move_in_scope(db, actor=w.trainer, booking=booking, scope="occurrence", now=NOW,
                      policy=Policy(), start=paris(WED, 19).astimezone(UTC),
                      end=paris(WED, 20).astimezone(UTC))
    assert not isinstance(caught.value, SeriesRefused)
    assert "occurrences" not in caught.value.details

    # The page, in French: the rule's words, never « Impossible de réserver 1 occurrence ».
    login(w.trainer)
    url = f"/bookings/{booking.id}/move"
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    answer = client.post(url, data={"csrf_token": token, "title": "TP robotique",
                                    "day": WED.isoformat(), "start": "19:00", "end": "20:00",
                                    "scope": "occurrence"})
    assert answer.status_code == 200
    page = text_of(answer.get_data(as_text=True))
    assert ("Le créneau demandé le mercredi 13 janvier 2027 de 19:00 à 20:00 dépasse les "
            f"horaires d’ouverture{NBSP}: Cellule robotisée ouvre lun.–ven. 08:00–18:00.") in page
    assert "Impossible de réserver" not in page
    assert "occurrence" not in page
    assert db.get(Booking, booking.id).start_at == paris(WED, 9)

    # The API keeps its code; its message is the rule's too.
    answer = Caller(client, w.trainer).patch(
        f"/api/v1/bookings/{booking.id}",
        json={"start": paris(WED, 19).isoformat(), "end": paris(WED, 20).isoformat()})
    body = assert_error(answer, 422, "outside_opening_hours")
    assert body["message"].startswith("Le créneau demandé le mercredi"), body["message"]


# -- statuses by their labels -----------------------------------------------------------

def test_an_invalid_state_shows_the_status_label_in_the_readers_language(app, db, client,
                                                                          w) -> None:
    booking = book(app, db, w.trainer, w.eq, paris(WED, 9), paris(WED, 10))
    with app.app_context():
        cancel_booking(db, actor=w.trainer, booking=booking, now=NOW)
        with pytest.raises(InvalidState) as caught:
            cancel_booking(db, actor=w.trainer, booking=booking, now=NOW)
        error = caught.value
        french = error.message
        with force_locale("en"):
            english = error.message
    assert french == (f"Cette réservation a le statut «{NBSP}Annulée{NBSP}» et ne peut plus "
                      "être modifiée.")
    assert english == "This booking is “Cancelled” and can no longer change."
    assert error.details == {"status": "cancelled"}  # machine-readable, for the API

    answer = Caller(client, w.trainer).post(f"/api/v1/bookings/{booking.id}/cancel", json={})
    body = assert_error(answer, 409, "invalid_state")
    assert "«\u00a0Annulée\u00a0»" in body["message"], body["message"]
    assert "cancelled" not in body["message"]
    assert body["details"] == {"status": BookingStatus.CANCELLED.value}


def test_a_domain_error_chooses_its_plural_in_the_readers_language(app) -> None:
    template = Nn_("A series has at most %(n)d occurrence.",
                  "A series has at most %(n)d occurrences.")
    with app.app_context():  # outside a request: the campus language, French
        shown = {n: ValidationError(template, n=n).message for n in (0, 1, 2)}
        with force_locale("en"):
            english = {n: ValidationError(template, n=n).message for n in (1, 2)}
    assert shown == {0: "Une série compte au plus 0 occurrence.",
                     1: "Une série compte au plus 1 occurrence.",
                     2: "Une série compte au plus 2 occurrences."}
    assert english == {1: "A series has at most 1 occurrence.",
                       2: "A series has at most 2 occurrences."}


# -- dates by Babel, in the reader's language -------------------------------------------

def test_a_series_with_skipped_occurrences_flashes_babel_dates_in_french(app, db, client,
                                                                          login, make, w) -> None:
    blocker = make.user(Role.TRAINER, establishment=w.est)
    book(app, db, blocker, w.eq, paris(WED + timedelta(weeks=1), 9),
         paris(WED + timedelta(weeks=1), 10))
    login(w.trainer)
    token = csrf_token_of(client.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True))
    answer = client.post("/bookings/new", follow_redirects=True, data={
        "csrf_token": token, "equipment": w.eq.id, "day": WED.isoformat(), "start": "09:00",
        "end": "10:00", "title": "TP robotique", "purpose": "training", "repeat": "weekly",
        "until": (WED + timedelta(weeks=2)).isoformat(), "skip_conflicts": "y", "submit": "1"})
    assert answer.status_code == 200
    page = text_of(answer.get_data(as_text=True))
    assert "2 occurrences réservées." in page
    assert f"Non réservé{NBSP}: mercredi 20 janvier 2027 à 09:00 — " in page, page
    assert not re.search(r"2027-01-20|20/01/2027", page)
    mine = db.scalars(select(Booking).where(Booking.trainer_id == w.trainer.id)).all()
    assert sorted(b.start_at for b in mine) == [paris(WED, 9),
                                                paris(WED + timedelta(weeks=2), 9)]


def test_an_email_to_an_english_reader_shows_an_english_date(app, db, make, w) -> None:
    reader = make.user(Role.TRAINER, establishment=w.est, locale="en")
    book(app, db, reader, w.eq, paris(date(2027, 1, 19), 9), paris(date(2027, 1, 19), 11))
    french = make.user(Role.TRAINER, establishment=w.est)
    book(app, db, french, w.eq, paris(date(2027, 1, 19), 14), paris(date(2027, 1, 19), 16))
    mails = {m.to_addr: m for m in db.scalars(select(OutboxMessage))}
    english_body = mails[reader.email].body_text
    assert "Your booking of Cellule robotisée on Tuesday 19 January 2027, 09:00" in english_body
    assert "11:00 is confirmed." in english_body
    assert not re.search(r"\d\d/\d\d/\d{4}|2027-01-19", english_body), english_body
    french_body = mails[french.email].body_text
    assert "mardi 19 janvier 2027 de 14:00 à 16:00" in french_body, french_body
    assert not re.search(r"\d\d/\d\d/\d{4}|2027-01-19", french_body), french_body


# -- the catalogues -----------------------------------------------------------------------

def catalogue(language: str) -> Any:
    with (ROOT / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def test_the_french_catalogue_has_no_empty_or_fuzzy_entry() -> None:
    cat = catalogue("fr")
    entries = [m for m in cat if m.id]  # the header's msgid is empty
    assert len(entries) > 500
    empty = [m.id for m in entries
             if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert (empty, fuzzy) == ([], [])
    # Babel's own checks: the same %(name)s placeholders on both sides.
    assert [(m.id, [str(e) for e in errors]) for m, errors in cat.check()] == []


def test_the_english_catalogue_has_no_empty_plural_form() -> None:
    """An empty plural form compiles to an empty translation: English readers would
    see nothing where ngettext is used."""
    plurals = [m for m in catalogue("en") if m.id and isinstance(m.id, tuple)]
    assert plurals
    assert [m.id for m in plurals if not all(m.string)] == []
