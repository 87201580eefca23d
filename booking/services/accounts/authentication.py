"""Checking an e-mail and a password, for the login page and the token endpoint.

Every attempt costs one argon2 verification, whether the account exists, is
deactivated or not: an answer's time tells nothing about the account. An
unknown e-mail is checked against a dummy hash made at today's cost."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.auth.passwords import hash_password, verify_password
from models import Role, User

# One dummy hash per argon2 cost (time, memory, parallelism), made once per process.
_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    cfg = current_app.config
    cost = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    if cost not in _DUMMY_HASHES:
        _DUMMY_HASHES[cost] = hash_password("not a password of anyone")
    return _DUMMY_HASHES[cost]


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active account of ``email`` when ``password`` is its password, else None."""
    address = email.strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == address))
    matches = verify_password(user.password_hash if user is not None else _dummy_hash(),
                              password)
    if user is None or not user.active or not matches or not passwords_allowed(user):
        return None
    return user


def passwords_allowed(user: User) -> bool:
    """An establishment may have its trainers and coordinators sign in only
    through its identity providers; admins and company contacts always keep
    their passwords (no provider of an establishment vouches for them)."""
    if user.role in (Role.ADMIN, Role.COMPANY) or user.establishment is None:
        return True
    return user.establishment.local_passwords
