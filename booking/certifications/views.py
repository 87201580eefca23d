"""The certifications page of coordinators and admins: what trainers hold,
what expires, the history; granting, renewing, revoking; and the requests
trainers send from an equipment page (the one endpoint a trainer reaches)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import aliased, joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from booking.certifications.forms import (
    SHOW_LABELS,
    FilterForm,
    GrantForm,
    RenewForm,
    RequestDecisionForm,
    RevokeForm,
)
from booking.coordination.access import staff_required
from booking.extensions import db
from booking.handlers import commit, get_or_404, submit
from booking.i18n import local_date
from booking.labels import ROLE_LABELS
from booking.pagination import paginate
from booking.permissions import is_coordinator, may
from booking.services.certifications import operations as certifications
from booking.services.certifications import requests as certification_requests
from booking.services.certifications.access import certificate_holders
from booking.services.policy import CAMPUS_ZONE, EXPIRING_WITHIN
from booking.timeutil import utc_now
from models import (
    Certification,
    CertificationRequest,
    CertificationRequestStatus,
    CertificationType,
    Equipment,
    User,
)

bp = Blueprint("certifications", __name__, url_prefix="/certifications")
# Where a service's refusal goes on the grant and renew forms.
CERTIFICATION_FIELDS = {"certification_type_id": "certification_type"}

def _today() -> date:
    return utc_now().astimezone(CAMPUS_ZONE).date()


def _holders() -> list[User]:
    return list(db.session.scalars(
        certificate_holders().options(joinedload(User.establishment))))


def _holder_label(user: User) -> str:
    where = f" — {user.establishment.city}" if user.establishment else ""
    role = f" ({ROLE_LABELS[user.role]})" if is_coordinator(user) else ""
    return f"{user.name}{role}{where}"


def _types() -> list[CertificationType]:
    return list(db.session.scalars(select(CertificationType).order_by(CertificationType.name)))


def _grant_form(form: GrantForm | None = None) -> GrantForm:
    form = form or GrantForm(formdata=None, valid_from=_today())
    form.holder.choices = [SelectChoice(0, "—")] + [
        SelectChoice(u.id, _holder_label(u)) for u in _holders()
        if may(current_user, "grant_certification", u)]  # a coordinator: not themselves
    form.certification_type.choices = [SelectChoice(0, "—")] + [
        SelectChoice(t.id, f"{t.name} ({t.code}) · " + ngettext(
            "%(num)d month", "%(num)d months", t.validity_months))
        for t in _types()]
    return form


def _renewed() -> Any:
    """A later certification of the same holder and type, still in force somewhere."""
    later = aliased(Certification)
    return exists().where(
        later.user_id == Certification.user_id,
        later.certification_type_id == Certification.certification_type_id,
        later.revoked_at.is_(None), later.valid_until > Certification.valid_until)


def _listing(show: str, trainer_id: int | None, today: date) -> Select[Any]:
    stmt = (select(Certification)
            .join(User, User.id == Certification.user_id)
            .join(CertificationType, CertificationType.id == Certification.certification_type_id)
            .options(joinedload(Certification.user), joinedload(Certification.certification_type)))
    if trainer_id:
        stmt = stmt.where(Certification.user_id == trainer_id)
    if show == "history":
        return stmt.order_by(Certification.granted_at.desc(), Certification.id.desc())
    stmt = stmt.where(Certification.revoked_at.is_(None))
    if show == "expiring":
        return stmt.where(Certification.valid_until >= today,
                          Certification.valid_until <= today + EXPIRING_WITHIN,
                          ~_renewed()).order_by(Certification.valid_until, User.name)
    if show == "expired":
        return stmt.where(Certification.valid_until < today, ~_renewed()).order_by(
            Certification.valid_until.desc(), User.name)
    # A renewed certification is superseded by its renewal: listed once, in the history.
    return stmt.where(~_renewed()).order_by(User.name, CertificationType.name,
                                            Certification.valid_until.desc())


def _render_index(grant_form: GrantForm | None = None) -> str:
    today = _today()
    filters = FilterForm(request.args)
    holders = _holders()
    filters.trainer.choices = [SelectChoice(0, _("All trainers"))] + [
        SelectChoice(u.id, u.name) for u in holders]
    filters.validate()
    show = filters.show.data if filters.show.data in SHOW_LABELS else "all"
    trainer_id = filters.trainer.data if not filters.trainer.errors else None
    page = paginate(db.session, _listing(show, trainer_id, today),
                    request.args.get("page", 1, type=int))
    ids = [c.id for c in page.items]
    renewed = set(db.session.scalars(select(Certification.id).where(
        Certification.id.in_(ids), _renewed()))) if ids else set()
    # A renewal that starts later continues one in force today: the holder is certified.
    in_force = set(db.session.execute(select(
        Certification.user_id, Certification.certification_type_id).where(
        Certification.user_id.in_({c.user_id for c in page.items}),
        Certification.revoked_at.is_(None), Certification.valid_from <= today,
        Certification.valid_until >= today))) if ids else set()
    continuing = {c.id for c in page.items if c.valid_from > today
                  and (c.user_id, c.certification_type_id) in in_force}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(
        {c.granted_by_id for c in page.items} | {c.revoked_by_id for c in page.items})))}
    open_requests = list(db.session.scalars(
        select(CertificationRequest)
        .where(CertificationRequest.status == CertificationRequestStatus.REQUESTED)
        .options(joinedload(CertificationRequest.user),
                 joinedload(CertificationRequest.certification_type),
                 joinedload(CertificationRequest.equipment))
        .order_by(CertificationRequest.created_at, CertificationRequest.id)))
    return render_template(
        "certifications/index.html", page=page, show=show, trainer_id=trainer_id,
        filters=filters, show_labels=SHOW_LABELS, grant_form=_grant_form(grant_form),
        today=today, soon=today + EXPIRING_WITHIN, renewed=renewed, continuing=continuing,
        people=people,
        requests=open_requests)


@bp.route("")
@staff_required
def index() -> str:
    return _render_index()


@bp.route("/grant", methods=["POST"])
@staff_required
def grant() -> str | Response:
    form = _grant_form(GrantForm())
    if form.validate_on_submit():
        holder = get_or_404(User, form.holder.data, current_user, "grant_certification")

        def grant_and_settle() -> Certification:
            certification = certifications.grant(
                db.session, holder, actor=current_user, now=utc_now(),
                certification_type_id=form.certification_type.data,
                valid_from=form.valid_from.data, valid_until=form.valid_until.data)
            certification_requests.settle_open_requests(
                db.session, certification, actor=current_user, now=utc_now())
            return certification

        if submit(grant_and_settle, form=form, fields=CERTIFICATION_FIELDS, success=lambda c: _(
                "%(type)s granted to %(name)s until %(date)s.", type=c.certification_type.name,
                name=holder.name, date=local_date(c.valid_until, "long"))):
            return redirect(url_for("certifications.index"))
    return _render_index(form)


def _certification(certification_id: int) -> Certification:
    return get_or_404(Certification, certification_id, current_user)


@bp.route("/<id:certification_id>/renew", methods=["GET", "POST"])
@staff_required
def renew(certification_id: int) -> str | Response:
    """Confirm step: the new period follows the old one (or starts today)."""
    certification = get_or_404(Certification, certification_id, current_user, "renew")
    if certification.revoked_at is not None:
        flash(_("A revoked certification cannot be renewed: grant a new one."), "error")
        return redirect(url_for("certifications.index"))
    now = utc_now()
    start = certifications.renewal_start(certification, now=now)
    form = RenewForm()
    if request.method == "GET":
        form.valid_until.data = certifications.add_months(
            start, certification.certification_type.validity_months)
    if form.validate_on_submit():
        def renew_and_settle() -> Certification:
            renewed = certifications.renew(db.session, certification, actor=current_user,
                                           now=now, valid_until=form.valid_until.data)
            certification_requests.settle_open_requests(db.session, renewed,
                                                        actor=current_user, now=now)
            return renewed

        if submit(renew_and_settle, form=form, fields=CERTIFICATION_FIELDS, success=lambda r: _(
                "%(type)s of %(name)s renewed from %(start)s to %(end)s.",
                type=r.certification_type.name, name=r.user.name,
                start=local_date(r.valid_from, "long"), end=local_date(r.valid_until, "long"))):
            return redirect(url_for("certifications.index"))
    return render_template("certifications/renew.html", certification=certification,
                           form=form, start=start)


@bp.route("/<id:certification_id>/revoke", methods=["GET", "POST"])
@staff_required
def revoke(certification_id: int) -> str | Response:
    certification = get_or_404(Certification, certification_id, current_user, "revoke")
    if certification.revoked_at is not None and request.method == "GET":
        flash(_("This certification is already revoked."), "info")
        return redirect(url_for("certifications.index"))
    form = RevokeForm()
    if form.validate_on_submit():
        submit(lambda: certifications.revoke(db.session, certification, actor=current_user,
                                             now=utc_now(), reason=form.reason.data),
               success=_("%(type)s of %(name)s revoked.",
                         type=certification.certification_type.name,
                         name=certification.user.name))
        return redirect(url_for("certifications.index"))
    return render_template("certifications/revoke.html", certification=certification,
                           form=form)


# --- requests ---------------------------------------------------------------------


@bp.route("/request/<id:equipment_id>", methods=["POST"], endpoint="request")
@login_required
def ask(equipment_id: int) -> Response:
    """A trainer asks for the certifications an equipment requires."""
    equipment = get_or_404(Equipment, equipment_id, current_user, "request_certification")
    result = certification_requests.request_certification(
        db.session, actor=current_user, equipment=equipment, now=utc_now())
    commit()
    if result.created:
        flash(_("Asked for %(names)s: a coordinator will answer.", names=", ".join(
            r.certification_type.name for r in result.created)), "success")
    if result.already_open:
        flash(_("You have already asked for %(names)s; a coordinator will answer.",
                names=", ".join(t.name for t in result.already_open)), "info")
    if not result.created and not result.already_open:
        flash(_("You already hold every certification this equipment requires."), "info")
    return redirect(url_for("equipment.page", equipment_id=equipment.id))


def _decide_request(request_id: int, grant: bool) -> Response:
    certification_request = get_or_404(CertificationRequest, request_id, current_user, "decide")
    form = RequestDecisionForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("certifications.index"))
    holder, ctype = certification_request.user, certification_request.certification_type
    submit(lambda: certification_requests.decide(
        db.session, certification_request, actor=current_user, grant=grant, now=utc_now(),
        valid_until=form.valid_until.data if grant else None, reason=form.reason.data),
        success=lambda certification: _(
            "%(type)s granted to %(name)s until %(date)s.", type=ctype.name, name=holder.name,
            date=local_date(certification.valid_until, "long")) if certification is not None else _(
            "Request of %(name)s for %(type)s declined.", name=holder.name, type=ctype.name))
    return redirect(url_for("certifications.index"))


@bp.route("/requests/<id:request_id>/grant", methods=["POST"])
@staff_required
def grant_request(request_id: int) -> Response:
    return _decide_request(request_id, True)


@bp.route("/requests/<id:request_id>/decline", methods=["POST"])
@staff_required
def decline_request(request_id: int) -> Response:
    return _decide_request(request_id, False)
