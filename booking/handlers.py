"""The edge of every page and endpoint: load or 404/403, call the service,
commit once or roll back, and say what happened.

A handler reads: ``obj = get_or_404(Model, id, actor, "action")``, then
``result = submit(lambda: service(...), form=form, success=...)``, then
render. The service decides (booking.permissions, the rules); these helpers
only translate its answer: a domain error goes next to the form field it names
(``details["field"]``, or the last of ``details["fields"]``), above the form
otherwise, or into a flash; NotFound and Forbidden become the 404/403 page or
JSON body of booking.errors, with the same words on a page and in the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, flash
from flask_login import current_user
from flask_wtf import FlaskForm

from booking.extensions import db
from booking.permissions import may, require
from booking.services.errors import N_, DomainError, Forbidden, NotFound
from models import User

T = TypeVar("T")


def get_or_404(model: type[T], object_id: int, actor: User, action: str = "view") -> T:
    """The object, once ``actor`` may do ``action`` to it: NotFound when it does
    not exist or may not be seen, Forbidden when it may be seen but not acted on.
    Ids come through the ``id`` URL converter, bounded to the database's integers."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(N_("Not found."))
    return require(actor, action, obj)


def commit() -> None:
    """The one commit of a request that changed something (pages and API)."""
    db.session.commit()


def field_of(error: DomainError, fields: Mapping[str, str] | None = None) -> str | None:
    """The form field an error belongs next to: by its code first (``fields``
    may map codes, e.g. "conflict" → "start"), then by the field it names."""
    fields = fields or {}
    if error.code in fields:
        return fields[error.code]
    named = error.details.get("field") or (error.details.get("fields") or [None])[-1]
    if named is None:
        return None
    return fields.get(str(named), str(named))


def place_error(form: FlaskForm, error: DomainError,
                fields: Mapping[str, str] | None = None) -> None:
    """Put the error's message next to its field, or above the form."""
    name = field_of(error, fields)
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors") and name not in ("submit", "csrf_token"):
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a submitted call gave: true when it was done (and committed)."""

    done: bool
    value: T | None = None
    error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.done


def submit(call: Callable[[], T], *, form: FlaskForm | None = None,
           success: str | Callable[[T], str] | None = None, category: str = "success",
           fields: Mapping[str, str] | None = None,
           on_error: Callable[[DomainError], None] | None = None) -> Outcome[T]:
    """Run a service call; commit and flash ``success`` when it answers.

    A refusal (any domain error but NotFound/Forbidden, which go on to the
    error pages) rolls back everything the call wrote, goes onto ``form``
    (or into an error flash without a form; or to ``on_error``) and is
    answered as not done.
    """
    try:
        result = call()
    except (NotFound, Forbidden):
        db.session.rollback()
        raise
    except DomainError as error:
        db.session.rollback()
        if on_error is not None:
            on_error(error)
        elif form is not None:
            place_error(form, error, fields)
        else:
            flash(error.message, "error")
        return Outcome(False, error=error)
    commit()
    if success is not None:
        flash(success(result) if callable(success) else success, category)
    return Outcome(True, result)


def register_template_helpers(app: Flask) -> None:
    """``can(action, "Kind")`` in templates: what the reader may do, asked of
    the same rules as the services (templates never compare roles)."""
    from booking.services.reports.access import Reports
    from models import (
        AttendanceSheet,
        BillingProfile,
        Booking,
        Certification,
        Equipment,
        Establishment,
        JobRun,
        Learner,
        Price,
        Project,
        Quote,
        SatisfactionSurvey,
        TrainingAgreement,
        User,
        WaitlistEntry,
    )

    kinds: dict[str, type] = {k.__name__: k for k in (
        Booking, Certification, Equipment, Establishment, JobRun, Project, Reports, User,
        WaitlistEntry, Price, BillingProfile, Quote, TrainingAgreement, Learner,
        AttendanceSheet, SatisfactionSurvey)}

    def can(action: str, obj: object) -> bool:
        return may(current_user, action, kinds[obj] if isinstance(obj, str) else obj)

    app.jinja_env.globals["can"] = can
