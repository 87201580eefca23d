"""Who may do what with pricing (issue 15): rules registered with booking.permissions.rule."""

from __future__ import annotations
