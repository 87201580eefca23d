"""The directory API: establishments, companies, certification types, accounts,
certifications and closures.

Each handler loads (404), checks (403, booking.permissions), then calls a
service and commits. A refusal is a DomainError: the error handler rolls back.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from booking.api import Blueprint
from booking.api.auth import api_user
from booking.api.common import allow, load, local_iso, page
from booking.api.fields import (
    DATE_TIME,
    Day,
    Instant,
    PageArgs,
    Text,
    integer,
    object_id,
    optional_text,
    page_of,
    required_text,
    text,
)
from booking.extensions import db
from booking.handlers import commit
from booking.services.accounts import directory, providers
from booking.services.certifications import operations as certifications
from booking.services.closures import operations as closure_ops
from booking.services.errors import N_, NotFound, ValidationError
from booking.services.policy import CAMPUS_ZONE
from booking.timeutil import utc_now
from models import (
    Certification,
    CertificationType,
    Closure,
    ClosureKind,
    Company,
    Establishment,
    EstablishmentKind,
    Role,
    User,
)

PARIS = CAMPUS_ZONE.key

establishments = Blueprint("Establishments", __name__, url_prefix="/api/v1/establishments",
                           description="Establishments of the campus; admins write.")
companies = Blueprint("Companies", __name__, url_prefix="/api/v1/companies",
                      description="Companies; coordinators and admins.")
certification_types = Blueprint(
    "certification-types", __name__, url_prefix="/api/v1/certification-types",
    description="Certification types (habilitations); admins write.")
users = Blueprint("Users", __name__, url_prefix="/api/v1/users",
                  description="Accounts; admins create, coordinators read.")
certs = Blueprint("Certifications", __name__, url_prefix="/api/v1",
                  description="Certifications trainers hold; coordinators grant and revoke.")
closures = Blueprint("Closures", __name__, url_prefix="/api/v1/closures",
                     description="Periods when an establishment or a machine is closed.")
BLUEPRINTS = [establishments, companies, certification_types, users, certs, closures]


# --- schemas --------------------------------------------------------------------


class EstablishmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = required_text(32)
    name = required_text(255)
    city = required_text(120)
    department = Text(required=True, validate=validate.Regexp(
        r"^(\d{2,3}|2[AB])$", error="A département number, such as 45."))
    kind = fields.Enum(EstablishmentKind, by_value=True, required=True)
    # Checked against the IANA database by the service (an unknown zone is a 422).
    timezone = text(64, min_length=1, load_default=PARIS,
                    metadata={"description": "An IANA time zone; Europe/Paris by default."})


    local_passwords = fields.Boolean(dump_only=True, metadata={
        "description": "Its trainers and coordinators may sign in with a password "
                       "(false: only through its identity providers)."})


class EstablishmentPatchSchema(EstablishmentSchema):
    """Any subset of an establishment's fields."""

    local_passwords = fields.Boolean(metadata={
        "description": "false is refused (422) while it has no enabled identity provider."})


class CompanySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = required_text(255)


class CertificationTypeSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = required_text(32)
    name = required_text(255)
    validity_months = integer(1, 600, load_default=12)
    description = optional_text(5000)


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = text(254, min_length=3, required=True)
    name = required_text(255)
    role = fields.Enum(Role, by_value=True, required=True)
    password = text(1024, required=True, load_only=True, strip=False)
    establishment_id = object_id(allow_none=True, load_default=None)
    company_id = object_id(allow_none=True, load_default=None)
    active = fields.Boolean(dump_only=True)


class UserQuerySchema(PageArgs):
    role = fields.Enum(Role, by_value=True)
    establishment_id = object_id(strict=False)
    company_id = object_id(strict=False)


class CertificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    certification_type_id = object_id(required=True)
    valid_from = Day(metadata={"description": "Inclusive; today (Paris) by default."})
    valid_until = Day(metadata={
        "description": "Inclusive; by default valid_from plus the type's validity_months."})
    granted_by_id = fields.Integer(dump_only=True, allow_none=True)
    revoked_at = fields.Function(lambda c: local_iso(c.revoked_at, PARIS), dump_only=True,
                                 metadata={**DATE_TIME, "nullable": True})
    revoked_by_id = fields.Integer(dump_only=True, allow_none=True)


class RevokeQuerySchema(Schema):
    reason = optional_text(2000)


class ClosureInSchema(Schema):
    id = fields.Integer(dump_only=True)
    establishment_id = object_id(allow_none=True, load_default=None)
    equipment_id = object_id(allow_none=True, load_default=None)
    start = Instant(required=True)
    end = Instant(required=True)
    reason = required_text(2000)
    kind = fields.Enum(ClosureKind, by_value=True, load_default=ClosureKind.OTHER)


