"""The permission helper for each role: one place answers "may this user…"."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from booking.permissions import may, require
from booking.services.errors import Forbidden, NotFound
from booking.services.feeds.access import may_follow as open_feed_scope
from models import Booking, BookingPurpose, BookingStatus, FeedScope, Project, Role


@pytest.fixture
def campus(make):
    tours = make.establishment(code="TRS")
    orleans = make.establishment(code="ORL")
    machine = make.equipment(establishment=tours)
    company_a = make.company(name="A")
    company_b = make.company(name="B")
    people = {
        "admin": make.user(Role.ADMIN),
        "coord_tours": make.user(Role.COORDINATOR, establishment=tours),
        "coord_orleans": make.user(Role.COORDINATOR, establishment=orleans),
        "trainer": make.user(Role.TRAINER),
        "other_trainer": make.user(Role.TRAINER),
        "company_a": make.user(Role.COMPANY, company=company_a),
        "company_b": make.user(Role.COMPANY, company=company_b),
    }
    project = Project(company=company_a, title="Projet A", learners=8,
                      wanted_from=date(2027, 3, 1),
                      wanted_to=date(2027, 3, 31), trainer=people["trainer"])
    make.session.add(project)
    booking = Booking(
        uid="b1@test", equipment=machine, title="Séance", purpose=BookingPurpose.TRAINING,
        status=BookingStatus.CONFIRMED, booked_by=people["trainer"], trainer=people["trainer"],
        start_at=datetime(2027, 3, 2, 8, tzinfo=UTC), end_at=datetime(2027, 3, 2, 10, tzinfo=UTC),
        project=project,
    )
    make.session.add(booking)
    make.session.flush()
    return people, booking, project, company_a


@pytest.mark.parametrize(
    ("who", "view", "change", "cancel", "decide"),
    [
        ("admin", True, True, True, True),
        ("coord_tours", True, True, True, True),
        ("coord_orleans", True, False, False, False),
        ("trainer", True, True, True, False),
        ("other_trainer", True, False, False, False),
        ("company_a", True, False, False, False),
        ("company_b", False, False, False, False),
    ],
)
def test_booking_permissions(campus, who, view, change, cancel, decide) -> None:
    people, booking, _, _ = campus
    user = people[who]
    assert may(user, "view", booking) is view
    assert may(user, "change", booking) is change
    assert may(user, "cancel", booking) is cancel
    assert may(user, "decide", booking) is decide


def test_require_hides_what_cannot_be_seen_and_forbids_what_cannot_be_changed(campus) -> None:
    people, booking, _, _ = campus
    with pytest.raises(NotFound):
        require(people["company_b"], "cancel", booking)
    with pytest.raises(Forbidden):
        require(people["other_trainer"], "cancel", booking)
    assert require(people["trainer"], "cancel", booking) is booking


@pytest.mark.parametrize(
    ("who", "view", "decide"),
    [("admin", True, True), ("coord_orleans", True, True), ("trainer", True, False),
     ("other_trainer", False, False), ("company_a", True, False), ("company_b", False, False)],
)
def test_project_permissions(campus, who, view, decide) -> None:
    people, _, project, _ = campus
    assert may(people[who], "view", project) is view
    assert may(people[who], "decide", project) is decide


def test_certifications_granted_by_any_coordinator_not_by_trainers(campus) -> None:
    people, *_ = campus
    trainer = people["trainer"]
    assert may(people["coord_orleans"], "grant_certification", trainer)
    assert may(people["admin"], "grant_certification", trainer)
    assert not may(people["other_trainer"], "grant_certification", trainer)
    assert may(trainer, "view_certifications", trainer)
    assert not may(people["other_trainer"], "view_certifications", trainer)


def test_feed_scopes_of_a_company_user(campus) -> None:
    people, booking, project, company_a = campus
    company_user = people["company_a"]
    assert open_feed_scope(company_user, FeedScope.COMPANY, company_a)
    assert open_feed_scope(company_user, FeedScope.PROJECT, project)
    assert not open_feed_scope(company_user, FeedScope.EQUIPMENT, booking.equipment)
    assert not open_feed_scope(people["company_b"], FeedScope.PROJECT, project)
    assert open_feed_scope(people["trainer"], FeedScope.EQUIPMENT, booking.equipment)


def test_inactive_or_anonymous_users_may_nothing(campus) -> None:
    people, booking, _, _ = campus
    people["admin"].active = False
    assert not may(people["admin"], "view", booking)
    assert not may(None, "view", booking)


def test_every_action_asked_has_a_rule() -> None:
    """An action asked for by name (may, require, get_or_404, can) that no
    rule registers would be refused silently: each must exist in the table."""
    import re
    from pathlib import Path

    from booking import permissions

    permissions._load_rules()
    registered = {action for _kind, action in permissions.RULES}
    root = Path(__file__).resolve().parent.parent
    asked: dict[str, str] = {}
    pattern = re.compile(
        r"""\b(?:may|require|get_or_404|can)\((?:[^()"']|\([^()]*\))*?["']([a-z_]+)["']""")
    for path in [*root.glob("booking/**/*.py"), *root.glob("templates/**/*.html")]:
        for action in pattern.findall(path.read_text(encoding="utf-8")):
            asked.setdefault(action, str(path.relative_to(root)))
    asked.pop("action", None)  # the placeholder of a docstring's example
    assert len(asked) > 15
    assert {a: where for a, where in asked.items() if a not in registered} == {}
