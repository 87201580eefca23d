"""A small campus with one real object of every kind a URL names and one
person per column of the route × role matrix; browsers and tokens for them;
and what proves that a refused request wrote nothing (a fingerprint of the
tables, the tables a statement was sent to, a savepoint that undoes it all).

Shared by the route × role matrix (tests/test_route_matrix.py), the API fuzzing
(tests/test_api_fuzz.py) and the hostile-value catalogue
(tests/test_hostile_inputs.py).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from booking.services.accounts.integration_tokens import create_integration_token
from booking.services.accounts.links import issue_link
from booking.services.accounts.tokens import issue_token
from booking.services.bookings.operations import BookingRequest, create_booking
from booking.services.certifications.requests import request_certification
from booking.services.closures.operations import closure_target, create_closure
from booking.services.equipment.documents import Storage, Upload, add_document
from booking.services.feeds.operations import create_feed, feed_token
from booking.services.kiosk.operations import create_link, kiosk_token
from booking.services.policy import Policy
from booking.services.quotes import operations as quotes
from models import (
    AgreementStatus,
    AgreementWaiver,
    AttendanceSheet,
    Base,
    BillingProfile,
    BookingPurpose,
    BookingStatus,
    DocumentKind,
    FeedScope,
    HalfDay,
    IdentityLink,
    IdentityProvider,
    KioskScope,
    Learner,
    LearnerPublic,
    LinkPurpose,
    Price,
    PriceKind,
    Project,
    ProjectStatus,
    Public,
    Quota,
    QuotaAppliesTo,
    QuotaOver,
    QuotaPeriod,
    Quote,
    QuoteLine,
    QuoteStatus,
    Role,
    TrainingAgreement,
    User,
    WaitlistEntry,
    WaitlistStatus,
)
from models.incident import Incident
from tests.conftest import NOW, PASSWORD, Factory, csrf_token_of

PARIS = ZoneInfo("Europe/Paris")

# The columns of the matrix: anonymous, then one person per role, then the
# people a rule must tell apart from them (another establishment's
# coordinator, a trainer who is not the booking's, another company's contact).
ROLES = ("anon", "admin", "coordinator", "other_coordinator", "trainer", "other_trainer",
         "company", "other_company")


@dataclass
class World:
    """The objects every URL of the matrix points at, and their people."""

    people: dict[str, User]
    ids: dict[str, int | str]
    feed_token: str

    def __getitem__(self, role: str) -> User:
        return self.people[role]


def build_world(app: Flask, make: Factory, db: Session) -> World:
    """Two establishments (the coordinator's and another), two companies, and:
    a machine of the home establishment that needs approval and a certification;
    company A's approved project trained by ``trainer``; its pending booking,
    booked by ``trainer``; ``trainer``'s certification and agenda feed;
    ``other_trainer``'s open certification request; a closure; a CAS provider
    of the home establishment (code "world-cas") and ``trainer``'s link to it."""
    home = make.establishment(code="HOME", name="Lycée du Parc", timezone="Europe/Paris")
    away = make.establishment(code="AWAY", name="IUT de Tours", timezone="Europe/Paris")
    company_a, company_b = make.company(name="Laboratoire A"), make.company(name="Société B")
    people = {
        "admin": make.user(Role.ADMIN),
        "coordinator": make.user(Role.COORDINATOR, establishment=home),
        "other_coordinator": make.user(Role.COORDINATOR, establishment=away),
        "trainer": make.user(Role.TRAINER, establishment=home),
        "other_trainer": make.user(Role.TRAINER, establishment=home),
        "company": make.user(Role.COMPANY, company=company_a),
        "other_company": make.user(Role.COMPANY, company=company_b),
    }
    ctype = make.certification_type(code="HAB-M", name="Mélangeur")
    machine = make.equipment(establishment=home, code="MEL-1", name="Mélangeur",
                             requires_approval=True)
    machine.required_certification_types = [ctype]
    certification = make.certification(people["trainer"], ctype)
    project = Project(company=company_a, requested_by=people["company"], title="Crèmes",
                      learners=8, wanted_from=date(2027, 1, 1), wanted_to=date(2027, 6, 30),
                      status=ProjectStatus.APPROVED, trainer=people["trainer"],
                      equipment=[machine])
    db.add(project)
    db.flush()
    # Created approved: like the projects migration 0013 found approved, it needs
    # no training agreement (the scheduling gate, booking.services.agreements.gate).
    db.add(AgreementWaiver(project_id=project.id, waived_at=NOW, reason="Projet existant"))
    db.flush()
    start = datetime(2027, 1, 13, 9, tzinfo=PARIS)
    with app.app_context():
        booking = create_booking(db, actor=people["trainer"], now=NOW, policy=Policy(),
                                 notify=False, request=BookingRequest(
                                     machine.id, start, start + timedelta(hours=1), "Émulsion",
                                     BookingPurpose.INDUSTRIAL_PROJECT, project_id=project.id))
        key = app.config["SECRET_KEY"]
        feed = create_feed(db, actor=people["trainer"], now=NOW, scope=FeedScope.TRAINER,
                           scope_id=people["trainer"].id, key=key)
        # The home coordinator's kiosk screen of the site (the kiosk routes).
        kiosk = create_link(db, actor=people["coordinator"], now=NOW,
                            scope=KioskScope.ESTABLISHMENT, target_id=home.id, label="Hall",
                            key=key)
        requested = request_certification(db, actor=people["other_trainer"],
                                          equipment=machine, now=NOW)
        closure = create_closure(
            db, closure_target(db, establishment_id=home.id, equipment_id=None),
            actor=people["coordinator"], now=NOW, reason="Inventaire",
            start=datetime(2027, 2, 1, 8, tzinfo=PARIS), end=datetime(2027, 2, 1, 18,
                                                                      tzinfo=PARIS))
        document = add_document(
            db, actor=people["coordinator"], equipment=machine, now=NOW,
            storage=Storage(Path(app.config["DOCUMENTS_DIR"]), 1024 * 1024),
            upload=Upload(b"%PDF-1.7\n%%EOF\n", "consignes.pdf", DocumentKind.SAFETY))
        _, integration = create_integration_token(
            db, actor=people["trainer"], owner=people["trainer"], name="Synchro",
            scope="read", expires_on=None, now=NOW)
    # Built directly (no check_settings, no network): the sign-in routes' provider,
    # and the trainer's link to it (the identity-link routes).
    provider = IdentityProvider(code="world-cas", establishment_id=home.id, kind="cas",
                                label="CAS du Parc", enabled=True,
                                settings={"server_url": "http://127.0.0.1:9/cas/"},
                                role_rules=[], default_role="trainer", created_at=NOW)
    db.add(provider)
    db.flush()
    # An LDAP provider whose directory never answers (the discard port): its
    # sign-in form (tests/test_input_boundary.py) is ours, not a redirect, so
    # the sign-in routes answer without a network (ids["code"]).
    db.add(IdentityProvider(code="world-ldap", establishment_id=home.id, kind="ldap",
                            label="Annuaire du Parc", enabled=True,
                            settings={"url": "ldap://127.0.0.1:9",
                                      "user_dn_template": "uid={username},dc=parc"},
                            role_rules=[], default_role="trainer", created_at=NOW))
    identity_link = IdentityLink(provider_id=provider.id, subject="world-trainer",
                                 user_id=people["trainer"].id, created_at=NOW)
    db.add(identity_link)
    db.flush()
    # A quota on the machine for the other establishments (the quota routes):
    # generous and sending to approval, so that no other route meets it.
    quota = Quota(establishment_id=home.id, equipment_id=machine.id,
                  applies_to=QuotaAppliesTo.ESTABLISHMENT, period=QuotaPeriod.MONTH,
                  max_minutes=6000, over=QuotaOver.APPROVAL, created_at=NOW, updated_at=NOW)
    db.add(quota)
    # ``trainer``'s offer of a free slot on the machine (the waiting list routes).
    offer = WaitlistEntry(user_id=people["trainer"].id, equipment_id=machine.id,
                          start_at=datetime(2027, 1, 14, 14, tzinfo=PARIS),
                          end_at=datetime(2027, 1, 14, 15, tzinfo=PARIS), title="Reprise",
                          purpose=BookingPurpose.TRAINING, status=WaitlistStatus.OFFERED,
                          created_at=NOW, updated_at=NOW, offered_at=NOW,
                          offer_expires_at=NOW + timedelta(hours=2))
    db.add(offer)
    # A problem ``trainer`` reported on the machine at a check-out (the incident routes).
    incident = Incident(equipment_id=machine.id, booking_id=booking.id,
                        reported_by_id=people["trainer"].id, reported_at=NOW,
                        description="Joint de porte usé")
    db.add(incident)
    # A price of the machine for companies from February (the price routes:
    # not in force yet and quoted nowhere, so that it may be withdrawn).
    price = Price(establishment_id=home.id, equipment_id=machine.id,
                  kind=PriceKind.MACHINE_HOUR, public=Public.COMPANY, unit_price_cents=9000,
                  vat_rate_bp=2000, valid_from=date(2027, 2, 1), created_at=NOW)
    db.add(price)
    db.flush()
    # Continuing education (issue 15). Company A's project has its quote accepted
    # and its training agreement to sign (the agreement routes), a learner and
    # the morning sheet of its session (the attendance routes). A second project
    # of company A, still requested, has a quote issued by the home
    # establishment, awaiting its answer (the quote routes).
    accepted = Quote(project_id=project.id, establishment_id=home.id, public=Public.COMPANY,
                     status=QuoteStatus.ACCEPTED, number="DEV-LYC-2027-0001",
                     price_date=date(2027, 1, 4), total_excl_cents=42000, vat_cents=8400,
                     total_incl_cents=50400, created_at=NOW, updated_at=NOW, issued_at=NOW,
                     decided_at=NOW)
    accepted.lines = [QuoteLine(position=1, kind=PriceKind.TRAINER_HOUR, label="Formateur",
                                quantity_cents=700, unit_price_cents=6000)]
    db.add(accepted)
    db.flush()
    agreement = TrainingAgreement(
        project_id=project.id, quote_id=accepted.id, establishment_id=home.id,
        status=AgreementStatus.GENERATED, company_name="Laboratoire A", title="Crèmes",
        starts_on=date(2027, 1, 1), ends_on=date(2027, 6, 30), duration_hours_cents=700,
        learners=8, total_excl_cents=42000, vat_cents=8400, total_incl_cents=50400,
        generated_at=NOW)
    learner = Learner(project_id=project.id, first_name="Léa", last_name="Garnier",
                      public=LearnerPublic.EMPLOYEE, created_at=NOW)
    sheet = AttendanceSheet(booking_id=booking.id, project_id=project.id, day=date(2027, 1, 13),
                            half_day=HalfDay.MORNING, hours_cents=100, created_at=NOW)
    db.add_all([agreement, learner, sheet])
    perfumes = Project(company=company_a, requested_by=people["company"], title="Parfums",
                       learners=4, wanted_from=date(2027, 3, 1), wanted_to=date(2027, 3, 31),
                       status=ProjectStatus.REQUESTED, equipment=[machine])
    db.add(BillingProfile(establishment_id=home.id, legal_name="Lycée du Parc"))
    db.add(Price(establishment_id=home.id, equipment_id=machine.id,
                 kind=PriceKind.MACHINE_HOUR, public=Public.COMPANY, unit_price_cents=18000,
                 valid_from=date(2026, 9, 1), created_at=NOW))
    db.add(perfumes)
    db.flush()
    with app.app_context():
        quote = quotes.draft_quote(db, actor=people["coordinator"], now=NOW, project=perfumes)
        quotes.issue_quote(db, quote, actor=people["coordinator"], now=NOW, notify=False)
    assert booking.status is BookingStatus.PENDING
    ids: dict[str, int | str] = {
        "booking_id": booking.id, "equipment_id": machine.id, "establishment_id": home.id,
        "project_id": project.id, "user_id": people["trainer"].id, "feed_id": feed.id,
        "certification_id": certification.id, "request_id": requested.created[0].id,
        "closure_id": closure.id, "job_id": "complete_past",
        "certification_type_id": ctype.id, "company_id": company_a.id,
        "away_id": away.id, "document_id": document.id, "token_id": integration.id,
        "code": "world-ldap", "provider_id": provider.id, "identity_link_id": identity_link.id,
        "quota_id": quota.id, "waitlist_entry_id": offer.id,
        "link_id": kiosk.id, "kiosk_token": kiosk_token(kiosk, key), "incident_id": incident.id,
        "price_id": price.id, "quote_id": quote.id, "line_id": quote.lines[0].id,
        "agreement_id": agreement.id, "learner_id": learner.id, "sheet_id": sheet.id,
        "survey_token": "unknown-survey-link",
        # A live « mot de passe oublié » link of other_trainer (its secret, in the URL).
        "link": issue_link(db, people["other_trainer"], LinkPurpose.PASSWORD_RESET, now=NOW),
    }
    return World(people, ids, feed_token(feed, key))


# --- clients ------------------------------------------------------------------------------


def logged_in(app: Flask, user: User | None) -> FlaskClient:
    """A browser of its own, logged in through the real login form (or anonymous)."""
    client = app.test_client()
    if user is None:
        return client
    token = csrf_token_of(client.get("/auth/login").get_data(as_text=True))
    answer = client.post("/auth/login", data={"email": user.email, "password": PASSWORD,
                                              "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return client


def bearer(app: Flask, db: Session, user: User) -> dict[str, str]:
    """The Authorization header of a fresh API token of ``user`` (issued by the
    service, so that the fuzzing does not depend on the login throttling)."""
    with app.app_context():
        token, _ = issue_token(db, user, now=NOW, lifetime=timedelta(days=30))
    db.flush()
    return {"Authorization": f"Bearer {token}"}


# --- nothing written ----------------------------------------------------------------------

_DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def fingerprint(db: Session, tables: Iterable[str] | None = None) -> dict[str, str]:
    """A digest of every row of these tables (default: all): a refused request
    must leave them as they were (counts alone would miss an update)."""
    db.expire_all()
    wanted = None if tables is None else set(tables)
    digests = {}
    for table in Base.metadata.sorted_tables:
        if wanted is not None and table.name not in wanted:
            continue
        rows = db.execute(select(table)).all()
        lines = sorted(repr(tuple(row)) for row in rows)
        digests[table.name] = f"{len(rows)}:" + hashlib.sha256(
            "\n".join(lines).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


class WriteWatch:
    """The tables an INSERT, UPDATE or DELETE was sent to since :meth:`reset`,
    whoever sent it: only those need comparing after a request (a statement
    undone by a savepoint leaves its table as it was, and the comparison says so)."""

    def __init__(self, db: Session) -> None:
        self.engine = db.get_bind().engine
        self.tables: set[str] = set()

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        match = _DML.match(statement)
        if match:
            self.tables.add(match.group(1))

    def __enter__(self) -> WriteWatch:
        self.reset()
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def reset(self) -> None:
        self.tables = set()

    def changed(self, db: Session, before: dict[str, str]) -> list[str]:
        """Tables written since the last reset whose rows differ from ``before``."""
        if not self.tables:
            return []
        return changed_tables(before, fingerprint(db, self.tables))


@contextmanager
def undone(db: Session) -> Iterator[Any]:
    """Whatever the requests inside write is undone afterwards (unless the
    caller commits the savepoint it is given): a savepoint of the test's
    connection, which the application's sessions nest into."""
    connection = db.connection()
    savepoint = connection.begin_nested()
    try:
        yield savepoint
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        db.expire_all()
