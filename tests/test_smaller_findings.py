"""Smaller findings of issue 10: a failing feed does not write its token to the
error log; the jobs page shows coordinators what failed, not a traceback with
server paths; a coordinator does not certify themselves."""

from __future__ import annotations

import logging
import re
from datetime import date

import pytest
from sqlalchemy import select

from booking.ical import views as ical_views
from booking.services.certifications import operations as certifications
from booking.services.errors import Forbidden
from models import AuditEntry, Certification, JobRun, Role
from tests.api_helpers import Caller
from tests.conftest import NOW

TRACEBACK = """Traceback (most recent call last):
  File "/srv/plateforme/scheduler/jobs.py", line 140, in run_job
    summary = spec.func(app, now)
sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection to server at \
"10.0.0.7", port 5432 failed: FATAL:  password authentication failed for user "plateforme"
"""


def test_a_failing_feed_does_not_log_its_token(app, client, make, now, monkeypatch,
                                               caplog) -> None:
    trainer = make.user(Role.TRAINER)
    feed = Caller(client, trainer).post("/api/v1/feeds", json={
        "scope": "trainer", "scope_id": trainer.id}).get_json()
    path = "/" + feed["url"].split("://", 1)[1].split("/", 1)[1]
    token = path.removeprefix("/ical/").removesuffix(".ics")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"the feed {path} broke")  # an error that names its URL

    monkeypatch.setattr(ical_views, "feed_bookings", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    with caplog.at_level(logging.ERROR):
        assert client.get(path).status_code == 500
    assert "unhandled error on GET /ical/[secret].ics" in caplog.text
    assert "the feed /ical/[secret].ics broke" in caplog.text  # the traceback's too
    assert token not in caplog.text


@pytest.mark.parametrize("logger", ["booking", "werkzeug", "gunicorn.access",
                                    "gunicorn.error"])
def test_every_logger_that_sees_request_paths_redacts_feed_tokens(logger) -> None:
    from booking.log_redaction import RedactFeedTokens

    assert any(isinstance(f, RedactFeedTokens) for f in logging.getLogger(logger).filters)


@pytest.mark.parametrize(("role", "sees_traceback"), [(Role.COORDINATOR, False),
                                                      (Role.ADMIN, True)])
def test_coordinators_read_what_failed_and_admins_the_traceback(client, db, login, make, now,
                                                                role, sees_traceback) -> None:
    db.add(JobRun(job_id="export_calendars", started_at=NOW, finished_at=NOW,
                  error=TRACEBACK))
    db.flush()
    login(make.user(role, establishment=make.establishment()))
    page = client.get("/jobs").get_data(as_text=True)
    assert "OperationalError" in page
    for secret in ("/srv/plateforme", "10.0.0.7", "password authentication"):
        assert (secret in page) is sees_traceback, secret


# -- a coordinator does not certify themselves ----------------------------------------


@pytest.fixture
def staff(app, make):
    est = make.establishment()
    with app.app_context():
        yield (make.user(Role.COORDINATOR, establishment=est),
               make.user(Role.TRAINER, establishment=est), make.user(Role.ADMIN),
               make.certification_type())


def _grant(db, actor, holder, ctype) -> Certification:
    return certifications.grant(db, holder, actor=actor, now=NOW,
                                certification_type_id=ctype.id, valid_from=date(2027, 1, 12))


def test_a_coordinator_grants_others_not_themselves(db, staff) -> None:
    coordinator, trainer, _, ctype = staff
    assert _grant(db, coordinator, trainer, ctype).user_id == trainer.id
    with pytest.raises(Forbidden) as caught:
        _grant(db, coordinator, coordinator, ctype)
    assert caught.value.template.startswith("A coordinator does not certify themselves")
    assert db.scalars(select(Certification).where(
        Certification.user_id == coordinator.id)).all() == []


def test_a_coordinator_does_not_renew_their_own(db, staff) -> None:
    coordinator, _, admin, ctype = staff
    own = _grant(db, admin, coordinator, ctype)
    with pytest.raises(Forbidden):
        certifications.renew(db, own, actor=coordinator, now=NOW)
    assert certifications.renew(db, own, actor=admin, now=NOW).user_id == coordinator.id


def test_an_admin_may_certify_themselves_in_the_audit_trail(db, staff) -> None:
    _, _, admin, ctype = staff
    granted = _grant(db, admin, admin, ctype)
    assert db.scalar(select(AuditEntry.actor_id).where(
        AuditEntry.object_type == "certification", AuditEntry.object_id == granted.id)) == \
        admin.id


def test_the_grant_form_does_not_offer_the_coordinator_themselves(client, login, staff) -> None:
    coordinator, trainer, _, _ = staff
    login(coordinator)
    page = client.get("/certifications").get_data(as_text=True)
    holders = re.search(r'<select[^>]*name="holder".*?</select>', page, re.DOTALL).group(0)
    assert f'<option value="{trainer.id}">' in holders
    assert f'<option value="{coordinator.id}">' not in holders
