"""The admin's equipment form shows every mistake of one submit at once: the form's
own checks and the equipment service's rules together, nothing written; a line's
new component takes the line's opening hours unless given its own."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from sqlalchemy import select

from models import Equipment, EquipmentCategory, Role
from tests.test_web_admin import _count, _equipment_form, _post


@pytest.fixture
def as_admin(make: Any, login: Any) -> Any:
    return login(make.user(Role.ADMIN, name="Alice Admin", locale="en"))


FOUR_MISTAKES = {
    "code": "TAKEN-01",                                  # service: the code is used
    "name": "",                                          # form: required
    "status": "maintenance", "status_reason": "",        # service: say why
    "min_minutes": "60", "max_minutes": "30",            # service: max below min
    "d1_opens": "08:00",                                 # form: half an interval
}


def test_create_shows_all_mistakes_at_once(as_admin: Any, make: Any, db: Any) -> None:
    establishment = make.establishment()
    make.equipment(establishment=establishment, code="TAKEN-01")
    answer = _post(as_admin, f"/admin/equipment/new?establishment={establishment.id}",
                   _equipment_form(**FOUR_MISTAKES))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for field in ("code", "name", "status_reason", "max_minutes", "d1_closes"):
        assert f'id="{field}-error"' in html, field
    assert "The code TAKEN-01 is already used." in html
    assert "Say why the equipment is not active." in html
    assert "The maximum duration is below the minimum." in html
    assert _count(db, Equipment, Equipment.name == "") == 0
    assert _count(db, Equipment, Equipment.establishment_id == establishment.id) == 1


def test_edit_shows_all_service_mistakes_at_once(as_admin: Any, make: Any, db: Any) -> None:
    establishment = make.establishment()
    make.equipment(establishment=establishment, code="TAKEN-01")
    machine = make.equipment(establishment=establishment, code="MINE-01", name="Étuve")
    answer = _post(as_admin, f"/admin/equipment/{machine.id}/edit", _equipment_form(
        code="TAKEN-01", name="Étuve", status="maintenance", status_reason="",
        min_minutes="45", max_minutes="30"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    for field in ("code", "status_reason", "slot_minutes", "max_minutes"):
        assert f'id="{field}-error"' in html, field
    db.expire_all()
    assert (machine.code, machine.min_minutes) == ("MINE-01", 30)


def test_the_api_still_answers_with_the_first_refusal(make: Any, db: Any, now: Any) -> None:
    from booking.services.equipment.operations import create_equipment
    from booking.services.errors import Conflict
    establishment = make.establishment()
    make.equipment(establishment=establishment, code="TAKEN-01")
    admin = make.user(Role.ADMIN)
    with pytest.raises(Conflict) as refused:
        create_equipment(db, actor=admin, now=now, data={
            "establishment_id": establishment.id, "code": "TAKEN-01", "name": "X",
            "category": EquipmentCategory.TRAINING_EQUIPMENT, "min_minutes": 60,
            "max_minutes": 30})
    assert refused.value.code == "conflict"
    assert [e.details.get("field") for e in refused.value.refusals] == ["code", "max_minutes"]


# --- a line's new component takes the line's opening hours -------------------------------


@pytest.fixture
def line(make: Any) -> Any:
    establishment = make.establishment()
    return make.equipment(establishment=establishment, category=EquipmentCategory.PILOT_LINE,
                          name="Ligne", hours=(time(7), time(15)))


def _hours(equipment: Equipment) -> list[tuple[int, time, time]]:
    return sorted((h.weekday, h.opens, h.closes) for h in equipment.opening_hours)


def test_service_gives_a_new_component_its_lines_hours(make: Any, db: Any, now: Any,
                                                       line: Any) -> None:
    from booking.services.equipment.operations import create_equipment
    component = create_equipment(db, actor=make.user(Role.ADMIN), now=now, data={
        "establishment_id": line.establishment_id, "code": "COMP-01", "name": "Doseuse",
        "category": EquipmentCategory.TRAINING_EQUIPMENT, "parent_id": line.id})
    assert _hours(component) == _hours(line) != []
    alone = create_equipment(db, actor=make.user(Role.ADMIN), now=now, data={
        "establishment_id": line.establishment_id, "code": "ALONE-01", "name": "Étuve",
        "category": EquipmentCategory.TRAINING_EQUIPMENT, "parent_id": line.id,
        "opening_hours": [{"weekday": 0, "opens": "09:00", "closes": "12:00"}]})
    assert _hours(alone) == [(0, time(9), time(12))]


@pytest.mark.parametrize(("same_hours", "expected"), [
    ("y", None), ("", [(0, time(8), time(12)), (0, time(13, 30), time(17)),
                       (2, time(9), time(18))])])
def test_admin_form_takes_the_lines_hours_by_default(as_admin: Any, db: Any, line: Any,
                                                     same_hours: str, expected: Any) -> None:
    url = f"/admin/equipment/new?establishment={line.establishment_id}"
    page = as_admin.get(url).get_data(as_text=True)
    assert 'id="line_hours" name="line_hours" type="checkbox" value="y" checked' in page \
        or 'checked id="line_hours"' in page
    form = _equipment_form(parent=str(line.id))
    if same_hours:
        form["line_hours"] = same_hours
    answer = _post(as_admin, url, form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    component = db.scalar(select(Equipment).where(Equipment.code == "TRS-FILL-02"))
    assert _hours(component) == (expected or _hours(line))
