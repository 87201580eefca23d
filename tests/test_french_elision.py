"""French elides « de » before a substituted value that begins with a vowel:
« Historique d’Étiqueteuse », « Compte d’Anne Martin créé », never « de É… »;
a consonant or an H keeps « de » (whether an H is aspirated is not in the
name), and English is never touched. Pages rendered in Python, in templates,
flashed messages and domain errors all go through the same formatting."""

from __future__ import annotations

import pytest

from booking.labels import elide_de
from booking.services.errors import N_, Forbidden
from models import Role
from tests.conftest import csrf_token_of


@pytest.fixture
def admin(make):
    return make.user(Role.ADMIN, name="Alice Admin")


def _page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.status_code
    return answer.get_data(as_text=True)


@pytest.mark.parametrize(("name", "heading"), [
    ("Étiqueteuse", "Historique d’Étiqueteuse"),
    ("étuve", "Historique d’étuve"),
    ("Autoclave", "Historique d’Autoclave"),
    ("Cobot", "Historique de Cobot"),
    ("Hotte aspirante", "Historique de Hotte aspirante"),
])
def test_a_heading_written_in_python(client, login, make, admin, name, heading) -> None:
    equipment = make.equipment(name=name)
    login(admin)
    html = _page(client, f"/history/equipment/{equipment.id}")
    assert heading in html
    if "d’" in heading:
        assert f"Historique de {name}" not in html


def test_a_caption_written_in_a_template(client, login, make, admin) -> None:
    etiqueteuse = make.equipment(name="Étiqueteuse")
    cobot = make.equipment(name="Cobot")
    login(admin)
    html = _page(client, f"/equipment/{etiqueteuse.id}?view=month")
    assert "Réservations d’Étiqueteuse en " in html
    assert "Réservations de Étiqueteuse" not in html
    assert "Réservations de Cobot en " in _page(client, f"/equipment/{cobot.id}?view=month")


def test_a_flashed_message(client, login, make, admin) -> None:
    login(admin)
    url = "/admin/accounts/new"
    for name, said in (("Anne Martin", "Compte d’Anne Martin créé."),
                       ("Hugo Petit", "Compte de Hugo Petit créé.")):
        token = csrf_token_of(_page(client, url))
        answer = client.post(url, follow_redirects=True, data={
            "name": name, "email": f"{name.split()[0].lower()}@example.org",
            "role": "trainer", "establishment": "0", "company": "0", "new_company": "",
            "password": "assez-long-secret", "csrf_token": token})
        html = answer.get_data(as_text=True)
        assert said in html
    assert "Compte de Anne" not in html


def test_a_domain_error_shown_in_french_and_logged_in_english(app) -> None:
    error = Forbidden(N_("Only an admin or a coordinator of %(name)s adds its equipment."),
                      name="IUT de Tours")
    with app.test_request_context():
        assert error.message == ("Seul un administrateur ou un coordinateur d’IUT de Tours "
                                 "peut y ajouter un équipement.")
        assert str(error) == "Only an admin or a coordinator of IUT de Tours adds its equipment."


def test_english_is_untouched(client, login, make) -> None:
    reader = make.user(Role.ADMIN, locale="en")
    equipment = make.equipment(name="Étiqueteuse")
    login(reader)
    assert "History of Étiqueteuse" in _page(client, f"/history/equipment/{equipment.id}")
    html = _page(client, f"/equipment/{equipment.id}?view=month")
    assert "Bookings of Étiqueteuse in " in html


def test_only_de_right_before_a_value() -> None:
    """A « de » the translator wrote before a word stays; « monde » is no « de »."""
    values = {"name": "Orléans", "x": "Anne"}
    assert elide_de("Un monde %(name)s, de Orléans à %(x)s", values, "fr") == \
        "Un monde %(name)s, de Orléans à %(x)s"
    assert elide_de("De %(name)s à %(x)s", values, "fr") == "D’%(name)s à %(x)s"
    assert elide_de("de %(name)s", values, "en") == "de %(name)s"
    assert elide_de("de %(line)d", {"line": 8}, "fr") == "de %(line)d"
