"""A machine's documents and photos: upload with type and size checks, list,
download with safe headers, delete, and the required reading shown where a
booking is read.

The clock is frozen on Tuesday 12 January 2027, 09:00 in Paris.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from booking.permissions import RULES, _load_rules, is_company
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.equipment.documents import content_type_of
from booking.services.policy import Policy
from models import AuditEntry, Equipment, EquipmentDocument, OutboxMessage, Role
from tests.conftest import NOW, PASSWORD, csrf_token_of
from tests.world import logged_in

PARIS = ZoneInfo("Europe/Paris")
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
HTML = b"<!doctype html><html><script>alert(1)</script></html>"


@pytest.fixture
def folder(app: Flask) -> Path:
    """The documents directory of the test app (emptied between tests)."""
    path = Path(app.config["DOCUMENTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        child.unlink()
    return path


@pytest.fixture
def machine(make):
    return make.equipment(name="Mélangeur planétaire")


@pytest.fixture
def coordinator(make, machine):
    return make.user(Role.COORDINATOR, establishment=machine.establishment)


def upload(client, machine, data: bytes, name: str, kind: str = "safety", *,
           title: str = "", required: bool = False):
    page = client.get(f"/equipment/{machine.id}/documents")
    form = {"csrf_token": csrf_token_of(page.get_data(as_text=True)), "kind": kind,
            "title": title, "file": (io.BytesIO(data), name)}
    if required:
        form["required"] = "y"
    return client.post(f"/equipment/{machine.id}/documents", data=form,
                       content_type="multipart/form-data")


def documents(db, machine) -> list[EquipmentDocument]:
    db.expire_all()
    return list(db.scalars(select(EquipmentDocument)
                           .where(EquipmentDocument.equipment_id == machine.id)
                           .order_by(EquipmentDocument.id)))


@pytest.mark.parametrize(("data", "expected"), [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"),
    (HTML, None), (b"", None), (b"%PD", None), (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
    (b"GIF89a" + b"\x00" * 20, None), (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
])
def test_the_type_is_read_from_the_content(data: bytes, expected: str | None) -> None:
    assert content_type_of(data) == expected


def test_a_coordinator_uploads_a_pdf_and_a_photo(db, client, login, machine, coordinator,
                                                folder, now) -> None:
    login(coordinator)
    answer = upload(client, machine, PDF, "Consignes de sécurité.pdf", required=True,
                    title="Consignes du mélangeur")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    answer = upload(client, machine, PNG, "vue de face.PNG", kind="photo")
    assert answer.status_code == 302
    pdf, photo = documents(db, machine)
    assert (pdf.title, pdf.filename, pdf.content_type, pdf.size_bytes, pdf.required) == (
        "Consignes du mélangeur", "Consignes de sécurité.pdf", "application/pdf", len(PDF),
        True)
    assert (photo.title, photo.filename, photo.content_type, photo.kind.value) == (
        "vue de face", "vue de face.png", "image/png", "photo")
    assert pdf.uploaded_by_id == coordinator.id
    assert pdf.created_at == NOW
    # Stored under generated names, in the configured directory only.
    assert sorted(p.name for p in folder.iterdir()) == sorted([pdf.stored_name,
                                                               photo.stored_name])
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", pdf.stored_name)
    assert (folder / pdf.stored_name).read_bytes() == PDF
    actions = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "equipment", AuditEntry.object_id == machine.id)).all()
    assert actions.count("equipment.document_add") == 2
    html = client.get(f"/equipment/{machine.id}/documents").get_data(as_text=True)
    assert "Consignes du mélangeur" in html
    assert f"/documents/{photo.id}" in html


def test_a_client_file_name_is_never_a_path(db, client, login, machine, coordinator,
                                            folder) -> None:
    login(coordinator)
    assert upload(client, machine, PDF, "../../etc/pass\x07wd.html").status_code == 302
    [doc] = documents(db, machine)
    # The extension follows the content; no directory part survives.
    assert doc.filename == "passwd.pdf"
    assert [p.name for p in folder.iterdir()] == [doc.stored_name]


def test_a_pdf_that_is_really_html_is_refused(db, client, login, machine, coordinator,
                                              folder) -> None:
    login(coordinator)
    answer = upload(client, machine, HTML, "consignes.pdf")
    assert answer.status_code == 200
    assert "Un document doit être un fichier PDF." in answer.get_data(as_text=True)
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []


def test_a_photo_must_be_an_image_and_a_document_a_pdf(db, client, login, machine,
                                                       coordinator, folder) -> None:
    login(coordinator)
    answer = upload(client, machine, PDF, "photo.jpg", kind="photo")
    assert "Une photo doit être une image PNG, JPEG ou WebP." in answer.get_data(as_text=True)
    answer = upload(client, machine, JPEG, "mode.pdf", kind="procedure")
    assert "Un document doit être un fichier PDF." in answer.get_data(as_text=True)
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []
    assert upload(client, machine, WEBP, "x.webp", kind="photo").status_code == 302
    assert upload(client, machine, JPEG, "x.jpeg", kind="photo").status_code == 302


def test_a_file_too_big_is_refused_and_nothing_is_written(db, app, client, login, machine,
                                                          coordinator, folder,
                                                          monkeypatch) -> None:
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", 1024)
    login(coordinator)
    answer = upload(client, machine, PDF + b"0" * 1024, "gros.pdf")
    assert answer.status_code == 200
    assert "Le fichier dépasse 1 Ko." in answer.get_data(as_text=True)
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []
    assert db.scalars(select(AuditEntry).where(
        AuditEntry.action == "equipment.document_add")).all() == []


def test_an_empty_file_is_refused(db, client, login, machine, coordinator, folder) -> None:
    login(coordinator)
    answer = upload(client, machine, b"", "vide.pdf")
    assert answer.status_code == 200
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []


def test_a_photo_is_never_required_reading(db, client, login, machine, coordinator,
                                           folder) -> None:
    login(coordinator)
    answer = upload(client, machine, PNG, "a.png", kind="photo", required=True)
    assert "Seul un document peut être à lire" in answer.get_data(as_text=True)
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []


def test_who_uploads_and_deletes(db, client, login, make, machine, folder) -> None:
    """Coordinators of the machine's establishment and admins; nobody else."""
    for role, kw in ((Role.TRAINER, {}), (Role.COMPANY, {}), (Role.COORDINATOR, {})):
        login(make.user(role, **kw))
        page = client.get(f"/equipment/{machine.id}/documents")
        assert page.status_code == 200
        assert 'enctype="multipart/form-data"' not in page.get_data(as_text=True)
        assert upload(client, machine, PDF, "a.pdf").status_code == 403
        client.post("/auth/logout", data={"csrf_token": csrf_token_of(
            client.get("/auth/password").get_data(as_text=True))})
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []
    login(make.user(Role.ADMIN))
    assert upload(client, machine, PDF, "a.pdf").status_code == 302


