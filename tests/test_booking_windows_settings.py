"""A machine's booking windows as its settings (issue 13, part 5): each field
bounded and named when refused, nothing written; the API always answers
them; the admin form, the onboarding file and the machine's page in French."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from booking.services.equipment.operations import create_equipment, update_equipment
from booking.services.errors import ValidationError
from booking.services.onboarding.plan import ImportRefused, import_file
from models import AuditEntry, Equipment, Role
from tests.api_helpers import Callers, assert_error
from tests.conftest import NOW, csrf_token_of

WINDOWS = ("notice_minutes", "max_advance_days", "cancel_deadline_hours", "others_open_days")
NBSP = "\u00a0"


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def admin(make: Any) -> Any:
    return make.user(Role.ADMIN)


@pytest.fixture
def machine(make: Any) -> Equipment:
    return make.equipment(code="CELL-1", name="Cellule robotisée")


def _windows(equipment: Equipment) -> tuple[Any, ...]:
    return tuple(getattr(equipment, name) for name in WINDOWS)


# --- the service ------------------------------------------------------------------------


def test_a_new_machine_has_no_window(db, machine) -> None:
    db.expire_all()
    assert _windows(machine) == (0, None, 0, None)


@pytest.mark.parametrize(("field", "value"), [
    ("notice_minutes", -1), ("notice_minutes", 129601), ("notice_minutes", None),
    ("notice_minutes", "60"), ("max_advance_days", 0), ("max_advance_days", 3651),
    ("cancel_deadline_hours", -1), ("cancel_deadline_hours", 8761),
    ("cancel_deadline_hours", True), ("others_open_days", -1), ("others_open_days", 3651),
])
def test_each_window_out_of_its_bounds_is_refused_by_name(app, db, admin, machine, field,
                                                          value) -> None:
    before = _windows(machine)
    audits = len(db.scalars(select(AuditEntry)).all())
    with app.app_context(), pytest.raises(ValidationError) as refused:
        update_equipment(db, actor=admin, equipment=machine, data={field: value}, now=NOW)
    assert refused.value.details == {"field": field}
    db.expire_all()
    assert _windows(machine) == before
    assert len(db.scalars(select(AuditEntry)).all()) == audits


def test_every_wrong_window_is_named_at_once(app, db, admin, machine) -> None:
    with app.app_context(), pytest.raises(ValidationError) as refused:
        update_equipment(db, actor=admin, equipment=machine, now=NOW, data={
            "notice_minutes": -5, "max_advance_days": 0, "cancel_deadline_hours": 9000,
            "others_open_days": 4000})
    named = [r.details["field"] for r in refused.value.refusals]  # type: ignore[attr-defined]
    assert named == list(WINDOWS)


def test_a_furthest_ahead_within_the_notice_is_refused(app, db, admin, machine) -> None:
    with app.app_context(), pytest.raises(ValidationError) as refused:
        update_equipment(db, actor=admin, equipment=machine, now=NOW,
                         data={"notice_minutes": 2 * 24 * 60, "max_advance_days": 2})
    assert refused.value.details == {"field": "max_advance_days"}
    assert "minimum notice" in str(refused.value)
    # The machine's own notice counts when only the furthest ahead changes.
    machine.notice_minutes = 3 * 24 * 60
    db.flush()
    with app.app_context(), pytest.raises(ValidationError):
        update_equipment(db, actor=admin, equipment=machine, now=NOW,
                         data={"max_advance_days": 3})


def test_windows_are_written_and_audited(app, db, admin, machine) -> None:
    with app.app_context():
        update_equipment(db, actor=admin, equipment=machine, now=NOW, data={
            "notice_minutes": 120, "max_advance_days": 60, "cancel_deadline_hours": 48,
            "others_open_days": 14})
    db.expire_all()
    assert _windows(machine) == (120, 60, 48, 14)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "equipment.update")
                       .order_by(AuditEntry.id.desc())).first()
    assert entry.details["changes"]["others_open_days"] == [None, 14]
    assert entry.details["changes"]["cancel_deadline_hours"] == [0, 48]
    # Empty again: the campus horizon, no priority window.
    with app.app_context():
        update_equipment(db, actor=admin, equipment=machine, now=NOW,
                         data={"max_advance_days": None, "others_open_days": None})
    db.expire_all()
    assert _windows(machine) == (120, None, 48, None)


def test_a_new_machine_takes_its_windows(app, db, admin, make) -> None:
    establishment = make.establishment()
    with app.app_context():
        created = create_equipment(db, actor=admin, now=NOW, data={
            "code": "NEW-1", "name": "Étuve", "category": "other",
            "establishment_id": establishment.id, "notice_minutes": 30,
            "others_open_days": 0})
    db.expire_all()
    assert _windows(created) == (30, None, 0, 0)


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def as_(client):
    return Callers(client)


def test_the_api_always_answers_the_windows(as_, make, admin, machine) -> None:
    answer = as_(make.user(Role.TRAINER)).get(f"/api/v1/equipment/{machine.id}")
    assert answer.status_code == 200
    assert {name: answer.json[name] for name in WINDOWS} == {
        "notice_minutes": 0, "max_advance_days": None, "cancel_deadline_hours": 0,
        "others_open_days": None}
    listed = as_(admin).get("/api/v1/equipment").json["items"]
    assert all(set(WINDOWS) <= set(item) for item in listed)


def test_the_api_writes_the_windows(as_, db, admin, machine, make) -> None:
    path = f"/api/v1/equipment/{machine.id}"
    answer = as_(admin).patch(path, json={"notice_minutes": 1440, "max_advance_days": 90,
                                          "cancel_deadline_hours": 24, "others_open_days": 14})
    assert answer.status_code == 200, answer.json
    assert [answer.json[name] for name in WINDOWS] == [1440, 90, 24, 14]
    answer = as_(admin).patch(path, json={"max_advance_days": None})
    assert answer.json["max_advance_days"] is None
    created = as_(admin).post("/api/v1/equipment", json={
        "code": "NEW-2", "name": "Lyophilisateur", "category": "analysis_instrument",
        "establishment_id": make.establishment().id, "others_open_days": 7})
    assert created.status_code == 201, created.json
    assert [created.json[name] for name in WINDOWS] == [0, None, 0, 7]


@pytest.mark.parametrize(("field", "value"), [
    ("notice_minutes", -1), ("notice_minutes", 129601), ("max_advance_days", 0),
    ("cancel_deadline_hours", 8761), ("others_open_days", -1), ("notice_minutes", None),
])
def test_the_api_refuses_a_wrong_window_by_name(as_, db, admin, machine, field, value) -> None:
    answer = as_(admin).patch(f"/api/v1/equipment/{machine.id}", json={field: value})
    body = assert_error(answer, 422, "validation")
    assert list(body["details"]["errors"]["json"]) == [field]
    db.expire_all()
    assert _windows(machine) == (0, None, 0, None)


def test_the_api_refuses_a_furthest_ahead_within_the_notice(as_, db, admin, machine) -> None:
    answer = as_(admin).patch(f"/api/v1/equipment/{machine.id}",
                              json={"notice_minutes": 4320, "max_advance_days": 2})
    body = assert_error(answer, 422, "validation")
    assert body["details"]["field"] == "max_advance_days"
    db.expire_all()
    assert machine.notice_minutes == 0


# --- the admin form ----------------------------------------------------------------------


def _form(machine: Equipment, **windows: str) -> dict[str, str]:
    data = {"code": machine.code, "name": machine.name, "category": "training_equipment",
            "status": "active", "parent": "0", "slot_minutes": "30", "min_minutes": "30",
            "max_minutes": "480", "changeover_minutes": "0", "approval_deadline_hours": "72",
            "d0_opens": "08:00", "d0_closes": "18:00"}
    return {**data, **windows}


def _post(client: Any, url: str, data: dict[str, str]) -> Any:
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_admin_form_writes_the_windows(client, login, db, admin, machine) -> None:
    login(admin)
    url = f"/admin/equipment/{machine.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'id="eq-windows"' in page
    answer = _post(client, url, _form(machine, notice_minutes="60", max_advance_days="30",
                                      cancel_deadline_hours="24", others_open_days="14"))
    assert answer.status_code == 302
    db.expire_all()
    assert _windows(machine) == (60, 30, 24, 14)
    # Empty fields: no notice, the campus horizon, cancel until the start, no window.
    answer = _post(client, url, _form(machine, notice_minutes="", max_advance_days="",
                                      cancel_deadline_hours="", others_open_days=""))
    assert answer.status_code == 302
    db.expire_all()
    assert _windows(machine) == (0, None, 0, None)
    assert 'value="24"' not in client.get(url).get_data(as_text=True).split('id="eq-windows"')[1]


def test_the_admin_form_shows_each_wrong_window_next_to_its_field(client, login, db, admin,
                                                                   machine) -> None:
    login(admin)
    url = f"/admin/equipment/{machine.id}/edit"
    answer = _post(client, url, _form(machine, notice_minutes="-1", max_advance_days="0",
                                      cancel_deadline_hours="9000", others_open_days="x"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for field in WINDOWS:
        assert f'id="{field}-error"' in html, field
    # The service's rule across two fields, shown next to the furthest ahead.
    answer = _post(client, url, _form(machine, notice_minutes="4320", max_advance_days="2"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="max_advance_days-error"' in html
    db.expire_all()
    assert _windows(machine) == (0, None, 0, None)


# --- the onboarding file -----------------------------------------------------------------


def test_the_equipment_file_sets_the_windows(app, db, admin, make) -> None:
    establishment = make.establishment(code="LYC-W")
    make.equipment(code="ROB-W", establishment=establishment)
    data = (b"code,notice_minutes,max_advance_days,cancel_deadline_hours,others_open_days\n"
            b"ROB-W,120,60,48,14\n")
    with app.test_request_context():
        plan = import_file(db, actor=admin, kind="equipment", data=data, now=NOW)
    assert plan.counts["updated"] == 1, plan
    robot = db.scalar(select(Equipment).where(Equipment.code == "ROB-W"))
    db.expire_all()
    assert _windows(robot) == (120, 60, 48, 14)
    wrong = b"code,others_open_days\nROB-W,4000\n"
    with app.test_request_context(), pytest.raises(ImportRefused) as refused:
        import_file(db, actor=admin, kind="equipment", data=wrong, now=NOW)
    assert "3650" in str(refused.value.plan.lines[0].errors[0])


# --- the machine's page, in French -------------------------------------------------------


def test_the_machines_page_says_its_windows_in_french(client, login, db, make, machine) -> None:
    machine.notice_minutes = 120
    machine.max_advance_days = 30
    machine.cancel_deadline_hours = 48
    machine.others_open_days = 14
    db.flush()
    login(make.user(Role.TRAINER, locale="fr"))
    page = text_of(client.get(f"/equipment/{machine.id}").get_data(as_text=True))
    assert "Fenêtres de réservation" in page
    assert f"Réservable jusqu’à 2{NBSP}h avant le début." in page
    assert "Réservable au plus tôt 30 jours à l’avance." in page
    assert f"Annulation possible jusqu’à 48{NBSP}h avant le début." in page
    assert "Ouvert aux autres établissements 14 jours avant." in page


def test_the_page_says_one_day_and_the_defaults(client, login, db, make, machine) -> None:
    machine.notice_minutes = 1440
    machine.others_open_days = 1
    db.flush()
    login(make.user(Role.TRAINER, locale="fr"))
    page = text_of(client.get(f"/equipment/{machine.id}").get_data(as_text=True))
    assert "Réservable jusqu’à 1 jour avant le début." in page
    assert "Réservable au plus tôt 400 jours à l’avance." in page  # the campus horizon
    assert "Annulation possible jusqu’au début." in page
    assert "Ouvert aux autres établissements 1 jour avant." in page
