"""Kiosk screens (issue 14): who makes and revokes their links, what a screen
shows (now and next, today and tomorrow, check-in, company bookings masked),
that a bad token is a 404 with nothing written, and that a screen costs the
same number of statements for one machine or many.

The clock is frozen at NOW: Tuesday 12 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.occupancy import occupancy_rows
from booking.services.errors import Forbidden, NotFound
from booking.services.kiosk.operations import (
    create_link,
    kiosk_token,
    link_for_token,
    load_link,
    revoke_link,
)
from models import (
    SLOT_HOLDING_STATUSES,
    AuditEntry,
    Booking,
    BookingPurpose,
    BookingStatus,
    EquipmentCategory,
    EquipmentStatus,
    KioskLink,
    KioskScope,
    Project,
    ProjectStatus,
    Role,
)
from tests.conftest import NOW, csrf_token_of
from tests.query_count import count_statements

PARIS = ZoneInfo("Europe/Paris")
TUESDAY, WEDNESDAY, THURSDAY, MONDAY = (date(2027, 1, 12), date(2027, 1, 13),
                                         date(2027, 1, 14), date(2027, 1, 11))
_uids = itertools.count(1)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


def add_booking(make: Any, machine: Any, start: datetime, *, hours: float = 1,
                title: str = "Séance", booked_by: Any, trainer: Any = None,
                status: BookingStatus = BookingStatus.CONFIRMED, **kw: Any) -> Booking:
    booking = Booking(uid=f"kiosk-{next(_uids)}@test", equipment=machine, start_at=start,
                      end_at=start + timedelta(hours=hours), title=title,
                      purpose=BookingPurpose.TRAINING, status=status, booked_by=booked_by,
                      trainer=trainer, **kw)
    if status in SLOT_HOLDING_STATUSES:
        booking.occupancies = occupancy_rows(booking, machine)
    make.session.add(booking)
    make.session.flush()
    return booking


@pytest.fixture
def site(make) -> Any:
    return make.establishment(code="ORL", name="Lycée Voltaire", timezone="Europe/Paris")


@pytest.fixture
def coordinator(make, site) -> Any:
    return make.user(Role.COORDINATOR, establishment=site)


def new_link(app, db, actor, scope: KioskScope, target_id: int) -> tuple[KioskLink, str]:
    with app.app_context():
        key = app.config["SECRET_KEY"]
        link = create_link(db, actor=actor, now=NOW, scope=scope, target_id=target_id,
                           label="Hall B", key=key)
        return link, kiosk_token(link, key)


def writes(statements: Any) -> list[str]:
    return [s for s in statements.sql
            if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


# --- who makes and revokes links --------------------------------------------------------


def test_coordinators_and_admins_make_links_of_their_sites_and_machines(app, db, make, site,
                                                                         coordinator) -> None:
    machine = make.equipment(establishment=site)
    other_site = make.establishment()
    admin = make.user(Role.ADMIN)
    link, _token = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    assert (link.scope, link.establishment_id, link.equipment_id) == (
        KioskScope.ESTABLISHMENT, site.id, None)
    machine_link, _ = new_link(app, db, coordinator, KioskScope.EQUIPMENT, machine.id)
    assert machine_link.equipment_id == machine.id
    new_link(app, db, admin, KioskScope.ESTABLISHMENT, other_site.id)
    # Only the digest of the token is stored.
    assert len(link.token_hash) == 64
    assert _token not in (link.token_hash, link.secret)
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "kiosk_link")).all()
    assert actions.count("kiosk.create") == 3

    with pytest.raises(NotFound):  # another establishment's site or machine
        new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, other_site.id)
    with pytest.raises(NotFound):
        new_link(app, db, coordinator, KioskScope.EQUIPMENT,
                 make.equipment(establishment=other_site).id)
    with pytest.raises(NotFound):  # an unknown one
        new_link(app, db, coordinator, KioskScope.EQUIPMENT, 987654)
    for role in (Role.TRAINER, Role.COMPANY):
        with pytest.raises(Forbidden):
            new_link(app, db, make.user(role, establishment=site)
                     if role is Role.TRAINER else make.user(role),
                     KioskScope.ESTABLISHMENT, site.id)


def test_a_revoked_link_answers_404_and_only_its_coordinators_revoke_it(app, db, make, site,
                                                                         coordinator,
                                                                         client) -> None:
    link, token = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    other_coordinator = make.user(Role.COORDINATOR)
    trainer = make.user(Role.TRAINER, establishment=site)
    assert client.get(f"/kiosk/{token}").status_code == 200
    with pytest.raises(NotFound):
        load_link(db, link.id, actor=other_coordinator)
    with pytest.raises(Forbidden):
        load_link(db, link.id, actor=trainer)
    with pytest.raises(NotFound):
        load_link(db, 987654, actor=coordinator)
    assert load_link(db, link.id, actor=coordinator) is link
    revoke_link(db, link, actor=coordinator, now=NOW)
    assert link.revoked_at == NOW
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_type == "kiosk_link", AuditEntry.object_id == link.id,
        AuditEntry.action == "kiosk.revoke")) == "kiosk.revoke"
    with count_statements(db) as statements:
        answer = client.get(f"/kiosk/{token}")
    assert answer.status_code == 404
    assert writes(statements) == []
    assert link_for_token(db, token) is None
    with pytest.raises(NotFound):  # revoked: gone from the page too
        load_link(db, link.id, actor=coordinator)


@pytest.mark.parametrize("token", [
    "unknown", "A" * 43, "A" * 129, "x" * 5000, "%00", "%C3%A9t%C3%A9", "..%2F..%2Fetc",
    "%F0%9F%92%A5", "'%20OR%201=1--", "%3Cscript%3E", "%0D%0ALocation:x", "%ED%A0%80",
])
def test_a_hostile_token_is_a_404_that_writes_nothing(app, db, make, site, coordinator,
                                                      client, token) -> None:
    new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    with count_statements(db) as statements:
        answer = client.get(f"/kiosk/{token}")
    assert answer.status_code == 404
    assert writes(statements) == []


def test_the_management_page_makes_shows_and_revokes_links(app, db, make, site, coordinator,
                                                           client, login, now) -> None:
    machine = make.equipment(establishment=site, code="ORL-COBOT-01", name="Cobot")
    login(coordinator)
    page = client.get("/kiosks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'value="equipment:{machine.id}"' in html
    assert f'value="establishment:{site.id}"' in html
    answer = client.post("/kiosks/new", data={
        "csrf_token": csrf_token_of(html), "target": f"equipment:{machine.id}",
        "label": "Atelier, près du cobot"})
    assert answer.status_code == 302
    link = db.scalar(select(KioskLink).where(KioskLink.equipment_id == machine.id))
    assert link is not None
    assert link.label == "Atelier, près du cobot"
    with app.app_context():
        token = kiosk_token(link, app.config["SECRET_KEY"])
    html = client.get("/kiosks").get_data(as_text=True)
    assert f'value="{app.config["PUBLIC_URL"]}/kiosk/{token}"' in html
    assert f'id="kiosk-{link.id}"' in html
    # A target outside the choices is the form's error, nothing made.
    answer = client.post("/kiosks/new", data={
        "csrf_token": csrf_token_of(html), "target": f"establishment:{site.id + 1000}"})
    assert answer.status_code == 200
    assert db.scalar(select(KioskLink).where(KioskLink.establishment_id == site.id + 1000)) \
        is None
    confirm = client.get(f"/kiosks/{link.id}/revoke")
    assert confirm.status_code == 200
    answer = client.post(f"/kiosks/{link.id}/revoke",
                         data={"csrf_token": csrf_token_of(confirm.get_data(as_text=True))})
    assert answer.status_code == 302
    db.refresh(link)
    assert link.revoked_at is not None
    assert f'id="kiosk-{link.id}"' not in client.get("/kiosks").get_data(as_text=True)
    assert app.test_client().get(f"/kiosk/{token}").status_code == 404


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_the_management_page_is_refused_to_who_holds_no_links(client, login, make,
                                                              role) -> None:
    login(make.user(role))
    assert client.get("/kiosks").status_code == 403


def test_another_coordinator_sees_none_of_the_sites_links(app, db, make, site, coordinator,
                                                         client, login) -> None:
    link, _ = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    login(make.user(Role.COORDINATOR))
    assert f'id="kiosk-{link.id}"' not in client.get("/kiosks").get_data(as_text=True)
    assert client.get(f"/kiosks/{link.id}/revoke").status_code == 404


# --- what a screen shows --------------------------------------------------------------------


def _board(html: str, equipment_id: int) -> str:
    start = html.index(f'data-equipment-id="{equipment_id}"')
    end = html.find('<section class="kiosk-board"', start)
    return html[start:end if end != -1 else len(html)]


def _section(html: str, name: str) -> str:
    start = html.index(f'aria-labelledby="{name}-')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def busy_machine(make, site) -> dict[str, Any]:
    """A machine that requires check-in, booked around NOW (09:00)."""
    machine = make.equipment(establishment=site, code="ORL-LIGNE-01", name="Ligne pilote",
                             check_in_required=True)
    trainer = make.user(Role.TRAINER, establishment=site, name="Julie Martin")
    company_user = make.user(Role.COMPANY, company=make.company(name="Laboratoire Secret"))
    project = Project(company_id=company_user.company_id, requested_by=company_user,
                      title="Projet confidentiel", learners=6, wanted_from=TUESDAY,
                      wanted_to=THURSDAY, status=ProjectStatus.SCHEDULED, trainer=trainer)
    make.session.add(project)
    bookings = {
        "yesterday": add_booking(make, machine, paris(MONDAY, 10), title="Hier",
                                 booked_by=trainer, trainer=trainer),
        "no_show": add_booking(make, machine, paris(TUESDAY, 7), title="Absents",
                               booked_by=trainer, trainer=trainer,
                               status=BookingStatus.NO_SHOW),
        "current": add_booking(make, machine, paris(TUESDAY, 8, 30), hours=2,
                               title="Émulsion niveau 2", booked_by=trainer, trainer=trainer,
                               checked_in_at=paris(TUESDAY, 8, 35)),
        "cancelled": add_booking(make, machine, paris(TUESDAY, 11), title="Annulée",
                                 booked_by=trainer, trainer=trainer,
                                 status=BookingStatus.CANCELLED, cancelled_at=NOW),
        "next": add_booking(make, machine, paris(TUESDAY, 13), title="Conditionnement",
                            booked_by=trainer, trainer=trainer),
        "company": add_booking(make, machine, paris(TUESDAY, 15), title="Titre secret",
                               booked_by=company_user, trainer=trainer, project=project,
                               participants=12),
        "tomorrow": add_booking(make, machine, paris(WEDNESDAY, 10), title="Demain matin",
                                booked_by=trainer, trainer=trainer,
                                status=BookingStatus.PENDING),
        "later": add_booking(make, machine, paris(THURSDAY, 10), title="Après-demain",
                             booked_by=trainer, trainer=trainer),
    }
    return {"machine": machine, "bookings": bookings, "trainer": trainer}


def test_a_machine_screen_shows_now_next_today_and_tomorrow(app, db, client, coordinator,
                                                            busy_machine, now) -> None:
    machine, b = busy_machine["machine"], busy_machine["bookings"]
    _, token = new_link(app, db, coordinator, KioskScope.EQUIPMENT, machine.id)
    answer = client.get(f"/kiosk/{token}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    current, following = _section(html, "current"), _section(html, "next")
    assert f'data-booking-id="{b["current"].id}"' in current
    assert "Émulsion niveau 2" in current
    assert "Julie Martin" in current
    assert 'data-check-in="started"' in current
    assert "08:35" in current
    assert f'data-booking-id="{b["next"].id}"' in following
    assert 'data-check-in="waiting"' in following
    today, tomorrow = _section(html, "today"), _section(html, "tomorrow")
    for name in ("no_show", "current", "next"):
        assert f'data-booking-id="{b[name].id}"' in today, name
    assert 'data-masked="true"' in today  # the company's, without its id
    assert f'data-booking-id="{b["no_show"].id}" data-check-in="no_show"' in today
    assert f'data-booking-id="{b["tomorrow"].id}"' in tomorrow
    for name in ("yesterday", "cancelled", "later"):
        assert f'data-booking-id="{b[name].id}"' not in html, name
    # Times in Paris time, as a clock shows them.
    assert "08:30–10:30" in current
    assert "13:00–14:00" in following


def test_a_company_booking_shows_as_booked_and_nothing_of_the_company(app, db, client,
                                                                      coordinator,
                                                                      busy_machine,
                                                                      now) -> None:
    machine, b = busy_machine["machine"], busy_machine["bookings"]
    _, token = new_link(app, db, coordinator, KioskScope.EQUIPMENT, machine.id)
    html = client.get(f"/kiosk/{token}").get_data(as_text=True)
    masked = html.split('data-masked="true">')
    assert len(masked) == 2  # the company's booking, once, in today's list
    company_item = masked[1][:masked[1].index("</div>")]
    assert "15:00–16:00" in company_item
    assert 'data-check-in="waiting"' in masked[0][-80:]
    assert f'data-booking-id="{b["company"].id}"' not in html  # not even its id
    assert "Julie Martin" not in company_item  # no trainer on a company's booking
    for secret in ("Titre secret", "Projet confidentiel", "Laboratoire Secret", "@example.org"):
        assert secret not in html, secret
    assert f'data-booking-id="{b["current"].id}" data-check-in="started" data-masked="false"' \
        in html


def test_the_screen_says_it_in_french(app, db, client, coordinator, busy_machine,
                                      now) -> None:
    """In French, the campus language (needs the kiosk translations compiled)."""
    machine = busy_machine["machine"]
    _, token = new_link(app, db, coordinator, KioskScope.EQUIPMENT, machine.id)
    html = client.get(f"/kiosk/{token}").get_data(as_text=True)
    for words in ("En cours", "Ensuite", "Commencé à 08:35", "En attente de démarrage",
                  "Non présenté", "Réservé", "Aujourd’hui", "Demain"):
        assert words in html, words


def test_a_machine_in_maintenance_says_so(app, db, make, client, site, coordinator,
                                         now) -> None:
    machine = make.equipment(establishment=site, status=EquipmentStatus.MAINTENANCE)
    _, token = new_link(app, db, coordinator, KioskScope.EQUIPMENT, machine.id)
    html = client.get(f"/kiosk/{token}").get_data(as_text=True)
    assert 'class="kiosk-status" data-status="maintenance"' in html


def test_a_screen_is_public_read_only_refreshing_and_unindexed(app, db, client, site,
                                                               coordinator, make,
                                                               now) -> None:
    make.equipment(establishment=site)
    _, token = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    with count_statements(db) as statements:
        answer = client.get(f"/kiosk/{token}")
    assert answer.status_code == 200
    assert writes(statements) == []
    assert "Set-Cookie" not in answer.headers
    assert answer.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    html = answer.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="60">' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "<script" not in html
    assert "style=" not in html
    assert "/static/css/kiosk.css" in html
    assert "app.css" not in html


def test_a_site_screen_shows_each_machine_and_what_holds_it(app, db, make, client, site,
                                                            coordinator, now) -> None:
    trainer = make.user(Role.TRAINER, establishment=site)
    line = make.equipment(establishment=site, category=EquipmentCategory.PILOT_LINE,
                          name="A ligne")
    component = make.equipment(establishment=site, parent=line, name="B remplisseuse")
    alone = make.equipment(establishment=site, name="C cobot")
    retired = make.equipment(establishment=site, status=EquipmentStatus.RETIRED)
    elsewhere = make.equipment()
    line_booking = add_booking(make, line, paris(TUESDAY, 8), hours=2, title="Ligne entière",
                               booked_by=trainer, trainer=trainer)
    own = add_booking(make, alone, paris(TUESDAY, 10), booked_by=trainer, trainer=trainer)
    add_booking(make, elsewhere, paris(TUESDAY, 10), title="Ailleurs", booked_by=trainer)
    _, token = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    html = client.get(f"/kiosk/{token}").get_data(as_text=True)
    assert html.count('<section class="kiosk-board"') == 3
    assert f'data-equipment-id="{retired.id}"' not in html
    assert f'data-equipment-id="{elsewhere.id}"' not in html
    assert "Ailleurs" not in html
    # The line's booking holds its component too; the cobot's is its own.
    for machine in (line, component):
        assert f'data-booking-id="{line_booking.id}"' in _section(_board(html, machine.id),
                                                                  "current")
    assert f'data-booking-id="{line_booking.id}"' not in _board(html, alone.id)
    assert f'data-booking-id="{own.id}"' in _section(_board(html, alone.id), "next")


def test_a_screen_costs_the_same_statements_for_one_machine_or_many(app, db, make, client,
                                                                    site, coordinator,
                                                                    now) -> None:
    company_user = make.user(Role.COMPANY)
    _, token = new_link(app, db, coordinator, KioskScope.ESTABLISHMENT, site.id)
    machines = 0

    def add(n: int) -> None:
        nonlocal machines
        for _ in range(n):
            machines += 1
            trainer = make.user(Role.TRAINER, establishment=site)
            if machines % 3 == 0:
                line = make.equipment(establishment=site, category=EquipmentCategory.PILOT_LINE)
                machine = make.equipment(establishment=site, parent=line)
                machines += 1
            else:
                machine = make.equipment(establishment=site, check_in_required=True)
            add_booking(make, machine, paris(TUESDAY, 8, 30), booked_by=trainer,
                        trainer=trainer, checked_in_at=paris(TUESDAY, 8, 31))
            add_booking(make, machine, paris(TUESDAY, 14), booked_by=company_user,
                        trainer=trainer)
            add_booking(make, machine, paris(WEDNESDAY, 9), booked_by=trainer,
                        trainer=trainer, status=BookingStatus.PENDING)
            add_booking(make, machine, paris(TUESDAY, 7), booked_by=trainer,
                        trainer=trainer, status=BookingStatus.NO_SHOW)
        db.flush()

    counts = []
    for n in (1, 9):
        add(n)
        db.expire_all()
        with count_statements(db) as statements:
            answer = client.get(f"/kiosk/{token}")
        assert answer.status_code == 200
        assert answer.get_data(as_text=True).count('<section class="kiosk-board"') == machines
        counts.append(statements)
    assert len(counts[0]) == len(counts[1]), f"{counts[0]}\n---\n{counts[1]}"
    assert len(counts[1]) <= 6, str(counts[1])  # 4 reads, in a savepoint
