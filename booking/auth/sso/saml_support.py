"""What the SAML service provider keeps on the server: its key pair, the
identity providers' metadata for a few minutes, and the requests already
answered (so a Response cannot be posted twice).

The key pair is shared by every worker of a host through the instance
folder, the answered requests by every host through the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from booking.timeutil import utc_now
from models import AnsweredSignInRequest

KEY_NAME, CERT_NAME = "sp.key", "sp.crt"
CERT_YEARS = 10  # an SP certificate is trusted through metadata, not a CA: no yearly renewal
METADATA_CACHE_SECONDS = 300
MAX_METADATA_BYTES = 64 * 1024 * 1024  # a federation's aggregate (every IdP) runs to tens of MB


def instance_dir() -> Path:
    folder = Path(current_app.instance_path) / "saml"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sp_key_pair() -> tuple[str, str]:
    """The SP's key and certificate files: SAML_SP_KEY_FILE / SAML_SP_CERT_FILE,
    or a self-signed pair made once under the instance folder. The pair must
    not change by itself: the IdPs were given the certificate in our metadata."""
    key_file = current_app.config.get("SAML_SP_KEY_FILE")
    cert_file = current_app.config.get("SAML_SP_CERT_FILE")
    if key_file and cert_file:
        return str(key_file), str(cert_file)
    folder = instance_dir()
    key_path, cert_path = folder / KEY_NAME, folder / CERT_NAME
    if not (key_path.exists() and cert_path.exists()):
        # Several workers may start at once: one makes the pair, the others wait.
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (key_path.exists() and cert_path.exists()):
                _make_pair(key_path, cert_path)
    return str(key_path), str(cert_path)


def _make_pair(key_path: Path, cert_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Plateforme SAML SP")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365 * CERT_YEARS))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    key_tmp, cert_tmp = key_path.with_name(f".{KEY_NAME}.tmp"), cert_path.with_name(
        f".{CERT_NAME}.tmp")
    fd = os.open(key_tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # The key first: a pair is taken as made once the certificate is there.
    os.replace(key_tmp, key_path)
    os.replace(cert_tmp, cert_path)


# --- the IdPs' metadata, fetched at most every few minutes per process ---
_metadata_cache: dict[str, tuple[float, str]] = {}
_metadata_lock = threading.Lock()


class MetadataUnreachable(Exception):
    pass


def fetch_metadata(url: str) -> str:
    """The metadata at ``url``, from this process's cache when fresh enough.
    Raises MetadataUnreachable when it cannot be had."""
    ttl = current_app.config.get("SAML_METADATA_CACHE_SECONDS", METADATA_CACHE_SECONDS)
    with _metadata_lock:
        cached = _metadata_cache.get(url)
    if cached is not None and time.monotonic() - cached[0] < ttl:
        return cached[1]
    timeout = current_app.config.get("SSO_TIMEOUT", 10)
    try:
        with requests.get(url, timeout=timeout, stream=True,
                          headers={"Accept": "application/samlmetadata+xml, "
                                             "application/xml;q=0.9"}) as answer:
            answer.raise_for_status()
            body = bytearray()
            for chunk in answer.iter_content(chunk_size=65536):
                body += chunk
                if len(body) > MAX_METADATA_BYTES:
                    raise MetadataUnreachable(f"{url}: over {MAX_METADATA_BYTES} bytes")
    except requests.RequestException as error:
        raise MetadataUnreachable(f"{url}: {error}") from error
    text = body.decode("utf-8", errors="replace")
    with _metadata_lock:
        _metadata_cache[url] = (time.monotonic(), text)
    return text


def forget_metadata(url: str) -> None:
    with _metadata_lock:
        _metadata_cache.pop(url, None)


class AnsweredRequests:
    """The AuthnRequest ids whose Response has been accepted, each kept until
    that request could no longer be answered anyway.

    A row per id (table ``sso_answered_request``) whose primary key decides:
    of two workers or hosts given the same Response, exactly one inserts it.
    The row is written in the sign-in's own transaction; expired rows are
    deleted as new ones come.
    """

    def claim(self, request_id: str, *, keep_seconds: float) -> bool:
        """True the first time ``request_id`` is claimed; False afterwards."""
        from booking.extensions import db

        now = utc_now()
        db.session.execute(delete(AnsweredSignInRequest)
                           .where(AnsweredSignInRequest.expires_at < now))
        try:
            with db.session.begin_nested():
                db.session.add(AnsweredSignInRequest(
                    request_id=request_id[:100],
                    expires_at=now + timedelta(seconds=keep_seconds)))
        except IntegrityError:
            return False
        return True
