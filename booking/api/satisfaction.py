"""/api/v1 routes of satisfaction (issue 15)."""

from __future__ import annotations

from typing import Any

BLUEPRINTS: list[Any] = []
