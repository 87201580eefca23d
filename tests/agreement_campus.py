"""The small campus the training agreement's tests share (tests/test_agreements.py,
tests/test_api_agreements.py, tests/test_agreement_gate.py): an approved
project of company A, without agreement nor waiver, with an accepted quote of
the home establishment (14 trainer hours, 1 200 € excl. VAT), the home
establishment's billing profile, and one person per role."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from sqlalchemy import func, select

from models import (
    AgreementWaiver,
    AuditEntry,
    BillingProfile,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quote,
    QuoteLine,
    QuoteStatus,
    Role,
    TrainingAgreement,
)
from tests.conftest import NOW, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = datetime(2027, 1, 14, 10, tzinfo=PARIS)
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
HTML = b"<html><script>alert(1)</script></html>"


def build(make: Any, db: Any) -> SimpleNamespace:
    home = make.establishment(code="PARC", name="Lycée du Parc", city="Orléans")
    away = make.establishment(code="IUT", name="IUT de Tours", city="Tours")
    db.add(BillingProfile(
        establishment_id=home.id, legal_name="Lycée du Parc (GRETA Centre)",
        address="1 rue des Sciences\n45000 Orléans", siret="12345678900011",
        training_declaration="24450123445", payment_terms="30 jours fin de mois",
        signatory_name="Claire Martin", signatory_title="Proviseure"))
    machine = make.equipment(establishment=home, name="Mélangeur", location="Atelier B12")
    company = make.company(name="Laboratoire Azur")
    people = {
        "admin": make.user(Role.ADMIN),
        "coordinator": make.user(Role.COORDINATOR, establishment=home),
        "other_coordinator": make.user(Role.COORDINATOR, establishment=away),
        "trainer": make.user(Role.TRAINER, establishment=home),
        "company": make.user(Role.COMPANY, company=company),
        "other_company": make.user(Role.COMPANY),
    }
    project = Project(
        company=company, requested_by=people["company"], title="Émulsions pilotes",
        description="Jour 1 : émulsions\nJour 2 : contrôle qualité",
        objectives="Conduire une émulsion stable", learners=6,
        wanted_from=date(2027, 1, 11), wanted_to=date(2027, 1, 22),
        status=ProjectStatus.APPROVED, trainer=people["trainer"], equipment=[machine],
        created_at=NOW, updated_at=NOW)
    db.add(project)
    db.flush()
    quote = Quote(
        project_id=project.id, establishment_id=home.id, public=Public.COMPANY,
        status=QuoteStatus.ACCEPTED, number="DEV-2027-0001", price_date=date(2027, 1, 4),
        total_excl_cents=120000, vat_cents=24000, total_incl_cents=144000,
        created_at=NOW, updated_at=NOW)
    quote.lines = [
        QuoteLine(position=1, kind=PriceKind.TRAINER_HOUR, label="Formateur", unit="h",
                  quantity_cents=1400, unit_price_cents=6000),
        QuoteLine(position=2, kind=PriceKind.MACHINE_HOUR, label="Mélangeur", unit="h",
                  quantity_cents=1000, unit_price_cents=3600)]
    db.add(quote)
    db.flush()
    return SimpleNamespace(home=home, away=away, machine=machine, firm=company,
                           project=project, quote=quote, people=people, **people)


def count(db: Any, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def rows(db: Any) -> tuple[int, int, int]:
    """What a refusal must leave as it was."""
    db.expire_all()
    return (count(db, TrainingAgreement), count(db, AgreementWaiver), count(db, AuditEntry))


def actions(db: Any, project: Project) -> list[str]:
    return list(db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "project", AuditEntry.object_id == project.id)
        .order_by(AuditEntry.id)))


def post_form(client: FlaskClient, page: str, url: str, data: dict[str, Any], **kw: Any) -> Any:
    token = csrf_token_of(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token}, **kw)


def file_field(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def session_at(start: datetime, hours: int = 2) -> tuple[datetime, datetime]:
    return start, start + timedelta(hours=hours)
