"""Administration of accounts: list by role, create, deactivate and reactivate,
reset a password. Deactivating or resetting ends the account's open logins
(booking.services.accounts), so the change takes effect at the next click."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from booking.admin.blueprint import bp
from booking.admin.forms import (
    AccountFilterForm,
    AccountForm,
    DeactivateForm,
    ReactivateForm,
    ResetPasswordForm,
)
from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.pagination import paginate
from booking.services.accounts import directory
from booking.services.accounts import operations as accounts
from booking.timeutil import utc_now
from models import Company, Establishment, Role, User

ACCOUNT_ERRORS = {"email": "email", "name": "name", "role": "role", "password": "password",
                  "new_company": "new_company",
                  "establishment": "establishment", "establishment_id": "establishment",
                  "company": "company", "company_id": "company"}


def _account(user_id: int) -> User:
    return get_or_404(User, user_id, current_user, "manage")


@bp.route("/accounts")
def accounts_list() -> str:
    form = AccountFilterForm(request.args)
    form.validate()
    stmt = (select(User).options(selectinload(User.establishment), selectinload(User.company))
            .order_by(User.active.desc(), User.name, User.id))
    if form.role.data:
        stmt = stmt.where(User.role == Role(form.role.data))
    if form.q.data:
        like = f"%{form.q.data.strip()}%"
        stmt = stmt.where(or_(User.name.ilike(like), User.email.ilike(like)))
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    args = {k: v for k, v in (("role", form.role.data), ("q", form.q.data)) if v}
    return render_template("admin/accounts.html", page=page, form=form, args=args)


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new() -> str | Response:
    form = AccountForm()
    form.establishment.choices = [(0, "—")] + [
        (e.id, f"{e.name} ({e.city})")
        for e in db.session.scalars(select(Establishment).order_by(Establishment.name))]
    form.company.choices = [(0, "—")] + [
        (c.id, c.name) for c in db.session.scalars(select(Company).order_by(Company.name))]
    if form.validate_on_submit():
        user = _create_account(form)
        if user is not None:
            flash(_("Account of %(name)s created.", name=user.name), "success")
            return redirect(url_for("admin.accounts_list", role=user.role.value))
    return render_template("admin/account_form.html", form=form)


def _create_account(form: AccountForm) -> User | None:
    """Create the account (and its new company); None after placing the errors."""
    done = submit(lambda: directory.create_account(
        db.session, actor=current_user, now=utc_now(), email=form.email.data,
        name=form.name.data, role=form.role.data, password=form.password.data,
        establishment_id=form.establishment.data or None, company_id=form.company.data or None,
        new_company=(form.new_company.data or "").strip() or None),
        form=form, fields=ACCOUNT_ERRORS)
    return done.value


@bp.route("/accounts/<id:user_id>/deactivate", methods=["GET", "POST"])
def account_deactivate(user_id: int) -> str | Response:
    """Asks to confirm; then the account can no longer log in and its open
    logins and API tokens end."""
    user = _account(user_id)
    form = DeactivateForm()
    if form.validate_on_submit() and submit(lambda: accounts.deactivate_user(
            db.session, user, actor=current_user, now=utc_now(), reason=form.reason.data),
            form=form, success=_("The account of %(name)s is deactivated; its sessions "
                                 "are closed.", name=user.name)):
        return redirect(url_for("admin.accounts_list"))
    return render_template("admin/account_confirm.html", user=user, form=form,
                           action="deactivate")


@bp.route("/accounts/<id:user_id>/reactivate", methods=["GET", "POST"])
def account_reactivate(user_id: int) -> str | Response:
    user = _account(user_id)
    form = ReactivateForm()
    if form.validate_on_submit() and submit(
            lambda: accounts.reactivate_user(db.session, user, actor=current_user,
                                             now=utc_now()),
            form=form, success=_("The account of %(name)s is active again.", name=user.name)):
        return redirect(url_for("admin.accounts_list"))
    return render_template("admin/account_confirm.html", user=user, form=form,
                           action="reactivate")


@bp.route("/accounts/<id:user_id>/password", methods=["GET", "POST"])
def account_password(user_id: int) -> str | Response:
    """The admin sets a new password; every open login of the account ends."""
    user = _account(user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit() and submit(
            lambda: accounts.reset_password(db.session, user, form.password.data,
                                            actor=current_user, now=utc_now()),
            form=form, success=_("New password set for %(name)s; their sessions are closed.",
                                 name=user.name)):
        return redirect(url_for("admin.accounts_list"))
    return render_template("admin/account_password.html", user=user, form=form)
