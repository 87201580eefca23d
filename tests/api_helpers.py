"""Shared pieces of the API tests: a caller with a bearer token, the uniform
error body, and row counts to prove that a refusal wrote nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    AgreementWaiver,
    AuditEntry,
    Booking,
    BookingSeries,
    Equipment,
    Occupancy,
    Project,
    ProjectStatus,
    Role,
    User,
)
from tests.conftest import NOW, PASSWORD


class Caller:
    """Calls the API as one user, with a token from POST /api/v1/auth/tokens."""

    def __init__(self, client: FlaskClient, user: User) -> None:
        answer = client.post("/api/v1/auth/tokens",
                             json={"email": user.email, "password": PASSWORD})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        self.client, self.user = client, user
        self.token = answer.json["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def __getattr__(self, method: str) -> Any:
        if method not in {"get", "post", "patch", "put", "delete"}:
            raise AttributeError(method)
        return lambda path, **kw: getattr(self.client, method)(path, headers=self.headers, **kw)


class Callers:
    """One cached Caller per user of a test."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._cache: dict[int, Caller] = {}

    def __call__(self, user: User) -> Caller:
        if user.id not in self._cache:
            self._cache[user.id] = Caller(self.client, user)
        return self._cache[user.id]


def assert_error(answer: Any, status: int, code: str) -> dict[str, Any]:
    """The uniform error body of API.md, with this status and code."""
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.json
    assert set(body) == {"error", "message", "details"}, body
    assert body["error"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["details"], dict)
    return body


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def rows(db: Session) -> tuple[int, ...]:
    """What a refused request must leave as it was."""
    return tuple(count(db, m) for m in (Booking, Occupancy, AuditEntry, BookingSeries,
                                        Equipment))


class Campus:
    """Two establishments, two companies, one person per role of the
    permission matrix, and an approved project of company A trained by
    ``trainer``. Trainers belong to ``home``, as do its coordinator."""

    def __init__(self, make: Any, db: Session) -> None:
        self.home = make.establishment(code="HOME", timezone="Europe/Paris")
        self.away = make.establishment(code="AWAY", timezone="Europe/Paris")
        self.company_a, self.company_b = make.company(), make.company()
        self.people: dict[str, User] = {
            "admin": make.user(Role.ADMIN),
            "coordinator": make.user(Role.COORDINATOR, establishment=self.home),
            "other_coordinator": make.user(Role.COORDINATOR, establishment=self.away),
            "trainer": make.user(Role.TRAINER, establishment=self.home),
            "other_trainer": make.user(Role.TRAINER, establishment=self.home),
            "company": make.user(Role.COMPANY, company=self.company_a),
            "other_company": make.user(Role.COMPANY, company=self.company_b),
        }
        self.project = Project(
            company=self.company_a, requested_by=self.people["company"], title="Crèmes",
            learners=8, wanted_from=date(2027, 1, 1), wanted_to=date(2027, 6, 30),
            status=ProjectStatus.APPROVED, trainer=self.people["trainer"])
        db.add(self.project)
        db.flush()
        # Created approved, it needs no training agreement to get sessions
        # (booking.services.agreements.gate), like those migration 0013 found.
        db.add(AgreementWaiver(project_id=self.project.id, waived_at=NOW, reason="Existant"))
        db.flush()

    def __getitem__(self, role: str) -> User:
        return self.people[role]


ROLES = ("admin", "coordinator", "other_coordinator", "trainer", "other_trainer", "company",
         "other_company")


BAD_HEADERS = [None, "Bearer not-a-token", "Basic abc", "Bearer ", "bearer", "Token abc"]


def assert_unauthorized(client: FlaskClient, db: Session, method: str, path: str) -> None:
    """No or a bad token: 401 ``unauthorized``, and nothing written."""
    kwargs = {"json": {}} if method in ("post", "patch") else {}
    before = rows(db)
    for header in BAD_HEADERS:
        headers = {"Authorization": header} if header else {}
        answer = getattr(client, method)(path, headers=headers, **kwargs)
        assert_error(answer, 401, "unauthorized")
    assert rows(db) == before


# --- bookings, in Paris time -------------------------------------------------------------


def at(day: str, hhmm: str, offset: str = "+01:00", year: int = 2027) -> str:
    return f"{year}-{day}T{hhmm}:00{offset}"


def span(day: str, start: str, end: str, offset: str = "+01:00", year: int = 2027) -> dict:
    return {"start": at(day, start, offset, year), "end": at(day, end, offset, year)}


def body(eq: Equipment, day: str = "01-13", start: str = "09:00", end: str = "10:00",
         offset: str = "+01:00", **extra: Any) -> dict[str, Any]:
    return {"equipment_id": eq.id, **span(day, start, end, offset), "title": "Émulsion",
            **extra}


def book(caller: Caller, eq: Equipment, **kw: Any) -> dict[str, Any]:
    answer = caller.post("/api/v1/bookings", json=body(eq, **kw))
    assert answer.status_code == 201, answer.json
    return answer.json