class ClosureSchema(ClosureInSchema):
    """A closure's times are given in its establishment's zone, with offset."""

    start = fields.String(metadata=DATE_TIME)
    end = fields.String(metadata=DATE_TIME)


class ClosureQuerySchema(PageArgs):
    establishment_id = object_id(strict=False)
    equipment_id = object_id(strict=False)
    from_ = Instant(data_key="from", metadata={"description": "Closures ending after."})
    to = Instant(metadata={"description": "Closures starting before."})


# --- establishments -------------------------------------------------------------


@establishments.route("", methods=["GET"])
@establishments.arguments(PageArgs, location="query")
@establishments.response(200, page_of(EstablishmentSchema))
def list_establishments(args: dict[str, Any]) -> dict[str, Any]:
    """Every establishment, by code."""
    return page(select(Establishment).order_by(Establishment.code), args)


@establishments.route("", methods=["POST"])
@allow("create", Establishment)
@establishments.arguments(EstablishmentSchema)
@establishments.response(201, EstablishmentSchema)
def create_establishment(body: dict[str, Any]) -> Establishment:
    """Add an establishment (admin). A code already used is a 409."""
    establishment = directory.create_establishment(
        db.session, actor=api_user(), now=utc_now(), **body)
    commit()
    return establishment


@establishments.route("/<id:establishment_id>", methods=["GET"])
@establishments.response(200, EstablishmentSchema)
def get_establishment(establishment_id: int) -> Establishment:
    return load(Establishment, establishment_id, api_user())


@establishments.route("/<id:establishment_id>", methods=["PATCH"])
@establishments.arguments(EstablishmentPatchSchema(partial=True))
@establishments.response(200, EstablishmentSchema)
def update_establishment(body: dict[str, Any], establishment_id: int) -> Establishment:
    """Change any of an establishment's fields (admin)."""
    establishment = load(Establishment, establishment_id, api_user(), "manage")
    allowed = body.pop("local_passwords", None)
    if body:
        directory.update_establishment(
            db.session, establishment, actor=api_user(), now=utc_now(), **body)
    if allowed is not None:
        providers.set_local_passwords(db.session, establishment, allowed, actor=api_user(),
                                      now=utc_now())
    commit()
    return establishment


# --- companies --------------------------------------------------------------------


@companies.route("", methods=["GET"])
@allow("list", Company)
@companies.arguments(PageArgs, location="query")
@companies.response(200, page_of(CompanySchema))
def list_companies(args: dict[str, Any]) -> dict[str, Any]:
    return page(select(Company).order_by(Company.name, Company.id), args)


@companies.route("", methods=["POST"])
@allow("create", Company)
@companies.arguments(CompanySchema)
@companies.response(201, CompanySchema)
def create_company(body: dict[str, Any]) -> Company:
    """Add a company; a name already used (whatever its case) is a 409."""
    company = directory.create_company(db.session, actor=api_user(), now=utc_now(), **body)
    commit()
    return company


# --- certification types ----------------------------------------------------------


@certification_types.route("", methods=["GET"])
@certification_types.arguments(PageArgs, location="query")
@certification_types.response(200, page_of(CertificationTypeSchema))
def list_certification_types(args: dict[str, Any]) -> dict[str, Any]:
    return page(select(CertificationType).order_by(CertificationType.code), args)


@certification_types.route("", methods=["POST"])
@allow("create", CertificationType)
@certification_types.arguments(CertificationTypeSchema)
@certification_types.response(201, CertificationTypeSchema)
def create_certification_type(body: dict[str, Any]) -> CertificationType:
    ctype = certifications.create_type(db.session, actor=api_user(), now=utc_now(), **body)
    commit()
    return ctype


# --- accounts -------------------------------------------------------------------------


@users.route("", methods=["GET"])
@allow("list", User)
@users.arguments(UserQuerySchema, location="query")
@users.response(200, page_of(UserSchema))
def list_users(args: dict[str, Any]) -> dict[str, Any]:
    """Accounts, by name; filters ``role``, ``establishment_id``, ``company_id``."""
    stmt = select(User).order_by(User.name, User.id)
    for name in ("role", "establishment_id", "company_id"):
        if name in args:
            stmt = stmt.where(getattr(User, name) == args[name])
    return page(stmt, args)


@users.route("", methods=["POST"])
@allow("create", User)
@users.arguments(UserSchema)
@users.response(201, UserSchema)
def create_user(body: dict[str, Any]) -> User:
    """Create an account (admin). An e-mail already used is a 409."""
    body["role"] = body["role"].value
    user = directory.create_account(db.session, actor=api_user(), now=utc_now(), **body)
    commit()
    return user


