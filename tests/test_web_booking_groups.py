"""One session over several machines in the pages (issue 13, part 1): the
form's « autres machines pour la même séance », booked together or not at
all with the refusing machine named, its preview machine by machine, the
booking page listing the session, moving and cancelling the machine alone or
the whole session; and on the same pages the cancellation deadline's refusal,
a late cancellation and a trainer flagged as double-booked."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.groups import create_group
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import Booking, BookingStatus, EquipmentStatus, Role
from tests.conftest import NOW, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
WED = date(2027, 1, 13)  # NOW is Tuesday 12 January 2027, 09:00 in Paris


def paris(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def summaries(html: str) -> list[str]:
    return re.findall(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S)


@pytest.fixture
def w(make: Any, now: datetime) -> SimpleNamespace:
    est = make.establishment()
    line = make.equipment(establishment=est, name="Ligne de conditionnement")
    return SimpleNamespace(
        est=est, line=line,
        # English: the new sentences are read before their French is merged.
        trainer=make.user(Role.TRAINER, establishment=est, locale="en"),
        coord=make.user(Role.COORDINATOR, establishment=est, locale="en"),
        cobot=make.equipment(establishment=est, name="Cellule cobotique"),
        filler=make.equipment(establishment=est, name="Remplisseuse", parent=line),
        labeller=make.equipment(establishment=est, name="Étiqueteuse"),
        away=make.equipment(name="Machine d'ailleurs"),
        broken=make.equipment(establishment=est, name="Machine en panne",
                              status=EquipmentStatus.MAINTENANCE, status_reason="Panne"))


def post_form(client: Any, first: Any, others: list[Any], **fields: Any) -> Any:
    token = csrf_token_of(client.get(f"/bookings/new?equipment={first.id}").get_data(
        as_text=True))
    data = {"csrf_token": token, "equipment": first.id, "day": WED.isoformat(),
            "start": "09:00", "end": "10:00", "title": "TP conditionnement",
            "purpose": "training", "repeat": "none", "submit": "1", **fields,
            "equipment_ids": [m.id for m in others]}
    return client.post("/bookings/new", data={k: v for k, v in data.items() if v is not None})


def group_of(app: Any, db: Any, user: Any, machines: list[Any], hour: int = 9) -> list[Booking]:
    with app.app_context():
        result = create_group(db, actor=user, now=NOW, policy=Policy(),
                              equipment_ids=[m.id for m in machines], request=BookingRequest(
                                  machines[0].id, paris(WED, hour).astimezone(UTC),
                                  paris(WED, hour + 1).astimezone(UTC), "TP en séance"))
    db.flush()
    return result.created


def single(app: Any, db: Any, user: Any, machine: Any, hour: int = 9) -> Booking:
    with app.app_context():
        booking = create_booking(db, actor=user, now=NOW, policy=Policy(), request=BookingRequest(
            machine.id, paris(WED, hour).astimezone(UTC), paris(WED, hour + 1).astimezone(UTC),
            "TP seul"))
    db.flush()
    return booking


def titles(db: Any, title: str) -> list[tuple[int, str | None]]:
    return list(db.execute(select(Booking.equipment_id, Booking.group_id)
                           .where(Booking.title == title).order_by(Booking.id)).all())


# -- the form ------------------------------------------------------------------------------

def test_the_form_offers_the_establishments_other_active_machines(client, login, w) -> None:
    login(w.trainer)
    html = client.get(f"/bookings/new?equipment={w.cobot.id}").get_data(as_text=True)
    fieldset = re.search(r'<fieldset[^>]*id="equipment_ids".*?</fieldset>', html, re.S).group(0)
    offered = re.findall(r'name="equipment_ids"[^>]*value="(\d+)"', fieldset)
    # By name, the filler (a component) right under its line.
    assert offered == [str(m.id) for m in (w.labeller, w.line, w.filler)]
    assert "Component:" in text_of(fieldset)
    assert "checked" not in fieldset


def test_a_link_ticks_the_machines_it_names(client, login, w) -> None:
    """The site timeline's selection across rows; other values are left out."""
    login(w.trainer)
    html = client.get(f"/bookings/new?equipment={w.cobot.id}&date={WED.isoformat()}"
                      f"&start=09:00&end=10:00&equipment_ids={w.labeller.id}"
                      f"&equipment_ids={w.away.id}&equipment_ids=%C2%B2"
                      f"&equipment_ids={w.cobot.id}").get_data(as_text=True)
    checked = re.findall(r'<input[^>]*checked[^>]*value="(\d+)"|'
                         r'<input[^>]*value="(\d+)"[^>]*checked', html)
    assert [a or b for a, b in checked] == [str(w.labeller.id)]
    assert summaries(html) == []


