"""Settings the booking rules read, passed in as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Policy:
    horizon_days: int = 400
    # The right-hand side of booking UIDs: the site's own host, never a constant.
    uid_domain: str = "plateforme.invalid"
    max_occurrences: int = 400

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        host = urlsplit(config.get("BASE_URL", "")).hostname or "plateforme.invalid"
        return cls(horizon_days=int(config.get("BOOKING_HORIZON_DAYS", 400)), uid_domain=host)
