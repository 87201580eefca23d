"""The training agreement (issue 15): generated from the accepted quote, its
PDF read back, its signed scan uploaded and downloaded, the waiver; who may
do what (another company's agreement is a 404), and refusals that write
nothing. Both databases."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import select

from booking.services.agreements import operations as agreements
from booking.services.agreements.operations import Scan
from booking.services.equipment.documents import Storage
from booking.services.errors import Forbidden, InvalidState, NotFound, ValidationError
from models import AgreementStatus, AgreementWaiver, AuditEntry, QuoteStatus, TrainingAgreement
from tests.agreement_campus import HTML, JPEG, NOW, PDF, PNG, actions, build, post_form, rows
from tests.world import logged_in


@pytest.fixture
def c(make, db):
    return build(make, db)


@pytest.fixture
def folder(app) -> Path:
    path = Path(app.config["DOCUMENTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        child.unlink()
    return path


def storage(app, max_bytes: int = 1024 * 1024) -> Storage:
    return Storage(Path(app.config["DOCUMENTS_DIR"]), max_bytes)


def generate(app, db, c, actor=None, **kw) -> TrainingAgreement:
    with app.app_context():
        return agreements.generate_agreement(db, c.project, actor=actor or c.coordinator,
                                             now=NOW, **kw)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- generating ----------------------------------------------------------------------------


def test_generation_copies_the_project_and_the_quote(app, db, c) -> None:
    agreement = generate(app, db, c, company_address="3 allée des Lilas\n37000 Tours")
    assert agreement.status is AgreementStatus.GENERATED
    assert (agreement.company_name, agreement.title, agreement.learners) == (
        "Laboratoire Azur", "Émulsions pilotes", 6)
    assert agreement.objectives == "Conduire une émulsion stable"
    assert agreement.programme == "Jour 1 : émulsions\nJour 2 : contrôle qualité"
    assert agreement.company_address == "3 allée des Lilas\n37000 Tours"
    assert agreement.duration_hours_cents == 1400  # the quote's trainer hours only
    assert (agreement.starts_on, agreement.ends_on) == (date(2027, 1, 11), date(2027, 1, 22))
    assert (agreement.total_excl_cents, agreement.vat_cents, agreement.total_incl_cents) == (
        120000, 24000, 144000)
    assert agreement.place == "Lycée du Parc, Orléans (Atelier B12)"
    assert (agreement.quote_id, agreement.establishment_id) == (c.quote.id, c.home.id)
    # The issuer's payment terms and the standard clauses, in French.
    assert "30 jours fin de mois" in agreement.conditions
    assert "L6353-1" in agreement.conditions
    assert "dédit" in agreement.conditions
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "agreement.generate"))
    assert (entry.object_type, entry.object_id, entry.actor_id) == (
        "project", c.project.id, c.coordinator.id)
    assert entry.details["agreement_id"] == agreement.id


def test_the_form_values_replace_the_defaults(app, db, c) -> None:
    agreement = generate(app, db, c, programme="Programme sur mesure",
                         duration_hours_cents=750, place="Sur site, Tours")
    assert (agreement.programme, agreement.duration_hours_cents, agreement.place) == (
        "Programme sur mesure", 750, "Sur site, Tours")


def test_without_an_accepted_quote_it_is_refused_naming_the_rule(app, db, c) -> None:
    c.quote.status = QuoteStatus.ISSUED
    db.flush()
    before = rows(db)
    with pytest.raises(InvalidState) as refused, app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW)
    assert refused.value.code == "quote_not_accepted"
    with app.test_request_context():  # in the default language, French
        assert refused.value.message.startswith("Le devis doit être accepté")
    assert rows(db) == before


@pytest.mark.parametrize("who", ["company", "trainer", "other_coordinator"])
def test_only_the_quotes_issuer_generates(app, db, c, who) -> None:
    before = rows(db)
    with pytest.raises(Forbidden), app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.people[who], now=NOW)
    assert rows(db) == before


def test_without_trainer_hours_the_duration_must_be_given(app, db, c) -> None:
    c.quote.lines = [line for line in c.quote.lines if line.position == 2]
    db.flush()
    with pytest.raises(ValidationError) as refused, app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW)
    assert refused.value.details == {"field": "duration_hours"}
    assert generate(app, db, c, duration_hours_cents=700).duration_hours_cents == 700


def test_generating_again_cancels_the_one_to_sign(app, db, c) -> None:
    first = generate(app, db, c)
    second = generate(app, db, c, actor=c.admin)
    assert first.status is AgreementStatus.CANCELLED
    assert second.status is AgreementStatus.GENERATED
    with app.app_context():
        assert agreements.current_agreement(db, c.project) is second
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "agreement.generate")
                       .order_by(AuditEntry.id.desc())).first()
    assert entry.details["replaced"] == [first.id]


def test_a_signed_agreement_is_replaced_only_by_an_admin_who_says_so(app, db, c, folder) -> None:
    signed = generate(app, db, c)
    with app.app_context():
        agreements.record_signed(db, signed, actor=c.company, now=NOW, storage=storage(app),
                                 scan=Scan(PDF, "signée.pdf"))
    before = rows(db)
    with pytest.raises(InvalidState) as refused, app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW)
    assert refused.value.code == "agreement_signed"
    with pytest.raises(Forbidden), app.app_context():
        agreements.generate_agreement(db, c.project, actor=c.coordinator, now=NOW,
                                      replace_signed=True)
    assert rows(db) == before
    assert signed.status is AgreementStatus.SIGNED
    new = generate(app, db, c, actor=c.admin, replace_signed=True)
    assert (signed.status, new.status) == (AgreementStatus.CANCELLED, AgreementStatus.GENERATED)


# --- the PDF -------------------------------------------------------------------------------


def test_the_pdf_reads_back_in_french(app, db, c) -> None:
    agreement = generate(app, db, c, company_address="3 allée des Lilas\n37000 Tours")
    db.flush()
    answer = logged_in(app, c.company).get(f"/agreements/{agreement.id}.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    text = pdf_text(answer.data)
    flat = " ".join(text.split())
    for said in ("Convention de formation professionnelle", "Lycée du Parc (GRETA Centre)",
                 "12345678900011", "24450123445", "Laboratoire Azur", "37000 Tours",
                 "Émulsions pilotes", "Conduire une émulsion stable", "contrôle qualité",
                 "14 heures", "Atelier B12", "6 stagiaires", "30 jours fin de mois",
                 "L6353-1", "Dédit", "Pour l’organisme de formation", "Pour l’entreprise",
                 "11 janvier 2027", "22 janvier 2027"):
        assert said in flat, said
    # Prices in euros with their French format.
    assert re.search(r"1\s200,00\s€", flat), flat
    assert re.search(r"1\s440,00\s€", flat)
    assert re.search(r"240,00\s€", flat)


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 200), ("other_coordinator", 200), ("company", 200),
    ("other_company", 404), ("trainer", 404)])
def test_who_reads_the_pdf(app, db, c, who, status) -> None:
    agreement = generate(app, db, c)
    assert logged_in(app, c.people[who]).get(
        f"/agreements/{agreement.id}.pdf").status_code == status


# --- the signed scan -----------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "kind"), [
    (PDF, "convention.pdf", "application/pdf"), (PNG, "scan.png", "image/png"),
    (JPEG, "photo.JPG", "image/jpeg")], ids=["pdf", "png", "jpeg"])
def test_the_company_uploads_the_signed_scan(app, db, c, folder, data, name, kind) -> None:
    agreement = generate(app, db, c)
    client = logged_in(app, c.company)
    page = f"/projects/{c.project.id}"
    assert 'id="agreement-upload"' in client.get(page).get_data(as_text=True)
    answer = post_form(client, page, f"/agreements/{agreement.id}/signed",
                       {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert answer.status_code == 302
    db.expire_all()
    assert agreement.status is AgreementStatus.SIGNED
    assert (agreement.content_type, agreement.size_bytes) == (kind, len(data))
    assert agreement.signed_recorded_by_id == c.company.id
    assert (folder / agreement.stored_name).read_bytes() == data
    assert "agreement.sign" in actions(db, c.project)
    # Downloaded by the company and staff, as an attachment of its real type.
    for who in ("company", "coordinator", "admin"):
        got = logged_in(app, c.people[who]).get(f"/agreements/{agreement.id}/signed")
        assert got.status_code == 200
        assert got.data == data
        assert got.mimetype == kind
        assert got.headers["Content-Disposition"].startswith("attachment")
    for who in ("other_company", "trainer"):
        assert logged_in(app, c.people[who]).get(
            f"/agreements/{agreement.id}/signed").status_code == 404
    page_text = client.get(page).get_data(as_text=True)
    assert "Signée le" in page_text


@pytest.mark.parametrize(("data", "said"), [
    (HTML, "PDF"), (b"", "vide"), (b"GIF89a" + b"\x00" * 20, "PDF")],
    ids=["html", "empty", "gif"])
def test_a_scan_of_another_type_is_refused_and_nothing_written(app, db, c, folder, data,
                                                               said) -> None:
    agreement = generate(app, db, c)
    before = rows(db)
    with app.test_request_context():
        with pytest.raises(ValidationError) as refused:
            agreements.record_signed(db, agreement, actor=c.company, now=NOW,
                                     storage=storage(app), scan=Scan(data, "scan.pdf"))
        message = refused.value.message
    assert said in message
    assert refused.value.details == {"field": "file"}
    assert rows(db) == before
    assert agreement.status is AgreementStatus.GENERATED
    assert list(folder.iterdir()) == []


def test_a_scan_too_large_is_refused_and_nothing_written(app, db, c, folder) -> None:
    agreement = generate(app, db, c)
    before = rows(db)
    with pytest.raises(ValidationError), app.app_context():
        agreements.record_signed(db, agreement, actor=c.company, now=NOW,
                                 storage=storage(app, max_bytes=len(PDF) - 1),
                                 scan=Scan(PDF, "scan.pdf"))
    assert rows(db) == before
    assert list(folder.iterdir()) == []
    # Through the page: the limit is config DOCUMENT_MAX_BYTES.
    app.config["DOCUMENT_MAX_BYTES"], saved = 64, app.config["DOCUMENT_MAX_BYTES"]
    try:
        client = logged_in(app, c.company)
        page = f"/projects/{c.project.id}"
        answer = post_form(client, page, f"/agreements/{agreement.id}/signed",
                           {"file": (io.BytesIO(PDF + b"\x00" * 64), "gros.pdf")},
                           content_type="multipart/form-data", follow_redirects=True)
    finally:
        app.config["DOCUMENT_MAX_BYTES"] = saved
    assert "Le fichier dépasse 1 Ko." in answer.get_data(as_text=True)
    db.expire_all()
    assert agreement.status is AgreementStatus.GENERATED
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("who", "error"), [
    ("other_company", NotFound), ("trainer", NotFound), ("other_coordinator", Forbidden)])
def test_who_may_not_record_the_scan(app, db, c, folder, who, error) -> None:
    agreement = generate(app, db, c)
    before = rows(db)
    with pytest.raises(error), app.app_context():
        agreements.record_signed(db, agreement, actor=c.people[who], now=NOW,
                                 storage=storage(app), scan=Scan(PDF, "scan.pdf"))
    assert rows(db) == before
    assert list(folder.iterdir()) == []


def test_a_cancelled_agreement_takes_no_scan(app, db, c, folder) -> None:
    first = generate(app, db, c)
    generate(app, db, c)
    with pytest.raises(InvalidState), app.app_context():
        agreements.record_signed(db, first, actor=c.company, now=NOW, storage=storage(app),
                                 scan=Scan(PDF, "scan.pdf"))
    assert first.stored_name is None


# --- the waiver ----------------------------------------------------------------------------


def test_waiver_and_its_lifting_are_audited(app, db, c) -> None:
    with app.app_context():
        waiver = agreements.waive_agreement(db, c.project, actor=c.coordinator, now=NOW,
                                            reason="Découverte gratuite")
    assert (waiver.reason, waiver.waived_by_id) == ("Découverte gratuite", c.coordinator.id)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "agreement.waive"))
    assert (entry.object_id, entry.reason) == (c.project.id, "Découverte gratuite")
    with app.app_context():
        agreements.lift_waiver(db, c.project, actor=c.admin, now=NOW)
    assert db.get(AgreementWaiver, c.project.id) is None
    assert actions(db, c.project) == ["agreement.waive", "agreement.lift_waiver"]


@pytest.mark.parametrize(("who", "reason", "error"), [
    ("coordinator", "  ", ValidationError), ("company", "Pas besoin", Forbidden),
    ("trainer", "Pas besoin", Forbidden), ("other_company", "Pas besoin", NotFound)])
def test_waiver_refusals_write_nothing(app, db, c, who, reason, error) -> None:
    before = rows(db)
    with pytest.raises(error), app.app_context():
        agreements.waive_agreement(db, c.project, actor=c.people[who], now=NOW, reason=reason)
    assert rows(db) == before


def test_lifting_without_a_waiver_is_refused(app, db, c) -> None:
    before = rows(db)
    with pytest.raises(InvalidState), app.app_context():
        agreements.lift_waiver(db, c.project, actor=c.coordinator, now=NOW)
    with pytest.raises(Forbidden), app.app_context():
        agreements.lift_waiver(db, c.project, actor=c.company, now=NOW)
    assert rows(db) == before


# --- the project page's card ---------------------------------------------------------------


def test_the_card_follows_the_state(app, db, c, folder) -> None:
    page = f"/projects/{c.project.id}"
    staff, company = logged_in(app, c.coordinator), logged_in(app, c.company)
    text = staff.get(page).get_data(as_text=True)
    assert "À générer" in text
    assert 'id="agreement-generate"' in text
    assert 'id="agreement-waive"' in text
    text = company.get(page).get_data(as_text=True)
    assert "À générer" in text
    assert 'id="agreement-generate"' not in text
    assert 'id="agreement-waive"' not in text
    assert 'id="agreement-title"' not in logged_in(app, c.trainer).get(page).get_data(
        as_text=True)

    form = staff.get(f"/projects/{c.project.id}/agreement/new").get_data(as_text=True)
    assert "contrôle qualité" in form
    assert 'value="14.00"' in form
    answer = post_form(staff, f"/projects/{c.project.id}/agreement/new",
                       f"/projects/{c.project.id}/agreement/new",
                       {"company_address": "3 allée des Lilas", "programme": "Programme",
                        "duration_hours": "12,5", "place": "Orléans"})
    assert answer.status_code == 302  # « 12,5 »: the French decimal comma is read
    agreement = db.scalar(select(TrainingAgreement))
    assert (agreement.duration_hours_cents, agreement.company_address) == (
        1250, "3 allée des Lilas")
    text = company.get(page).get_data(as_text=True)
    assert "À signer" in text
    assert f"/agreements/{agreement.id}.pdf" in text

    answer = post_form(staff, f"/projects/{c.project.id}/agreement/waive",
                       f"/projects/{c.project.id}/agreement/waive", {"reason": "Interne"})
    assert answer.status_code == 302
    text = staff.get(page).get_data(as_text=True)
    assert "Non requise (Interne)" in text
    assert 'id="agreement-lift"' in text
    answer = post_form(staff, page, f"/projects/{c.project.id}/agreement/waiver/delete", {})
    assert answer.status_code == 302
    assert db.get(AgreementWaiver, c.project.id) is None


def test_the_generation_page_without_an_accepted_quote(app, db, c) -> None:
    c.quote.status = QuoteStatus.DECLINED
    db.flush()
    staff = logged_in(app, c.coordinator)
    text = staff.get(f"/projects/{c.project.id}/agreement/new").get_data(as_text=True)
    assert 'id="no-accepted-quote"' in text
    answer = post_form(staff, f"/projects/{c.project.id}", f"/projects/{c.project.id}/"
                       "agreement/new", {"duration_hours": "10"})
    assert answer.status_code == 200
    assert "Le devis doit être accepté" in answer.get_data(as_text=True)
    assert db.scalar(select(TrainingAgreement)) is None
    assert logged_in(app, c.company).get(
        f"/projects/{c.project.id}/agreement/new").status_code == 403
    assert logged_in(app, c.other_company).get(
        f"/projects/{c.project.id}/agreement/new").status_code == 404
