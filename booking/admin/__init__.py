"""Administration: establishments, equipment, certification types, accounts,
identity providers, travel times between establishments.

Admins only. The routes live in five modules sharing one blueprint; importing
them here registers them.
"""

from booking.admin import (  # noqa: F401  (registers the routes)
    accounts,
    equipment,
    providers,
    travel,
    views,
)
from booking.admin.blueprint import bp

__all__ = ["bp"]
