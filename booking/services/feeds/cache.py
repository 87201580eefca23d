"""Built feed bodies, shared by every thread and worker process of the server.

A feed's body depends only on its scope (every feed of one scope shows the
same calendar) and on the content fingerprint the view computes anyway for its
ETag. Bodies are files in FEED_CACHE_DIR named after both: ``<scope>.<version>.ics``
and its gzip twin. A stale feed is built once per change, however many
subscribers poll: the first request takes the scope's lock (``flock`` on a lock
file: it serialises threads as well as processes, and the kernel releases it if
its holder dies), builds and writes both bodies, while the others wait on the
lock and then read what it wrote. Files are written to a temporary name and
renamed (``os.replace``): a reader never sees half a body. Older versions of
the scope are removed by the builder of the new one.

The freshness check itself (an aggregate over the scope's rows in the window,
tens of milliseconds for a busy site) is remembered per scope for
FEED_FRESH_SECONDS in a small ``<scope>.stamp`` file: a poll within that time
of the last check serves the body without reading a booking. Clients are told
``max-age=300`` already, so a change reaching a subscriber a few seconds later
is within what the feed promises.

Any I/O failure (directory missing and not creatable, read-only, full disk)
answers ``None``: the caller builds the body in the request, as before.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# gzip's default (9) costs three times level 6 on a feed for 2 % of its size.
GZIP_LEVEL = 6
_SAFE = re.compile(r"^[a-z0-9_-]+$")


@dataclass(frozen=True)
class Cached:
    """Where a version's two bodies are on disk."""

    plain: Path
    gzipped: Path


class FeedCache:
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def recent_stamp(self, scope: str, *, now: float, max_age: float) -> dict | None:
        """What the last freshness check of ``scope`` found, if made less than
        ``max_age`` seconds before ``now`` (seconds since the epoch)."""
        if max_age <= 0 or not _SAFE.match(scope):
            return None
        try:
            noted = json.loads((self.directory / f"{scope}.stamp").read_bytes())
            checked = float(noted["checked"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        # A clock set back makes the note unusable, never valid for longer.
        return noted if 0 <= now - checked < max_age else None

    def note_stamp(self, scope: str, stamp: dict, *, now: float) -> None:
        """Remember a freshness check (best effort: an I/O failure only costs
        the next poll a check of its own)."""
        if not _SAFE.match(scope):
            return
        with suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write(self.directory / f"{scope}.stamp",
                        json.dumps({**stamp, "checked": now}).encode())

    def _paths(self, scope: str, version: str) -> Cached:
        if not (_SAFE.match(scope) and _SAFE.match(version)):
            raise ValueError("scope and version are file-name safe")
        base = self.directory / f"{scope}.{version}.ics"
        return Cached(base, base.with_name(base.name + ".gz"))

    def open(self, scope: str, version: str, build: Callable[[], bytes], *,
             gzipped: bool) -> BinaryIO | None:
        """The body of ``scope`` at ``version`` (gzipped or plain), open for
        reading, built by ``build`` (the plain body) unless someone did already.
        ``None`` when the cache cannot be used: the caller then builds."""
        paths = self._paths(scope, version)
        wanted = paths.gzipped if gzipped else paths.plain
        try:
            # The gzip body is written last: once it is there, both are.
            if paths.gzipped.exists():
                return open(wanted, "rb")  # the response closes it
            with self._locked(scope):
                # Whoever held the lock before may have built this very version.
                if not paths.gzipped.exists():
                    body = build()
                    self._write(paths.plain, body)
                    self._write(paths.gzipped, gzip.compress(body, GZIP_LEVEL, mtime=0))
                    self._remove_others(scope, paths)
                # Opened under the lock: the builder of a newer version cannot
                # remove it first (and an open file stays readable once removed).
                return open(wanted, "rb")
        except OSError:
            return None

    @contextmanager
    def _locked(self, scope: str) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        # One open file per caller: flock then excludes threads of one process too.
        with open(self.directory / f"{scope}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _write(self, path: Path, data: bytes) -> None:
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temporary, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temporary)
            raise

    def _remove_others(self, scope: str, keep: Cached) -> None:
        """Older versions of the scope: a reader that opened one keeps reading it
        (unlinking leaves open files readable)."""
        for path in self.directory.glob(f"{scope}.*.ics*"):
            if path not in (keep.plain, keep.gzipped):
                with suppress(OSError):
                    path.unlink()
