"""The quote as a PDF (GET /quotes/<id>.pdf): read back with pypdf, in
French, with the issuer's details, the company, the number, the lines and the
totals in words a reader expects (« 1 234,50 € »); a draft only for staff and
marked « Brouillon »; another company's quote a 404."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdf
import pytest

from booking.services.quotes import operations as quotes
from booking.services.quotes.operations import LineSpec
from models import PriceKind
from tests.conftest import NOW, ROOT
from tests.test_quotes import build_scene, draft, issue, plain
from tests.world import logged_in


@pytest.fixture
def s(make: Any, db: Any) -> Any:
    return build_scene(make, db)


def text_of(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return plain(" ".join(page.extract_text() for page in reader.pages))


def words(text: str) -> str:
    return " ".join(text.split())


def two_rates_quote(app: Any, db: Any, s: Any) -> Any:
    """5,5 h on the mixer at 180 € (20 % VAT) and a flat fee of 33,75 € at 0 %."""
    quote = draft(app, db, s)
    with app.app_context():
        quotes.set_lines(db, quote, actor=s.coordinator, now=NOW, specs=[
            LineSpec(quantity_cents=550, price_id=s.prices.machine.id),  # 990,00 €
            LineSpec(quantity_cents=100, kind=PriceKind.FLAT_FEE, label="Support de cours",
                     unit="forfait", unit_price_cents=3375, vat_rate_bp=0)])  # 33,75 €
    return quote


def test_an_issued_quote_reads_back_in_french(app, db, s, now) -> None:
    quote = issue(app, db, two_rates_quote(app, db, s), s.coordinator)
    # 990 € + 20 % = 1 188 €, and 33,75 € at 0 %: 1 221,75 € including VAT
    assert quote.total_incl_cents == 122175
    answer = logged_in(app, s.company).get(f"/quotes/{quote.id}.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    assert 'filename="DEV-LYC-2027-0001.pdf"' in answer.headers["Content-Disposition"]
    text = words(text_of(answer.data))
    for expected in ("Devis DEV-LYC-2027-0001", "Lycée du Parc — GRETA", "Laboratoire A",
                     "Crèmes", "Temps machine — Mélangeur", "Support de cours",
                     "990,00 €", "1 023,75 €", "TVA à 20 % sur 990,00 €", "198,00 €",
                     "1 221,75 €", "mardi 12 janvier 2027", "jeudi 11 février 2027",
                     "Paiement à 30 jours par virement.", "Bon pour accord", "SIRET"):
        assert expected in text, expected
    assert "Brouillon" not in text


def test_the_total_is_written_with_french_grouping(app, db, s, now) -> None:
    quote = draft(app, db, s)
    with app.app_context():
        quotes.set_lines(db, quote, actor=s.coordinator, now=NOW, specs=[
            LineSpec(quantity_cents=100, kind=PriceKind.FLAT_FEE, label="Forfait",
                     unit_price_cents=102875, vat_rate_bp=2000)])  # 1 028,75 € + 205,75 €
    issue(app, db, quote, s.coordinator)
    assert quote.total_incl_cents == 123450
    text = words(text_of(logged_in(app, s.company).get(f"/quotes/{quote.id}.pdf").data))
    assert "1 234,50 €" in text
    assert "Laboratoire A" in text
    assert quote.number in text


def test_a_draft_is_marked_and_only_for_staff(app, db, s, now) -> None:
    quote = draft(app, db, s)
    answer = logged_in(app, s.coordinator).get(f"/quotes/{quote.id}.pdf")
    assert answer.status_code == 200
    text = text_of(answer.data)
    assert "Brouillon" in text
    assert "Projet de devis" in text
    assert "DEV-" not in text
    assert logged_in(app, s.company).get(f"/quotes/{quote.id}.pdf").status_code == 404


def test_another_company_gets_404(app, db, s, now) -> None:
    quote = issue(app, db, draft(app, db, s), s.coordinator)
    assert logged_in(app, s.other_company).get(f"/quotes/{quote.id}.pdf").status_code == 404
    assert logged_in(app, s.trainer).get(f"/quotes/{quote.id}.pdf").status_code == 404
    assert app.test_client().get(f"/quotes/{quote.id}.pdf").status_code == 302


def test_a_revision_says_its_version(app, db, s, now) -> None:
    quote = issue(app, db, draft(app, db, s), s.coordinator)
    with app.app_context():
        revision = quotes.revise_quote(db, quote, actor=s.coordinator, now=NOW)
    issue(app, db, revision, s.coordinator)
    text = words(text_of(logged_in(app, s.company).get(f"/quotes/{revision.id}.pdf").data))
    assert "Version 2, remplaçant la version 1" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None or not os.environ.get("QUOTE_EXAMPLE"),
                    reason="QUOTE_EXAMPLE=1 and poppler's pdftoppm make docs/quote-example.png")
def test_save_the_first_page_as_an_image(app, db, s, now, tmp_path: Path) -> None:
    """Not a check: the picture of the documentation (docs/quote-example.png)."""
    quote = issue(app, db, two_rates_quote(app, db, s), s.coordinator)
    pdf = tmp_path / "quote.pdf"
    pdf.write_bytes(logged_in(app, s.company).get(f"/quotes/{quote.id}.pdf").data)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(ROOT / "docs" / "quote-example")], check=True)
