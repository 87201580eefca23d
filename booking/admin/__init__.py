"""Administration: establishments, equipment, certification types, accounts.

Admins only. The routes live in three modules sharing one blueprint; importing
them here registers them.
"""

from booking.admin import accounts, equipment, views  # noqa: F401  (registers the routes)
from booking.admin.blueprint import bp

__all__ = ["bp"]
