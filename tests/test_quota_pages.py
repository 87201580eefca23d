"""The quota pages: coordinators set their machines' quotas (CSRF forms, the
same service as the API), everyone reads « Mon utilisation », coordinators
and admins the shares report; in French, with no English left."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.policy import Policy
from models import (
    AuditEntry,
    EquipmentCategory,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    Role,
)
from tests.conftest import NOW, csrf_token_of
from tests.world import logged_in

PARIS = ZoneInfo("Europe/Paris")
NBSP = "\u00a0"


def text_of(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def c(make: Any, db: Any) -> SimpleNamespace:
    owner = make.establishment(code="LYC", name="Lycée du Parc")
    iut = make.establishment(code="IUT", name="IUT de Tours")
    line = make.equipment(establishment=owner, name="Ligne A",
                          category=EquipmentCategory.PILOT_LINE)
    quota = Quota(establishment_id=owner.id, equipment_id=line.id,
                  applies_to=QuotaAppliesTo.ESTABLISHMENT, period=QuotaPeriod.MONTH,
                  max_minutes=750, over=QuotaOver.REFUSE, created_at=NOW, updated_at=NOW)
    per_user = Quota(establishment_id=owner.id, category=EquipmentCategory.PILOT_LINE,
                     applies_to=QuotaAppliesTo.USER, period=QuotaPeriod.WEEK,
                     max_future_bookings=3, over=QuotaOver.APPROVAL, created_at=NOW,
                     updated_at=NOW)
    db.add_all([quota, per_user])
    db.flush()
    return SimpleNamespace(
        owner=owner, iut=iut, line=line, quota=quota, per_user=per_user,
        coordinator=make.user(Role.COORDINATOR, establishment=owner),
        other_coordinator=make.user(Role.COORDINATOR, establishment=iut),
        iut_trainer=make.user(Role.TRAINER, establishment=iut),
        company=make.user(Role.COMPANY))


def book(app: Any, db: Any, user: Any, machine: Any, hours: float) -> None:
    start = NOW.astimezone(PARIS).replace(day=14, hour=9)
    with app.app_context():
        create_booking(db, actor=user, now=NOW, policy=Policy(), notify=False,
                       request=BookingRequest(machine.id, start, start + timedelta(hours=hours),
                                              "Séance"))


def test_my_use_shows_the_establishments_hours_against_its_quota(app, db, client, login, c,
                                                                 now):
    book(app, db, c.iut_trainer, c.line, 2.5)
    page = login(c.iut_trainer).get("/quotas/")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "Mon utilisation" in text
    assert f"2{NBSP}h{NBSP}30 sur 12{NBSP}h{NBSP}30" in text
    assert "Ligne A" in text
    assert "1er janvier 2027" in text
    assert "Par mois" in text
    assert "My use" not in text
    assert "Hours booked" not in text


def test_a_company_sees_only_the_quotas_per_user(client, login, c, now):
    html = login(c.company).get("/quotas/").get_data(as_text=True)
    assert f'data-quota="{c.per_user.id}"' in html
    assert f'data-quota="{c.quota.id}"' not in html


def test_a_coordinator_creates_edits_and_deletes_a_quota(db, client, login, c, now):
    browser = login(c.coordinator)
    page = browser.get("/quotas/manage")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Fixer un quota" in text_of(html)
    answer = browser.post("/quotas/manage", data={
        "csrf_token": csrf_token_of(html), "target": f"category-{c.owner.id}-pilot_line",
        "applies_to": "establishment", "beneficiary": str(c.iut.id), "period": "school_year",
        "max_hours": "7,5", "max_future_bookings": "", "over": "approval"})
    assert answer.status_code == 302, text_of(answer.get_data(as_text=True))[:2000]
    made = db.scalars(select(Quota).where(Quota.beneficiary_establishment_id == c.iut.id)).one()
    assert (made.max_minutes, made.category, made.period) == (450, EquipmentCategory.PILOT_LINE,
                                                               QuotaPeriod.SCHOOL_YEAR)
    edit = browser.get(f"/quotas/{made.id}/edit")
    assert 'value="7.5"' in edit.get_data(as_text=True)
    answer = browser.post(f"/quotas/{made.id}/edit", data={
        "csrf_token": csrf_token_of(edit.get_data(as_text=True)), "applies_to": "user",
        "beneficiary": "0", "period": "week", "max_hours": "", "max_future_bookings": "2",
        "over": "refuse"})
    assert answer.status_code == 302
    db.refresh(made)
    assert (made.applies_to, made.max_minutes, made.max_future_bookings) == (
        QuotaAppliesTo.USER, None, 2)
    made_id = made.id
    confirm = browser.get(f"/quotas/{made_id}/delete")
    assert browser.post(f"/quotas/{made_id}/delete", data={
        "csrf_token": csrf_token_of(confirm.get_data(as_text=True))}).status_code == 302
    db.expire_all()
    assert db.scalars(select(Quota.id).where(Quota.id == made_id)).all() == []
    assert db.scalars(select(AuditEntry.action).where(AuditEntry.object_id == made_id,
                                                      AuditEntry.object_type == "quota")
                      .order_by(AuditEntry.id)).all() == ["quota.create", "quota.update",
                                                          "quota.delete"]


def test_a_quota_without_a_limit_is_refused_next_to_its_field(db, client, login, c, now):
    browser = login(c.coordinator)
    html = browser.get("/quotas/manage").get_data(as_text=True)
    answer = browser.post("/quotas/manage", data={
        "csrf_token": csrf_token_of(html), "target": f"equipment-{c.line.id}",
        "applies_to": "user", "beneficiary": "0", "period": "month", "max_hours": "",
        "max_future_bookings": "", "over": "refuse"})
    assert answer.status_code == 200
    assert 'id="max_hours-error"' in answer.get_data(as_text=True)
    assert db.scalars(select(Quota)).all() == [c.quota, c.per_user]


def test_another_establishments_coordinator_may_not_edit(client, login, c, now):
    browser = login(c.other_coordinator)
    assert browser.get(f"/quotas/{c.quota.id}/edit").status_code == 403
    assert browser.get(f"/quotas/{c.quota.id}/delete").status_code == 403
    assert f'data-quota="{c.quota.id}"' not in browser.get("/quotas/manage").get_data(
        as_text=True)


def test_trainers_and_companies_may_not_manage(app, c, now):
    assert logged_in(app, c.iut_trainer).get("/quotas/manage").status_code == 403
    assert logged_in(app, c.company).get("/quotas/shares").status_code == 403


def test_the_shares_report_shows_each_establishment_against_its_quota(app, db, client, login,
                                                                       c, now):
    book(app, db, c.iut_trainer, c.line, 2)
    page = login(c.coordinator).get("/quotas/shares?day=2027-01-20")
    assert page.status_code == 200
    text = text_of(page.get_data(as_text=True))
    assert "IUT de Tours" in text
    assert f"2{NBSP}h sur 12{NBSP}h{NBSP}30" in text
    assert "100" in text
    assert "Parts des machines partagées" in text
    assert "Hours booked" not in text
