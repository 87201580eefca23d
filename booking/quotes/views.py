"""The quote pages: the list (/quotes/), a quote (/quotes/<id>: its lines and
totals; staff edit a draft, issue, revise; the company accepts or declines,
each after a confirm step), its PDF (/quotes/<id>.pdf), a draft from a
project (/projects/<id>/quotes/new), and the project page's « Devis » card
(templates/quotes/_project.html, fed by :func:`project_quotes`).

The rules are booking.services.quotes'; refusals are flashed with their
sentence or shown next to their field."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from booking.extensions import db
from booking.handlers import get_or_404, submit
from booking.labels import label, money
from booking.pagination import paginate
from booking.permissions import is_admin, may, require
from booking.quotes.forms import (
    AcceptForm,
    DeclineForm,
    FilterForm,
    FreeLineForm,
    IssueForm,
    LineForm,
    NewQuoteForm,
    PriceLineForm,
    RemoveLineForm,
    ReviseForm,
    SettingsForm,
    hundredths,
)
from booking.request_memo import per_request
from booking.services.inputs import ascii_file_name
from booking.services.paperwork.pdf import render_pdf
from booking.services.pricing.lookup import price_list
from booking.services.quotes import operations as quotes
from booking.services.quotes.access import visible_quotes
from booking.services.quotes.operations import LineSpec, Origin
from booking.services.quotes.totals import quote_totals
from booking.timeutil import utc_now
from models import Establishment, PriceKind, Project, Public, Quote, QuoteStatus

bp = Blueprint("quotes", __name__)

BADGES = {QuoteStatus.DRAFT: "pending", QuoteStatus.ISSUED: "warning",
          QuoteStatus.ACCEPTED: "confirmed", QuoteStatus.DECLINED: "rejected",
          QuoteStatus.SUPERSEDED: "cancelled"}


@per_request
def project_quotes(project: Project) -> list[Quote]:
    """The project's quotes the reader may see, newest first (the project page's card)."""
    if not current_user.is_authenticated:
        return []
    return list(db.session.scalars(
        visible_quotes(current_user).where(Quote.project_id == project.id)
        .order_by(Quote.created_at.desc(), Quote.id.desc())))


@bp.app_context_processor
def quote_helpers() -> dict[str, Any]:
    return {"project_quotes": project_quotes, "quote_badges": BADGES}


# --- the list ----------------------------------------------------------------------------


@bp.route("/quotes/")
@login_required
def index() -> str:
    require(current_user, "list", Quote)
    form = FilterForm(request.args)
    form.validate()
    stmt = (visible_quotes(current_user)
            .options(selectinload(Quote.project).selectinload(Project.company),
                     selectinload(Quote.establishment))
            .order_by(func.coalesce(Quote.issued_at, Quote.created_at).desc(),
                      Quote.id.desc()))
    if form.status.data:
        stmt = stmt.where(Quote.status == QuoteStatus(form.status.data))
    page = paginate(db.session, stmt, request.args.get("page", 1, type=int))
    return render_template("quotes/index.html", page=page, form=form,
                           status=form.status.data or None)


# --- a quote -----------------------------------------------------------------------------


def _price_choices(quote: Quote) -> list[SelectChoice]:
    prices = [p for p in price_list(db.session, establishment_id=quote.establishment_id,
                                    on=quote.price_date) if p.public is quote.public]
    choices = []
    for price in prices:
        name = price.equipment.name if price.equipment is not None else price.label
        what = f"{label(price.kind)} — {name}" if name else str(label(price.kind))
        choices.append(SelectChoice(price.id,
                                    f"{what} · {money(price.unit_price_cents, get_locale())}"))
    return choices


def _line_form(line_id: int, form: LineForm | None = None, line: Any = None) -> LineForm:
    if form is None:
        form = LineForm(formdata=None)
        form.quantity.data = _decimal(line.quantity_cents)
        form.discount.data = _decimal(line.discount_bp)
    for field in (form.quantity, form.discount, form.submit):
        field.id = field.label.field_id = f"{field.name}-{line_id}"
    return form


def _decimal(value: int) -> str:
    """Hundredths (or basis points: hundredths of a percent) as typed back into
    a field: 750 → « 7,5 » in French, "7.5" in English; no grouping."""
    units, rest = divmod(value, 100)
    if rest == 0:
        return str(units)
    separator = "." if str(get_locale()).startswith("en") else ","
    return f"{units}{separator}{rest:02d}".rstrip("0")


def _show(quote: Quote, **forms: Any) -> str:
    now = utc_now()
    manage = may(current_user, "manage", quote)
    draft = quote.status is QuoteStatus.DRAFT
    context: dict[str, Any] = {
        "quote": quote, "totals": quote_totals(quote), "manage": manage,
        "decide": may(current_user, "decide", quote) and quote.status is QuoteStatus.ISSUED,
        "expired": quotes.expired(quote, now), "draft": draft,
        "previous": db.session.get(Quote, quote.revises_id) if quote.revises_id else None,
        "newer": quotes.revision_of(db.session, quote),
        "profile": quotes.profile_of(db.session, quote.establishment_id),
    }
    if manage and draft:
        failed = forms.pop("failed_line", None)
        price_form = forms.pop("price_form", None) or PriceLineForm(formdata=None,
                                                                    prefix="price")
        price_form.price.choices = _price_choices(quote)
        settings = forms.pop("settings", None)
        if settings is None:
            settings = SettingsForm(formdata=None)
            settings.discount.data = _decimal(quote.discount_bp)
            settings.valid_until.data = quote.valid_until
            settings.notes.data = quote.notes
        context.update(
            price_form=price_form, free_form=forms.pop("free_form", None)
            or FreeLineForm(formdata=None, prefix="free"), settings=settings,
            line_forms={line.id: _line_form(line.id, failed[1] if failed and failed[0] ==
                                            line.id else None, line) for line in quote.lines},
            issue_form=IssueForm(formdata=None))
    if manage and quote.status in (QuoteStatus.ISSUED, QuoteStatus.DECLINED):
        context["revise_form"] = ReviseForm(formdata=None)
    return render_template("quotes/show.html", **context)


@bp.route("/quotes/<id:quote_id>")
@login_required
def show(quote_id: int) -> str:
    return _show(get_or_404(Quote, quote_id, current_user))


def _back(quote: Quote) -> Response:
    return redirect(url_for("quotes.show", quote_id=quote.id))


@bp.route("/quotes/<id:quote_id>/lines", methods=["POST"])
@login_required
def add_line(quote_id: int) -> str | Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    free = "free-kind" in request.form  # which of the two forms was sent
    if free:
        form: Any = FreeLineForm(prefix="free")
    else:
        form = PriceLineForm(prefix="price")
        form.price.choices = _price_choices(quote)
    if not form.validate_on_submit():
        return _show(quote, **{"free_form" if free else "price_form": form})
    if free:
        spec = LineSpec(quantity_cents=hundredths(form.quantity.data) or 0,
                        kind=PriceKind(form.kind.data), label=form.label.data or "",
                        unit=form.unit.data or "",
                        unit_price_cents=hundredths(form.unit_price.data) or 0,
                        vat_rate_bp=(hundredths(form.vat_rate.data) or 0))
    else:
        spec = LineSpec(quantity_cents=hundredths(form.quantity.data) or 0,
                        price_id=form.price.data)
    done = submit(lambda: quotes.add_line(db.session, quote, actor=current_user,
                                          now=utc_now(), spec=spec),
                  form=form, success=_("Line added."),
                  fields={"unit_price": "unit_price", "price_id": "price"})
    return _back(quote) if done else _show(quote, **{"free_form" if free else "price_form":
                                                       form})


@bp.route("/quotes/<id:quote_id>/lines/<id:line_id>", methods=["POST"])
@login_required
def update_line(quote_id: int, line_id: int) -> str | Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    form = LineForm()
    if form.validate_on_submit():
        done = submit(lambda: quotes.update_line(
            db.session, quote, actor=current_user, now=utc_now(), line_id=line_id,
            quantity_cents=hundredths(form.quantity.data) or 0,
            discount_bp=hundredths(form.discount.data) or 0), form=form,
            success=_("Line updated."))
        if done:
            return _back(quote)
    return _show(quote, failed_line=(line_id, _line_form(line_id, form)))


@bp.route("/quotes/<id:quote_id>/lines/<id:line_id>/remove", methods=["POST"])
@login_required
def remove_line(quote_id: int, line_id: int) -> Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    if RemoveLineForm().validate_on_submit():
        submit(lambda: quotes.remove_line(db.session, quote, actor=current_user, now=utc_now(),
                                          line_id=line_id), success=_("Line removed."))
    return _back(quote)


@bp.route("/quotes/<id:quote_id>/settings", methods=["POST"])
@login_required
def settings(quote_id: int) -> str | Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    form = SettingsForm()
    if form.validate_on_submit() and submit(
            lambda: quotes.update_quote(db.session, quote, actor=current_user, now=utc_now(),
                                        discount_bp=hundredths(form.discount.data) or 0,
                                        notes=form.notes.data or "",
                                        valid_until=form.valid_until.data),
            form=form, success=_("Quote saved.")):
        return _back(quote)
    return _show(quote, settings=form)


@bp.route("/quotes/<id:quote_id>/issue", methods=["POST"])
@login_required
def issue(quote_id: int) -> Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    if IssueForm().validate_on_submit():
        submit(lambda: quotes.issue_quote(db.session, quote, actor=current_user, now=utc_now()),
               success=lambda done: _("Quote %(reference)s issued and sent to the company.",
                                      reference=done.reference))
    return _back(quote)


@bp.route("/quotes/<id:quote_id>/revise", methods=["POST"])
@login_required
def revise(quote_id: int) -> Response:
    quote = get_or_404(Quote, quote_id, current_user, "manage")
    if ReviseForm().validate_on_submit():
        done = submit(lambda: quotes.revise_quote(db.session, quote, actor=current_user,
                                                  now=utc_now()),
                      success=lambda new: _("Version %(version)d drafted: change it, then "
                                            "issue it.", version=new.version))
        if done and done.value is not None:
            return _back(done.value)
    return _back(quote)


# --- the company's answer ------------------------------------------------------------------


def _origin() -> Origin:
    return Origin(request.remote_addr, request.headers.get("User-Agent"))


@bp.route("/quotes/<id:quote_id>/accept", methods=["GET", "POST"])
@login_required
def accept(quote_id: int) -> str | Response:
    quote = get_or_404(Quote, quote_id, current_user, "decide")
    form = AcceptForm()
    if form.validate_on_submit():
        submit(lambda: quotes.accept_quote(db.session, quote, actor=current_user,
                                           now=utc_now(), origin=_origin()),
               success=_("Thank you: the quote is accepted. The establishment is told."))
        return _back(quote)
    return render_template("quotes/answer.html", quote=quote, form=form, accepting=True,
                           totals=quote_totals(quote), expired=quotes.expired(quote, utc_now()))


@bp.route("/quotes/<id:quote_id>/decline", methods=["GET", "POST"])
@login_required
def decline(quote_id: int) -> str | Response:
    quote = get_or_404(Quote, quote_id, current_user, "decide")
    form = DeclineForm()
    if form.validate_on_submit() and submit(
            lambda: quotes.decline_quote(db.session, quote, actor=current_user, now=utc_now(),
                                         reason=form.reason.data or "", origin=_origin()),
            form=form, success=_("The quote is declined. The establishment is told.")):
        return _back(quote)
    return render_template("quotes/answer.html", quote=quote, form=form, accepting=False,
                           totals=quote_totals(quote), expired=quotes.expired(quote, utc_now()))


# --- the PDF -------------------------------------------------------------------------------


@bp.route("/quotes/<id:quote_id>.pdf")
@login_required
def pdf(quote_id: int) -> Response:
    quote = get_or_404(Quote, quote_id, current_user, "pdf")
    data = render_pdf("paperwork/quote.html", quote=quote, totals=quote_totals(quote),
                      establishment=quote.establishment,
                      profile=quotes.profile_of(db.session, quote.establishment_id),
                      previous=db.session.get(Quote, quote.revises_id)
                      if quote.revises_id else None)
    name = ascii_file_name(quote.reference or _("draft-quote-%(id)d", id=quote.id),
                           fallback="quote")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{name}.pdf"'})


# --- a draft from a project -------------------------------------------------------------------


def _issuers() -> list[SelectChoice]:
    if is_admin(current_user):
        rows = db.session.scalars(select(Establishment).order_by(Establishment.name))
        return [SelectChoice(e.id, e.name) for e in rows]
    own = current_user.establishment
    return [SelectChoice(own.id, own.name)] if own is not None else []


@bp.route("/projects/<id:project_id>/quotes/new", methods=["GET", "POST"])
@login_required
def new(project_id: int) -> str | Response:
    project = get_or_404(Project, project_id, current_user, "quote")
    form = NewQuoteForm()
    form.establishment.choices = _issuers()
    if request.method == "GET" and project.equipment and is_admin(current_user):
        form.establishment.data = min(project.equipment, key=lambda e: e.id).establishment_id
    if form.validate_on_submit():
        done = submit(lambda: quotes.draft_quote(
            db.session, actor=current_user, now=utc_now(), project=project,
            establishment_id=form.establishment.data, public=Public(form.public.data),
            price_date=form.price_date.data), form=form,
            success=_("Quote drafted from the price list: check its lines, then issue it."),
            fields={"establishment_id": "establishment"})
        if done and done.value is not None:
            return _back(done.value)
    return render_template("quotes/new.html", project=project, form=form)
