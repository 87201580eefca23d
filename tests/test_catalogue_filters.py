"""The catalogue's filters: « Libre du … au … » lists only machines that can be
booked then (a machine in maintenance, or a line with a component in maintenance,
is not free); the filters fold into a « Filtres » box, open when one is active."""

from __future__ import annotations

import re
from typing import Any

import pytest

from booking.services.bookings.availability import availability
from models import EquipmentCategory, EquipmentStatus, Role
from tests.conftest import NOW

WINDOW = "free_from=2027-01-13T09:00&free_to=2027-01-13T11:00"  # a Wednesday


@pytest.fixture
def machines(make: Any) -> dict[str, Any]:
    home = make.establishment()
    line = make.equipment(establishment=home, code="LINE", name="Ligne",
                          category=EquipmentCategory.PILOT_LINE)
    return {
        "active": make.equipment(establishment=home, code="OK-01", name="Étuve"),
        "maintenance": make.equipment(establishment=home, code="MAINT-01", name="Broyeur",
                                      status=EquipmentStatus.MAINTENANCE,
                                      status_reason="Pompe à vide"),
        "line": line,
        "component": make.equipment(establishment=home, code="COMP-01", name="Doseuse",
                                    parent=line, status=EquipmentStatus.RETIRED,
                                    status_reason="Réformée"),
    }


def _listed(html: str) -> set[str]:
    return set(re.findall(r'data-code="([^"]+)"', html))


def test_free_filter_leaves_out_machines_that_cannot_be_booked(client: Any, login: Any,
                                                               make: Any, machines: Any) -> None:
    login(make.user(Role.TRAINER))
    everything = _listed(client.get("/equipment").get_data(as_text=True))
    assert {"OK-01", "MAINT-01", "LINE", "COMP-01"} <= everything
    free = _listed(client.get(f"/equipment?{WINDOW}").get_data(as_text=True))
    assert "OK-01" in free
    assert not free & {"MAINT-01", "LINE", "COMP-01"}


def test_availability_has_no_free_time_for_an_inactive_machine(db: Any,
                                                               machines: Any) -> None:
    start = NOW.replace(hour=8)
    answers = {a.equipment.code: a for a in availability(
        db, machines.values(), start, start.replace(hour=17))}
    assert answers["OK-01"].free
    assert answers["MAINT-01"].free == []
    assert answers["LINE"].free == []


@pytest.mark.parametrize(("query", "is_open"), [("", False), ("?q=etuve", True),
                                                (f"?{WINDOW}", True)])
def test_filters_fold_away_unless_one_is_active(client: Any, login: Any, make: Any,
                                                machines: Any, query: str, is_open: bool) -> None:
    login(make.user(Role.TRAINER, locale="fr"))
    html = client.get(f"/equipment{query}").get_data(as_text=True)
    details = re.search(r'<details class="[^"]*filters[^"]*"[^>]*>', html)
    assert details, "the filters are in a <details>"
    assert ("open" in details.group(0)) is is_open
    assert "<summary" in html
    assert "Filtres" in html

