"""WTForms validators shared by the pages."""

from __future__ import annotations

from typing import Any

from wtforms import ValidationError

from booking.services.accounts.operations import normalise_email
from booking.services.errors import DomainError


class EmailAddress:
    """The same e-mail check as the accounts service (no DNS look-up;
    reserved test domains such as ``.test`` allowed, as on a closed network)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            normalise_email(field.data)
        except DomainError as exc:
            raise ValidationError(exc.message) from None
