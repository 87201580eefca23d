"""What a new password must be, on every path that sets one (account creation by
an admin, the API or the CLI, a change by the user, a reset by an admin).

Long enough; not one of the 30,000 most common passwords (the list that the
zxcvbn package ships, from leaked password sets: kept by its maintainers, not
typed in here), even with digits or signs around it; not trivial (one character
or a short pattern repeated, a run of the alphabet, of digits or of a keyboard
row); not the account's own e-mail or name. Passwords already set are not
checked again: the policy applies when a password is chosen."""

from __future__ import annotations

import itertools
import re
import unicodedata
from functools import cache

from booking.services.errors import N_, ValidationError

MIN_PASSWORD_LENGTH = 12
# The letter rows of a keyboard, top to bottom, in the layout of our users
# (French AZERTY) and in QWERTY and QWERTZ.
_KEYBOARD_ROWS = ("azertyuiopqsdfghjklmwxcvbn", "qwertyuiopasdfghjklzxcvbnm",
                  "qwertzuiopasdfghjklyxcvbnm")
# What people put around a common word to pass a naive check: "Password123!".
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
# A name part this short is too often a piece of an unrelated word.
_MIN_NAME_PART = 4


@cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's list, loaded at the first check (800 KB of Python, kept once)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_new_password(password: str, *, email: str | None = None,
                       name: str | None = None) -> None:
    """Raise ValidationError (field ``password``) with the first rule refused."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise _refused(N_("The password needs at least %(n)d characters."),
                       n=MIN_PASSWORD_LENGTH)
    folded = password.casefold()
    if _is_repetition(folded) or _is_run(folded):
        raise _refused(N_("This password is too easy to guess: a repeated pattern or a "
                          "run of letters, digits or keys."))
    common = common_passwords()
    if folded in common or _DECORATION.sub("", folded) in common:
        raise _refused(N_("This password is among the most common ones; choose another."))
    if _contains_own(folded, email, name):
        raise _refused(N_("The password must not contain the account's name or e-mail "
                          "address."))


def _refused(message: str, **values: object) -> ValidationError:
    return ValidationError(message, {"field": "password"}, **values)


def _is_repetition(text: str) -> bool:
    """One character, or a short unit, repeated: "aaaa…", "abcabc…", "xyz!xyz!…"."""
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size)
               for size in range(1, len(text) // 2 + 1))


def _is_run(text: str) -> bool:
    """A run with a constant step: "abcdef…", "zyxw…", "aceg…"; digits wrapping
    around ("1234567890123"); or a walk along a keyboard's rows."""
    codes = [ord(c) for c in text]
    steps = {b - a for a, b in itertools.pairwise(codes)}
    if len(steps) == 1 and abs(steps.pop()) <= 2:
        return True
    if text.isascii() and text.isdigit():
        steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(text)}
        if steps in ({1}, {9}):
            return True
    return any(text in row or text in row[::-1] for row in _KEYBOARD_ROWS)


def _letters_and_digits(text: str) -> str:
    """Lower case, accents and every separator gone: "Émile.Roy" → "emileroy"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def _contains_own(password: str, email: str | None, name: str | None) -> bool:
    plain = _letters_and_digits(password)
    own: list[str] = []
    if email:
        local = email.strip().rpartition("@")[0] or email
        own += [_letters_and_digits(email), _letters_and_digits(local)]
    if name:
        own.append(_letters_and_digits(name))
        own += [_letters_and_digits(part) for part in re.split(r"[\s\-.'’]+", name)
                if len(_letters_and_digits(part)) >= _MIN_NAME_PART]
    return any(len(part) >= 3 and part in plain for part in own)