def test_a_session_is_booked_on_every_machine_and_opens_the_first(db, client, login,
                                                                  w) -> None:
    login(w.trainer)
    answer = post_form(client, w.cobot, [w.labeller, w.filler])
    assert answer.status_code == 302
    rows = titles(db, "TP conditionnement")
    assert [machine for machine, _group in rows] == [w.cobot.id, w.labeller.id, w.filler.id]
    assert len({group for _machine, group in rows}) == 1
    assert rows[0][1] is not None
    first = db.scalars(select(Booking.id).where(Booking.equipment_id == w.cobot.id)).one()
    assert answer.location.endswith(f"/bookings/{first}")
    page = text_of(client.get(answer.location).get_data(as_text=True))
    assert "3 machines booked for the session: Cellule cobotique, Étiqueteuse, Remplisseuse." \
        in page


def test_a_refusal_names_the_machine_and_books_nothing(app, db, client, login, w) -> None:
    single(app, db, w.coord, w.labeller)  # taken at 09:00
    login(w.trainer)
    answer = post_form(client, w.cobot, [w.filler, w.labeller])
    assert answer.status_code == 200
    (summary,) = summaries(answer.get_data(as_text=True))
    assert "Refused for Étiqueteuse, so nothing was booked:" in text_of(summary)
    assert titles(db, "TP conditionnement") == []


def test_the_number_of_machines_is_refused_next_to_the_field(db, client, login, w) -> None:
    """More than the service takes: its own refusal, on the machines' field."""
    login(w.trainer)
    html = post_form(client, w.cobot, [w.labeller, w.line, w.filler], title="x" * 3,
                     repeat="weekly", count="2").get_data(as_text=True)
    assert 'id="equipment_ids-error"' in html
    assert "does not repeat" in html
    assert titles(db, "xxx") == []


def test_the_preview_tries_each_machine_and_writes_nothing(app, db, client, login,
                                                           w) -> None:
    single(app, db, w.coord, w.labeller)
    login(w.trainer)
    html = post_form(client, w.cobot, [w.filler, w.labeller], submit=None,
                     preview="1").get_data(as_text=True)
    section = re.search(r'<section[^>]*id="preview-results".*?</section>', html, re.S).group(0)
    rows = re.findall(r"<tr class=\"(is-ok|is-refused)\">\s*<td[^>]*>([^<]+)</td>", section)
    assert rows == [("is-ok", "Cellule cobotique"), ("is-ok", "Remplisseuse"),
                    ("is-refused", "Étiqueteuse")]
    assert titles(db, "TP conditionnement") == []


# -- the booking page, moving and cancelling ----------------------------------------------

def test_the_booking_page_lists_the_sessions_other_machines(app, db, client, login,
                                                            w) -> None:
    first, second, third = group_of(app, db, w.trainer, [w.cobot, w.labeller, w.filler])
    login(w.trainer)
    html = client.get(f"/bookings/{first.id}").get_data(as_text=True)
    section = re.search(r'<section[^>]*id="session".*?</section>', html, re.S).group(0)
    assert f'href="/bookings/{second.id}"' in section
    assert f'href="/bookings/{third.id}"' in section
    assert f'href="/bookings/{first.id}"' not in section
    assert "Étiqueteuse" in section
    assert "Remplisseuse" in section
    alone = single(app, db, w.trainer, w.line, hour=14)
    assert 'id="session"' not in client.get(f"/bookings/{alone.id}").get_data(as_text=True)


