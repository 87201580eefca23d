"""An uploaded file kept on the server between its preview and the « Importer »
button, named by a digest of its uploader, its kind and its bytes.

Why not send the file again with the confirmation: the browser cannot refill
a file input, and a file carried in a hidden field would double the body past
the request limit. Why not the database: a file is a few hundred KB for a few
minutes, no migration needed. The digest binds the confirmation to the very
bytes previewed and to the person who previewed them (another account's
digest names no file of theirs), so the import writes what the preview showed,
checked again against the database as it is then. Files are removed once
imported, and any left for a day by the next upload.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from flask import current_app

from booking.timeutil import utc_now
from models import User

DIGEST = re.compile(r"[0-9a-f]{64}")
KEPT_SECONDS = 24 * 3600


def _folder() -> Path:
    folder = Path(current_app.config["ONBOARDING_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def digest_of(user: User, kind: str, data: bytes) -> str:
    return hashlib.sha256(f"{user.id}:{kind}:".encode() + data).hexdigest()


def keep(user: User, kind: str, data: bytes) -> str:
    folder = _folder()
    _forget_old(folder)
    digest = digest_of(user, kind, data)
    path = folder / digest
    temporary = folder / f".{digest}.{os.getpid()}"
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a reader never sees half a file
    return digest


def kept(user: User, kind: str, digest: str) -> bytes | None:
    """The bytes kept under ``digest`` if this user uploaded them for this kind."""
    if not DIGEST.fullmatch(digest or ""):
        return None
    try:
        data = (_folder() / digest).read_bytes()
    except OSError:
        return None
    return data if digest_of(user, kind, data) == digest else None


def forget(digest: str) -> None:
    if DIGEST.fullmatch(digest or ""):
        (_folder() / digest).unlink(missing_ok=True)


def _forget_old(folder: Path) -> None:
    limit = utc_now().timestamp() - KEPT_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:  # removed by another worker meanwhile
            continue
