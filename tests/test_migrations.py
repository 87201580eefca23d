"""The migrations build the schema the models declare, on each backend; and
migration 0004 (one closure UID per scope) refuses to run over duplicates,
naming them, and goes down and up again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask, current_app
from sqlalchemy import create_engine, inspect, make_url, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking import create_app
from booking.extensions import db as ext_db
from models import (
    Base,
    Closure,
    Equipment,
    EquipmentCategory,
    Establishment,
    EstablishmentKind,
    Feed,
    FeedScope,
    Role,
    User,
)
from tests.conftest import NOW, Database, _testing_overrides

# Written by hand for PostgreSQL only (migrations 0001 and 0010), as migrations/env.py says.
NOT_IN_METADATA = {"xcl_occupancy_no_overlap", "xcl_booking_trainer_busy"}
SCRATCH_SCHEMA = "migration_scratch"


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "constraint" and name in NOT_IN_METADATA)


def _predicate(where: Any) -> str:
    """A partial index's WHERE as both backends give it back, without casts and parentheses."""
    return " ".join(re.sub(r"::\w+|[()]", " ", str(where)).lower().split())


def test_the_migrations_build_what_the_models_declare(app: Flask, database: Database) -> None:
    with app.app_context(), ext_db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": _include})
        assert compare_metadata(context, Base.metadata) == []
        # Alembic compares an index's columns, not its WHERE: compare those here.
        inspector = inspect(conn)
        partial = [(table.name, index) for table in Base.metadata.sorted_tables
                   for index in table.indexes
                   if index.dialect_options[database.backend]["where"] is not None]
        assert {index.name for _table, index in partial} >= {
            "uq_closure_establishment_id_source_uid", "uq_closure_equipment_id_source_uid"}
        for table, index in partial:
            [found] = [i for i in inspector.get_indexes(table) if i["name"] == index.name]
            assert found["unique"]
            assert _predicate(found["dialect_options"][f"{database.backend}_where"]) == \
                _predicate(index.dialect_options[database.backend]["where"]), index.name


# -- migration 0004 on a scratch database of the backend ------------------------------

