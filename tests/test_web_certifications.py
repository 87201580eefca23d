"""The certifications page through the test client: who reaches it, the
filters, grant, renew, revoke; a trainer's request from an equipment page,
then its grant or decline."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from booking.services.certifications import requests as certification_requests
from models import (
    AuditEntry,
    Certification,
    CertificationRequest,
    CertificationRequestStatus,
    Role,
)
from tests.conftest import csrf_token_of

TODAY = date(2027, 1, 12)  # NOW, in Paris


@pytest.fixture
def w(make: Any, db: Any, now: datetime) -> SimpleNamespace:
    home = make.establishment(code="HOME", city="Tours", department="37")
    gmp = make.certification_type(code="GMP", name="Salle propre", validity_months=24)
    line = make.certification_type(code="LINE", name="Ligne de conditionnement",
                                   validity_months=12)
    trainer = make.user(Role.TRAINER, establishment=home, name="Claire Dubois", locale="en")
    machine = make.equipment(establishment=home, name="Ligne pilote")
    machine.required_certification_types = [gmp, line]
    db.flush()
    return SimpleNamespace(
        home=home, gmp=gmp, line=line, trainer=trainer, machine=machine,
        other_trainer=make.user(Role.TRAINER, name="Karim Benali", locale="en"),
        admin=make.user(Role.ADMIN, name="Admin", locale="en"),
        coordinator=make.user(Role.COORDINATOR, establishment=home, name="Coord Tours",
                              locale="en"),
        company=make.user(Role.COMPANY, locale="en"))


def token(client: Any) -> str:
    return csrf_token_of(client.get("/dashboard").get_data(as_text=True))


def certifications_of(db: Any, user: Any) -> list[Certification]:
    db.expire_all()
    return list(db.scalars(select(Certification).where(Certification.user_id == user.id)
                           .order_by(Certification.id)))


def requests_of(db: Any, user: Any) -> list[CertificationRequest]:
    db.expire_all()
    return list(db.scalars(select(CertificationRequest).where(
        CertificationRequest.user_id == user.id).order_by(CertificationRequest.id)))


# --- who reaches the page ------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 200), ("coordinator", 200), ("trainer", 403), ("company", 403)])
def test_page_per_role(client, login, w, role, status) -> None:
    login(getattr(w, role))
    assert client.get("/certifications").status_code == status


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/certifications"), ("get", "/certifications/1/renew"),
    ("get", "/certifications/1/revoke"), ("post", "/certifications/request/1")])
def test_pages_need_a_login(client, w, method, path) -> None:
    answer = getattr(client, method)(path)
    # A POST without a session has no CSRF token either: refused before the login check.
    assert answer.status_code == (302 if method == "get" else 400)
    if method == "get":
        assert answer.headers["Location"].startswith("/auth/login")


@pytest.mark.parametrize("path", ["/certifications/grant", "/certifications/1/revoke",
                                  "/certifications/1/renew"])
def test_trainer_may_not_act(client, login, w, make, path) -> None:
    make.certification(w.trainer, w.gmp)
    login(w.trainer)
    assert client.post(path, data={"csrf_token": token(client)}).status_code == 403


# --- the list and its filters ----------------------------------------------------------


@pytest.fixture
def held(make: Any, w: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(
        valid=make.certification(w.trainer, w.gmp, valid_from=date(2026, 1, 1),
                                 valid_until=date(2027, 12, 31)),
        expiring=make.certification(w.trainer, w.line, valid_from=date(2026, 2, 1),
                                    valid_until=date(2027, 2, 1)),
        expired=make.certification(w.other_trainer, w.line, valid_from=date(2025, 1, 1),
                                   valid_until=date(2026, 12, 31)),
        revoked=make.certification(w.other_trainer, w.gmp, valid_from=date(2026, 1, 1),
                                   valid_until=date(2027, 12, 31),
                                   revoked_at=datetime.fromisoformat("2026-06-01T10:00Z"),
                                   revoked_by_id=w.admin.id, revoke_reason="Fraude"))


@pytest.mark.parametrize(("show", "listed"), [
    ("all", {"valid", "expiring", "expired"}), ("expiring", {"expiring"}),
    ("expired", {"expired"}), ("history", {"valid", "expiring", "expired", "revoked"})])
def test_filters(client, login, w, held, show, listed) -> None:
    login(w.coordinator)
    html = client.get(f"/certifications?show={show}").get_data(as_text=True)
    for name in ("valid", "expiring", "expired", "revoked"):
        row = f'data-certification="{getattr(held, name).id}"'
        assert (row in html) is (name in listed), name
    if show == "history":
        assert "Revoked on" in html
        assert "by Admin: Fraude" in html


def test_filter_by_trainer(client, login, w, held) -> None:
    login(w.coordinator)
    html = client.get(f"/certifications?show=history&trainer={w.trainer.id}").get_data(
        as_text=True)
    assert f'data-certification="{held.valid.id}"' in html
    assert f'data-certification="{held.revoked.id}"' not in html


def test_renewed_certifications_no_longer_expire(client, login, w, held, make) -> None:
    make.certification(w.trainer, w.line, valid_from=date(2027, 2, 2),
                       valid_until=date(2028, 2, 1))
    login(w.coordinator)
    html = client.get("/certifications?show=expiring").get_data(as_text=True)
    assert f'data-certification="{held.expiring.id}"' not in html


# --- grant, renew, revoke ----------------------------------------------------------------


def test_grant_defaults_to_the_types_validity(client, login, w, db) -> None:
    login(w.coordinator)
    answer = client.post("/certifications/grant", data={
        "csrf_token": token(client), "holder": w.trainer.id, "certification_type": w.gmp.id,
        "valid_from": "2027-01-12", "valid_until": ""}, follow_redirects=True)
    assert answer.status_code == 200
    assert "Salle propre granted to Claire Dubois" in answer.get_data(as_text=True)
    [granted] = certifications_of(db, w.trainer)
    assert (granted.valid_from, granted.valid_until) == (date(2027, 1, 12), date(2029, 1, 12))
    assert granted.granted_by_id == w.coordinator.id


def test_grant_refusals_write_nothing(client, login, w, db) -> None:
    login(w.coordinator)
    answer = client.post("/certifications/grant", data={
        "csrf_token": token(client), "holder": w.trainer.id, "certification_type": w.gmp.id,
        "valid_from": "2027-03-01", "valid_until": "2027-02-01"})
    assert answer.status_code == 200
    assert "valid_until comes before valid_from." in answer.get_data(as_text=True)
    answer = client.post("/certifications/grant", data={
        "csrf_token": token(client), "holder": w.company.id, "certification_type": w.gmp.id,
        "valid_from": "2027-03-01"})
    assert answer.status_code == 200
    assert "Not a valid choice" in answer.get_data(as_text=True)
    assert client.post("/certifications/grant", data={
        "holder": w.trainer.id, "certification_type": w.gmp.id,
        "valid_from": "2027-03-01"}).status_code == 400
    assert certifications_of(db, w.trainer) == []


def test_renew_continues_the_period(client, login, w, held, db) -> None:
    login(w.admin)
    url = f"/certifications/{held.expiring.id}/renew"
    page = client.get(url).get_data(as_text=True)
    assert 'value="2028-02-02"' in page  # 2 Feb 2027 + 12 months
    assert client.post(url, data={"csrf_token": token(client), "valid_until": ""}) \
        .status_code == 302
    renewed = certifications_of(db, w.trainer)[-1]
    assert renewed.certification_type_id == w.line.id
    assert (renewed.valid_from, renewed.valid_until) == (date(2027, 2, 2), date(2028, 2, 2))
    assert db.scalar(select(AuditEntry.details).where(
        AuditEntry.action == "certification.renew"))["renews"] == held.expiring.id


def test_renewing_a_lapsed_one_starts_today(client, login, w, held, db) -> None:
    login(w.coordinator)
    client.post(f"/certifications/{held.expired.id}/renew",
                data={"csrf_token": token(client), "valid_until": "2027-06-30"})
    renewed = certifications_of(db, w.other_trainer)[-1]
    assert (renewed.valid_from, renewed.valid_until) == (TODAY, date(2027, 6, 30))


def test_revoked_ones_are_not_renewed(client, login, w, held, db) -> None:
    login(w.coordinator)
    answer = client.post(f"/certifications/{held.revoked.id}/renew",
                         data={"csrf_token": token(client)}, follow_redirects=True)
    assert "cannot be renewed" in answer.get_data(as_text=True)
    assert len(certifications_of(db, w.other_trainer)) == 2


def test_revoke_with_a_confirm_step(client, login, w, held, db) -> None:
    login(w.coordinator)
    url = f"/certifications/{held.valid.id}/revoke"
    assert "Revoke the certification" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"reason": "x"}).status_code == 400  # no CSRF token
    assert client.post(url, data={"csrf_token": token(client), "reason": "Erreur"}) \
        .status_code == 302
    revoked = db.get(Certification, held.valid.id)
    db.refresh(revoked)
    assert revoked.revoked_by_id == w.coordinator.id
    assert revoked.revoke_reason == "Erreur"
    again = client.post(url, data={"csrf_token": token(client)}, follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)
    assert client.get(url).status_code == 302
    assert client.get("/certifications/999999/revoke").status_code == 404
    assert client.get(f"/certifications/{2**40}/revoke").status_code == 404


# --- requests ------------------------------------------------------------------------------


def test_trainer_asks_for_what_is_missing(client, login, w, make, db) -> None:
    make.certification(w.trainer, w.gmp)
    login(w.trainer)
    url = f"/certifications/request/{w.machine.id}"
    answer = client.post(url, data={"csrf_token": token(client)})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/equipment/{w.machine.id}"
    [asked] = requests_of(db, w.trainer)
    assert (asked.certification_type_id, asked.equipment_id, asked.status) == (
        w.line.id, w.machine.id, CertificationRequestStatus.REQUESTED)
    again = client.post(url, data={"csrf_token": token(client)}, follow_redirects=True)
    assert "You have already asked for Ligne de conditionnement" in again.get_data(as_text=True)
    assert len(requests_of(db, w.trainer)) == 1


@pytest.mark.parametrize(("role", "status"), [("coordinator", 403), ("company", 403)])
def test_only_trainers_ask(client, login, w, db, role, status) -> None:
    login(getattr(w, role))
    answer = client.post(f"/certifications/request/{w.machine.id}",
                         data={"csrf_token": token(client)})
    assert answer.status_code == status
    assert db.scalar(select(func.count()).select_from(CertificationRequest)) == 0


def test_request_errors(client, login, w, db) -> None:
    login(w.trainer)
    assert client.post(f"/certifications/request/{w.machine.id}").status_code == 400
    assert client.post("/certifications/request/999999",
                       data={"csrf_token": token(client)}).status_code == 404
    assert requests_of(db, w.trainer) == []


@pytest.fixture
def asked(w: SimpleNamespace, db: Any) -> CertificationRequest:
    result = certification_requests.request_certification(
        db, actor=w.trainer, equipment=w.machine, now=datetime.fromisoformat(
            "2027-01-10T09:00Z"))
    return next(r for r in result.created if r.certification_type_id == w.gmp.id)


def test_request_then_grant(client, login, w, asked, db) -> None:
    login(w.coordinator)
    html = client.get("/certifications").get_data(as_text=True)
    assert f'data-request="{asked.id}"' in html
    answer = client.post(f"/certifications/requests/{asked.id}/grant",
                         data={"csrf_token": token(client), "valid_until": ""},
                         follow_redirects=True)
    assert "Salle propre granted to Claire Dubois" in answer.get_data(as_text=True)
    assert f'data-request="{asked.id}"' not in answer.get_data(as_text=True)
    [granted] = certifications_of(db, w.trainer)
    assert (granted.certification_type_id, granted.valid_from, granted.valid_until) == (
        w.gmp.id, TODAY, date(2029, 1, 12))
    decided = db.get(CertificationRequest, asked.id)
    assert (decided.status, decided.decided_by_id) == (CertificationRequestStatus.GRANTED,
                                                       w.coordinator.id)
    twice = client.post(f"/certifications/requests/{asked.id}/grant",
                        data={"csrf_token": token(client)}, follow_redirects=True)
    assert "already been answered" in twice.get_data(as_text=True)
    assert len(certifications_of(db, w.trainer)) == 1


def test_request_then_decline(client, login, w, asked, db) -> None:
    login(w.admin)
    answer = client.post(f"/certifications/requests/{asked.id}/decline",
                         data={"csrf_token": token(client), "reason": "Formation à suivre"})
    assert answer.status_code == 302
    decided = requests_of(db, w.trainer)[0]
    assert (decided.status, decided.reason) == (CertificationRequestStatus.DECLINED,
                                                "Formation à suivre")
    assert certifications_of(db, w.trainer) == []


def test_deciding_a_request_needs_csrf_and_staff(client, login, w, asked, db) -> None:
    login(w.trainer)
    url = f"/certifications/requests/{asked.id}/grant"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": token(client)}).status_code == 403
    assert requests_of(db, w.trainer)[0].status is CertificationRequestStatus.REQUESTED


def test_a_direct_grant_answers_the_open_request(client, login, w, asked, db) -> None:
    login(w.coordinator)
    client.post("/certifications/grant", data={
        "csrf_token": token(client), "holder": w.trainer.id, "certification_type": w.gmp.id,
        "valid_from": "2027-01-12"})
    statuses = {r.certification_type_id: r.status for r in requests_of(db, w.trainer)}
    assert statuses == {w.gmp.id: CertificationRequestStatus.GRANTED,
                        w.line.id: CertificationRequestStatus.REQUESTED}


def test_one_open_request_per_trainer_and_type(w, asked, db) -> None:
    """The database keeps the rule too: a second open row is refused, a decided one is not."""
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(CertificationRequest(user_id=w.trainer.id, certification_type_id=w.gmp.id))
    asked.status = CertificationRequestStatus.DECLINED
    asked.decided_at = datetime.fromisoformat("2027-01-11T09:00Z")
    db.flush()
    db.add(CertificationRequest(user_id=w.trainer.id, certification_type_id=w.gmp.id))
    db.flush()
