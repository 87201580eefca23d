"""A real SAML IdP for the tests: :mod:`tests.sso_servers.saml_idp` (pysaml2's
``Server``, signing with Debian's xmlsec1), run in a subprocess on 127.0.0.1
with a free port, its own key pair made here.

- ``saml_idp`` (session-scoped): the running IdP. ``set_user`` defines who may
  sign in and with which attributes; ``trust_sp`` gives it our SP metadata;
  ``metadata_url`` / ``metadata_xml()`` are what an establishment gives us.
- :meth:`SamlIdP.answer` plays the browser for tests without one: it follows
  our AuthnRequest to the IdP, posts its login form and returns what the IdP
  would post back (the SAMLResponse and the RelayState), optionally unsigned
  or with the IdP's clock moved.

Without xmlsec1 the fixture fails and says how to install it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from tests.sso_servers.process import (
    answers,
    closed_port_url,
    free_port,
    log_tail,
    stop_process,
    wait_until_ready,
)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30  # seconds for its metadata to answer


def closed_metadata_url() -> str:
    """A metadata address nobody answers at (an IdP down)."""
    return closed_port_url("/idp/metadata")


def make_key_pair(folder: Path, name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    (folder / "idp.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (folder / "idp.key").chmod(0o600)
    (folder / "idp.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@dataclass
class IdPAnswer:
    """What the IdP's page would make the browser post to our ACS."""

    acs_url: str
    saml_response: str  # base64, as posted
    relay_state: str

    @property
    def xml(self) -> str:
        import base64

        return base64.b64decode(self.saml_response).decode()

    def with_xml(self, xml: str) -> IdPAnswer:
        import base64

        return IdPAnswer(self.acs_url, base64.b64encode(xml.encode()).decode(), self.relay_state)

    def form(self) -> dict[str, str]:
        return {"SAMLResponse": self.saml_response, "RelayState": self.relay_state}


@dataclass
class SamlIdP:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base}/idp/metadata"

    def metadata_xml(self) -> str:
        with urllib.request.urlopen(self.metadata_url, timeout=10) as answer:  # noqa: S310
            return answer.read().decode()

    def set_user(self, login: str, *, name_id: str, **attributes: list[str]) -> None:
        """``login`` may sign in from now on, as ``name_id`` (persistent) with
        these attributes (friendly names: mail, displayName, eduPersonAffiliation...)."""
        path = self.folder / "users.json"
        users = json.loads(path.read_text()) if path.exists() else {}
        users[login] = {"name_id": name_id, "attributes": attributes}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(users))
        tmp.replace(path)  # the IdP reads it at each request: never half-written

    def trust_sp(self, name: str, metadata_xml: str) -> None:
        """Give the IdP a service provider's metadata (what an IdP's admin does)."""
        (self.folder / "sp").mkdir(exist_ok=True)
        (self.folder / "sp" / f"{name}.xml").write_text(metadata_xml)

    def logouts(self) -> list[dict[str, Any]]:
        path = self.folder / "logouts.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    def answer(self, authn_redirect: str, login: str, *, sign: str = "assertion",
               shift: float = 0) -> IdPAnswer:
        """Follow our redirect to the IdP (its login form), post the form as
        ``login`` and read the auto-posting page the IdP answers with."""
        with urllib.request.urlopen(authn_redirect, timeout=10) as page:  # noqa: S310
            form = page.read().decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
        assert "SAMLRequest" in fields, form
        fields = {key: html.unescape(value) for key, value in fields.items()}
        fields.update(username=login, sign=sign, shift=str(shift))
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"{self.base}/sso/login", data=data,  # noqa: S310
                                    timeout=20) as page:
            posting = page.read().decode()
        action = re.search(r'<form action="([^"]+)"', posting)
        response = re.search(r'name="SAMLResponse" value="([^"]+)"', posting)
        relay = re.search(r'name="RelayState" value="([^"]*)"', posting)
        assert action, posting
        assert response, posting
        return IdPAnswer(html.unescape(action.group(1)), response.group(1),
                         html.unescape(relay.group(1)) if relay else "")

    def log_tail(self, lines: int = 30) -> str:
        return log_tail(self.folder / "idp.log", lines)

    def start(self) -> None:
        make_key_pair(self.folder, "IdP de test")
        self.log = (self.folder / "idp.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.sso_servers.saml_idp", str(self.folder),
             str(self.port)], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_ready(
            self.process, lambda: answers(self.metadata_url, _is_idp_metadata),
            name="the SAML IdP", what=self.metadata_url, timeout=START_TIMEOUT,
            log=self.folder / "idp.log", stop=self.stop)

    def stop(self) -> None:
        stop_process(self.process)
        if self.log is not None:
            self.log.close()
            self.log = None


def _is_idp_metadata(body: bytes) -> bool:
    return b"IDPSSODescriptor" in body


def require_xmlsec1() -> None:
    if shutil.which("xmlsec1") is None:
        pytest.fail("the SAML tests need Debian's xmlsec1 (signatures): install it with "
                    "`make sso-tools` (apt-get install xmlsec1)", pytrace=False)


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamlIdP]:
    require_xmlsec1()
    idp = SamlIdP(tmp_path_factory.mktemp("saml-idp"), free_port())
    idp.start()
    try:
        yield idp
    finally:
        idp.stop()
