"""The calendar feeds page: listing, creating, replacing and revoking the
secret iCalendar links, through the real pages (CSRF included)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from booking.services.feeds import operations as feeds
from models import Feed, FeedScope, Project, Role
from tests.conftest import NOW, csrf_token_of


def _options(html: str) -> list[str]:
    return re.findall(r'<option[^>]*value="([^"]+)"', html)


def _post(client, path: str, data: dict | None = None, page: str = "/calendars"):
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _urls(app, feed: Feed) -> feeds.FeedUrls:
    return feeds.feed_urls(feed, key=app.config["SECRET_KEY"], base_url=app.config["BASE_URL"])


def _feed(db, owner, scope: FeedScope, scope_id: int, app) -> Feed:
    return feeds.create_feed(db, actor=owner, now=NOW, scope=scope, scope_id=scope_id,
                             key=app.config["SECRET_KEY"])


def _project(make, company, **kw) -> Project:
    kw.setdefault("title", "Formation d'opérateurs")
    project = Project(company=company, learners=6, wanted_from=date(2027, 2, 1),
                      wanted_to=date(2027, 3, 1), **kw)
    make.session.add(project)
    make.session.flush()
    return project


def test_the_page_needs_a_login(client) -> None:
    response = client.get("/calendars")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_a_trainer_may_follow_own_agenda_machines_and_sites(client, make, login) -> None:
    trainer = make.user(Role.TRAINER, name="Julien Moreau")
    colleague = make.user(Role.TRAINER)
    machine = make.equipment(name="Cellule cobot", code="COBOT-9")
    company = make.company()
    mine = _project(make, company, title="Projet suivi", trainer=trainer)
    other = _project(make, company, title="Projet d'un autre", trainer=colleague)
    html = login(trainer).get("/calendars").get_data(as_text=True)

    options = _options(html)
    assert f"trainer:{trainer.id}" in options
    assert f"trainer:{colleague.id}" not in options
    assert f"equipment:{machine.id}" in options
    assert f"establishment:{machine.establishment_id}" in options
    assert f"project:{mine.id}" in options
    assert f"project:{other.id}" not in options
    assert not any(o.startswith("company:") for o in options)
    assert "Cellule cobot (COBOT-9)" in html
    assert "You follow no calendar yet" in html or "aucun" in html.lower()


def test_a_company_may_follow_only_its_company_and_projects(client, make, login) -> None:
    user = make.user(Role.COMPANY)
    ours = _project(make, user.company, title="Notre projet")
    theirs = _project(make, make.company(), title="Leur projet")
    make.equipment()
    options = _options(login(user).get("/calendars").get_data(as_text=True))
    assert sorted(options) == sorted([f"company:{user.company_id}", f"project:{ours.id}"])
    assert f"project:{theirs.id}" not in options


def test_a_coordinator_may_follow_any_trainer_and_company(client, make, login) -> None:
    coordinator = make.user(Role.COORDINATOR)
    trainer = make.user(Role.TRAINER)
    company = make.company()
    options = _options(login(coordinator).get("/calendars").get_data(as_text=True))
    assert {f"trainer:{coordinator.id}", f"trainer:{trainer.id}",
            f"company:{company.id}"} <= set(options)


def test_creating_a_link_shows_its_absolute_url_copy_button_and_webcal(
        app, client, make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    machine = make.equipment(code="LINK-1")
    login(trainer)
    response = _post(client, "/calendars/new", {"target": f"equipment:{machine.id}"})

    feed = db.scalar(select(Feed).where(Feed.owner_id == trainer.id))
    assert feed is not None
    assert (feed.scope, feed.scope_id, feed.created_at) == (FeedScope.EQUIPMENT, machine.id, now)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/calendars#feed-{feed.id}")
    html = client.get("/calendars").get_data(as_text=True)
    urls = _urls(app, feed)
    assert urls.url.startswith(app.config["BASE_URL"] + "/ical/")
    assert re.search(rf'<input[^>]*value="{re.escape(urls.url)}"[^>]*readonly', html)
    assert f'href="{urls.webcal_url}"' in html
    assert f'data-copy="feed-url-{feed.id}"' in html
    assert "js/copy.js" in html


def test_a_second_link_to_the_same_calendar_is_not_made(client, make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    login(trainer)
    for _ in range(2):
        response = _post(client, "/calendars/new", {"target": f"trainer:{trainer.id}"})
        assert response.status_code == 302
    assert len(db.scalars(select(Feed).where(Feed.owner_id == trainer.id)).all()) == 1


def test_a_scope_not_offered_is_refused_and_nothing_is_written(client, make, login, db) -> None:
    user = make.user(Role.COMPANY)
    machine = make.equipment()
    login(user)
    response = _post(client, "/calendars/new", {"target": f"equipment:{machine.id}"})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.scalars(select(Feed)).all() == []


def test_creating_without_the_csrf_token_is_refused(client, make, login, db) -> None:
    trainer = make.user(Role.TRAINER)
    login(trainer)
    response = client.post("/calendars/new", data={"target": f"trainer:{trainer.id}"})
    assert response.status_code == 400
    assert db.scalars(select(Feed)).all() == []


def test_replacing_a_link_asks_first_then_changes_the_url(app, client, make, login, db,
                                                          now) -> None:
    trainer = make.user(Role.TRAINER)
    feed = _feed(db, trainer, FeedScope.TRAINER, trainer.id, app)
    old = _urls(app, feed).url
    login(trainer)
    confirm = client.get(f"/calendars/{feed.id}/regenerate")
    assert confirm.status_code == 200
    assert db.get(Feed, feed.id).token_hash == feeds.digest(old.rsplit("/", 1)[1][:-4])

    response = _post(client, f"/calendars/{feed.id}/regenerate",
                     page=f"/calendars/{feed.id}/regenerate")
    assert response.status_code == 302
    db.refresh(feed)
    new = _urls(app, feed).url
    assert new != old
    html = client.get("/calendars").get_data(as_text=True)
    assert new in html
    assert old not in html
    assert feeds.feed_for_token(db, old.rsplit("/", 1)[1][:-4]) is None


def test_revoking_a_link_removes_it(app, client, make, login, db, now) -> None:
    trainer = make.user(Role.TRAINER)
    feed = _feed(db, trainer, FeedScope.TRAINER, trainer.id, app)
    url = _urls(app, feed).url
    login(trainer)
    assert client.get(f"/calendars/{feed.id}/revoke").status_code == 200

    response = _post(client, f"/calendars/{feed.id}/revoke", page=f"/calendars/{feed.id}/revoke")
    assert response.status_code == 302
    db.refresh(feed)
    assert feed.revoked_at == now
    assert url not in client.get("/calendars").get_data(as_text=True)
    assert client.get(f"/calendars/{feed.id}/revoke").status_code == 404


@pytest.mark.parametrize("action", ["revoke", "regenerate"])
def test_another_users_link_is_not_found(app, client, make, login, db, action) -> None:
    owner = make.user(Role.TRAINER)
    feed = _feed(db, owner, FeedScope.TRAINER, owner.id, app)
    login(make.user(Role.TRAINER))
    assert client.get(f"/calendars/{feed.id}/{action}").status_code == 404
    response = _post(client, f"/calendars/{feed.id}/{action}")
    assert response.status_code == 404
    db.refresh(feed)
    assert feed.revoked_at is None


def test_a_link_the_owner_may_no_longer_follow_is_marked_inactive(app, client, make, login,
                                                                  db) -> None:
    trainer = make.user(Role.TRAINER)
    project = _project(make, make.company(), title="Projet repris", trainer=trainer)
    _feed(db, trainer, FeedScope.PROJECT, project.id, app)
    project.trainer_id = make.user(Role.TRAINER).id
    db.flush()
    html = login(trainer).get("/calendars").get_data(as_text=True)
    assert "Projet repris" in html
    assert "badge-warning" in html
