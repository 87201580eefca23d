"""The booking windows of a machine set by the coordinators of its establishment
(issue 13, part 5) on their equipment page: prefilled, written through the
same service as the admin's form, a refusal next to its field with nothing
written, and another establishment's coordinator kept out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Equipment, Role
from tests.conftest import csrf_token_of

WINDOWS = ("notice_minutes", "max_advance_days", "cancel_deadline_hours", "others_open_days")
# A new machine's: no notice, the campus horizon, cancellation until the start, no priority.
WINDOWS_DEFAULT = {"notice_minutes": 0, "max_advance_days": None, "cancel_deadline_hours": 0,
                   "others_open_days": None}


@pytest.fixture
def w(make: Any, db: Any) -> SimpleNamespace:
    home = make.establishment(code="HOME", name="Faculté", city="Tours", department="37")
    away = make.establishment(code="AWAY", name="Lycée", city="Dreux", department="28")
    machine = make.equipment(establishment=home, name="Cellule cobot")
    db.flush()
    return SimpleNamespace(
        machine=machine, url=f"/coordination/equipment/{machine.id}/edit",
        coordinator=make.user(Role.COORDINATOR, establishment=home, locale="en"),
        other_coordinator=make.user(Role.COORDINATOR, establishment=away, locale="en"))


def windows_of(db: Any, machine: Equipment) -> tuple[Any, ...]:
    db.expire_all()
    return tuple(getattr(db.get(Equipment, machine.id), name) for name in WINDOWS)


def audits(db: Any) -> int:
    return db.scalar(select(func.count(AuditEntry.id)))


def form(client: Any, url: str, *, csrf: bool = True, **fields: str) -> dict[str, str]:
    """A submission as the page sends it for a machine without windows, ``fields``
    changed (the token read from the page, unless ``csrf`` is false)."""
    page = client.get(url).get_data(as_text=True)
    data = {"status": "active", "status_reason": "",
            **{f"hours_{day}": "08:00–18:00" for day in range(5)},
            "notice_minutes": "0", "max_advance_days": "", "cancel_deadline_hours": "0",
            "others_open_days": "", **fields}
    if csrf:
        data["csrf_token"] = csrf_token_of(page)
    return data


def test_the_page_shows_the_current_windows(client, login, db, w) -> None:
    w.machine.notice_minutes, w.machine.max_advance_days = 120, 30
    w.machine.cancel_deadline_hours, w.machine.others_open_days = 48, 14
    db.flush()
    login(w.coordinator)
    page = client.get(w.url).get_data(as_text=True)
    assert "Booking windows" in page
    assert "Minimum notice (minutes)" in page
    for name, value in zip(WINDOWS, (120, 30, 48, 14), strict=True):
        assert f'name="{name}" type="number" value="{value}"' in page, name


def test_the_page_is_in_french(client, login, db, make, w) -> None:
    login(make.user(Role.COORDINATOR, establishment=w.machine.establishment, locale="fr"))
    page = client.get(w.url).get_data(as_text=True)
    assert "Fenêtres de réservation" in page
    assert "Délai minimum de réservation (minutes)" in page


@pytest.mark.parametrize(("name", "value"), [
    ("notice_minutes", 1440), ("max_advance_days", 60), ("cancel_deadline_hours", 24),
    ("others_open_days", 14), ("others_open_days", 0),
])
def test_the_coordinator_sets_each_window(client, login, db, w, name, value) -> None:
    login(w.coordinator)
    before = audits(db)
    answer = client.post(w.url, data=form(client, w.url, **{name: str(value)}))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    expected = WINDOWS_DEFAULT | {name: value}
    assert windows_of(db, w.machine) == tuple(expected.values())
    assert audits(db) == before + 1
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "equipment.update"
    assert entry.details["changes"][name] == [WINDOWS_DEFAULT[name], value]


def test_empty_fields_lift_the_windows(client, login, db, w) -> None:
    w.machine.notice_minutes, w.machine.max_advance_days = 120, 30
    w.machine.cancel_deadline_hours, w.machine.others_open_days = 48, 14
    db.flush()
    login(w.coordinator)
    answer = client.post(w.url, data=form(client, w.url, notice_minutes="",
                                          cancel_deadline_hours=""))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    # No notice, the campus horizon, cancellation until the start, no priority.
    assert windows_of(db, w.machine) == (0, None, 0, None)


@pytest.mark.parametrize(("name", "value"), [
    ("notice_minutes", "-1"), ("notice_minutes", "129601"), ("notice_minutes", "une heure"),
    ("max_advance_days", "0"), ("max_advance_days", "3651"),
    ("cancel_deadline_hours", "-1"), ("cancel_deadline_hours", "8761"),
    ("others_open_days", "-1"), ("others_open_days", "3651"), ("others_open_days", "1.5"),
])
def test_a_wrong_window_is_refused_on_its_field(client, login, db, w, name, value) -> None:
    login(w.coordinator)
    before = audits(db)
    answer = client.post(w.url, data=form(client, w.url, status="maintenance",
                                          status_reason="Révision", **{name: value}))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'id="{name}-error"' in html
    assert [other for other in WINDOWS if f'id="{other}-error"' in html] == [name]
    assert windows_of(db, w.machine) == (0, None, 0, None)
    assert db.get(Equipment, w.machine.id).status.value == "active"  # nothing else either
    assert audits(db) == before


def test_the_services_refusal_goes_next_to_its_field(client, login, db, w) -> None:
    """The form lets each value through; the service sees that no slot could be
    booked (the furthest ahead within the notice) and names the furthest ahead."""
    login(w.coordinator)
    before = audits(db)
    answer = client.post(w.url, data=form(client, w.url, notice_minutes="4320",
                                          max_advance_days="2", others_open_days="1"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="max_advance_days-error"' in html
    assert "the furthest ahead must be beyond the minimum notice" in html
    assert windows_of(db, w.machine) == (0, None, 0, None)
    assert audits(db) == before


def test_without_csrf_nothing_is_written(client, login, db, w) -> None:
    login(w.coordinator)
    answer = client.post(w.url, data=form(client, w.url, csrf=False, notice_minutes="60"))
    assert answer.status_code == 400
    assert windows_of(db, w.machine) == (0, None, 0, None)


def test_another_establishments_coordinator_may_not_set_them(client, login, db, w) -> None:
    login(w.other_coordinator)
    assert client.get(w.url).status_code == 403
    # A token of their own session: the refusal is the permission's, not the CSRF's.
    token = csrf_token_of(client.get("/coordination/equipment").get_data(as_text=True))
    data = {"csrf_token": token, "status": "active", "notice_minutes": "60",
            "max_advance_days": "30", "cancel_deadline_hours": "24", "others_open_days": "14"}
    assert client.post(w.url, data=data).status_code == 403
    assert windows_of(db, w.machine) == (0, None, 0, None)
