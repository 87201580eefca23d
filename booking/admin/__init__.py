"""Administration: establishments, equipment, certification types, accounts,
identity providers.

Admins only. The routes live in four modules sharing one blueprint; importing
them here registers them.
"""

from booking.admin import accounts, equipment, providers, views  # noqa: F401  (registers the routes)
from booking.admin.blueprint import bp

__all__ = ["bp"]