def test_delete_removes_the_row_and_the_file(db, client, login, make, machine, coordinator,
                                             folder) -> None:
    login(coordinator)
    upload(client, machine, PDF, "a.pdf")
    [doc] = documents(db, machine)
    path, doc_id = folder / doc.stored_name, doc.id
    assert path.exists()
    page = client.get(f"/equipment/{machine.id}/documents").get_data(as_text=True)
    assert f'href="/documents/{doc_id}/delete"' in page
    assert client.get(f"/documents/{doc_id}/delete").status_code == 200
    answer = client.post(f"/documents/{doc_id}/delete",
                         data={"csrf_token": csrf_token_of(page)})
    assert answer.status_code == 302
    assert documents(db, machine) == []
    assert not path.exists()
    assert db.scalars(select(AuditEntry.action).where(
        AuditEntry.action == "equipment.document_delete")).all() != []
    assert client.get(f"/documents/{doc_id}").status_code == 404


def test_download_headers(db, app, client, login, make, machine, coordinator,
                          folder) -> None:
    login(coordinator)
    upload(client, machine, PDF, "Procédure d'arrêt.pdf", kind="procedure")
    upload(client, machine, JPEG, "face.jpg", kind="photo")
    pdf, photo = documents(db, machine)
    client = logged_in(app, make.user(Role.TRAINER))
    answer = client.get(f"/documents/{pdf.id}")
    assert answer.status_code == 200
    assert answer.data == PDF
    assert answer.headers["Content-Type"] == "application/pdf"
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Proc%C3%A9dure" in disposition
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in answer.headers["Cache-Control"]
    answer = client.get(f"/documents/{photo.id}")
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert answer.headers["Content-Disposition"].startswith("inline;")
    assert answer.data == JPEG


