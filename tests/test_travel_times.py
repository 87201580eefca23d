"""Admins edit the travel times between establishments (issue 13, part 2):
the campus default and each pair, stored once whichever order the ids come
in; everyone signed in reads them; a refusal names its field and writes
nothing; the page speaks French."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.services.errors import Forbidden, ValidationError
from booking.services.sharing import travel_admin
from booking.services.sharing.travel import default_minutes, travel_minutes
from models import AuditEntry, CampusSetting, Role, TravelTime
from tests.api_helpers import Callers, assert_error
from tests.conftest import NOW, csrf_token_of

NBSP = "\u00a0"


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def sites(make: Any) -> Any:
    tours = make.establishment(code="TOURS", name="IUT de Tours", city="Tours")
    orleans = make.establishment(code="ORL", name="Lycée d'Orléans", city="Orléans")
    return tours, orleans


@pytest.fixture
def admin(make: Any) -> Any:
    return make.user(Role.ADMIN)


def _rows(db: Any) -> list[tuple[int, int, int]]:
    return [(t.establishment_a_id, t.establishment_b_id, t.minutes)
            for t in db.scalars(select(TravelTime).order_by(TravelTime.id))]


def _audits(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(AuditEntry))


# --- the service ------------------------------------------------------------------------


def test_a_pair_is_stored_once_whichever_order(app, db, admin, sites) -> None:
    tours, orleans = sites
    high, low = max(tours.id, orleans.id), min(tours.id, orleans.id)
    with app.app_context():
        travel_admin.set_travel_time(db, actor=admin, establishment_a_id=high,
                                     establishment_b_id=low, minutes=90, now=NOW)
        travel_admin.set_travel_time(db, actor=admin, establishment_a_id=low,
                                     establishment_b_id=high, minutes=75, now=NOW)
    assert _rows(db) == [(low, high, 75)]
    assert travel_minutes(db, high, low) == travel_minutes(db, low, high) == 75
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.object_type
                                                         == "travel_time")).all()
    assert actions == ["travel.set", "travel.set"]


def test_a_cleared_pair_takes_the_default_again(app, db, admin, sites) -> None:
    tours, orleans = sites
    with app.app_context():
        travel_admin.set_travel_time(db, actor=admin, establishment_a_id=tours.id,
                                     establishment_b_id=orleans.id, minutes=90, now=NOW)
        assert travel_admin.clear_travel_time(db, actor=admin, establishment_a_id=orleans.id,
                                              establishment_b_id=tours.id, now=NOW)
        assert not travel_admin.clear_travel_time(db, actor=admin, now=NOW,
                                                  establishment_a_id=orleans.id,
                                                  establishment_b_id=tours.id)
    assert _rows(db) == []
    assert travel_minutes(db, tours.id, orleans.id) == default_minutes(db) == 60


def test_the_default(app, db, admin, sites) -> None:
    tours, orleans = sites
    assert default_minutes(db) == 60  # migration 0010's row
    with app.app_context():
        travel_admin.set_default_minutes(db, actor=admin, minutes=45, now=NOW)
    assert db.get(CampusSetting, 1).travel_minutes == 45
    assert travel_minutes(db, tours.id, orleans.id) == 45
    assert travel_minutes(db, tours.id, tours.id) == 0
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "travel.default")).one()
    assert entry.details["changes"] == {"travel_minutes": [60, 45]}


@pytest.mark.parametrize(("change", "field"), [
    ({"minutes": -1}, "minutes"),
    ({"minutes": 1441}, "minutes"),
    ({"minutes": "30"}, "minutes"),
    ({"establishment_b_id": "same"}, "establishment_b_id"),
    ({"establishment_a_id": 2**31 - 1}, "establishment_a_id"),
])
def test_a_wrong_pair_is_refused_by_name_and_writes_nothing(app, db, admin, sites, change,
                                                             field) -> None:
    tours, orleans = sites
    given = {"establishment_a_id": tours.id, "establishment_b_id": orleans.id, "minutes": 30,
             **change}
    if given["establishment_b_id"] == "same":
        given["establishment_b_id"] = tours.id
    audits = _audits(db)
    with app.app_context(), pytest.raises(ValidationError) as refused:
        travel_admin.set_travel_time(db, actor=admin, now=NOW, **given)
    assert refused.value.details == {"field": field}
    assert (_rows(db), _audits(db)) == ([], audits)


@pytest.mark.parametrize("minutes", [-1, 1441, None])
def test_a_wrong_default_is_refused_by_name(app, db, admin, minutes) -> None:
    with app.app_context(), pytest.raises(ValidationError) as refused:
        travel_admin.set_default_minutes(db, actor=admin, minutes=minutes, now=NOW)
    assert refused.value.details == {"field": "minutes"}
    db.expire_all()
    assert default_minutes(db) == 60


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.COMPANY])
def test_only_admins_write(app, db, make, sites, role) -> None:
    tours, orleans = sites
    someone = make.user(role)
    with app.app_context():
        with pytest.raises(Forbidden):
            travel_admin.set_travel_time(db, actor=someone, establishment_a_id=tours.id,
                                         establishment_b_id=orleans.id, minutes=5, now=NOW)
        with pytest.raises(Forbidden):
            travel_admin.set_default_minutes(db, actor=someone, minutes=5, now=NOW)
        with pytest.raises(Forbidden):
            travel_admin.clear_travel_time(db, actor=someone, establishment_a_id=tours.id,
                                           establishment_b_id=orleans.id, now=NOW)
    assert _rows(db) == []


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def as_(client):
    return Callers(client)


def test_the_api_reads_and_writes_travel_times(as_, db, admin, make, sites) -> None:
    tours, orleans = sites
    low, high = sorted((tours.id, orleans.id))
    answer = as_(admin).put("/api/v1/travel-times", json={
        "establishment_a_id": high, "establishment_b_id": low, "minutes": 80})
    assert answer.status_code == 200, answer.json
    assert answer.json == {"establishment_a_id": low, "establishment_b_id": high, "minutes": 80}
    assert as_(admin).patch("/api/v1/travel-times/default",
                            json={"minutes": 50}).json == {"minutes": 50}
    read = as_(make.user(Role.TRAINER)).get("/api/v1/travel-times")
    assert read.status_code == 200
    assert read.json == {"default_minutes": 50, "items": [
        {"establishment_a_id": low, "establishment_b_id": high, "minutes": 80}]}
    gone = as_(admin).delete("/api/v1/travel-times", query_string={
        "establishment_a_id": high, "establishment_b_id": low})
    assert gone.status_code == 204
    assert as_(admin).get("/api/v1/travel-times").json["items"] == []
    # Clearing a pair without a time of its own: nothing to do, still 204.
    again = as_(admin).delete("/api/v1/travel-times", query_string={
        "establishment_a_id": high, "establishment_b_id": low})
    assert again.status_code == 204


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER, Role.COMPANY])
def test_the_api_refuses_writes_to_others_than_admins(as_, db, make, sites, role) -> None:
    tours, orleans = sites
    caller = as_(make.user(role))
    pair = {"establishment_a_id": tours.id, "establishment_b_id": orleans.id}
    assert_error(caller.put("/api/v1/travel-times", json={**pair, "minutes": 5}), 403,
                 "forbidden")
    assert_error(caller.patch("/api/v1/travel-times/default", json={"minutes": 5}), 403,
                 "forbidden")
    assert_error(caller.delete("/api/v1/travel-times", query_string=pair), 403, "forbidden")
    assert caller.get("/api/v1/travel-times").status_code == 200
    assert _rows(db) == []
    assert default_minutes(db) == 60


def test_the_api_without_a_token_is_401(client) -> None:
    assert_error(client.get("/api/v1/travel-times"), 401, "unauthorized")


@pytest.mark.parametrize(("body", "field"), [
    ({"minutes": 1441}, "minutes"), ({"minutes": -1}, "minutes"),
    ({"establishment_b_id": 0}, "establishment_b_id"),
])
def test_the_api_refuses_a_wrong_value_by_name(as_, db, admin, sites, body, field) -> None:
    tours, orleans = sites
    given = {"establishment_a_id": tours.id, "establishment_b_id": orleans.id, "minutes": 30,
             **body}
    answer = as_(admin).put("/api/v1/travel-times", json=given)
    assert list(assert_error(answer, 422, "validation")["details"]["errors"]["json"]) == [field]
    assert _rows(db) == []


def test_the_api_refuses_one_establishment_twice(as_, db, admin, sites) -> None:
    tours, _orleans = sites
    answer = as_(admin).put("/api/v1/travel-times", json={
        "establishment_a_id": tours.id, "establishment_b_id": tours.id, "minutes": 30})
    assert assert_error(answer, 422, "validation")["details"] == {"field": "establishment_b_id"}
    answer = as_(admin).put("/api/v1/travel-times", json={
        "establishment_a_id": tours.id, "establishment_b_id": 2**31 - 1, "minutes": 30})
    assert assert_error(answer, 422, "validation")["details"] == {"field": "establishment_b_id"}
    assert _rows(db) == []


# --- the page -------------------------------------------------------------------------------


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token_of(client.get("/admin/travel-times").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_the_page_edits_the_default_and_the_pairs_in_french(client, login, db, sites,
                                                            make) -> None:
    tours, orleans = sites
    login(make.user(Role.ADMIN, locale="fr"))
    page = text_of(client.get("/admin/travel-times").get_data(as_text=True))
    assert "Temps de trajet entre établissements" in page
    assert ("Aucun couple d’établissements n’a son propre temps" + NBSP
            + ": chaque trajet prend le temps par défaut, 60 minutes.") in page
    assert "/admin/travel-times" in client.get("/admin").get_data(as_text=True)

    answer = _post(client, "/admin/travel-times/pair", {
        "establishment_a": orleans.id, "establishment_b": tours.id, "minutes": "95"})
    assert answer.status_code == 302
    assert _rows(db) == [(min(sites[0].id, sites[1].id), max(sites[0].id, sites[1].id), 95)]
    page = client.get("/admin/travel-times").get_data(as_text=True)
    assert 'value="95"' in page
    assert "Temps de trajet enregistré." in text_of(page)

    answer = _post(client, "/admin/travel-times/default", {"default_minutes": "0"})
    assert answer.status_code == 302
    assert default_minutes(db) == 0

    answer = _post(client, "/admin/travel-times/clear", {
        "establishment_a": tours.id, "establishment_b": orleans.id})
    assert answer.status_code == 302
    assert _rows(db) == []


def test_the_page_shows_a_refusal_next_to_its_field(client, login, db, sites, make) -> None:
    tours, _orleans = sites
    login(make.user(Role.ADMIN, locale="fr"))
    answer = _post(client, "/admin/travel-times/pair", {
        "establishment_a": tours.id, "establishment_b": tours.id, "minutes": "30"})
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert 'id="establishment_b-error"' in html
    assert ("Choisissez deux établissements différents" + NBSP + ": au sein d’un même "
            "établissement, le temps de trajet est nul.") in text_of(html)
    answer = _post(client, "/admin/travel-times/default", {"default_minutes": "2000"})
    assert answer.status_code == 200
    assert 'id="default_minutes-error"' in answer.get_data(as_text=True)
    assert (_rows(db), default_minutes(db)) == ([], 60)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.TRAINER])
def test_the_page_is_for_admins(client, login, make, role) -> None:
    login(make.user(role))
    assert client.get("/admin/travel-times").status_code == 403
