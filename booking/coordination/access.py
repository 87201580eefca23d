"""The gate of the coordinator pages: logged in, and a coordinator or an admin.

Which establishment's objects they may touch is still asked object by object
(booking.permissions); this only keeps trainers and companies out (403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from booking.permissions import may
from models import Establishment

F = TypeVar("F", bound=Callable[..., Any])


def staff_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not may(current_user, "coordinate", Establishment):
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapped)  # type: ignore[return-value]
