"""History pages (issue 11): a booking's, a machine's and a project's audit
entries (who, when, what changed, why) for those who manage them, in the
reader's language; refused to trainers and companies."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from booking.services.bookings.operations import cancel_booking, move_booking
from booking.services.equipment.operations import update_equipment
from booking.services.policy import Policy
from booking.services.projects.operations import approve_project, request_project
from models import Booking, EquipmentStatus, Role
from tests.conftest import NOW
from tests.test_exports import Campus


class World:
    def __init__(self, client, db, make) -> None:
        self.campus = Campus(client, make)
        self.coordinator = make.user(Role.COORDINATOR, establishment=self.campus.tours,
                                     name="Inès Coordinatrice")
        self.other_coordinator = make.user(Role.COORDINATOR, establishment=self.campus.orleans)
        self.booking = db.get(Booking, self.campus.on_cobot["id"])
        later = NOW + timedelta(minutes=5)
        move_booking(db, actor=self.coordinator, booking=self.booking, now=later,
                     policy=Policy(), start=self.booking.start_at + timedelta(hours=1),
                     end=self.booking.end_at + timedelta(hours=1), title="TP cobotique 2")
        cancel_booking(db, actor=self.coordinator, booking=self.booking,
                       now=later + timedelta(minutes=5), reason="Machine en panne")
        update_equipment(db, actor=self.coordinator, equipment=self.campus.cobot,
                         data={"status": EquipmentStatus.MAINTENANCE,
                               "status_reason": "Graissage"}, now=later)
        self.company_user = make.user(Role.COMPANY, name="Paul Entreprise")
        self.project = request_project(
            db, actor=self.company_user, now=NOW, title="Ligne pilote", learners=8,
            wanted_from=date(2027, 3, 1), wanted_to=date(2027, 3, 31),
            equipment_ids=[self.campus.cobot.id])
        self.trainer = make.user(Role.TRAINER, establishment=self.campus.tours,
                                 name="Julien Moreau")
        approve_project(db, self.project, actor=self.coordinator, now=later,
                        trainer_id=self.trainer.id, reason="Bon dossier", notify=False)
        db.flush()


@pytest.fixture
def world(client, db, make, now) -> World:
    return World(client, db, make)


def _rows(html: str) -> list[str]:
    body = html[html.index('<table class="table table-stack" id="history">'):]
    body = body[:body.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body[body.index("<tbody>"):], re.S)
    # Spaces collapsed, but not the no-break spaces French puts before a colon.
    return [re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]



def test_a_bookings_history_in_french(client, login, world) -> None:
    login(world.coordinator)
    page = client.get(f"/bookings/{world.booking.id}")
    assert f'href="/history/bookings/{world.booking.id}"' in page.get_data(as_text=True)
    html = client.get(f"/history/bookings/{world.booking.id}").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 3
    cancelled, moved, booked = rows
    assert "Inès Coordinatrice" in cancelled
    assert "Annulée" in cancelled
    assert "Machine en panne" in cancelled
    assert "Modifiée" in moved
    assert "Intitulé\u00a0: TP cobotique — sécurité → TP cobotique 2" in moved
    assert re.search(r"Début\u00a0: mardi 19 janvier 2027\D+09:00 → mardi 19 janvier 2027\D+10:00",
                     moved), moved
    assert "Camille Martin" in booked
    assert "Réservée" in booked
    assert "Statut\u00a0: Confirmée" in booked
    assert "mardi 12 janvier 2027" in cancelled  # when, in the reader's language
    assert "2027-01" not in " ".join(rows)  # never ISO


def test_a_bookings_history_in_english(client, db, login, world) -> None:
    world.coordinator.locale = "en"
    db.flush()
    login(world.coordinator)
    rows = _rows(client.get(f"/history/bookings/{world.booking.id}").get_data(as_text=True))
    assert "Cancelled" in rows[0]
    assert "Changed" in rows[1]
    assert "Booked" in rows[2]
    assert "Title: TP cobotique — sécurité → TP cobotique 2" in rows[1]
    assert re.search(r"Start: Tuesday,? 19 January,? 2027\D+09:00 → Tuesday,? 19 January,? 2027"
                     r"\D+10:00", rows[1]), rows[1]
    assert "January 2027" in rows[0]


def test_a_machines_history(client, login, world) -> None:
    login(world.coordinator)
    page = client.get(f"/equipment/{world.campus.cobot.id}").get_data(as_text=True)
    assert f'href="/history/equipment/{world.campus.cobot.id}"' in page
    rows = _rows(client.get(f"/history/equipment/{world.campus.cobot.id}").get_data(
        as_text=True))
    assert any("Statut\u00a0: Actif → En maintenance" in row for row in rows), rows
    assert any("Motif du statut\u00a0: — → Graissage" in row for row in rows), rows


def test_a_projects_history(client, login, world) -> None:
    login(world.coordinator)
    page = client.get(f"/projects/{world.project.id}").get_data(as_text=True)
    assert f'href="/history/projects/{world.project.id}"' in page
    rows = _rows(client.get(f"/history/projects/{world.project.id}").get_data(as_text=True))
    approved, requested = rows
    assert "Validé" in approved
    assert "Validée" not in approved
    assert "Formateur\u00a0: Julien Moreau" in approved
    assert "Bon dossier" in approved
    assert "Paul Entreprise" in requested
    assert "Cellule cobot" in requested


def test_an_admin_reads_every_history(client, login, make, world) -> None:
    login(make.user(Role.ADMIN))
    for url in (f"/history/bookings/{world.booking.id}",
                f"/history/equipment/{world.campus.cobot.id}",
                f"/history/projects/{world.project.id}"):
        assert client.get(url).status_code == 200, url


def test_another_establishments_coordinator_is_refused(client, login, world) -> None:
    login(world.other_coordinator)
    assert client.get(f"/history/bookings/{world.booking.id}").status_code == 403
    assert client.get(f"/history/equipment/{world.campus.cobot.id}").status_code == 403
    page = client.get(f"/bookings/{world.booking.id}").get_data(as_text=True)
    assert "/history/" not in page
    # Projects are decided campus-wide: any coordinator reads their history.
    assert client.get(f"/history/projects/{world.project.id}").status_code == 200


def test_trainers_are_refused(client, login, world) -> None:
    login(world.campus.trainer)
    assert client.get(f"/history/bookings/{world.booking.id}").status_code == 403
    assert client.get(f"/history/equipment/{world.campus.cobot.id}").status_code == 403
    assert client.get(f"/history/projects/{world.project.id}").status_code == 404
    assert "/history/" not in client.get(f"/bookings/{world.booking.id}").get_data(
        as_text=True)


def test_companies_are_refused(client, login, make, world) -> None:
    login(world.company_user)
    assert client.get(f"/history/projects/{world.project.id}").status_code == 403
    assert "/history/" not in client.get(f"/projects/{world.project.id}").get_data(
        as_text=True)
    assert client.get(f"/history/bookings/{world.booking.id}").status_code == 404


def test_anonymous_goes_to_login(client, world) -> None:
    answer = client.get(f"/history/bookings/{world.booking.id}")
    assert answer.status_code == 302
    assert "/auth/login" in answer.headers["Location"]


def test_an_unknown_object_is_404(client, login, world) -> None:
    login(world.coordinator)
    assert client.get("/history/bookings/999999").status_code == 404
    assert client.get("/history/projects/99999999999").status_code == 404
