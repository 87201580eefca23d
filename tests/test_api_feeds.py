"""Calendar feeds through the API: each user's own secret URLs, for the scopes
they may see; a company never sees another company's feed."""

from __future__ import annotations

import base64
import hashlib
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.services.feeds.operations import feed_for_token
from models import AuditEntry, Feed, FeedScope, Project, Role
from tests.api_helpers import Callers, assert_error, count
from tests.conftest import NOW

BASE_URL = "http://127.0.0.1:5000"  # TestingConfig's default


@pytest.fixture
def people(make):
    return {"admin": make.user(Role.ADMIN), "coordinator": make.user(Role.COORDINATOR),
            "trainer": make.user(Role.TRAINER), "other_trainer": make.user(Role.TRAINER),
            "company": make.user(Role.COMPANY), "rival": make.user(Role.COMPANY)}


@pytest.fixture
def as_(client, people):
    callers = Callers(client)
    return lambda role: callers(people[role])


@pytest.fixture
def scopes(db, make, people):
    """One object per scope; the project is "company"'s, run by "trainer"."""
    machine = make.equipment()
    project = Project(company_id=people["company"].company_id, title="Projet", learners=6,
                      wanted_from=date(2027, 3, 1), wanted_to=date(2027, 3, 31),
                      requested_by_id=people["company"].id, trainer_id=people["trainer"].id)
    db.add(project)
    db.flush()
    return {"equipment": machine.id, "establishment": machine.establishment_id,
            "trainer": people["trainer"].id, "project": project.id,
            "company": people["company"].company_id,
            "other_company": people["rival"].company_id,
            "other_trainer": people["other_trainer"].id}


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1].removesuffix(".ics")


def _scope(name: str) -> str:
    return name.removeprefix("other_")


# Which scopes each role may follow (else 404: the scope is not theirs to see).
MAY_FOLLOW = {
    "admin": {"equipment", "establishment", "trainer", "project", "company", "other_company",
              "other_trainer"},
    "coordinator": {"equipment", "establishment", "trainer", "project", "company",
                    "other_company", "other_trainer"},
    "trainer": {"equipment", "establishment", "trainer", "project"},
    "other_trainer": {"equipment", "establishment", "other_trainer"},
    "company": {"project", "company"},
    "rival": {"other_company"},
}


@pytest.mark.parametrize("role", sorted(MAY_FOLLOW))
@pytest.mark.parametrize("target", ["equipment", "establishment", "trainer", "project",
                                    "company", "other_company", "other_trainer"])
def test_who_may_follow_what(as_, db, scopes, role, target) -> None:
    before = (count(db, Feed), count(db, AuditEntry))
    body = {"scope": _scope(target), "scope_id": scopes[target]}
    answer = as_(role).post("/api/v1/feeds", json=body)
    if target not in MAY_FOLLOW[role]:
        assert_error(answer, 404, "not_found")
        assert (count(db, Feed), count(db, AuditEntry)) == before
        return
    assert answer.status_code == 201, answer.json
    got = answer.json
    assert {"id", "url", "webcal_url", "scope", "scope_id"} <= set(got)
    assert (got["scope"], got["scope_id"]) == (body["scope"], body["scope_id"])
    assert got["url"].startswith(f"{BASE_URL}/ical/")
    assert got["url"].endswith(".ics")
    assert got["webcal_url"] == "webcal://" + got["url"].removeprefix("http://")
    feed = db.get(Feed, got["id"])
    assert feed_for_token(db, token_of(got["url"])) is feed


def test_token_is_strong_and_only_its_digest_is_stored(as_, db, scopes) -> None:
    answer = as_("trainer").post("/api/v1/feeds", json={"scope": "trainer",
                                                        "scope_id": scopes["trainer"]})
    token = token_of(answer.json["url"])
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    feed = db.get(Feed, answer.json["id"])
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (feed.secret, feed.token_hash)
    again = as_("trainer").post("/api/v1/feeds", json={"scope": "equipment",
                                                       "scope_id": scopes["equipment"]})
    assert again.json["url"] != answer.json["url"]
    listed = as_("trainer").get("/api/v1/feeds").json
    assert [f["url"] for f in listed["items"]] == [answer.json["url"], again.json["url"]]
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_type == "feed", AuditEntry.object_id == feed.id)) == "feed.create"


@pytest.mark.parametrize("body", [
    {}, {"scope": "trainer"}, {"scope_id": 1}, {"scope": "planet", "scope_id": 1},
    {"scope": "trainer", "scope_id": "1"}, {"scope": "trainer", "scope_id": -1},
    {"scope": "trainer", "scope_id": 1, "url": "http://evil.example"},
])
def test_bad_feed_request_is_422(as_, db, body) -> None:
    before = count(db, Feed)
    assert_error(as_("trainer").post("/api/v1/feeds", json=body), 422, "validation")
    assert count(db, Feed) == before


@pytest.mark.parametrize("scope", ["equipment", "establishment", "trainer", "project",
                                   "company"])
def test_unknown_scope_object_is_404(as_, scope) -> None:
    answer = as_("admin").post("/api/v1/feeds", json={"scope": scope, "scope_id": 999999})
    assert_error(answer, 404, "not_found")


def test_no_token_is_401_and_malformed_json_is_400(client, as_) -> None:
    assert_error(client.get("/api/v1/feeds"), 401, "unauthorized")
    assert_error(client.delete("/api/v1/feeds/1", headers={"Authorization": "Bearer x"}),
                 401, "unauthorized")
    answer = as_("trainer").post("/api/v1/feeds", data="{", content_type="application/json")
    assert_error(answer, 400, "bad_request")


