"""Who may read the campus's evaluation (issue 15, lever 8).

The evaluation is what the steering committee (rectorat, région) reads:
campus-wide aggregate figures, no personal data (no learner, booker or
trainer is ever named; establishments, sectors, publics and months only).
Admins and coordinators read it, for the whole campus or any establishment
(a coordinator reports on the campus to the committee as much as on their
own establishment); trainers and companies are refused (403, as the
reports), anonymous visitors sent to the login page.
"""

from __future__ import annotations

from booking.permissions import is_staff, rule
from models import User


class Evaluation:
    """The campus's evaluation, as the object of a permission."""


@rule(Evaluation, "view")
def view(user: User, evaluation: object) -> bool:
    return is_staff(user)
