"""The training agreement through /api/v1/projects/{id}/agreement… (issue 15):
state, generation, PDF, signed scan, waiver; their refusals in the API's
error body, writing nothing; another company's project is a 404. Both
databases."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from models import AgreementStatus, AgreementWaiver, TrainingAgreement
from tests.agreement_campus import HTML, PDF, PNG, build, rows
from tests.api_helpers import Callers, assert_error


@pytest.fixture
def c(make, db):
    return build(make, db)


@pytest.fixture
def api(client, c):
    callers = Callers(client)
    return lambda who: callers(c.people[who])


@pytest.fixture
def folder(app) -> Path:
    path = Path(app.config["DOCUMENTS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        child.unlink()
    return path


def url(c, tail: str = "agreement") -> str:
    return f"/api/v1/projects/{c.project.id}/{tail}"


def upload(api, c, who: str, data: bytes, agreement_id: int, name: str = "scan.pdf"):
    return api(who).post(url(c, "agreement/signed"), content_type="multipart/form-data",
                         data={"agreement_id": str(agreement_id),
                               "file": (io.BytesIO(data), name)})


def test_the_whole_path(api, db, c, folder) -> None:
    state = api("company").get(url(c))
    assert state.status_code == 200, state.get_data(as_text=True)
    assert state.json == {"project_id": c.project.id, "state": "to_generate",
                          "schedulable": False, "agreement": None, "waiver": None}
    answer = api("coordinator").post(url(c), json={"company_address": "3 allée des Lilas",
                                                   "duration_hours": 12.5})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    body = answer.json
    assert (body["status"], body["duration_hours"], body["total_incl_cents"]) == (
        "generated", 12.5, 144000)
    assert (body["company_name"], body["learners"], body["starts_on"]) == (
        "Laboratoire Azur", 6, "2027-01-11")
    assert api("company").get(url(c)).json["state"] == "to_sign"

    pdf = api("company").get(url(c, "agreement/pdf"))
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text().split())
    assert "Convention de formation professionnelle" in text

    answer = upload(api, c, "company", PNG, body["id"], "scan.png")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.json["status"], answer.json["signed_content_type"]) == (
        "signed", "image/png")
    state = api("coordinator").get(url(c)).json
    assert (state["state"], state["schedulable"]) == ("signed", True)
    scan = api("company").get(url(c, "agreement/signed"))
    assert scan.status_code == 200
    assert scan.data == PNG
    assert scan.mimetype == "image/png"
    assert scan.headers["Content-Disposition"].startswith("attachment")


def test_generation_refusals(api, db, c) -> None:
    before = rows(db)
    assert_error(api("company").post(url(c), json={}), 403, "forbidden")
    assert_error(api("trainer").post(url(c), json={}), 403, "forbidden")
    assert_error(api("other_company").post(url(c), json={}), 404, "not_found")
    assert_error(api("other_coordinator").post(url(c), json={}), 403, "forbidden")
    assert_error(api("coordinator").post(url(c), json={"duration_hours": "douze"}),
                 422, "validation")
    assert_error(api("coordinator").post(url(c), json={"duration_hours": 0}), 422,
                 "validation")
    assert rows(db) == before
    c.quote.status = c.quote.status.ISSUED
    db.flush()
    error = assert_error(api("coordinator").post(url(c), json={}), 409, "quote_not_accepted")
    assert error["message"].startswith("Le devis doit être accepté")
    assert rows(db) == before


def test_signed_replaced_only_by_an_admin(api, db, c, folder) -> None:
    first = api("coordinator").post(url(c), json={}).json
    assert upload(api, c, "coordinator", PDF, first["id"]).status_code == 200
    assert_error(api("coordinator").post(url(c), json={}), 409, "agreement_signed")
    assert_error(api("coordinator").post(url(c), json={"replace_signed": True}), 403,
                 "forbidden")
    answer = api("admin").post(url(c), json={"replace_signed": True})
    assert answer.status_code == 201
    db.expire_all()
    assert db.get(TrainingAgreement, first["id"]).status is AgreementStatus.CANCELLED


def test_upload_refusals_write_nothing(api, db, c, folder) -> None:
    agreement = api("coordinator").post(url(c), json={}).json
    before = rows(db)
    error = assert_error(upload(api, c, "company", HTML, agreement["id"], "faux.pdf"), 422,
                         "validation")
    assert error["details"] == {"field": "file"}
    assert_error(upload(api, c, "company", PDF, agreement["id"] + 1000), 409, "invalid_state")
    assert_error(upload(api, c, "other_company", PDF, agreement["id"]), 404, "not_found")
    assert_error(upload(api, c, "other_coordinator", PDF, agreement["id"]), 403, "forbidden")
    assert_error(upload(api, c, "trainer", PDF, agreement["id"]), 404, "not_found")
    assert rows(db) == before
    assert list(folder.iterdir()) == []
    assert_error(api("company").get(url(c, "agreement/signed")), 404, "not_found")


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("coordinator", 200), ("other_coordinator", 200), ("company", 200),
    ("trainer", 403), ("other_company", 404)])
def test_who_reads_the_state(api, c, who, status) -> None:
    assert api(who).get(url(c)).status_code == status


def test_other_company_gets_404_everywhere(api, db, c, folder) -> None:
    agreement = api("coordinator").post(url(c), json={}).json
    upload(api, c, "company", PDF, agreement["id"])
    for tail in ("agreement", "agreement/pdf", "agreement/signed"):
        assert_error(api("other_company").get(url(c, tail)), 404, "not_found")
    assert_error(api("other_company").post(url(c, "agreement-waiver"), json={"reason": "x"}),
                 404, "not_found")


def test_waiver(api, db, c) -> None:
    before = rows(db)
    assert_error(api("company").post(url(c, "agreement-waiver"), json={"reason": "Non"}), 403,
                 "forbidden")
    assert_error(api("coordinator").post(url(c, "agreement-waiver"), json={"reason": ""}), 422,
                 "validation")
    assert_error(api("coordinator").delete(url(c, "agreement-waiver")), 409, "invalid_state")
    assert rows(db) == before
    answer = api("coordinator").post(url(c, "agreement-waiver"), json={"reason": "Interne"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert answer.json["reason"] == "Interne"
    state = api("company").get(url(c)).json
    assert (state["state"], state["schedulable"], state["waiver"]["reason"]) == (
        "waived", True, "Interne")
    assert_error(api("coordinator").post(url(c, "agreement-waiver"), json={"reason": "Bis"}),
                 409, "invalid_state")
    assert api("admin").delete(url(c, "agreement-waiver")).status_code == 204
    assert db.get(AgreementWaiver, c.project.id) is None
    assert api("company").get(url(c)).json["state"] == "to_generate"


def test_no_agreement_yet_is_404_for_its_files(api, c) -> None:
    assert_error(api("coordinator").get(url(c, "agreement/pdf")), 404, "not_found")
    assert_error(api("coordinator").get(url(c, "agreement/signed")), 404, "not_found")