def _post(client: Any, url: str, **data: Any) -> Any:
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def test_cancel_the_machine_alone_or_the_whole_session(app, db, client, login, w) -> None:
    first, second, third = group_of(app, db, w.trainer, [w.cobot, w.labeller, w.filler])
    login(w.trainer)
    page = client.get(f"/bookings/{first.id}/cancel").get_data(as_text=True)
    scope = re.search(r'<select[^>]*name="scope".*?</select>', page, re.S).group(0)
    assert re.findall(r'value="(\w+)"', scope) == ["occurrence", "group"]
    assert "The whole session (3 machines)" in scope
    assert "Only this machine" in scope
    assert _post(client, f"/bookings/{second.id}/cancel", scope="occurrence",
                 reason="").status_code == 302
    db.expire_all()
    assert [b.status for b in (first, second, third)] == [
        BookingStatus.CONFIRMED, BookingStatus.CANCELLED, BookingStatus.CONFIRMED]
    page = client.get(f"/bookings/{first.id}/cancel").get_data(as_text=True)
    assert "The whole session (2 machines)" in page
    assert _post(client, f"/bookings/{first.id}/cancel", scope="group",
                 reason="Classe absente").status_code == 302
    db.expire_all()
    assert {b.status for b in (first, second, third)} == {BookingStatus.CANCELLED}


def test_move_the_whole_session(app, db, client, login, w) -> None:
    first, second = group_of(app, db, w.trainer, [w.cobot, w.labeller])
    login(w.trainer)
    answer = _post(client, f"/bookings/{second.id}/move", title="TP déplacé",
                   day=WED.isoformat(), start="14:00", end="15:00", scope="group")
    assert answer.status_code == 302
    db.expire_all()
    assert [(b.start_at, b.title) for b in (first, second)] == [
        (paris(WED, 14).astimezone(UTC), "TP déplacé")] * 2


def test_a_single_booking_keeps_a_hidden_scope(app, db, client, login, w) -> None:
    booking = single(app, db, w.trainer, w.cobot)
    login(w.trainer)
    page = client.get(f"/bookings/{booking.id}/cancel").get_data(as_text=True)
    assert '<input type="hidden" name="scope" value="occurrence">' in page
    assert _post(client, f"/bookings/{booking.id}/cancel", scope="group",
                 reason="").status_code == 200  # not a choice of a booking alone


# -- the booking windows and the trainer's clash on these pages ---------------------------

def test_a_late_cancellation_is_refused_on_the_cancel_page(app, db, client, login, w) -> None:
    w.cobot.cancel_deadline_hours = 48  # Wednesday 09:00 is 24 hours away
    db.flush()
    booking = group_of(app, db, w.trainer, [w.cobot, w.labeller])[0]
    login(w.trainer)
    answer = _post(client, f"/bookings/{booking.id}/cancel", scope="occurrence", reason="")
    assert answer.status_code == 200
    (summary,) = summaries(answer.get_data(as_text=True))
    assert f"ask a coordinator of {w.est.name}" in text_of(summary)
    db.expire_all()
    assert booking.status is BookingStatus.CONFIRMED


def test_a_late_cancellation_is_told_on_the_booking_page(app, db, client, login, w) -> None:
    booking = group_of(app, db, w.trainer, [w.cobot, w.labeller])[0]
    login(w.trainer)
    assert 'id="cancelled-late"' not in client.get(f"/bookings/{booking.id}").get_data(
        as_text=True)
    booking.status, booking.cancelled_at, booking.cancelled_late = (
        BookingStatus.CANCELLED, NOW, True)
    db.flush()
    html = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "Cancelled after the cancellation deadline" in text_of(html)


def test_a_trainer_clash_is_shown_to_who_may_change_it(app, db, client, login, w) -> None:
    booking = group_of(app, db, w.trainer, [w.cobot, w.labeller])[0]
    login(w.trainer)
    assert 'id="trainer-clash"' not in client.get(f"/bookings/{booking.id}").get_data(
        as_text=True)
    booking.trainer_clash = True
    db.flush()
    for url in (f"/bookings/{booking.id}", f"/bookings/{booking.id}/move"):
        html = client.get(url).get_data(as_text=True)
        warning = re.search(r'<p[^>]*id="trainer-clash".*?</p>', html, re.S).group(0)
        assert "The trainer has another booking at the same time" in warning