def test_each_user_lists_only_own_feeds(as_, scopes) -> None:
    mine = as_("company").post("/api/v1/feeds", json={"scope": "company",
                                                      "scope_id": scopes["company"]}).json
    rivals = as_("rival").post("/api/v1/feeds", json={"scope": "company",
                                                      "scope_id": scopes["other_company"]}).json
    assert [f["id"] for f in as_("company").get("/api/v1/feeds").json["items"]] == [mine["id"]]
    assert [f["id"] for f in as_("rival").get("/api/v1/feeds").json["items"]] == [rivals["id"]]
    listed = as_("admin").get("/api/v1/feeds").json
    assert listed == {"items": [], "total": 0}
    for scope in ("trainer", "equipment", "establishment"):
        assert as_("trainer").post("/api/v1/feeds", json={
            "scope": scope, "scope_id": scopes[scope]}).status_code == 201
    paged = as_("trainer").get("/api/v1/feeds?limit=2&offset=1").json
    assert (paged["total"], len(paged["items"])) == (3, 2)
    assert as_("trainer").get("/api/v1/feeds?limit=501").status_code == 200


@pytest.mark.parametrize(("role", "status"), [
    ("company", 204), ("rival", 404), ("trainer", 404), ("coordinator", 404),
    ("admin", 204),  # booking.permissions.view_feed: an admin may revoke a leaked URL
])
def test_only_the_owner_deletes(as_, db, scopes, role, status) -> None:
    url = as_("company").post("/api/v1/feeds", json={"scope": "company",
                                                     "scope_id": scopes["company"]}).json
    answer = as_(role).delete(f"/api/v1/feeds/{url['id']}")
    assert answer.status_code == status
    feed = feed_for_token(db, token_of(url["url"]))
    if status == 404:
        assert_error(answer, 404, "not_found")
        assert feed is not None
        return
    assert feed is None  # the URL stops working at once
    assert db.scalar(select(AuditEntry.action).where(
        AuditEntry.object_type == "feed").order_by(AuditEntry.id.desc()).limit(1)) \
        == "feed.revoke"
    assert as_("company").get("/api/v1/feeds").json["total"] == 0
    assert_error(as_("company").delete(f"/api/v1/feeds/{url['id']}"), 404, "not_found")
    assert db.get(Feed, url["id"]).revoked_at is not None
    assert_error(as_("company").delete("/api/v1/feeds/999999"), 404, "not_found")


def test_regenerate_gives_a_new_url_and_kills_the_old(as_, db, scopes) -> None:
    old = as_("trainer").post("/api/v1/feeds", json={"scope": "equipment",
                                                     "scope_id": scopes["equipment"]}).json
    assert_error(as_("other_trainer").post(f"/api/v1/feeds/{old['id']}/regenerate"),
                 404, "not_found")
    new = as_("trainer").post(f"/api/v1/feeds/{old['id']}/regenerate")
    assert new.status_code == 200
    assert new.json["id"] == old["id"]
    assert new.json["url"] != old["url"]
    assert feed_for_token(db, token_of(old["url"])) is None
    assert feed_for_token(db, token_of(new.json["url"])).id == old["id"]


def test_feed_stops_when_its_owner_may_no_longer_see_it(as_, db, people, scopes) -> None:
    made = as_("trainer").post("/api/v1/feeds", json={"scope": "project",
                                                      "scope_id": scopes["project"]}).json
    token = token_of(made["url"])
    assert feed_for_token(db, token) is not None
    project = db.get(Project, scopes["project"])
    project.trainer_id = people["other_trainer"].id  # taken off the project
    db.flush()
    assert feed_for_token(db, token) is None
    project.trainer_id = people["trainer"].id
    people["trainer"].active = False
    db.flush()
    assert feed_for_token(db, token) is None


@pytest.mark.parametrize("token", ["", "x", "é" * 10, "a" * 500, "../../etc/passwd"])
def test_unknown_tokens_find_nothing(db, token) -> None:
    assert feed_for_token(db, token) is None


def test_one_live_feed_per_scope_as_on_the_page(as_, db, scopes) -> None:
    """The rule lives in the service: the API refuses a second live feed of one
    scope (409 naming the first) as the page does; after a revocation, a new
    one may be made."""
    body = {"scope": "trainer", "scope_id": scopes["trainer"]}
    first = as_("trainer").post("/api/v1/feeds", json=body)
    assert first.status_code == 201
    again = as_("trainer").post("/api/v1/feeds", json=body)
    assert again.status_code == 409
    assert again.json["error"] == "conflict"
    assert again.json["details"]["feed_id"] == first.json["id"]
    assert db.scalar(select(func.count()).select_from(Feed).where(
        Feed.scope == FeedScope.TRAINER, Feed.scope_id == scopes["trainer"])) == 1
    assert as_("trainer").delete(f"/api/v1/feeds/{first.json['id']}").status_code == 204
    assert as_("trainer").post("/api/v1/feeds", json=body).status_code == 201


def test_the_database_keeps_one_live_feed_per_scope(db, scopes, people) -> None:
    """Migration 0005: a second live feed of one owner and scope is refused by
    the database itself; a revoked one does not count."""
    owner = people["trainer"]
    first = Feed(owner_id=owner.id, scope=FeedScope.EQUIPMENT, scope_id=scopes["equipment"],
                 secret="a" * 32, token_hash="h1", created_at=NOW)
    db.add(first)
    db.flush()
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(Feed(owner_id=owner.id, scope=FeedScope.EQUIPMENT,
                    scope_id=scopes["equipment"], secret="b" * 32, token_hash="h2",
                    created_at=NOW))
    first.revoked_at = NOW
    db.flush()
    db.add(Feed(owner_id=owner.id, scope=FeedScope.EQUIPMENT, scope_id=scopes["equipment"],
                secret="c" * 32, token_hash="h3", created_at=NOW))
    db.flush()
