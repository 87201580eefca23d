"""QR check-in labels (issue 14): one SVG per machine, a sheet per site.

No QR decoder is installed here, so the code is checked against segno's own
matrix for the check-in URL, module by module: the label draws exactly the
QR code of that URL.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from booking.services.kiosk.labels import QUIET_ZONE, qr_code
from models import EquipmentStatus, Role

SVG = "{http://www.w3.org/2000/svg}"
RUN = re.compile(r"M(\d+),(\d+)h(\d+)v1h-\d+z")


@pytest.fixture
def site(make) -> Any:
    return make.establishment(code="TRS", name="Polytech Tours", city="Tours")


@pytest.fixture
def machine(make, site) -> Any:
    return make.equipment(establishment=site, code="TRS-COBOT-02", name="Cobot <UR5> & pince")


def modules_of(svg: ET.Element) -> set[tuple[int, int]]:
    """The dark modules the label's QR path draws (quiet zone taken off)."""
    code = next(e for e in svg.iter(f"{SVG}svg") if e.get("class") == "qr-code")
    path = code.find(f"{SVG}path").get("d")
    assert RUN.sub("", path) == ""  # nothing but runs of modules
    dark = set()
    for x, y, length in RUN.findall(path):
        dark |= {(int(x) + n - QUIET_ZONE, int(y) - QUIET_ZONE) for n in range(int(length))}
    return dark


def segno_modules(url: str) -> set[tuple[int, int]]:
    return {(x, y) for y, row in enumerate(qr_code(url).matrix)
            for x, dark in enumerate(row) if dark}


def test_a_machine_label_is_an_svg_whose_qr_is_the_check_in_url(app, client, login, make,
                                                                site, machine) -> None:
    login(make.user(Role.COORDINATOR, establishment=site))
    answer = client.get(f"/equipment/{machine.id}/label.svg")
    assert answer.status_code == 200
    assert answer.mimetype == "image/svg+xml"
    assert 'filename="etiquette-TRS-COBOT-02.svg"' in answer.headers["Content-Disposition"]
    svg = fromstring(answer.get_data())  # well-formed XML, names escaped
    assert svg.tag == f"{SVG}svg"
    url = f"{app.config['PUBLIC_URL']}/check-in/{machine.id}"
    assert svg.get("data-url") == url
    with app.test_request_context():
        from flask import url_for
        assert url.endswith(url_for("checkin.machine", equipment_id=machine.id))
    assert modules_of(svg) == segno_modules(url)
    assert modules_of(svg) != segno_modules(url + "0")  # the comparison tells URLs apart
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "TRS-COBOT-02" in texts
    assert "Cobot <UR5> &" in texts or "Cobot <UR5> & pince" in texts
    assert any("Polytech Tours" in (t or "") for t in texts)


@pytest.mark.parametrize(("role", "status"), [
    (Role.ADMIN, 200), ("own_coordinator", 200), (Role.COORDINATOR, 403),
    (Role.TRAINER, 403), (Role.COMPANY, 403)])
def test_who_may_print_a_label_or_a_sheet(client, login, make, site, machine, role,
                                          status) -> None:
    user = (make.user(Role.COORDINATOR, establishment=site) if role == "own_coordinator"
            else make.user(role))
    login(user)
    assert client.get(f"/equipment/{machine.id}/label.svg").status_code == status
    assert client.get(f"/sites/{site.id}/labels").status_code == status


def test_anonymous_visitors_and_unknown_ids(app, client, login, make, site, machine) -> None:
    assert client.get(f"/equipment/{machine.id}/label.svg").status_code == 302
    assert client.get(f"/sites/{site.id}/labels").status_code == 302
    login(make.user(Role.ADMIN))
    assert client.get("/equipment/987654/label.svg").status_code == 404
    assert client.get("/sites/987654/labels").status_code == 404


def test_the_sheet_shows_every_active_machine_of_the_site_and_no_other(app, client, login,
                                                                      make, site,
                                                                      machine) -> None:
    others = [make.equipment(establishment=site) for _ in range(9)]
    down = make.equipment(establishment=site, status=EquipmentStatus.MAINTENANCE)
    retired = make.equipment(establishment=site, status=EquipmentStatus.RETIRED)
    elsewhere = make.equipment()
    login(make.user(Role.COORDINATOR, establishment=site))
    answer = client.get(f"/sites/{site.id}/labels")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    shown = {int(n) for n in re.findall(r'<figure class="label-cell" data-equipment-id="(\d+)"',
                                        html)}
    assert shown == {machine.id, *(m.id for m in others)}
    assert {down.id, retired.id, elsewhere.id}.isdisjoint(shown)
    assert html.count('<div class="label-sheet"') == 2  # ten labels, eight a page
    assert html.count('class="qr-label"') == 10
    assert "/static/css/labels.css" in html
    # Each inline label is well-formed and holds its own machine's check-in URL.
    inline = re.findall(r"<svg xmlns.*?</svg>(?=</figure>)", html, flags=re.S)
    assert len(inline) == 10
    for svg in inline:
        element = fromstring(svg)
        equipment_id = element.get("data-equipment-id")
        url = f"{app.config['PUBLIC_URL']}/check-in/{equipment_id}"
        assert element.get("data-url") == url
        assert modules_of(element) == segno_modules(url)


def test_a_machine_name_with_control_characters_still_gives_valid_xml(client, login, make,
                                                                     site) -> None:
    odd = make.equipment(establishment=site, name="Four\x0b\x01 <b>\u2028ancien</b>")
    login(make.user(Role.ADMIN))
    answer = client.get(f"/equipment/{odd.id}/label.svg")
    assert answer.status_code == 200
    fromstring(answer.get_data())


def test_the_site_and_machine_pages_link_the_labels_for_their_coordinators(client, login,
                                                                           make, site,
                                                                           machine) -> None:
    login(make.user(Role.COORDINATOR, establishment=site))
    site_page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert f'href="/sites/{site.id}/labels"' in site_page
    assert f'href="/kiosks?target=establishment:{site.id}"' in site_page
    machine_page = client.get(f"/equipment/{machine.id}").get_data(as_text=True)
    assert f'href="/equipment/{machine.id}/label.svg"' in machine_page
    kiosks = client.get(f"/kiosks?target=equipment:{machine.id}").get_data(as_text=True)
    assert f'<option selected value="equipment:{machine.id}">' in kiosks


def test_the_pages_do_not_link_the_labels_for_others(client, login, make, site,
                                                     machine) -> None:
    login(make.user(Role.TRAINER, establishment=site))
    assert "/labels" not in client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert "label.svg" not in client.get(f"/equipment/{machine.id}").get_data(as_text=True)
