"""« Mes listes d'attente » (the user's entries, their place in line, claim
and leave) and who waits for a machine, on its page, for its coordinators."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.policy import Policy
from booking.services.waitlist import listing
from booking.services.waitlist import operations as waitlist
from models import Role, WaitlistStatus
from tests.conftest import NOW, csrf_token_of
from tests.world import logged_in

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2027, 1, 14, 10, tzinfo=PARIS)
END = START + timedelta(hours=2)


def request(eq: Any, start: datetime = START, end: datetime = END) -> BookingRequest:
    return BookingRequest(equipment_id=eq.id, start=start, end=end, title="Séance")


@pytest.fixture
def w(db: Any, make: Any) -> SimpleNamespace:
    """A taken slot with three people in line (first, second, third, in that order)."""
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    eq = make.equipment(establishment=owner, name="Mélangeur")
    people = {name: make.user(Role.TRAINER, establishment=owner)
              for name in ("holder", "first", "second", "third", "elsewhere")}
    coordinator = make.user(Role.COORDINATOR, establishment=owner)
    stranger = make.user(Role.COORDINATOR,
                         establishment=make.establishment(code="AUT", name="Autre lycée"))
    booking = create_booking(db, actor=people["holder"], request=request(eq), now=NOW,
                             policy=Policy(), notify=False)
    entries = [waitlist.join(db, actor=people[name], request=request(eq),
                             now=NOW + timedelta(minutes=i), policy=Policy())
               for i, name in enumerate(("first", "second", "third"))]
    return SimpleNamespace(eq=eq, booking=booking, entries=entries, coordinator=coordinator,
                           stranger=stranger, **people)


def free_and_offer(db: Any, w: SimpleNamespace) -> None:
    cancel_booking(db, actor=w.holder, booking=w.booking, now=NOW)
    waitlist.run(db, now=NOW, policy=Policy())


def rows(html: str, table: str) -> dict[int, str | None]:
    """The entries of a table by id, with their data-position."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return {int(m[1]): m[3] for m in re.finditer(
        r'data-entry="(\d+)"( data-position="(\d+)")?', body)}


def test_place_in_line_is_counted_by_the_service(db, w) -> None:
    first, _second, third = w.entries
    mine = listing.my_entries(db, w.third, now=NOW)
    assert [(p.entry, p.position) for p in mine.open] == [(third, 3)]
    waitlist.leave(db, actor=w.first, entry=first, now=NOW)
    assert [p.position for p in listing.my_entries(db, w.third, now=NOW).open] == [2]
    # Another machine's line, or a period that does not meet, is not ahead.
    assert [p.position for p in listing.my_entries(db, w.second, now=NOW).open] == [1]
    assert listing.my_entries(db, w.first, now=NOW).past == [first]
    assert listing.waiting_count(db, w.third, now=NOW) == 1
    assert listing.waiting_count(db, w.first, now=NOW) == 0


def test_an_offer_comes_first_and_still_counts_in_line(db, w) -> None:
    free_and_offer(db, w)
    first, second, _third = w.entries
    assert first.status is WaitlistStatus.OFFERED
    assert [(p.entry, p.position) for p in listing.line_of(db, w.eq, now=NOW)] == [
        (first, 1), (second, 2), (w.entries[2], 3)]
    # Once its offer has run out (before the job says so), it is out of line.
    later = first.offer_expires_at + timedelta(minutes=1)
    assert listing.my_entries(db, w.first, now=later).open == []


def test_my_waiting_lists_page(app, db, w, login, now) -> None:
    free_and_offer(db, w)
    browser = login(w.second)
    page = browser.get("/waitlist")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert rows(html, "waitlist-open") == {w.entries[1].id: "2"}
    assert f"/waitlist/{w.entries[1].id}/leave" in html
    assert "/claim" not in html  # waiting: nothing to claim yet
    assert 'id="waitlist-past"' not in html

    offered = logged_in(app, w.first).get("/waitlist").get_data(as_text=True)
    assert f"/waitlist/{w.entries[0].id}/claim" in offered
    assert 'data-status="offered"' in offered
    assert "120 minutes" in offered  # the time left to claim it


def test_claim_from_the_page_then_the_booking_is_linked(db, w, login, now) -> None:
    free_and_offer(db, w)
    browser = login(w.first)
    html = browser.get("/waitlist").get_data(as_text=True)
    answer = browser.post(f"/waitlist/{w.entries[0].id}/claim",
                          data={"csrf_token": csrf_token_of(html)})
    assert answer.status_code == 302
    db.refresh(w.entries[0])
    assert w.entries[0].status is WaitlistStatus.CLAIMED
    html = browser.get("/waitlist").get_data(as_text=True)
    assert rows(html, "waitlist-past") == {w.entries[0].id: None}
    assert f"/bookings/{w.entries[0].booking_id}" in html
    assert 'data-status="claimed"' in html


def test_leaving_from_the_page(db, w, login, now) -> None:
    browser = login(w.third)
    html = browser.get("/waitlist").get_data(as_text=True)
    entry = w.entries[2]
    refused = browser.post(f"/waitlist/{entry.id}/leave")  # no CSRF token
    assert refused.status_code == 400
    db.refresh(entry)
    assert entry.status is WaitlistStatus.WAITING

    answer = browser.post(f"/waitlist/{entry.id}/leave", data={"csrf_token": csrf_token_of(html)})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/waitlist"
    db.refresh(entry)
    assert entry.status is WaitlistStatus.CANCELLED
    html = browser.get("/waitlist").get_data(as_text=True)
    assert 'id="waitlist-open"' not in html
    assert rows(html, "waitlist-past") == {entry.id: None}
    assert 'data-status="cancelled"' in html

    # Leaving twice is refused by the service, shown as a message, not an error page.
    again = browser.post(f"/waitlist/{entry.id}/leave", data={"csrf_token": csrf_token_of(html)},
                         follow_redirects=True)
    assert again.status_code == 200


def test_an_entry_is_left_only_by_its_owner(app, db, w, now) -> None:
    entry = w.entries[0]
    for who, status in ((w.second, 404), (w.coordinator, 403), (w.stranger, 404)):
        browser = logged_in(app, who)
        token = csrf_token_of(browser.get("/waitlist").get_data(as_text=True))
        assert browser.post(f"/waitlist/{entry.id}/leave",
                            data={"csrf_token": token}).status_code == status, who
    db.refresh(entry)
    assert entry.status is WaitlistStatus.WAITING


def test_the_page_needs_a_login_and_is_linked_from_the_menu(db, w, client, login, now) -> None:
    assert client.get("/waitlist").status_code == 302
    dashboard = login(w.third).get("/dashboard").get_data(as_text=True)
    assert 'href="/waitlist"' in dashboard
    assert 'id="waitlist-reminder" data-waiting="1"' in dashboard


def test_the_machine_page_shows_its_line_to_its_coordinators(app, db, w, now) -> None:
    html = logged_in(app, w.coordinator).get(f"/equipment/{w.eq.id}").get_data(as_text=True)
    assert 'id="machine-waitlist"' in html
    assert 'data-waiting="3"' in html
    assert {int(p) for p in re.findall(r'data-position="(\d+)"', html)} == {1, 2, 3}
    assert w.first.name in html
    for who in (w.elsewhere, w.stranger):
        page = logged_in(app, who).get(f"/equipment/{w.eq.id}").get_data(as_text=True)
        assert 'id="machine-waitlist"' not in page
