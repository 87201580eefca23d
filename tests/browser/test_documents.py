"""Equipment documents and photos in a real browser (issue 11, section 6), in
French and English, on a desktop (1366×768) and a phone (390×844): the
Chartres coordinator uploads a PDF (required reading) and a photo of the
Chartres cobot cell, a file that only claims to be a PDF is refused, and Julien,
an Orléans trainer, sees them on the machine's page and downloads the PDF;
axe-core finds no violation on any page shot.

No booking is made: the other browser tests' dates and counts are untouched
(they use the Orléans cobot; this test, the Chartres one)."""

from __future__ import annotations

import importlib.resources
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import COORD_CHARTRES, JULIEN, shoot

AXE = Path(str(importlib.resources.files("axe_playwright_python") / "axe.min.js"))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
WORDS = {
    "fr": {"refused": "Un document doit être un fichier PDF.", "read": "À lire avant la séance",
           "added": "Document ajouté"},
    "en": {"refused": "A document must be a PDF file.", "read": "Read before the session",
           "added": "Document added"},
}


def png(width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (10, 102, 112)) -> bytes:
    """A real PNG (the browser must be able to draw it), without an imaging library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def checked_shot(page: Any, name: str, lang: str, size: str) -> None:
    """A screenshot, once axe-core found no violation at all on the page."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    assert [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
            for v in violations] == [], page.url
    shoot(page, "documents", name, lang, size, full_page=True)


def upload(page: Any, kind: str, title: str, name: str, mime: str, data: bytes,
           required: bool = False) -> None:
    form = page.locator("#document-form")
    form.locator("#kind").select_option(kind)
    form.locator("#file").set_input_files(files=[{"name": name, "mimeType": mime,
                                                  "buffer": data}])
    form.locator("#title").fill(title)
    if required:
        form.locator("#required").check()
    form.locator("#submit").click()


@pytest.mark.parametrize(("lang", "size"), [("fr", "desktop"), ("fr", "phone"),
                                            ("en", "desktop"), ("en", "phone")])
def test_a_coordinator_uploads_and_a_trainer_reads(open_page, live_server, lang, size):
    machine = live_server.id_of("equipment", "code", "CHA-COBOT-01")
    words = WORDS[lang]
    safety, photo = f"Consignes {lang} {size}", f"Vue de la cellule {lang} {size}"
    file_name = f"consignes-{lang}-{size}.pdf"

    # CSP bypassed for axe's injected script only (tests/test_security_headers.py
    # keeps the templates free of inline code).
    coordinator = open_page(COORD_CHARTRES, lang, size, bypass_csp=True)
    coordinator.goto(f"/equipment/{machine}/documents")
    # HTML named .pdf: refused with the reason next to the file field, nothing kept.
    upload(coordinator, "safety", "Piège", "piege.pdf", "application/pdf",
           b"<!doctype html><script>alert(1)</script>")
    expect(coordinator.locator("#file-error")).to_contain_text(words["refused"])
    expect(coordinator.get_by_text("Piège", exact=True)).to_have_count(0)
    upload(coordinator, "safety", safety, file_name, "application/pdf", PDF, required=True)
    expect(coordinator.locator(".flash").filter(
        has_text=words["added"]).first).to_be_visible()
    upload(coordinator, "photo", photo, "cellule.png", "image/png", png())
    row = coordinator.locator("#documents tr", has_text=safety)
    expect(row.locator(".badge")).to_have_text(words["read"])
    picture = coordinator.locator(f'#photos img[alt="{photo}"]')
    expect(picture).to_be_visible()
    checked_shot(coordinator, "coordinator-list", lang, size)

    trainer = open_page(JULIEN, lang, size, bypass_csp=True)
    trainer.goto(f"/equipment/{machine}")
    section = trainer.locator("#documents")
    reading = section.locator(".required-reading")
    expect(reading).to_contain_text(words["read"])
    link = reading.get_by_role("link", name=safety)
    expect(link).to_be_visible()
    link.scroll_into_view_if_needed()
    checked_shot(trainer, "trainer-equipment", lang, size)
    with trainer.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == file_name
    assert download.value.path().read_bytes() == PDF

    trainer.goto(f"/equipment/{machine}/documents")
    image = trainer.locator(f'#photos img[alt="{photo}"]')
    expect(image).to_be_visible()
    image.scroll_into_view_if_needed()
    trainer.wait_for_function("img => img.complete && img.naturalWidth > 0",
                              arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 48
    # A trainer reads; only those who manage the machine add or delete.
    expect(trainer.locator("#document-form")).to_have_count(0)
    expect(trainer.get_by_role("link", name=f"Delete — {safety}")).to_have_count(0)
    checked_shot(trainer, "trainer-documents", lang, size)