def test_who_may_not_see_the_machine_gets_404(db, app, client, login, make, machine,
                                              coordinator, folder, monkeypatch) -> None:
    """The documents follow the machine's visibility: hide the machine from
    company accounts, and its documents are no more to them than unknown ids."""
    login(coordinator)
    upload(client, machine, PDF, "a.pdf")
    [doc] = documents(db, machine)
    _load_rules()
    monkeypatch.setitem(RULES, (Equipment, "view"), lambda user, _e: not is_company(user))
    client = logged_in(app, make.user(Role.COMPANY))
    assert client.get(f"/documents/{doc.id}").status_code == 404
    assert client.get(f"/equipment/{machine.id}/documents").status_code == 404
    assert client.post(f"/documents/{doc.id}/delete").status_code in (400, 404)
    assert client.get(f"/documents/{doc.id + 1000}").status_code == 404
    client = logged_in(app, make.user(Role.TRAINER))
    assert client.get(f"/documents/{doc.id}").status_code == 200
    assert client.get("/documents/99999999999").status_code == 404


def test_the_file_missing_on_disk_is_a_404_not_a_500(db, client, login, machine, coordinator,
                                                    folder) -> None:
    login(coordinator)
    upload(client, machine, PDF, "a.pdf")
    [doc] = documents(db, machine)
    (folder / doc.stored_name).unlink()
    assert client.get(f"/documents/{doc.id}").status_code == 404


def test_required_documents_on_the_machine_and_booking_pages(db, app, client, login, make,
                                                             machine, coordinator,
                                                             folder, now) -> None:
    login(coordinator)
    upload(client, machine, PDF, "c.pdf", title="Consignes de sécurité du mélangeur",
           required=True)
    upload(client, machine, PDF, "n.pdf", title="Notice du fabricant", kind="other")
    required, _optional = documents(db, machine)
    trainer = make.user(Role.TRAINER, establishment=machine.establishment)
    start = datetime(2027, 1, 13, 9, tzinfo=PARIS)
    with app.app_context():
        booking = create_booking(db, actor=trainer, now=NOW, policy=Policy(),
                                 request=BookingRequest(machine.id, start,
                                                        start + timedelta(hours=1), "TP"))
    db.flush()
    client = logged_in(app, trainer)
    html = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert "À lire avant la séance" in html
    assert f'href="/documents/{required.id}"' in html
    assert "Notice du fabricant" not in html
    html = client.get(f"/equipment/{machine.id}").get_data(as_text=True)
    assert f'href="/documents/{required.id}"' in html
    assert "À lire avant la séance" in html
    assert f'href="/equipment/{machine.id}/documents"' in html
    # ...and in the confirmation e-mail, with the link.
    mails = db.scalars(select(OutboxMessage).where(
        OutboxMessage.to_addr == trainer.email)).all()
    assert any("Consignes de sécurité du mélangeur" in m.body_text
               and f"/documents/{required.id}" in m.body_text for m in mails)
    assert not any("Notice du fabricant" in m.body_text for m in mails)


def test_required_reading_can_be_switched(db, client, login, machine, coordinator,
                                          folder) -> None:
    login(coordinator)
    upload(client, machine, PDF, "c.pdf")
    [doc] = documents(db, machine)
    page = client.get(f"/equipment/{machine.id}/documents").get_data(as_text=True)
    assert f'action="/documents/{doc.id}/required"' in page
    answer = client.post(f"/documents/{doc.id}/required",
                         data={"csrf_token": csrf_token_of(page), "required": "1"})
    assert answer.status_code == 302
    assert documents(db, machine)[0].required is True
    client.post(f"/documents/{doc.id}/required",
                data={"csrf_token": csrf_token_of(page), "required": "0"})
    assert documents(db, machine)[0].required is False


