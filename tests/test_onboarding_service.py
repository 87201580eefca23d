"""Bulk onboarding, the service: each kind of file, the preview, all or
nothing, importing twice, who may import what."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy import func, select

from booking.services.errors import Forbidden
from booking.services.onboarding.plan import ImportRefused, import_file, preview
from models import (
    AccountLink,
    AuditEntry,
    Certification,
    Company,
    Equipment,
    EquipmentCategory,
    OutboxMessage,
    Role,
    User,
)
from tests.conftest import NOW


def csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture
def site(make):
    est = make.establishment(code="LYC-ORL", name="Lycée Benjamin Franklin")
    admin = make.user(Role.ADMIN, email="admin@example.org")
    coordinator = make.user(Role.COORDINATOR, establishment=est, email="coord@example.org")
    return est, admin, coordinator


@pytest.fixture
def french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        yield


# --- accounts -------------------------------------------------------------------------


ACCOUNTS = csv("email,name,role,establishment,company",
               "Camille.Martin@example.org,Camille Martin,trainer,LYC-ORL,",
               "lea@acme.test,Léa Dubois,company,,ACME Cosmétiques")


def test_accounts_are_invited_with_a_single_use_link_never_a_password(db, site) -> None:
    _est, admin, _coordinator = site
    plan = import_file(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    assert plan.counts == {"created": 2, "updated": 0, "unchanged": 0, "error": 0}
    camille = db.scalar(select(User).where(User.email == "camille.martin@example.org"))
    assert camille.role is Role.TRAINER
    assert camille.establishment.code == "LYC-ORL"
    assert camille.password_hash.startswith("!invited:")
    lea = db.scalar(select(User).where(User.email == "lea@acme.test"))
    assert lea.company.name == "ACME Cosmétiques"  # the new company, created with her
    assert count(db, AccountLink) == 2
    mails = db.scalars(select(OutboxMessage.to_addr)).all()
    assert sorted(mails) == ["camille.martin@example.org", "lea@acme.test"]
    assert plan.lines[1].changes[0].after == "ACME Cosmétiques"


def test_importing_the_same_file_again_changes_nothing(db, site) -> None:
    _est, admin, _coordinator = site
    import_file(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    mails, audits = count(db, OutboxMessage), count(db, AuditEntry)
    plan = import_file(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    assert plan.counts == {"created": 0, "updated": 0, "unchanged": 2, "error": 0}
    assert count(db, OutboxMessage) == mails  # no second invitation
    assert count(db, AuditEntry) == audits + 1  # the import's own entry only


def test_a_changed_name_is_listed_with_its_old_and_new_value(db, site, make) -> None:
    est, admin, _coordinator = site
    make.user(Role.TRAINER, email="camille.martin@example.org", name="C. Martin",
              establishment=est)
    plan = preview(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    first = plan.lines[0]
    assert first.status == "updated"
    assert [(c.column, c.before, c.after) for c in first.changes] == [
        ("Name", "C. Martin", "Camille Martin")]


def test_an_account_is_never_moved_by_a_file(db, site, make) -> None:
    _est, admin, _coordinator = site
    make.user(Role.COORDINATOR, email="camille.martin@example.org")
    plan = preview(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    assert plan.lines[0].status == "error"
    assert "another role or place" in str(plan.lines[0].errors[0])


def test_french_headers_and_labels_are_read(db, site, french) -> None:
    _est, admin, _coordinator = site
    data = csv("Adresse e-mail;Nom;Rôle;Établissement (code)",
               "jean@example.org;Jean Petit;Formateur;LYC-ORL")
    plan = preview(db, actor=admin, kind="accounts", data=data, now=NOW)
    assert plan.errors == [], plan
    assert plan.lines[0].status == "created", plan


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["accounts", "equipment", "certifications"])
def test_each_template_reads_back_in_either_language(app, db, site, language, file_format,
                                                     kind) -> None:
    from booking.services.onboarding.template import template_file
    from booking.services.tables import layout_for

    _est, _admin, coordinator = site
    with app.test_request_context(headers={"Accept-Language": language}):
        data, _type, _name = template_file(kind, file_format, layout_for(language))
        plan = preview(db, actor=coordinator, kind=kind, data=data, now=NOW)
    assert plan.errors == []
    assert len(plan.lines) == 1
    if kind != "certifications":  # its example names a type this campus lacks
        assert plan.lines[0].status == "created", plan.lines[0].errors


# --- preview and all or nothing ------------------------------------------------------


def test_preview_writes_nothing(db, site) -> None:
    _est, admin, _coordinator = site
    before = count(db, User), count(db, OutboxMessage), count(db, AuditEntry)
    plan = preview(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW)
    assert plan.valid
    assert plan.counts["created"] == 2
    assert (count(db, User), count(db, OutboxMessage), count(db, AuditEntry)) == before
    assert count(db, Company) == 0


def test_one_bad_line_and_nothing_is_written_with_every_error_listed(db, site) -> None:
    _est, admin, _coordinator = site
    data = csv("email,name,role,establishment",
               "ok@example.org,Ok,trainer,LYC-ORL",
               "not-an-address,Bad,trainer,LYC-ORL",
               "nobody@example.org,,chef,NOWHERE",
               "ok@example.org,Again,trainer,")
    users = count(db, User)
    with pytest.raises(ImportRefused) as refused:
        import_file(db, actor=admin, kind="accounts", data=data, now=NOW)
    plan = refused.value.plan
    assert count(db, User) == users
    assert [line.status for line in plan.lines] == ["created", "error", "error", "error"]
    assert plan.counts == {"created": 1, "updated": 0, "unchanged": 0, "error": 3}
    third = [str(e) for e in plan.lines[2].errors]
    assert len(third) == 2  # the empty name and the unknown role, both
    assert any("Name" in e for e in third)
    assert any("Role" in e for e in third)
    assert "already on line 2" in str(plan.lines[3].errors[0])


# --- equipment -----------------------------------------------------------------------


EQUIPMENT = csv(
    "code;name;establishment;category;line;capacity;slot_minutes;min_minutes;max_minutes;"
    "monday;tuesday;certifications",
    # The component comes first in the file: its line is created before it.
    "REMP-01;Remplisseuse;LYC-ORL;training_equipment;LIGNE-01;;30;30;240;;;",
    "LIGNE-01;Ligne de conditionnement;LYC-ORL;pilot_line;;12;30;60;480;"
    "08:00-12:00, 13:00-17:00;08:00-12:00;GMP",
)


def test_equipment_with_its_components_and_opening_hours(db, site, make) -> None:
    est, _admin, coordinator = site
    make.certification_type(code="GMP")
    plan = import_file(db, actor=coordinator, kind="equipment", data=EQUIPMENT, now=NOW)
    assert plan.counts["created"] == 2, plan
    line = db.scalar(select(Equipment).where(Equipment.code == "LIGNE-01"))
    filler = db.scalar(select(Equipment).where(Equipment.code == "REMP-01"))
    assert line.category is EquipmentCategory.PILOT_LINE
    assert line.establishment_id == est.id
    assert filler.parent_id == line.id
    assert [(h.weekday, h.opens, h.closes) for h in line.opening_hours] == [
        (0, time(8), time(12)), (0, time(13), time(17)), (1, time(8), time(12))]
    # A component with no hours of its own keeps its line's.
    assert len(filler.opening_hours) == 3
    assert [t.code for t in line.required_certification_types] == ["GMP"]
    again = import_file(db, actor=coordinator, kind="equipment", data=EQUIPMENT, now=NOW)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 2, "error": 0}


def test_equipment_changes_are_listed_day_by_day(db, site, make) -> None:
    est, admin, _coordinator = site
    make.equipment(code="ROB-1", name="Robot", establishment=est, capacity=4)
    data = csv("code,capacity,monday,tuesday", "ROB-1,6,08:00-18:00,")
    plan = import_file(db, actor=admin, kind="equipment", data=data, now=NOW)
    changes = {c.column: (c.before, c.after) for c in plan.lines[0].changes}
    assert changes == {"Capacity (learners)": (4, 6),
                       "Tuesday": ("08:00-18:00", None),
                       "Wednesday": ("08:00-18:00", None),
                       "Thursday": ("08:00-18:00", None),
                       "Friday": ("08:00-18:00", None)}
    robot = db.scalar(select(Equipment).where(Equipment.code == "ROB-1"))
    assert robot.capacity == 6
    assert [h.weekday for h in robot.opening_hours] == [0]


def test_a_file_switches_check_in_on_with_its_grace_period(db, site, make) -> None:
    est, admin, _coordinator = site
    make.equipment(code="LIGNE-9", name="Ligne", establishment=est)
    data = csv("code,check_in_required,check_in_grace_minutes", "LIGNE-9,yes,25")
    checked = preview(db, actor=admin, kind="equipment", data=data, now=NOW)
    assert not checked.lines[0].errors, [str(e) for e in checked.lines[0].errors]
    plan = import_file(db, actor=admin, kind="equipment", data=data, now=NOW)
    changes = {c.column: (c.before, c.after) for c in plan.lines[0].changes}
    assert changes == {"Check-in required": (False, True),
                       "Check-in grace period (minutes)": (15, 25)}
    line = db.scalar(select(Equipment).where(Equipment.code == "LIGNE-9"))
    assert (line.check_in_required, line.check_in_grace_minutes) == (True, 25)
    refused = preview(db, actor=admin, kind="equipment", now=NOW,
                      data=csv("code,check_in_grace_minutes", "LIGNE-9,241"))
    assert refused.lines[0].errors


def test_equipment_rules_of_the_pages_apply(db, site) -> None:
    _est, admin, _coordinator = site
    data = csv("code,name,establishment,category,slot_minutes,min_minutes,monday",
               "X-1,X,LYC-ORL,room,30,45,18:00-08:00")
    plan = preview(db, actor=admin, kind="equipment", data=data, now=NOW)
    messages = " ".join(str(e) for e in plan.lines[0].errors)
    assert "multiples of the slot" in messages
    assert "opens before closes" in messages


def test_a_coordinator_imports_equipment_only_into_their_establishment(db, site, make) -> None:
    _est, _admin, coordinator = site
    make.establishment(code="UNIV-TOURS")
    data = csv("code,name,establishment,category", "U-1,U,UNIV-TOURS,room",
               "O-1,O,,room")
    plan = preview(db, actor=coordinator, kind="equipment", data=data, now=NOW)
    assert plan.lines[0].status == "error"
    assert plan.lines[1].status == "created"


# --- certifications ------------------------------------------------------------------


def test_certifications_granted_kept_and_replaced(db, site, make) -> None:
    est, admin, coordinator = site
    gmp = make.certification_type(code="GMP", validity_months=12)
    make.equipment(code="LINE", establishment=est, required_certification_types=[gmp])
    trainer = make.user(Role.TRAINER, email="t@example.org")
    data = csv("email,certification,valid_from,valid_until", "t@example.org,GMP,,")
    plan = import_file(db, actor=coordinator, kind="certifications", data=data, now=NOW)
    assert plan.counts["created"] == 1
    held = db.scalar(select(Certification).where(Certification.user_id == trainer.id))
    assert (held.valid_from, held.valid_until) == (date(2027, 1, 12), date(2028, 1, 12))
    assert import_file(db, actor=coordinator, kind="certifications", data=data,
                       now=NOW).counts["unchanged"] == 1
    longer = csv("email,certification,valid_until", "t@example.org,GMP,31/12/2028")
    plan = import_file(db, actor=admin, kind="certifications", data=longer, now=NOW)
    assert [(c.before, c.after) for c in plan.lines[0].changes] == [
        (date(2028, 1, 12), date(2028, 12, 31))]
    rows = db.scalars(select(Certification).order_by(Certification.id)).all()
    assert rows[0].revoked_at is not None
    assert rows[1].valid_until == date(2028, 12, 31)


def test_a_coordinator_imports_only_their_machines_certifications(db, site, make) -> None:
    _est, _admin, coordinator = site
    make.certification_type(code="OTHER")
    make.user(Role.TRAINER, email="t@example.org")
    data = csv("email,certification", "t@example.org,OTHER", "coord@example.org,OTHER",
               "ghost@example.org,OTHER")
    plan = preview(db, actor=coordinator, kind="certifications", data=data, now=NOW)
    assert [line.status for line in plan.lines] == ["error", "error", "error"]
    assert "machines of your establishment" in str(plan.lines[0].errors[0])
    assert "No account uses ghost@example.org" in str(plan.lines[2].errors[0])


# --- permissions ---------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.TRAINER, Role.COMPANY])
def test_trainers_and_companies_import_nothing(db, make, role) -> None:
    with pytest.raises(Forbidden):
        preview(db, actor=make.user(role), kind="accounts", data=ACCOUNTS, now=NOW)


def test_a_coordinator_invites_no_coordinator_nor_into_another_establishment(
        db, site, make) -> None:
    _est, _admin, coordinator = site
    make.establishment(code="UNIV-TOURS")
    data = csv("email,name,role,establishment",
               "a@example.org,A,coordinator,LYC-ORL",
               "b@example.org,B,trainer,UNIV-TOURS",
               "c@example.org,C,trainer,")
    plan = preview(db, actor=coordinator, kind="accounts", data=data, now=NOW)
    assert [line.status for line in plan.lines] == ["error", "error", "created"]


def test_a_request_stops_checking_when_its_time_is_spent(db, site) -> None:
    """Pages and API give a file REQUEST_SECONDS; lines not reached are not
    announced as anything, and the file is refused whole."""
    _est, admin, _coordinator = site
    plan = preview(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW, seconds=0)
    assert plan.lines == []
    assert not plan.valid
    assert "2 lines were not checked" in str(plan.errors[0])
    with pytest.raises(ImportRefused):
        import_file(db, actor=admin, kind="accounts", data=ACCOUNTS, now=NOW, seconds=0)
    assert count(db, User) == 2
