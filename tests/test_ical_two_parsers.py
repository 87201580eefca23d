"""One feed body, two independent parsers: ``icalendar`` (which wrote it) and
``vobject`` (which shares no code with it) must read the same events.

A calendar that only the library that wrote it can read is not RFC 5545: the
second parser catches a folding, escaping or time-zone error that a round trip
through icalendar alone would hide.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import vobject
from icalendar import Calendar

from models import Role
from tests.conftest import PASSWORD

LONG_TITLE = ("Séance de formation continue « Ligne de conditionnement » — réglage de la "
              "remplisseuse, de la boucheuse et de l'étiqueteuse; nettoyage, vide de ligne")


@pytest.fixture
def feed_body(client, make, now) -> bytes:
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, name="Élise Durand")
    cobot = make.equipment(establishment=est, name="Cellule cobot")
    reactor = make.equipment(establishment=est, name="Réacteur", requires_approval=True)
    token = client.post("/api/v1/auth/tokens",
                        json={"email": trainer.email, "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def book(machine, start: str, end: str, title: str) -> dict:
        answer = client.post("/api/v1/bookings", headers=headers, json={
            "equipment_id": machine.id, "title": title, "start": start, "end": end})
        assert answer.status_code == 201, answer.get_json()
        return answer.json

    # Either side of the change to summer time (28 March 2027).
    book(cobot, "2027-03-26T09:00:00+01:00", "2027-03-26T12:00:00+01:00", LONG_TITLE)
    book(cobot, "2027-03-30T09:00:00+02:00", "2027-03-30T12:00:00+02:00",
         "TP; virgules, deux-points: et \\ barre")
    book(reactor, "2027-02-02T14:00:00+01:00", "2027-02-02T16:00:00+01:00", "En attente")
    cancelled = book(cobot, "2027-02-03T09:00:00+01:00", "2027-02-03T10:00:00+01:00", "Annulé")
    assert client.post(f"/api/v1/bookings/{cancelled['id']}/cancel", headers=headers,
                       json={}).status_code == 200
    feed = client.post("/api/v1/feeds", headers=headers,
                       json={"scope": "trainer", "scope_id": trainer.id})
    assert feed.status_code == 201, feed.get_json()
    path = "/" + feed.json["url"].split("://", 1)[1].split("/", 1)[1]
    answer = client.get(path)
    assert answer.status_code == 200
    return answer.data


def _instant(value: date | datetime) -> datetime:
    assert isinstance(value, datetime), value
    assert value.tzinfo is not None, value
    return value.astimezone(UTC)


def _with_icalendar(body: bytes) -> dict[str, tuple]:
    return {str(e["UID"]): (_instant(e.decoded("DTSTART")), _instant(e.decoded("DTEND")),
                            str(e["SUMMARY"]), str(e["STATUS"]), int(e["SEQUENCE"]))
            for e in Calendar.from_ical(body).walk("VEVENT")}


def _with_vobject(body: bytes) -> dict[str, tuple]:
    cal = vobject.readOne(body.decode("utf-8"))
    return {e.uid.value: (_instant(e.dtstart.value), _instant(e.dtend.value), e.summary.value,
                          e.status.value, int(e.sequence.value))
            for e in cal.vevent_list}


def test_both_parsers_read_the_same_events(feed_body) -> None:
    first, second = _with_icalendar(feed_body), _with_vobject(feed_body)
    assert len(first) == 4
    assert first == second
    by_title = {values[2]: values for values in first.values()}
    assert by_title[LONG_TITLE][:2] == (datetime(2027, 3, 26, 8, tzinfo=UTC),
                                        datetime(2027, 3, 26, 11, tzinfo=UTC))
    # Summer time: 09:00 in Paris is 07:00 UTC.
    assert by_title["TP; virgules, deux-points: et \\ barre"][0] == datetime(
        2027, 3, 30, 7, tzinfo=UTC)
    assert by_title["En attente"][3] == "TENTATIVE"
    assert by_title["Annulé"][3:] == ("CANCELLED", 1)


def test_lines_are_folded_at_75_octets_with_crlf(feed_body) -> None:
    assert feed_body.endswith(b"\r\n")
    lines = feed_body[:-2].split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # no bare line feed
    assert max(len(line) for line in lines) <= 75
    folded = [line for line in lines if line.startswith(b" ")]
    assert folded, "the long title must have been folded"
    # Folding never cuts a UTF-8 character in two: every line decodes alone.
    for line in lines:
        line.decode("utf-8")
