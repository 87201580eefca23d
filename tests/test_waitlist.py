"""The waiting list (issue 14, part 1): joining a taken slot, offers to the
first in line who fits when it frees, claims, expiry, the job."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.services.bookings.operations import BookingRequest, cancel_booking, create_booking
from booking.services.errors import CertificationRequired, InvalidState, ValidationError
from booking.services.policy import Policy
from booking.services.waitlist import operations as waitlist
from models import BookingStatus, OutboxMessage, Role, WaitlistEntry, WaitlistStatus
from tests.conftest import NOW

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2027, 1, 14, 10, tzinfo=PARIS)
END = START + timedelta(hours=2)


@pytest.fixture
def w(make: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    cert = make.certification_type()
    eq = make.equipment(establishment=owner, name="Mélangeur")
    eq.required_certification_types = [cert]
    people = {name: make.user(Role.TRAINER, establishment=owner)
              for name in ("holder", "first", "second", "third")}
    certs = {name: make.certification(person, cert) for name, person in people.items()}
    return SimpleNamespace(owner=owner, cert=cert, eq=eq, certs=certs,
                           other=make.equipment(establishment=owner, name="Étuve"), **people)


def request(eq: Any, start: datetime = START, end: datetime = END,
            **kw: Any) -> BookingRequest:
    return BookingRequest(equipment_id=eq.id, start=start, end=end, title="Séance", **kw)


def book(db: Any, user: Any, eq: Any, **kw: Any) -> Any:
    return create_booking(db, actor=user, request=request(eq, **kw), now=NOW, policy=Policy(),
                          notify=False)


def join(db: Any, user: Any, eq: Any, at: datetime = NOW, **kw: Any) -> WaitlistEntry:
    return waitlist.join(db, actor=user, request=request(eq, **kw), now=at, policy=Policy())


def run(db: Any, at: datetime = NOW) -> waitlist.RunResult:
    return waitlist.run(db, now=at, policy=Policy())


def offer_mails(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.dedupe_key.like("waitlist-offer:%")))


@pytest.fixture
def taken(db: Any, w: SimpleNamespace) -> Any:
    """The holder's booking of the slot; the first, then the second, in line."""
    booking = book(db, w.holder, w.eq)
    w.entry1 = join(db, w.first, w.eq)
    w.entry2 = join(db, w.second, w.eq, at=NOW + timedelta(minutes=1))
    return booking


def free(db: Any, w: SimpleNamespace, booking: Any) -> None:
    cancel_booking(db, actor=w.holder, booking=booking, now=NOW)


def test_joining_a_taken_slot_waits_in_line(db, w, taken) -> None:
    assert (w.entry1.status, w.entry2.status) == (WaitlistStatus.WAITING,) * 2
    assert w.entry1.trainer_id is None  # as asked: the trainer who joined trains
    # Still taken: nothing to offer.
    assert run(db).offered == []


def test_a_free_slot_is_booked_not_joined(db, w) -> None:
    with pytest.raises(ValidationError, match="free"):
        join(db, w.first, w.eq)


def test_joining_is_checked_like_a_booking(db, w, make, taken) -> None:
    uncertified = make.user(Role.TRAINER, establishment=w.owner)
    with pytest.raises(CertificationRequired):
        join(db, uncertified, w.eq)
    with pytest.raises(InvalidState):
        join(db, w.first, w.eq)  # already in line for it


def test_a_freed_slot_is_offered_to_the_first_in_line_once(db, w, taken) -> None:
    free(db, w, taken)
    result = run(db)
    assert result.offered == [w.entry1]
    assert w.entry1.status is WaitlistStatus.OFFERED
    assert w.entry1.offer_expires_at == NOW + timedelta(hours=2)
    assert w.entry2.status is WaitlistStatus.WAITING  # the period is held by the offer
    assert run(db).offered == []  # idempotent: the second run changes nothing
    assert offer_mails(db) == 1


def test_claiming_books_and_a_second_claim_is_refused(db, w, taken) -> None:
    free(db, w, taken)
    run(db)
    booking = waitlist.claim(db, actor=w.first, entry=w.entry1, now=NOW, policy=Policy())
    assert booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING)
    assert (booking.trainer_id, booking.start_at) == (w.first.id, START)
    assert (w.entry1.status, w.entry1.booking_id) == (WaitlistStatus.CLAIMED, booking.id)
    with pytest.raises(InvalidState):
        waitlist.claim(db, actor=w.first, entry=w.entry1, now=NOW, policy=Policy())


def test_an_entry_not_offered_cannot_be_claimed(db, w, taken) -> None:
    with pytest.raises(InvalidState):
        waitlist.claim(db, actor=w.first, entry=w.entry1, now=NOW, policy=Policy())