@contextmanager
def scratch_app(database: Database, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database beside the shared test database: a file on
    SQLite, a schema of its own on PostgreSQL (the only one on its search path,
    so no statement can reach the shared tables)."""
    if database.backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'scratch.sqlite'}"
    else:
        _recreate_schema(database.url, create=True)
        url = make_url(database.url).update_query_dict(
            {"options": f"-csearch_path={SCRATCH_SCHEMA}"}).render_as_string(
            hide_password=False)
    app = create_app({**_testing_overrides(), "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            yield app
            ext_db.session.remove()
            ext_db.engine.dispose()
    finally:
        if database.backend == "postgresql":
            _recreate_schema(database.url, create=False)


def _recreate_schema(url: str, *, create: bool) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
        if create:
            conn.execute(text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
    engine.dispose()


def _migrate(revision: str, *, down: bool = False) -> None:
    config = current_app.extensions["migrate"].migrate.get_config()
    (command.downgrade if down else command.upgrade)(config, revision)


def _revision() -> str | None:
    with ext_db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _closure(session: Session, uid: str | None, **scope: int) -> int:
    closure = Closure(**scope, start_at=NOW, end_at=NOW.replace(hour=18), reason="Travaux",
                      source_uid=uid, created_at=NOW)
    session.add(closure)
    session.flush()
    return closure.id


def test_0004_stops_on_duplicate_uids_and_names_them(database: Database,
                                                     tmp_path: Path) -> None:
    with scratch_app(database, tmp_path):
        _migrate("0003")
        with Session(ext_db.engine) as session:
            site = Establishment(code="TOURS", name="Lycée", city="Tours", department="37",
                                 kind=EstablishmentKind.LYCEE, created_at=NOW)
            machine = Equipment(code="EQ-1", name="Cellule", establishment=site,
                                category=EquipmentCategory.TRAINING_EQUIPMENT,
                                created_at=NOW, updated_at=NOW)
            session.add_all([site, machine])
            session.flush()
            on_site, on_machine = {"establishment_id": site.id}, {"equipment_id": machine.id}
            twice_on_site = [_closure(session, "hiver", **on_site) for _ in range(2)]
            twice_on_machine = [_closure(session, "panne", **on_machine) for _ in range(3)]
            # Not duplicates: one UID in two scopes, UIDs used once, closures without one.
            _closure(session, "panne", **on_site)
            _closure(session, "hiver", **on_machine)
            for _ in range(2):
                _closure(session, None, **on_site)
                _closure(session, None, **on_machine)
            # Read before the commit expires them: a reload would select columns
            # (issue 13's) that this older schema does not have.
            site_id, machine_id = site.id, machine.id
            session.commit()

        with pytest.raises(RuntimeError, match="Migration 0004 stopped") as stopped:
            _migrate("0004")
        listed = [line.strip() for line in str(stopped.value).splitlines()[1:]]
        assert listed == [
            f"establishment {site_id}, UID 'hiver': closures "
            + ", ".join(map(str, twice_on_site)),
            f"equipment {machine_id}, UID 'panne': closures "
            + ", ".join(map(str, twice_on_machine))]
        assert _revision() == "0003"

        # Once a coordinator has kept one closure of each group, the upgrade runs.
        with Session(ext_db.engine) as session:
            session.execute(update(Closure).where(Closure.id.in_(
                [*twice_on_site[1:], *twice_on_machine[1:]])).values(source_uid=None))
            session.commit()
        _migrate("0004")
        assert _revision() == "0004"
        with Session(ext_db.engine) as session, pytest.raises(IntegrityError):
            _closure(session, "hiver", **on_site)

        # Down to 0003 and up again keeps every closure.
        _migrate("0003", down=True)
        assert _revision() == "0003"
        _migrate("0004")
        assert _revision() == "0004"
        with Session(ext_db.engine) as session:
            assert len(session.scalars(select(Closure.id)).all()) == 11


def test_0005_keeps_the_oldest_live_feed_of_a_scope(database: Database,
                                                   tmp_path: Path) -> None:
    """Feeds duplicated by the API before issue 9: the oldest stays live, the
    newer ones are revoked; feeds of other scopes and revoked ones are left;
    then the database refuses a second live feed of one scope."""
    with scratch_app(database, tmp_path):
        _migrate("0004")
        with Session(ext_db.engine) as session:
            owner = User(email="t@example.org", name="T", role=Role.TRAINER,
                         password_hash="x", created_at=NOW)
            session.add(owner)
            session.flush()
            owner_id, made = owner.id, iter(range(100))

            def feed(scope_id: int, revoked: bool = False) -> int:
                row = Feed(owner_id=owner_id, scope=FeedScope.EQUIPMENT, scope_id=scope_id,
                           secret="s", token_hash=f"h{next(made)}", created_at=NOW,
                           revoked_at=NOW if revoked else None)
                session.add(row)
                session.flush()
                return row.id

            oldest, newer, newest = feed(1), feed(1), feed(1)
            already_revoked, other_scope = feed(1, revoked=True), feed(2)
            session.commit()
        _migrate("0005")
        assert _revision() == "0005"
        with Session(ext_db.engine) as session:
            live = set(session.scalars(select(Feed.id).where(Feed.revoked_at.is_(None))))
            assert live == {oldest, other_scope}
            revoked = set(session.scalars(select(Feed.id).where(Feed.revoked_at.is_not(None))))
            assert revoked == {newer, newest, already_revoked}
            session.add(Feed(owner_id=owner_id, scope=FeedScope.EQUIPMENT, scope_id=2,
                             secret="s", token_hash="twin", created_at=NOW))
            with pytest.raises(IntegrityError):
                session.flush()


def test_0006_equipment_documents_checks_and_goes_down(database: Database,
                                                       tmp_path: Path) -> None:
    """The documents' table keeps its rules (a photo is an image and never
    required reading; a document is a PDF), and goes down and up again."""
    with scratch_app(database, tmp_path):
        _migrate("0006")
        with ext_db.engine.connect() as conn:
            assert "equipment_document" in inspect(conn).get_table_names()
            checks = {c["name"] for c in inspect(conn).get_check_constraints(
                "equipment_document")}
        assert {"ck_equipment_document_photo_not_required", "ck_equipment_document_kind",
                "ck_equipment_document_document_is_pdf", "ck_equipment_document_photo_is_image",
                "ck_equipment_document_size_positive"} <= checks
        with Session(ext_db.engine) as session:
            site = Establishment(code="TOURS", name="Lycée", city="Tours", department="37",
                                 kind=EstablishmentKind.LYCEE, created_at=NOW)
            machine = Equipment(code="EQ-1", name="Cellule", establishment=site,
                                category=EquipmentCategory.TRAINING_EQUIPMENT,
                                created_at=NOW, updated_at=NOW)
            session.add_all([site, machine])
            session.flush()
            machine_id = machine.id  # before the commit expires it (see test_0004)
            session.commit()
        refused = [("photo", "image/png", True), ("photo", "application/pdf", False),
                   ("safety", "image/jpeg", False), ("other", "text/html", False)]
        for n, (kind, content_type, required) in enumerate(refused):
            with ext_db.engine.connect() as conn, pytest.raises(IntegrityError):
                conn.execute(text(
                    "INSERT INTO equipment_document (equipment_id, kind, title, filename, "
                    "stored_name, content_type, size_bytes, required, created_at) VALUES "
                    "(:e, :k, 'T', 'f', :s, :c, 10, :r, CURRENT_TIMESTAMP)"),
                    {"e": machine_id, "k": kind, "s": f"n{n}", "c": content_type,
                     "r": required})
        _migrate("0005", down=True)
        with ext_db.engine.connect() as conn:
            assert "equipment_document" not in inspect(conn).get_table_names()
        _migrate("0006")
        assert _revision() == "0006"


# -- migration 0010: the trainer guard over existing data ---------------------------------

def _booking_row(conn: Any, n: int, equipment_id: int, trainer_id: int, start: int,
                 end: int, status: str = "confirmed") -> None:
    """A booking as older code wrote it (raw: the model has 0010's columns)."""
    conn.execute(text(
        "INSERT INTO booking (uid, equipment_id, start_at, end_at, title, purpose, status, "
        "booked_by_id, trainer_id, sequence, certification_flag, created_at, updated_at) "
        "VALUES (:uid, :eq, :start, :end, 'Séance', 'training', :status, :trainer, :trainer, "
        "0, :no, :now, :now)"),
        {"uid": f"old-{n}@test", "eq": equipment_id, "trainer": trainer_id, "no": False,
         "start": NOW.replace(hour=start, tzinfo=None) if conn.dialect.name == "sqlite"
         else NOW.replace(hour=start),
         "end": NOW.replace(hour=end, tzinfo=None) if conn.dialect.name == "sqlite"
         else NOW.replace(hour=end), "status": status, "now": NOW})


def test_0010_flags_trainers_already_in_two_places_and_guards_the_rest(
        database: Database, tmp_path: Path) -> None:
    """Bookings whose trainer was double-booked before the guard are flagged
    (trainer_clash), not changed, and stay legal (a status change passes);
    any new booking meeting them, or the others, is refused by the database."""
    with scratch_app(database, tmp_path):
        _migrate("0009")
        with Session(ext_db.engine) as session:
            site = Establishment(code="TOURS", name="Lycée", city="Tours", department="37",
                                 kind=EstablishmentKind.LYCEE, created_at=NOW)
            machines = [Equipment(code=f"EQ-{n}", name="Cellule", establishment=site,
                                  category=EquipmentCategory.TRAINING_EQUIPMENT,
                                  created_at=NOW, updated_at=NOW) for n in (1, 2)]
            trainer = User(email="t@example.org", name="T", role=Role.TRAINER,
                           password_hash="x", created_at=NOW)
            session.add_all([site, *machines, trainer])
            session.flush()
            one, two, trainer_id = machines[0].id, machines[1].id, trainer.id
            session.commit()
        with ext_db.engine.begin() as conn:
            _booking_row(conn, 1, one, trainer_id, 9, 11)
            _booking_row(conn, 2, two, trainer_id, 10, 12)   # meets 1
            _booking_row(conn, 3, two, trainer_id, 14, 15)   # alone
            _booking_row(conn, 4, one, trainer_id, 10, 11, status="rejected")  # holds nothing
        _migrate("0010")
        with ext_db.engine.begin() as conn:
            flagged = dict(conn.execute(text(
                "SELECT uid, trainer_clash FROM booking ORDER BY uid")).all())
            assert {uid for uid, clash in flagged.items() if clash} == {"old-1@test",
                                                                         "old-2@test"}
            conn.execute(text("UPDATE booking SET status = 'completed' WHERE uid = 'old-1@test'"))
        for n, (start, end) in enumerate(((10, 11), (14, 16), (12, 13)), start=5):
            # Meets a flagged booking, the unflagged one, and (12:00, one hour
            # after 11:00 at the same site) nothing: the last one is written.
            if n < 7:
                with pytest.raises(IntegrityError, match="xcl_booking_trainer_busy"), \
                        ext_db.engine.begin() as conn:
                    _booking_row(conn, n, one, trainer_id, start, end)
            else:
                with ext_db.engine.begin() as conn:
                    _booking_row(conn, n, one, trainer_id, start, end)
        _migrate("0009", down=True)
        _migrate("0010")
        assert _revision() == "0010"


# -- migration 0012: the no-show status ---------------------------------------------------

def _occupancy_row(conn: Any, uid: str, equipment_id: int, start: int, end: int,
                   status: str = "confirmed") -> None:
    """The occupancy of booking ``uid`` as the booking service writes it (raw)."""
    sqlite = conn.dialect.name == "sqlite"
    conn.execute(text(
        "INSERT INTO occupancy (booking_id, booking_status, equipment_id, starts_at, ends_at) "
        "SELECT id, :status, :eq, :start, :end FROM booking WHERE uid = :uid"),
        {"uid": uid, "status": status, "eq": equipment_id,
         "start": NOW.replace(hour=start, tzinfo=None) if sqlite else NOW.replace(hour=start),
         "end": NOW.replace(hour=end, tzinfo=None) if sqlite else NOW.replace(hour=end)})


def _statuses(conn: Any, uid: str) -> tuple[str, set[str]]:
    """The booking's status and those of its occupancy rows."""
    status = conn.execute(text("SELECT status FROM booking WHERE uid = :u"), {"u": uid}).scalar()
    held = set(conn.execute(text(
        "SELECT o.booking_status FROM occupancy o JOIN booking b ON b.id = o.booking_id "
        "WHERE b.uid = :u"), {"u": uid}).scalars())
    return status, held


def test_0012_adds_no_show_which_frees_the_slot_and_goes_down_as_cancelled(
        database: Database, tmp_path: Path) -> None:
    """A booking at 0011 can become a no-show at 0012, its occupancy following
    (and its slot free for another booking); the status CHECKs still refuse
    an unknown status; going down turns no-shows into dated cancellations and
    refuses no_show again; up again."""
    with scratch_app(database, tmp_path):
        _migrate("0011")
        with Session(ext_db.engine) as session:
            site = Establishment(code="TOURS", name="Lycée", city="Tours", department="37",
                                 kind=EstablishmentKind.LYCEE, created_at=NOW)
            machine = Equipment(code="EQ-1", name="Ligne", establishment=site,
                                category=EquipmentCategory.TRAINING_EQUIPMENT,
                                created_at=NOW, updated_at=NOW)
            trainers = [User(email=f"t{n}@example.org", name=f"T{n}", role=Role.TRAINER,
                             password_hash="x", created_at=NOW) for n in (1, 2)]
            session.add_all([site, machine, *trainers])
            session.flush()
            machine_id, (first, second) = machine.id, [t.id for t in trainers]
            session.commit()
        with ext_db.engine.begin() as conn:
            _booking_row(conn, 1, machine_id, first, 9, 11)
            _occupancy_row(conn, "old-1@test", machine_id, 9, 11)
            _booking_row(conn, 2, machine_id, first, 14, 15)
            _occupancy_row(conn, "old-2@test", machine_id, 14, 15)
        _migrate("0012")
        with ext_db.engine.begin() as conn:
            conn.execute(text("UPDATE booking SET status = 'no_show', updated_at = :now "
                              "WHERE uid = 'old-1@test'"), {"now": NOW})
            assert _statuses(conn, "old-1@test") == ("no_show", {"no_show"})
        # Its slot is free: another booking of the same hours is written.
        with ext_db.engine.begin() as conn:
            _booking_row(conn, 3, machine_id, second, 9, 11)
            _occupancy_row(conn, "old-3@test", machine_id, 9, 11)
        for table, column in (("booking", "status"), ("occupancy", "booking_status")):
            with pytest.raises(IntegrityError, match=f"ck_{table}_{column}"), \
                    ext_db.engine.begin() as conn:
                conn.execute(text(f"UPDATE {table} SET {column} = 'vanished'"))
        _migrate("0011", down=True)
        assert _revision() == "0011"
        with ext_db.engine.begin() as conn:
            assert _statuses(conn, "old-1@test") == ("cancelled", {"cancelled"})
            assert _statuses(conn, "old-2@test") == ("confirmed", {"confirmed"})
            assert conn.execute(text("SELECT cancelled_at FROM booking "
                                     "WHERE uid = 'old-1@test'")).scalar() is not None
            assert "checked_in_at" not in {
                c["name"] for c in inspect(conn).get_columns("booking")}
        with pytest.raises(IntegrityError, match="ck_booking_status"), \
                ext_db.engine.begin() as conn:
            conn.execute(text("UPDATE booking SET status = 'no_show' "
                              "WHERE uid = 'old-2@test'"))
        _migrate("0012")
        assert _revision() == "0012"
        with ext_db.engine.begin() as conn:
            conn.execute(text("UPDATE booking SET status = 'no_show' "
                              "WHERE uid = 'old-2@test'"))
            assert _statuses(conn, "old-2@test") == ("no_show", {"no_show"})
