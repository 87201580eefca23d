"""GET /ical/<token>.ics: a live, revocable, cacheable RFC 5545 feed."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from icalendar import Calendar

from models import Role
from tests.conftest import PASSWORD


def _headers(client, user) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens",
                        json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def booked(client, make, now):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, name="Camille Martin")
    machine = make.equipment(establishment=est, name="Cellule cobot")
    headers = _headers(client, trainer)
    response = client.post("/api/v1/bookings", headers=headers, json={
        "equipment_id": machine.id, "title": "TP cobotique",
        "start": "2027-03-02T09:00:00+01:00", "end": "2027-03-02T12:00:00+01:00"})
    assert response.status_code == 201, response.get_json()
    feed = client.post("/api/v1/feeds", headers=headers,
                       json={"scope": "trainer", "scope_id": trainer.id}).get_json()
    path = feed["url"].split("://", 1)[1].split("/", 1)[1]
    return headers, "/" + path, response.get_json()


def test_feed_is_rfc5545_with_timezone_uid_and_sequence(client, booked):
    _, path, booking = booked
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = Calendar.from_ical(response.data)
    assert cal["X-WR-CALNAME"].startswith("Plateforme")
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == booking["uid"]
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime(2027, 3, 2, 8, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert "ATTENDEE" not in event


def test_change_shows_at_once_and_raises_sequence(client, booked):
    headers, path, booking = booked
    first = client.get(path)
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    cancelled = client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers, json={})
    assert cancelled.status_code == 200, cancelled.get_json()
    second = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    (event,) = Calendar.from_ical(second.data).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_gzip_when_asked(client, booked):
    _, path, _ = booked
    response = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert Calendar.from_ical(gzip.decompress(response.data)).walk("VEVENT")


def test_revoked_or_unknown_token_is_404(client, booked):
    headers, path, _ = booked
    feed_id = client.get("/api/v1/feeds", headers=headers).get_json()["items"][0]["id"]
    assert client.delete(f"/api/v1/feeds/{feed_id}", headers=headers).status_code == 204
    assert client.get(path).status_code == 404
    assert client.get("/ical/not-a-token.ics").status_code == 404


def test_feed_tokens_are_redacted_from_access_logs(app) -> None:
    import logging

    from booking.log_redaction import RedactFeedTokens

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '%s - - "%s" %s', ("127.0.0.1", "GET /ical/s3cr3tT0k3n.ics HTTP/1.1",
                                                  "200"), None)
    assert RedactFeedTokens().filter(record)
    assert "s3cr3tT0k3n" not in record.getMessage()
    assert "/ical/[secret].ics" in record.getMessage()
    assert any(isinstance(f, RedactFeedTokens) for f in logging.getLogger("werkzeug").filters)