def test_an_unclaimed_offer_expires_and_passes_to_the_next(db, w, taken) -> None:
    free(db, w, taken)
    run(db)
    later = NOW + timedelta(hours=2, minutes=5)
    with pytest.raises(InvalidState, match="expired"):
        waitlist.claim(db, actor=w.first, entry=w.entry1, now=later, policy=Policy())
    result = run(db, later)
    assert (result.offers_expired, result.offered) == (1, [w.entry2])
    assert w.entry1.status is WaitlistStatus.EXPIRED
    with pytest.raises(InvalidState):
        waitlist.claim(db, actor=w.first, entry=w.entry1, now=later, policy=Policy())
    assert waitlist.claim(db, actor=w.second, entry=w.entry2, now=later,
                          policy=Policy()).start_at == START


def test_the_offer_skips_who_no_longer_fits(db, w, taken) -> None:
    """The first lost their certification, the second's trainer is now busy
    elsewhere: the third gets the offer."""
    w.entry3 = join(db, w.third, w.eq, at=NOW + timedelta(minutes=2))
    w.certs["first"].valid_until = date(2027, 1, 13)
    book(db, w.second, w.other)
    free(db, w, taken)
    assert run(db).offered == [w.entry3]
    assert (w.entry1.status, w.entry2.status) == (WaitlistStatus.WAITING,) * 2


def test_an_offer_ends_before_the_slot_starts(db, w, taken) -> None:
    free(db, w, taken)
    near = START - timedelta(hours=1)
    run(db, near)
    assert w.entry1.offer_expires_at == START


def test_entries_expire_with_their_slot(db, w, taken) -> None:
    result = run(db, START + timedelta(minutes=1))
    assert result.entries_expired == 2
    assert (w.entry1.status, w.entry2.status) == (WaitlistStatus.EXPIRED,) * 2


def test_leaving_passes_an_offer_on(db, w, taken) -> None:
    free(db, w, taken)
    run(db)
    waitlist.leave(db, actor=w.first, entry=w.entry1, now=NOW)
    assert w.entry1.status is WaitlistStatus.CANCELLED
    assert run(db).offered == [w.entry2]
    with pytest.raises(InvalidState):
        waitlist.leave(db, actor=w.first, entry=w.entry1, now=NOW)


def test_the_dashboard_shows_an_offer_and_books_it(db, w, taken, login, now) -> None:
    free(db, w, taken)
    run(db)
    browser = login(w.first)
    page = browser.get("/dashboard").get_data(as_text=True)
    assert "Mélangeur" in page
    assert f"/waitlist/{w.entry1.id}/claim" in page
    assert "120 minutes" in page  # the time left, in the reader's language
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = browser.post(f"/waitlist/{w.entry1.id}/claim", data={"csrf_token": token})
    assert answer.status_code == 302
    db.refresh(w.entry1)
    assert answer.headers["Location"] == f"/bookings/{w.entry1.booking_id}"
    assert w.entry1.status is WaitlistStatus.CLAIMED
    assert f"/waitlist/{w.entry1.id}/claim" not in browser.get("/dashboard").get_data(
        as_text=True)


def test_the_booking_forms_conflict_offers_the_waiting_list(db, w, taken, login, now) -> None:
    browser = login(w.third)
    page = browser.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    data = {"csrf_token": page.split('name="csrf_token" value="')[1].split('"')[0],
            "equipment": w.eq.id, "day": "2027-01-14", "start": "10:00", "end": "12:00",
            "title": "Reprise", "purpose": "training", "submit": "1"}
    refused = browser.post("/bookings/new", data=data)
    assert refused.status_code == 200
    assert 'name="join_waitlist"' in refused.get_data(as_text=True)
    joined = browser.post("/bookings/new", data={**data, "join_waitlist": "1"})
    assert joined.status_code == 302
    entry = db.scalar(select(WaitlistEntry).where(WaitlistEntry.user_id == w.third.id))
    assert (entry.status, entry.start_at, entry.title) == (WaitlistStatus.WAITING, START,
                                                          "Reprise")


def test_a_free_slot_offers_no_waiting_list(db, w, login, now) -> None:
    browser = login(w.third)
    page = browser.get(f"/bookings/new?equipment={w.eq.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    refused = browser.post("/bookings/new", data={
        "csrf_token": token, "equipment": w.eq.id, "day": "2027-01-14", "start": "07:00",
        "end": "08:00", "title": "Tôt", "purpose": "training", "submit": "1"})
    assert refused.status_code == 200
    assert 'name="join_waitlist"' not in refused.get_data(as_text=True)


def test_the_jobs_page_reads_the_runs_summary_back(app) -> None:
    from booking.jobs.labels import summary
    from scheduler.jobs import JOBS

    spec = next(j for j in JOBS if j.id == "waitlist")
    assert spec.trigger_args == {"minutes": 5}
    with app.test_request_context():  # French, the default language
        assert summary("waitlist", "1 offer(s) expired, 2 entry(ies) expired, "
                       "0 slot(s) offered") == \
            "1 proposition expirée, 2 inscriptions expirées, 0 créneau proposé"
