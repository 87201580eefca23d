"""The project page of the demo's company project, carried through every step
(issue 15), as its coordinator and its company read it: every card, in French,
in order, and no other company's eyes on it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.demo.campus import PASSWORD
from booking.demo.paperwork_data import DONE
from models import Project
from tests.conftest import NOW, csrf_token_of
from tests.shared_demo import campus_session, shared_campus


@pytest.fixture(scope="module")
def campus(app):
    """The demo, loaded once for both tests (tests/shared_demo.py), in an app
    context of its own: the requests below each get theirs (a shared one would
    keep the first signed-in user in ``g``)."""
    with shared_campus(app, NOW) as connection:
        yield connection


@pytest.fixture
def demo(campus) -> Project:
    with campus_session(campus) as db:
        yield db.scalar(select(Project).where(Project.title == DONE["title"]))


def _as(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    login = client.get("/auth/login")
    assert login.status_code == 200, (login.status_code, login.headers.get("Location"))
    token = csrf_token_of(login.get_data(as_text=True))
    answer = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                              "csrf_token": token})
    assert answer.status_code == 302
    return client


def test_the_coordinator_reads_every_step_on_the_project_page(app, demo) -> None:
    page = _as(app, "coord.tours@plateforme.test").get(f"/projects/{demo.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in ("project-quotes", "Convention de formation", "Apprenants et émargement",
                    "Satisfaction", "Facturation"):
        assert section in html, section
    # The accepted quote fixes the price: no other quote to draft.
    assert "fixe le prix du projet" in html
    assert 'id="new-quote"' not in html
    # Half-days in the day's order: the morning before the afternoon.
    days = re.findall(r"(Matin|Après-midi)</a> \(contresignée\)", html)
    assert days == ["Matin", "Après-midi"] * len(DONE["sessions"])


def test_the_company_reads_its_documents_and_not_the_invoice_lines(app, demo) -> None:
    company = _as(app, "contact@laboratoires-ligeriens.test")
    html = company.get(f"/projects/{demo.id}").get_data(as_text=True)
    assert "Attestation" in html
    assert "Convention (PDF)" in html
    assert "Lignes de facturation (CSV)" not in html
    other = _as(app, "contact@cosmetiques-du-val.test")
    assert other.get(f"/projects/{demo.id}").status_code == 404
