"""One convention for a certification's end: ``valid_until`` is the last day it may be
used (« valable jusqu'au 31 août » books on 31 August), and a type of N months granted
on day D ends on D plus N months, as the certifications page shows. The demo campus,
the page, the API and the expiry job agree; a renewed certification is listed once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.demo.campus import load_demo_campus
from booking.services.certifications.held import types_held_on
from booking.services.certifications.operations import add_months, default_valid_until
from booking.services.certifications.watch import warn_expiring
from models import Certification, OutboxMessage, Role
from tests.api_helpers import Callers
from tests.conftest import NOW, csrf_token_of

TODAY = date(2027, 1, 12)  # NOW in Paris


def test_the_default_end_is_the_same_day_months_later() -> None:
    assert default_valid_until(date(2026, 9, 1), 12) == date(2027, 9, 1)
    assert default_valid_until(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert default_valid_until(date(2026, 9, 1), 12) == add_months(date(2026, 9, 1), 12)


def test_demo_certifications_follow_the_grant_convention(app: Any, db: Session) -> None:
    with app.app_context():
        load_demo_campus(db, now=NOW)
    certifications = db.scalars(select(Certification)).all()
    assert certifications
    for cert in certifications:
        assert cert.valid_until == default_valid_until(
            cert.valid_from, cert.certification_type.validity_months), cert.id


def test_page_and_api_grant_the_same_period(client: Any, login: Any, make: Any, db: Session,
                                            now: datetime) -> None:
    kind = make.certification_type(code="CACES", name="Nacelle", validity_months=12)
    coordinator = make.user(Role.COORDINATOR, locale="fr")
    by_page, by_api = make.user(Role.TRAINER), make.user(Role.TRAINER)
    login(coordinator)
    token = csrf_token_of(client.get("/certifications").get_data(as_text=True))
    client.post("/certifications/grant", data={
        "csrf_token": token, "holder": by_page.id, "certification_type": kind.id,
        "valid_from": "2027-01-12", "valid_until": ""})
    answer = Callers(client)(coordinator).post(
        f"/api/v1/users/{by_api.id}/certifications",
        json={"certification_type_id": kind.id, "valid_from": "2027-01-12"})
    assert answer.status_code == 201, answer.json
    db.expire_all()
    page = db.scalar(select(Certification).where(Certification.user_id == by_page.id))
    api = db.scalar(select(Certification).where(Certification.user_id == by_api.id))
    assert (page.valid_from, page.valid_until) == (TODAY, date(2028, 1, 12))
    assert (api.valid_from, api.valid_until) == (page.valid_from, page.valid_until)
    html = client.get("/certifications").get_data(as_text=True)
    assert "12 janv. 2028" in html  # the page shows the last usable day


def test_the_last_day_is_usable_and_warned(make: Any, db: Session) -> None:
    kind = make.certification_type(code="R486", validity_months=12)
    trainer = make.user(Role.TRAINER)
    make.certification(trainer, kind, valid_from=date(2026, 1, 12), valid_until=TODAY)
    assert kind.id in types_held_on(db, trainer, TODAY)
    assert kind.id not in types_held_on(db, trainer, TODAY + timedelta(days=1))
    # On its last day the expiry job still warns (0 days left); the day after it is over.
    assert warn_expiring(db, now=NOW) >= 1
    assert db.scalar(select(OutboxMessage.id).where(OutboxMessage.to_addr == trainer.email))
    assert warn_expiring(db, now=NOW + timedelta(days=1)) == 0


@pytest.fixture
def renewal(make: Any, db: Session) -> Any:
    kind = make.certification_type(code="LINE", name="Ligne", validity_months=12)
    trainer = make.user(Role.TRAINER, name="Claire Dubois")
    old = make.certification(trainer, kind, valid_from=date(2026, 2, 1),
                             valid_until=date(2027, 2, 1))
    new = make.certification(trainer, kind, valid_from=date(2027, 2, 2),
                             valid_until=date(2028, 2, 2))
    return old, new


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_renewed_certification_is_listed_once(client: Any, login: Any, make: Any,
                                                renewal: Any, locale: str) -> None:
    old, new = renewal
    login(make.user(Role.COORDINATOR, locale=locale))
    html = client.get("/certifications").get_data(as_text=True)
    assert f'data-certification="{new.id}"' in html
    assert f'data-certification="{old.id}"' not in html
    soon = "expire bientôt" if locale == "fr" else "expires soon"
    assert soon not in html
    # The renewal continues one still in force: it reads as valid, not "not yet valid".
    assert ("pas encore valable" if locale == "fr" else "not yet valid") not in html
    history = client.get("/certifications?show=history").get_data(as_text=True)
    assert f'data-certification="{old.id}"' in history
    assert ("remplacée" if locale == "fr" else "superseded") in history
    assert soon not in history
