"""Settings the booking rules read, passed in as plain values, and the campus
constants every service shares (one definition each, imported everywhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

# The campus's own zone: certification days, reports, digests, CSV exports and the
# demo are read in it (an equipment's bookings in its establishment's zone, which
# falls back to this one).
CAMPUS_ZONE = ZoneInfo("Europe/Paris")


def campus_today(now: datetime) -> date:
    """The campus's date at ``now``: price validity, quote validity and other
    days that are days in Paris, whatever the server's zone."""
    return now.astimezone(CAMPUS_ZONE).date()


# Holders and their coordinators are warned this many days before a certification
# ends; the widest window is what the pages and reports call "expiring".
CERTIFICATION_WARNING_DAYS = (30, 7)
EXPIRING_WITHIN = timedelta(days=max(CERTIFICATION_WARNING_DAYS))
# The years a date may fall in, wherever it comes from (a page, a query string, the
# API, an imported calendar): wide enough for any booking, certification or report,
# narrow enough that no conversion to UTC and no day or week arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2200
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
# An id: 1 to 2**31 - 1, what a database integer column holds.
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Policy:
    # How far ahead bookings are accepted, and how far ahead the certification
    # watch looks for bookings whose trainer will not be certified.
    horizon_days: int = 400
    # The right-hand side of booking UIDs: the site's own host, never a constant.
    uid_domain: str = "plateforme.invalid"
    max_occurrences: int = 400
    # Repeated no-shows: this many within this many days flag a user to the
    # coordinators (booking.services.bookings.no_show).
    no_show_flag_count: int = 3
    no_show_flag_days: int = 90

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        host = urlsplit(config.get("BASE_URL", "")).hostname or "plateforme.invalid"
        return cls(horizon_days=int(config.get("BOOKING_HORIZON_DAYS", 400)), uid_domain=host,
                   no_show_flag_count=int(config.get("NO_SHOW_FLAG_COUNT", 3)),
                   no_show_flag_days=int(config.get("NO_SHOW_FLAG_DAYS", 90)))

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.horizon_days)
