"""A feed is built once per change, however many subscribers poll.

The db fixture runs each test on one connection, which threads cannot share:
the single-flight cache (booking.services.feeds.cache) is tested directly with
threads and with processes on a temporary directory, and the view with it
one request at a time.
"""

from __future__ import annotations

import gzip
import multiprocessing
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

import booking.ical.views as views
from booking.services.feeds.cache import FeedCache
from booking.timeutil import frozen
from models import Role
from tests.conftest import PASSWORD

THREADS = 20


# --- the cache alone ----------------------------------------------------------------


def _slow_build(counter: list[int], lock: threading.Lock, started: threading.Event,
                release: threading.Event) -> bytes:
    with lock:
        counter[0] += 1
    started.set()
    release.wait(10)  # keeps the build running while the others arrive
    return b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" * 100


def test_threads_asking_the_same_stale_body_wait_for_one_build(tmp_path) -> None:
    cache = FeedCache(tmp_path)
    counter, lock = [0], threading.Lock()
    started, release = threading.Event(), threading.Event()
    bodies: list[bytes] = []

    def poll(gzipped: bool) -> None:
        handle = cache.open("trainer-1", "v1", lambda: _slow_build(
            counter, lock, started, release), gzipped=gzipped)
        assert handle is not None
        with handle:
            data = handle.read()
        with lock:
            bodies.append(gzip.decompress(data) if gzipped else data)

    threads = [threading.Thread(target=poll, args=(n % 2 == 0,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert counter[0] == 1
    assert len(bodies) == THREADS
    assert len(set(bodies)) == 1


def _process_poll(directory: str, marks: str, barrier: object) -> bytes:
    def build() -> bytes:
        with open(marks, "a") as out:  # one line per build, whichever process
            out.write("built\n")
        return b"BEGIN:VCALENDAR\r\nX-BUILT-BY:one\r\nEND:VCALENDAR\r\n"

    barrier.wait(10)  # type: ignore[attr-defined]
    handle = FeedCache(directory).open("establishment-7", "abc", build, gzipped=False)
    assert handle is not None
    with handle:
        return handle.read()


def test_processes_asking_the_same_stale_body_wait_for_one_build(tmp_path) -> None:
    context = multiprocessing.get_context("fork")
    marks = tmp_path / "marks"
    marks.touch()
    with context.Manager() as manager:
        barrier = manager.Barrier(6)
        with context.Pool(6) as pool:
            bodies = pool.starmap(_process_poll,
                                  [(str(tmp_path / "cache"), str(marks), barrier)] * 6)
    assert marks.read_text().splitlines() == ["built"]
    assert len(set(bodies)) == 1
    assert b"X-BUILT-BY:one" in bodies[0]


def test_a_new_version_is_built_once_and_replaces_the_old(tmp_path) -> None:
    cache, builds = FeedCache(tmp_path), []

    def build(body: bytes):
        return lambda: builds.append(body) or body

    for _ in range(3):
        with cache.open("project-3", "one", build(b"first"), gzipped=False) as handle:
            assert handle.read() == b"first"
    with cache.open("project-3", "two", build(b"second"), gzipped=True) as handle:
        assert gzip.decompress(handle.read()) == b"second"
    assert builds == [b"first", b"second"]
    assert sorted(p.name for p in tmp_path.glob("project-3.*.ics*")) == [
        "project-3.two.ics", "project-3.two.ics.gz"]


def test_scopes_sharing_a_prefix_keep_their_own_bodies(tmp_path) -> None:
    cache = FeedCache(tmp_path)
    cache.open("trainer-1", "v", lambda: b"one", gzipped=False).close()
    cache.open("trainer-12", "v", lambda: b"twelve", gzipped=False).close()
    cache.open("trainer-1", "w", lambda: b"one again", gzipped=False).close()
    with cache.open("trainer-12", "v", lambda: b"rebuilt", gzipped=False) as handle:
        assert handle.read() == b"twelve"


def test_an_unusable_directory_answers_none(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert FeedCache(blocker / "cache").open("trainer-1", "v", lambda: b"x",
                                             gzipped=False) is None


# --- the view -----------------------------------------------------------------------


def _get(client, path: str, **kw):
    """A GET whose body is read and whose response is closed, as a WSGI server
    does (a cached body is an open file until then)."""
    response = client.get(path, **kw)
    response.get_data()
    response.close()
    return response


def _headers(client, user) -> dict[str, str]:
    token = client.post("/api/v1/auth/tokens",
                        json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def _book(client, headers, machine, title: str, day: str = "2027-03-02") -> dict:
    response = client.post("/api/v1/bookings", headers=headers, json={
        "equipment_id": machine.id, "title": title,
        "start": f"{day}T09:00:00+01:00", "end": f"{day}T12:00:00+01:00"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _feed(client, headers, scope: str, scope_id: int) -> tuple[int, str]:
    feed = client.post("/api/v1/feeds", headers=headers,
                       json={"scope": scope, "scope_id": scope_id}).get_json()
    return feed["id"], "/" + feed["url"].split("://", 1)[1].split("/", 1)[1]


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """The scope ids of the feeds built, in order."""
    built: list[int] = []
    original = views.build

    def counted(found, **kw):
        built.append(found.scope_id)
        return original(found, **kw)

    monkeypatch.setattr(views, "build", counted)
    return built


@pytest.fixture
def cache_dir(app, monkeypatch, tmp_path) -> Path:
    directory = tmp_path / "feed-cache"
    monkeypatch.setitem(app.config, "FEED_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def trainer_feed(client, make, now):
    est = make.establishment()
    trainer = make.user(Role.TRAINER, establishment=est, name="Camille Martin")
    machine = make.equipment(establishment=est)
    headers = _headers(client, trainer)
    booking = _book(client, headers, machine, "TP cobotique")
    feed_id, path = _feed(client, headers, "trainer", trainer.id)
    return headers, path, booking, feed_id, trainer


def _events(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


def test_polls_of_one_scope_share_one_build(client, make, trainer_feed, cache_dir, builds):
    _, path, booking, _, trainer = trainer_feed
    # A second subscriber: a coordinator following the trainer's agenda.
    coordinator = make.user(Role.COORDINATOR, establishment_id=trainer.establishment_id)
    _, other_path = _feed(client, _headers(client, coordinator), "trainer", trainer.id)
    answers = [_get(client, p) for p in (path, other_path, path, other_path)]
    assert builds == [trainer.id]
    assert {a.status_code for a in answers} == {200}
    assert len({a.data for a in answers}) == 1
    assert len({a.headers["ETag"] for a in answers}) == 1
    assert answers[0].headers["Content-Length"] == str(len(answers[0].data))
    (event,) = _events(answers[0].data)
    assert str(event["UID"]) == booking["uid"]


def test_cached_answer_is_the_body_built_without_cache(client, app, trainer_feed, cache_dir,
                                                       builds, monkeypatch):
    _, path, _, _, _ = trainer_feed
    cached = [_get(client, path), _get(client, path)]
    monkeypatch.setitem(app.config, "FEED_CACHE_DIR", "")
    built = _get(client, path)
    assert len(builds) == 2  # one for the cache, one without it
    assert cached[0].data == cached[1].data == built.data  # the clock is frozen
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Type"):
        assert cached[1].headers[name] == built.headers[name]


def test_gzip_and_plain_answers_from_one_build(client, trainer_feed, cache_dir, builds):
    _, path, _, _, _ = trainer_feed
    plain = _get(client, path)
    zipped = _get(client, path, headers={"Accept-Encoding": "gzip, deflate"})
    assert len(builds) == 1
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == plain.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data


def test_a_change_is_built_once_by_the_next_poll(client, trainer_feed, cache_dir, builds):
    headers, path, booking, _, _ = trainer_feed
    first = _get(client, path)
    assert _get(client, path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    cancelled = client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers,
                            json={})
    assert cancelled.status_code == 200, cancelled.get_json()
    after = [_get(client, path, headers={"If-None-Match": first.headers["ETag"]})
             for _ in range(3)]
    assert len(builds) == 2
    assert {a.status_code for a in after} == {200}
    assert after[0].headers["ETag"] != first.headers["ETag"]
    (event,) = _events(after[2].data)
    assert event["STATUS"] == "CANCELLED"
    assert len(list(cache_dir.glob("*.ics"))) == 1  # the old version is gone


def test_unwritable_cache_dir_still_serves_the_feed(client, app, trainer_feed, monkeypatch,
                                                    tmp_path, builds):
    _, path, booking, _, _ = trainer_feed
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setitem(app.config, "FEED_CACHE_DIR", str(blocker / "cache"))
    for encoding in ("", "gzip"):
        response = _get(client, path, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        body = gzip.decompress(response.data) if encoding else response.data
        (event,) = _events(body)
        assert str(event["UID"]) == booking["uid"]
    assert len(builds) == 2


def test_two_scopes_never_share_a_body(client, make, now, cache_dir, builds):
    """Two trainers with one booking each, made at the same instant: the same
    count, sequences and last change, hence the same ETag, yet each their own."""
    est = make.establishment()
    answers = {}
    for name in ("Alice Durand", "Bruno Petit"):
        trainer = make.user(Role.TRAINER, establishment=est, name=name)
        headers = _headers(client, trainer)
        booking = _book(client, headers, make.equipment(establishment=est), f"TP {name}")
        _, path = _feed(client, headers, "trainer", trainer.id)
        answers[booking["uid"]] = path
    responses = {uid: _get(client, path) for uid, path in answers.items()}
    assert len(builds) == 2
    for uid, response in responses.items():
        assert [str(e["UID"]) for e in _events(response.data)] == [uid]


def test_revoked_token_is_404_even_when_cached(client, trainer_feed, cache_dir, builds):
    headers, path, _, feed_id, _ = trainer_feed
    assert _get(client, path).status_code == 200
    assert list(cache_dir.glob("*.ics"))
    assert client.delete(f"/api/v1/feeds/{feed_id}", headers=headers).status_code == 204
    assert _get(client, path).status_code == 404
    assert _get(client, path, headers={"Accept-Encoding": "gzip"}).status_code == 404
    assert len(builds) == 1


def test_a_recent_check_is_reused_for_a_few_seconds(client, app, trainer_feed, cache_dir,
                                                    builds, monkeypatch, now):
    """Within FEED_FRESH_SECONDS of a check, polls of the scope read no booking
    (the subscriber may see a change that much later); after it, the next poll
    checks again and builds the change once."""
    monkeypatch.setitem(app.config, "FEED_FRESH_SECONDS", 10)
    headers, path, booking, _, _ = trainer_feed
    first = _get(client, path)
    cancelled = client.post(f"/api/v1/bookings/{booking['id']}/cancel", headers=headers,
                            json={})
    assert cancelled.status_code == 200, cancelled.get_json()
    with frozen(now + timedelta(seconds=9)):
        within = _get(client, path, headers={"If-None-Match": first.headers["ETag"]})
    assert within.status_code == 304
    assert len(builds) == 1
    with frozen(now + timedelta(seconds=11)):
        after = [_get(client, path) for _ in range(2)]
    assert len(builds) == 2
    assert after[0].headers["ETag"] != first.headers["ETag"]
    assert after[0].data == after[1].data
    (event,) = _events(after[1].data)
    assert event["STATUS"] == "CANCELLED"


def test_a_clock_set_back_does_not_extend_a_check(tmp_path) -> None:
    cache = FeedCache(tmp_path)
    cache.note_stamp("trainer-1", {"count": 1}, now=1000.0)
    assert cache.recent_stamp("trainer-1", now=1005.0, max_age=10)["count"] == 1
    assert cache.recent_stamp("trainer-1", now=1011.0, max_age=10) is None
    assert cache.recent_stamp("trainer-1", now=999.0, max_age=10) is None
    assert cache.recent_stamp("trainer-2", now=1005.0, max_age=10) is None