@users.route("/<id:user_id>", methods=["GET"])
@users.response(200, UserSchema)
def get_user(user_id: int) -> User:
    """An account: coordinators and admins see all, others only their own."""
    return load(User, user_id, api_user())


# --- certifications -----------------------------------------------------------------


@certs.route("/users/<id:user_id>/certifications", methods=["GET"])
@certs.arguments(PageArgs, location="query")
@certs.response(200, page_of(CertificationSchema))
def list_certifications(args: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A user's certifications, revoked ones included (coordinators, or the holder)."""
    holder = load(User, user_id, api_user(), "view_certifications")
    stmt = (select(Certification).where(Certification.user_id == holder.id)
            .order_by(Certification.valid_until.desc(), Certification.id.desc()))
    return page(stmt, args)


@certs.route("/users/<id:user_id>/certifications", methods=["POST"])
@certs.arguments(CertificationSchema)
@certs.response(201, CertificationSchema)
def grant_certification(body: dict[str, Any], user_id: int) -> Certification:
    """Grant a certification (a coordinator of any establishment, or an admin)."""
    holder = load(User, user_id, api_user())  # the service says why it may not grant
    certification = certifications.grant(
        db.session, holder, actor=api_user(), now=utc_now(), **body)
    commit()
    return certification


@certs.route("/certifications/<id:certification_id>", methods=["DELETE"])
@certs.arguments(RevokeQuerySchema, location="query")
@certs.response(204)
def revoke_certification(args: dict[str, Any], certification_id: int) -> None:
    """Revoke: the row is kept with its revocation date; revoking twice is a 409."""
    certification = load(Certification, certification_id, api_user(), "revoke")
    certifications.revoke(db.session, certification, actor=api_user(), now=utc_now(),
                          reason=args.get("reason"))
    commit()


# --- closures -------------------------------------------------------------------------


def _closure_out(closure: Closure, zone: str) -> dict[str, Any]:
    return {
        "id": closure.id, "establishment_id": closure.establishment_id,
        "equipment_id": closure.equipment_id, "start": local_iso(closure.start_at, zone),
        "end": local_iso(closure.end_at, zone), "reason": closure.reason, "kind": closure.kind,
    }


@closures.route("", methods=["GET"])
@allow("list", Closure)
@closures.arguments(ClosureQuerySchema, location="query")
@closures.response(200, page_of(ClosureSchema))
def list_closures(args: dict[str, Any]) -> dict[str, Any]:
    """Closures by start; ``from``/``to`` keep those overlapping the window."""
    if "from_" in args and "to" in args and args["from_"] >= args["to"]:
        raise ValidationError(N_("'from' must come before 'to'."), {"fields": ["from", "to"]})
    stmt = select(Closure).order_by(Closure.start_at, Closure.id)
    for name in ("establishment_id", "equipment_id"):
        if name in args:
            stmt = stmt.where(getattr(Closure, name) == args[name])
    if "from_" in args:
        stmt = stmt.where(Closure.end_at > args["from_"])
    if "to" in args:
        stmt = stmt.where(Closure.start_at < args["to"])
    result = page(stmt, args)
    zones = closure_ops.closure_zones(db.session, result["items"])
    result["items"] = [_closure_out(c, zones[c.id]) for c in result["items"]]
    return result


@closures.route("", methods=["POST"])
@allow("coordinate", Establishment)
@closures.arguments(ClosureInSchema)
@closures.response(201, ClosureSchema)
def create_closure(body: dict[str, Any]) -> dict[str, Any]:
    """Close an establishment or one machine (its coordinators, or an admin)."""
    user = api_user()
    target = closure_ops.closure_target(
        db.session, establishment_id=body.pop("establishment_id"),
        equipment_id=body.pop("equipment_id"))
    closure = closure_ops.create_closure(db.session, target, actor=user, now=utc_now(), **body)
    zone = closure_ops.closure_zones(db.session, [closure])[closure.id]
    commit()
    return _closure_out(closure, zone)


@closures.route("/<id:closure_id>", methods=["DELETE"])
@allow("coordinate", Establishment)
@closures.response(204)
def delete_closure(closure_id: int) -> None:
    user = api_user()
    closure = db.session.get(Closure, closure_id)
    if closure is None:
        raise NotFound(N_("No closure %(id)s."), id=closure_id)
    closure_ops.delete_closure(db.session, closure, actor=user, now=utc_now())
    commit()
