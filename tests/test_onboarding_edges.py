"""Bulk onboarding through its edges: the /onboarding pages (upload, preview,
« Importer », CSRF), the API (dry run, 201, 422, templates) and the
``flask onboarding`` commands."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import AuditEntry, OutboxMessage, Role, User
from tests.api_helpers import Callers, assert_error
from tests.conftest import csrf_token_of

ACCOUNTS = (b"email;name;role;establishment\n"
            b"nina@example.org;Nina Roux;trainer;LYC-ORL\n"
            b"omar@example.org;Omar Said;trainer;LYC-ORL\n")
BROKEN = ACCOUNTS + b"bad-address;X;trainer;LYC-ORL\n"


def users(db) -> int:
    return db.scalar(select(func.count()).select_from(User))


@pytest.fixture
def site(make):
    est = make.establishment(code="LYC-ORL", name="Lycée Benjamin Franklin")
    return {"est": est, "admin": make.user(Role.ADMIN),
            "coordinator": make.user(Role.COORDINATOR, establishment=est),
            "trainer": make.user(Role.TRAINER, establishment=est)}


# --- pages ---------------------------------------------------------------------------


def _upload(client, data: bytes, kind: str = "accounts", name: str = "comptes.csv"):
    token = csrf_token_of(client.get("/onboarding/").get_data(as_text=True))
    return client.post("/onboarding/", data={"csrf_token": token, "kind": kind,
                                             "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_upload_preview_then_import(client, db, site, login) -> None:
    login(site["coordinator"])
    page = client.get("/onboarding/").get_data(as_text=True)
    assert "/onboarding/template?kind=equipment&amp;format=xlsx" in page
    before = users(db)
    preview = _upload(client, ACCOUNTS)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "2 lignes créées" in html
    assert 'data-status="created"' in html
    assert users(db) == before  # a preview writes nothing
    digest = re.search(r'name="digest"[^>]*value="([0-9a-f]{64})"', html)[1]
    answer = client.post("/onboarding/confirm", data={
        "csrf_token": csrf_token_of(html), "kind": "accounts", "digest": digest})
    assert answer.status_code == 302
    assert users(db) == before + 2
    assert "2 lignes créées" in client.get("/onboarding/").get_data(as_text=True)
    # The kept file is gone with the import: confirming twice imports nothing more.
    again = client.post("/onboarding/confirm", data={
        "csrf_token": csrf_token_of(html), "kind": "accounts", "digest": digest})
    assert again.status_code == 302
    assert users(db) == before + 2


def test_a_file_with_errors_has_no_import_button(client, db, site, login) -> None:
    login(site["admin"])
    html = _upload(client, BROKEN).get_data(as_text=True)
    assert 'id="confirm-form"' not in html
    assert 'data-status="error"' in html
    assert "Ligne 4" in html
    assert "1 en erreur" in html


def test_another_account_cannot_confirm_a_previewed_file(app, client, db, site, login) -> None:
    login(site["coordinator"])
    html = _upload(client, ACCOUNTS).get_data(as_text=True)
    digest = re.search(r'name="digest"[^>]*value="([0-9a-f]{64})"', html)[1]
    other = app.test_client()
    page = other.get("/auth/login").get_data(as_text=True)
    other.post("/auth/login", data={"email": site["admin"].email, "password": "correct horse "
                                    "battery", "csrf_token": csrf_token_of(page)})
    token = csrf_token_of(other.get("/onboarding/").get_data(as_text=True))
    before = users(db)
    answer = other.post("/onboarding/confirm", data={"csrf_token": token, "kind": "accounts",
                                                     "digest": digest})
    assert answer.status_code == 302
    assert users(db) == before


def test_pages_refuse_a_post_without_its_csrf_token(client, db, site, login) -> None:
    login(site["admin"])
    before = users(db)
    answer = client.post("/onboarding/", data={"kind": "accounts",
                                               "file": (io.BytesIO(ACCOUNTS), "c.csv")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400
    assert client.post("/onboarding/confirm", data={"kind": "accounts",
                                                    "digest": "0" * 64}).status_code == 400
    assert users(db) == before


def test_trainers_may_not_import(client, site, login) -> None:
    login(site["trainer"])
    assert client.get("/onboarding/").status_code == 403
    assert client.get("/onboarding/template?kind=accounts").status_code == 403


@pytest.mark.parametrize("query", ["kind=salaries", "kind=accounts&format=pdf"])
def test_an_unknown_template_is_400(client, site, login, query) -> None:
    login(site["admin"])
    assert client.get(f"/onboarding/template?{query}").status_code == 400


def test_templates_in_the_readers_language(client, site, login) -> None:
    login(site["coordinator"])
    answer = client.get("/onboarding/template?kind=accounts&format=csv")
    text = answer.data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Adresse e-mail;Nom;Rôle;Établissement (code);Entreprise"
    assert "attachment" in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(client.get(
        "/onboarding/template?kind=equipment&format=xlsx").data))
    header = [c.value for c in next(book.active.iter_rows(max_row=1))]
    assert header[:4] == ["Code", "Nom", "Établissement (code)", "Catégorie"]


def test_the_admin_and_coordinator_pages_link_to_the_import(client, site, login) -> None:
    login(site["admin"])
    assert 'href="/onboarding/"' in client.get("/admin/accounts").get_data(as_text=True)
    assert 'href="/onboarding/"' in client.get("/coordination/import").get_data(as_text=True)


# --- API -----------------------------------------------------------------------------


@pytest.fixture
def as_(client, site):
    callers = Callers(client)
    return lambda who: callers(site[who])


def _post(caller, data: bytes, query: str = ""):
    return caller.post(f"/api/v1/onboarding/accounts{query}",
                       data={"file": (io.BytesIO(data), "comptes.csv")},
                       content_type="multipart/form-data")


def test_api_dry_run_then_import(as_, db) -> None:
    before = users(db)
    dry = _post(as_("coordinator"), ACCOUNTS, "?dry_run=true")
    assert dry.status_code == 200, dry.json
    assert dry.json["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "error": 0}
    assert [line["status"] for line in dry.json["lines"]] == ["created", "created"]
    assert users(db) == before
    done = _post(as_("coordinator"), ACCOUNTS)
    assert done.status_code == 201
    assert done.json["counts"]["created"] == 2
    assert users(db) == before + 2
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    again = _post(as_("coordinator"), ACCOUNTS)
    assert again.status_code == 201
    assert again.json["counts"]["unchanged"] == 2


def test_api_refuses_a_file_with_errors_whole(as_, db) -> None:
    before = users(db), db.scalar(select(func.count()).select_from(AuditEntry))
    body = assert_error(_post(as_("admin"), BROKEN), 422, "validation")
    lines = body["details"]["lines"]
    assert [line["status"] for line in lines] == ["created", "created", "error"]
    assert lines[2]["line"] == 4
    assert lines[2]["errors"]
    assert (users(db), db.scalar(select(func.count()).select_from(AuditEntry))) == before


def test_api_without_a_file_or_with_junk(as_) -> None:
    no_file = as_("admin").post("/api/v1/onboarding/equipment", json={})
    assert_error(no_file, 422, "validation")
    junk = _post(as_("admin"), b"\x00\x01\x02" * 1000)
    body = assert_error(junk, 422, "validation")
    assert body["details"]["errors"]
    assert body["details"]["lines"] == []


def test_api_roles(as_) -> None:
    assert_error(_post(as_("trainer"), ACCOUNTS), 403, "forbidden")
    assert as_("admin").get("/api/v1/onboarding/certifications/template?format=xlsx"
                            ).status_code == 200
    assert as_("trainer").get("/api/v1/onboarding/accounts/template").status_code == 403
    assert_error(as_("admin").get("/api/v1/onboarding/accounts/template?format=pdf"), 422,
                 "validation")


def test_the_api_documents_its_routes(client) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operation = paths["/api/v1/onboarding/equipment"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "201", "422"} <= set(operation["responses"])
    assert "/api/v1/onboarding/accounts/template" in paths


# --- command line --------------------------------------------------------------------


def test_cli_dry_run_import_and_errors(app, db, site, tmp_path) -> None:
    runner = app.test_cli_runner()
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(ACCOUNTS)
    bad.write_bytes(BROKEN)
    before = users(db)
    dry = runner.invoke(args=["onboarding", "import", "accounts", str(good), "--dry-run",
                              "--as", site["coordinator"].email])
    assert dry.exit_code == 0, dry.output
    assert "2\tcreated\tnina@example.org" in dry.output
    assert users(db) == before
    refused = runner.invoke(args=["onboarding", "import", "accounts", str(bad)])
    assert refused.exit_code == 1
    assert "4\terror\tbad-address" in refused.output
    assert users(db) == before
    done = runner.invoke(args=["onboarding", "import", "accounts", str(good)])
    assert done.exit_code == 0
    assert "2 lines created" in done.output
    assert users(db) == before + 2


def test_cli_acts_as_someone_allowed(app, site, tmp_path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(ACCOUNTS)
    runner = app.test_cli_runner()
    as_trainer = runner.invoke(args=["onboarding", "import", "accounts", str(good),
                                     "--as", site["trainer"].email])
    assert as_trainer.exit_code == 1
    assert "Only an admin or a coordinator" in as_trainer.output
    unknown = runner.invoke(args=["onboarding", "import", "accounts", str(good),
                                  "--as", "nobody@example.org"])
    assert unknown.exit_code == 1
    assert "no active account" in unknown.output


def test_cli_template(app) -> None:
    runner = app.test_cli_runner()
    csv = runner.invoke(args=["onboarding", "template", "certifications", "--lang", "en"])
    assert csv.exit_code == 0
    assert csv.stdout_bytes.decode("utf-8-sig").splitlines()[0] == (
        "E-mail,Certification (code),Valid from,Valid until")
    xlsx = runner.invoke(args=["onboarding", "template", "equipment", "--format", "xlsx"])
    assert xlsx.exit_code == 0
    assert xlsx.stdout_bytes.startswith(b"PK\x03\x04")


def test_import_checks_the_file_again_against_the_database(client, db, site, login,
                                                           make) -> None:
    """Between the preview and « Importer », someone opened one of the accounts
    elsewhere with another role: the import is refused whole, with the line."""
    login(site["coordinator"])
    html = _upload(client, ACCOUNTS).get_data(as_text=True)
    digest = re.search(r'name="digest"[^>]*value="([0-9a-f]{64})"', html)[1]
    make.user(Role.COMPANY, email="omar@example.org")
    before = users(db)
    answer = client.post("/onboarding/confirm", data={
        "csrf_token": csrf_token_of(html), "kind": "accounts", "digest": digest})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'data-line="3" data-status="error"' in page
    assert 'id="confirm-form"' not in page
    assert users(db) == before
