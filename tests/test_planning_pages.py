"""The « Quand puis-je ? » page: a GET form, results grouped by day in the
reader's language, each linking to the booking form filled in; linked from the
catalogue, the machine's page and the project's page."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from booking.services.bookings.occupancy import occupancy_rows
from models import Booking, BookingPurpose, BookingStatus, Project, ProjectStatus, Role

PARIS = ZoneInfo("Europe/Paris")
ISO_DAY = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@pytest.fixture
def site(make, db, now):
    home = make.establishment(code="ORL", name="Lycée d'Orléans", timezone="Europe/Paris")
    ctype = make.certification_type(code="HAB-E", name="Étiqueteuse")
    machine = make.equipment(establishment=home, code="ETI-1", name="Étiqueteuse")
    machine.required_certification_types = [ctype]
    trainer = make.user(Role.TRAINER, establishment=home, name="Alice Martin")
    make.certification(trainer, ctype)
    db.flush()
    return {"home": home, "machine": machine, "trainer": trainer, "ctype": ctype,
            "coordinator": make.user(Role.COORDINATOR, establishment=home),
            "company": make.user(Role.COMPANY)}


def visible_text(page: str) -> str:
    """What a reader reads: no tags, no scripts or styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def book_links(page: str) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(html.unescape(href)).query)
            for href in re.findall(r'href="(/bookings/new\?[^"]+)"', page)]


def search(client, **args):
    args = {"free_from": "2027-01-18", "free_to": "2027-01-19", "minutes": "60", **args}
    answer = client.get("/planning", query_string=args)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_form_alone_renders_in_french(login, site) -> None:
    page = login(site["coordinator"]).get("/planning")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="fr"' in text
    assert 'id="slot-search"' in text
    assert 'id="slot-results"' not in text
    assert "Établissement" in text


def test_results_are_grouped_by_day_in_french_and_link_to_the_booking_form(login,
                                                                          site) -> None:
    page = search(login(site["coordinator"]), equipment=site["machine"].id)
    text = visible_text(page)
    assert "lundi 18 janvier 2027" in text
    assert "mardi 19 janvier 2027" in text
    assert "Alice Martin" in text
    assert "Réserver" in text
    assert ISO_DAY.findall(text) == []
    links = book_links(page)
    assert links[0] == {"equipment": [str(site["machine"].id)], "date": ["2027-01-18"],
                        "start": ["08:00"], "end": ["09:00"],
                        "trainer": [str(site["trainer"].id)]}
    assert len(links) == 2


def test_a_company_reads_no_trainer(login, site) -> None:
    page = search(login(site["company"]), equipment=site["machine"].id, with_trainer="y")
    assert "Alice Martin" not in visible_text(page)
    assert all("trainer" not in link for link in book_links(page))
    assert len(book_links(page)) == 2


def test_a_trainer_searches_their_own_time(login, make, site, db) -> None:
    away = make.equipment(establishment=site["home"], code="ETI-2")
    start = datetime.combine(date(2027, 1, 18), time(8), tzinfo=PARIS).astimezone(UTC)
    booking = Booking(uid="planning-page@test", equipment=away, start_at=start,
                      end_at=start.replace(hour=start.hour + 10), title="Séance",
                      purpose=BookingPurpose.TRAINING, status=BookingStatus.CONFIRMED,
                      booked_by=site["trainer"], trainer=site["trainer"])
    booking.occupancies = occupancy_rows(booking, away)
    db.add(booking)
    db.flush()
    page = search(login(site["trainer"]), equipment=site["machine"].id)
    assert "mardi 19 janvier 2027" in visible_text(page)
    assert "lundi 18 janvier 2027" not in visible_text(page)
    # A trainer books for themselves: no trainer in the link.
    assert [link.get("trainer") for link in book_links(page)] == [None]


def test_a_bad_period_is_shown_next_to_its_field(login, site) -> None:
    page = search(login(site["coordinator"]), equipment=site["machine"].id,
                  free_from="2027-01-18", free_to="2027-06-30")
    assert 'id="free_to-error"' in page
    assert book_links(page) == []


def test_the_catalogue_the_machine_and_the_project_link_to_it(login, make, db, site) -> None:
    client = login(site["coordinator"])
    catalogue = client.get("/equipment").get_data(as_text=True)
    assert 'id="planning-link" href="/planning"' in catalogue
    machine = client.get(f"/equipment/{site['machine'].id}").get_data(as_text=True)
    assert f'href="/planning?equipment={site["machine"].id}"' in machine
    other = make.equipment(establishment=site["home"], code="ETI-3")
    project = Project(company=site["company"].company, requested_by=site["company"],
                      title="Flacons", learners=6, wanted_from=date(2027, 2, 1),
                      wanted_to=date(2027, 3, 31), status=ProjectStatus.APPROVED,
                      trainer=site["trainer"], equipment=[site["machine"], other])
    db.add(project)
    db.flush()
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    href = html.unescape(re.search(r'id="planning-link" href="([^"]+)"', page).group(1))
    args = parse_qs(urlsplit(href).query)
    assert args["equipment"] == sorted([str(site["machine"].id), str(other.id)], key=int)
    assert args["with_trainer"] == ["y"]
    assert args["trainer"] == [str(site["trainer"].id)]
    assert args["project"] == [str(project.id)]
    # The search itself carries the project into each booking link.
    found = client.get(href.replace("2027-02-01", "2027-02-01&free_to=2027-02-01"))
    links = book_links(found.get_data(as_text=True))
    assert links
    assert all(link["project"] == [str(project.id)] for link in links)