def test_english_labels(db, client, login, make, machine, coordinator, folder) -> None:
    coordinator.locale = "en"
    db.flush()
    login(coordinator)
    answer = upload(client, machine, HTML, "x.pdf")
    assert "A document must be a PDF file." in answer.get_data(as_text=True)


def test_the_api_lists_a_machines_documents(db, app, client, login, make, machine,
                                            coordinator, folder, monkeypatch, now) -> None:
    login(coordinator)
    upload(client, machine, PDF, "n.pdf", title="Notice", kind="other")
    upload(client, machine, PDF, "c.pdf", title="Consignes", required=True)
    upload(client, machine, PNG, "p.png", kind="photo", title="Face")
    trainer = make.user(Role.TRAINER)
    api = app.test_client()
    token = api.post("/api/v1/auth/tokens", json={"email": trainer.email,
                                                  "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    answer = api.get(f"/api/v1/equipment/{machine.id}/documents", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    listed = answer.get_json()
    assert listed["total"] == 3
    assert [d["title"] for d in listed["items"]] == ["Consignes", "Notice", "Face"]
    first = listed["items"][0]
    assert first["required"] is True
    assert first["kind"] == "safety"
    assert first["content_type"] == "application/pdf"
    assert first["url"] == f"/documents/{first['id']}"
    assert first["created_at"] == "2027-01-12T09:00:00+01:00"
    _load_rules()
    monkeypatch.setitem(RULES, (Equipment, "view"), lambda user, _e: False)
    assert api.get(f"/api/v1/equipment/{machine.id}/documents",
                   headers=headers).status_code == 404


def test_the_upload_reads_bodies_up_to_the_documents_limit(db, app, client, login, machine,
                                                           coordinator, folder,
                                                           monkeypatch) -> None:
    """Other routes stop at MAX_CONTENT_LENGTH; the upload takes DOCUMENT_MAX_BYTES
    (here above it), and beyond that the 413 page names the upload's own limit."""
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", 4 * 1024 * 1024)
    login(coordinator)
    token = csrf_token_of(client.get(f"/equipment/{machine.id}/documents").get_data(
        as_text=True))

    def send(data: bytes) -> Any:
        # A body of our own: werkzeug's test builder leaves a large one's spool open.
        parts = [f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 .encode() for k, v in (("csrf_token", token), ("kind", "safety"))]
        body = b"".join([*parts, b'--b\r\nContent-Disposition: form-data; name="file"; '
                         b'filename="plan.pdf"\r\nContent-Type: application/pdf\r\n\r\n',
                         data, b"\r\n--b--\r\n"])
        return client.post(f"/equipment/{machine.id}/documents", data=body,
                           content_type="multipart/form-data; boundary=b")

    big = PDF + b"0" * (3 * 1024 * 1024)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    assert send(big).status_code == 302
    [doc] = documents(db, machine)
    assert doc.size_bytes == len(big)
    answer = send(big + b"0" * (2 * 1024 * 1024))
    assert answer.status_code == 413
    assert "4" in answer.get_data(as_text=True)
    assert len(documents(db, machine)) == 1
    assert len(list(folder.iterdir())) == 1
    assert client.post("/auth/password", data=b"x=" + b"y" * len(big),
                       content_type="application/x-www-form-urlencoded").status_code == 413


def test_a_file_written_for_a_rolled_back_change_is_removed(db, client, login, machine,
                                                            coordinator, folder,
                                                            monkeypatch) -> None:
    """A refusal after the file was written (here, by the audit) leaves no file."""
    from booking.services.equipment import documents as service
    from booking.services.errors import ValidationError

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise ValidationError("refused after writing", {"field": "file"})

    monkeypatch.setattr(service.audit, "record", refuse)
    login(coordinator)
    answer = upload(client, machine, PDF, "a.pdf")
    assert answer.status_code == 200
    assert "refused after writing" in answer.get_data(as_text=True)
    assert documents(db, machine) == []
    assert list(folder.iterdir()) == []
