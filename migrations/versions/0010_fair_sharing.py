"""people and fairness: trainer guard, groups, booking windows, quotas

Revision ID: 0010
Revises: 0009
Create Date: 2027-02-01

- booking.group_id (one request naming several machines), booking.cancelled_late
  (cancelled after the machine's deadline), booking.trainer_clash (see below);
- equipment's booking windows: notice_minutes, max_advance_days,
  cancel_deadline_hours, and the owner's priority window others_open_days;
- user_account.end_reminder_minutes (a reminder before a booking ends);
- quota, travel_time (minutes between two establishments), campus_setting
  (one row: the default travel time);
- the trainer guard: a trainer's slot-holding bookings may not meet, travel
  time between two establishments included, unless they belong to one group.
  PostgreSQL: an exclusion constraint on (trainer, period, group) for the
  overlap, and a trigger for the travel time that first takes a transaction
  lock on the trainer, so two concurrent writers for one trainer are checked
  one after the other. SQLite: triggers (its writers are serialised anyway).

Bookings that already break the guard are not altered: each is flagged
(trainer_clash), left out of the guard until it changes, listed in the log
and shown to coordinators.
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

HOLDING = "('pending', 'confirmed', 'completed')"
# Bounds of the neighbourhood the guard reads through (trainer_id, start_at):
# a booking lasts at most a week (equipment CHECK), travel at most a day.
BOUND_DAYS = 9

EQUIPMENT_COLUMNS = (
    ("notice_minutes", "INTEGER NOT NULL DEFAULT 0",
     "notice_within_90_days", "notice_minutes BETWEEN 0 AND 129600"),
    ("max_advance_days", "INTEGER",
     "max_advance_positive", "max_advance_days IS NULL OR max_advance_days BETWEEN 1 AND 3650"),
    ("cancel_deadline_hours", "INTEGER NOT NULL DEFAULT 0",
     "cancel_deadline_within_a_year", "cancel_deadline_hours BETWEEN 0 AND 8760"),
    ("others_open_days", "INTEGER",
     "others_open_days_positive", "others_open_days IS NULL OR others_open_days BETWEEN 0 AND 3650"),
)
USER_COLUMNS = (
    ("end_reminder_minutes", "INTEGER NOT NULL DEFAULT 0",
     "end_reminder_within_a_day", "end_reminder_minutes BETWEEN 0 AND 1440"),
)

# The travel time between the machine of ``here`` and that of ``there``.
TRAVEL = """CASE WHEN there.establishment_id = here.establishment_id THEN 0
      ELSE coalesce(travel.minutes,
                    (SELECT travel_minutes FROM campus_setting WHERE id = 1), 60) END"""

SQLITE_GUARD = """
CREATE TRIGGER trg_booking_trainer_busy_{event}
BEFORE {event_clause} ON booking
WHEN NEW.trainer_id IS NOT NULL AND NEW.status IN {holding} AND NOT NEW.trainer_clash
     {changed}
BEGIN
    SELECT RAISE(ABORT, 'xcl_booking_trainer_busy: the trainer is busy')
    WHERE EXISTS (
        SELECT 1 FROM booking AS other
        JOIN equipment AS there ON there.id = other.equipment_id
        JOIN equipment AS here ON here.id = NEW.equipment_id
        LEFT JOIN travel_time AS travel
          ON travel.establishment_a_id = min(there.establishment_id, here.establishment_id)
         AND travel.establishment_b_id = max(there.establishment_id, here.establishment_id)
        WHERE other.trainer_id = NEW.trainer_id
          AND other.id IS NOT NEW.id
          AND other.status IN {holding}
          AND coalesce(other.group_id, other.uid) <> coalesce(NEW.group_id, NEW.uid)
          AND other.start_at > datetime(NEW.start_at, '-{bound} days')
          AND other.start_at < datetime(NEW.end_at, '+2 days')
          AND datetime(other.start_at) < datetime(NEW.end_at, '+' || ({travel}) || ' minutes')
          AND datetime(NEW.start_at) < datetime(other.end_at, '+' || ({travel}) || ' minutes')
    );
END
"""
# An update re-checks only what changed what the booking holds: a status
# going from pending to confirmed or completed keeps an old neighbour legal.
SQLITE_CHANGED = """AND (OLD.status NOT IN {holding} OR OLD.trainer_clash
          OR OLD.trainer_id IS NOT NEW.trainer_id OR OLD.start_at IS NOT NEW.start_at
          OR OLD.end_at IS NOT NEW.end_at OR OLD.equipment_id IS NOT NEW.equipment_id
          OR OLD.group_id IS NOT NEW.group_id)"""

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION booking_trainer_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    clash integer;
BEGIN
    IF NEW.trainer_id IS NULL OR NEW.status NOT IN {holding} OR NEW.trainer_clash THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN {holding} AND NOT OLD.trainer_clash
       AND OLD.trainer_id IS NOT DISTINCT FROM NEW.trainer_id
       AND OLD.start_at = NEW.start_at AND OLD.end_at = NEW.end_at
       AND OLD.equipment_id = NEW.equipment_id
       AND OLD.group_id IS NOT DISTINCT FROM NEW.group_id THEN
        RETURN NEW;
    END IF;
    -- One writer per trainer at a time: the query below then sees what the
    -- previous writer committed (each statement of a READ COMMITTED
    -- transaction takes a new snapshot).
    PERFORM pg_advisory_xact_lock(hashtext('booking_trainer_guard'), NEW.trainer_id);
    SELECT other.id INTO clash
      FROM booking AS other
      JOIN equipment AS there ON there.id = other.equipment_id
      JOIN equipment AS here ON here.id = NEW.equipment_id
      LEFT JOIN travel_time AS travel
        ON travel.establishment_a_id = least(there.establishment_id, here.establishment_id)
       AND travel.establishment_b_id = greatest(there.establishment_id, here.establishment_id)
     WHERE other.trainer_id = NEW.trainer_id
       AND other.id <> NEW.id
       AND other.status IN {holding}
       AND coalesce(other.group_id, other.uid) <> coalesce(NEW.group_id, NEW.uid)
       AND other.start_at > NEW.start_at - interval '{bound} days'
       AND other.start_at < NEW.end_at + interval '2 days'
       AND other.start_at < NEW.end_at + make_interval(mins => {travel})
       AND NEW.start_at < other.end_at + make_interval(mins => {travel})
     LIMIT 1;
    IF clash IS NOT NULL THEN
        RAISE EXCEPTION 'xcl_booking_trainer_busy: trainer % is busy with booking %',
            NEW.trainer_id, clash USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END
$$
"""
PG_TRIGGER = """
CREATE TRIGGER trg_booking_trainer_guard
BEFORE INSERT OR UPDATE OF trainer_id, start_at, end_at, status, equipment_id, group_id,
    trainer_clash ON booking
FOR EACH ROW EXECUTE FUNCTION booking_trainer_guard()
"""
PG_EXCLUSION = f"""
ALTER TABLE booking ADD CONSTRAINT xcl_booking_trainer_busy
EXCLUDE USING gist (trainer_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&,
                    (coalesce(group_id, uid)) WITH <>)
WHERE (trainer_id IS NOT NULL AND NOT trainer_clash AND status IN {HOLDING})
"""

# Bookings whose trainer is also held by another booking at the same time.
CLASHES = f"""
SELECT DISTINCT one.id, one.trainer_id, one.start_at, one.end_at
  FROM booking AS one JOIN booking AS other
    ON other.trainer_id = one.trainer_id AND other.id <> one.id
   AND other.start_at < one.end_at AND one.start_at < other.end_at
 WHERE one.trainer_id IS NOT NULL
   AND one.status IN {HOLDING} AND other.status IN {HOLDING}
 ORDER BY one.trainer_id, one.start_at
"""


def _add_checked_columns(table, columns):
    """Columns with their CHECKs, without rebuilding the table on SQLite (a
    rebuild of equipment or user_account would cascade through their keys)."""
    dialect = op.get_bind().dialect.name
    for name, ddl, check, condition in columns:
        if dialect == "sqlite":
            op.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ddl} "
                       f"CONSTRAINT ck_{table}_{check} CHECK ({condition})")
        else:
            op.execute(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")
            op.create_check_constraint(op.f(f"ck_{table}_{check}"), table, condition)


def upgrade():
    op.create_table(
        'campus_setting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('travel_minutes', sa.Integer(), server_default=sa.text('60'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_campus_setting_one_row')),
        sa.CheckConstraint('travel_minutes BETWEEN 0 AND 1440',
                           name=op.f('ck_campus_setting_travel_in_range')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campus_setting')),
    )
    op.execute("INSERT INTO campus_setting (id, travel_minutes, updated_at) "
               "VALUES (1, 60, CURRENT_TIMESTAMP)")
    op.create_table(
        'travel_time',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('establishment_a_id', sa.Integer(), nullable=False),
        sa.Column('establishment_b_id', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('establishment_a_id < establishment_b_id',
                           name=op.f('ck_travel_time_ordered_pair')),
        sa.CheckConstraint('minutes BETWEEN 0 AND 1440',
                           name=op.f('ck_travel_time_minutes_in_range')),
        sa.ForeignKeyConstraint(['establishment_a_id'], ['establishment.id'],
                                name=op.f('fk_travel_time_establishment_a_id_establishment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['establishment_b_id'], ['establishment.id'],
                                name=op.f('fk_travel_time_establishment_b_id_establishment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_travel_time')),
        sa.UniqueConstraint('establishment_a_id', 'establishment_b_id',
                            name=op.f('uq_travel_time_establishment_a_id_establishment_b_id')),
    )
    op.create_index(op.f('ix_travel_time_establishment_b_id'), 'travel_time',
                    ['establishment_b_id'], unique=False)
    op.create_table(
        'quota',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=False),
        sa.Column('equipment_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.Enum('pilot_line', 'training_equipment', 'analysis_instrument',
                                      'room', 'other', name='quota_category', native_enum=False,
                                      create_constraint=True), nullable=True),
        sa.Column('applies_to', sa.Enum('establishment', 'user', name='applies_to',
                                        native_enum=False, create_constraint=True),
                  nullable=False),
        sa.Column('beneficiary_establishment_id', sa.Integer(), nullable=True),
        sa.Column('period', sa.Enum('week', 'month', 'school_year', name='period',
                                    native_enum=False, create_constraint=True), nullable=False),
        sa.Column('max_minutes', sa.Integer(), nullable=True),
        sa.Column('max_future_bookings', sa.Integer(), nullable=True),
        sa.Column('over', sa.Enum('refuse', 'approval', name='over', native_enum=False,
                                  create_constraint=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('(equipment_id IS NULL) <> (category IS NULL)',
                           name=op.f('ck_quota_machine_or_category')),
        sa.CheckConstraint('max_future_bookings IS NULL OR max_future_bookings >= 0',
                           name=op.f('ck_quota_bookings_not_negative')),
        sa.CheckConstraint('max_minutes IS NOT NULL OR max_future_bookings IS NOT NULL',
                           name=op.f('ck_quota_some_limit')),
        sa.CheckConstraint('max_minutes IS NULL OR max_minutes >= 0',
                           name=op.f('ck_quota_minutes_not_negative')),
        sa.ForeignKeyConstraint(['beneficiary_establishment_id'], ['establishment.id'],
                                name=op.f('fk_quota_beneficiary_establishment_id_establishment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_quota_created_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'],
                                name=op.f('fk_quota_equipment_id_equipment'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'],
                                name=op.f('fk_quota_establishment_id_establishment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quota')),
    )
    op.create_index(op.f('ix_quota_equipment_id'), 'quota', ['equipment_id'], unique=False)
    op.create_index('ix_quota_establishment_id_category', 'quota',
                    ['establishment_id', 'category'], unique=False)

    false = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    op.execute("ALTER TABLE booking ADD COLUMN group_id VARCHAR(36)")
    op.execute(f"ALTER TABLE booking ADD COLUMN cancelled_late BOOLEAN NOT NULL DEFAULT {false}")
    op.execute(f"ALTER TABLE booking ADD COLUMN trainer_clash BOOLEAN NOT NULL DEFAULT {false}")
    op.create_index('ix_booking_group_id', 'booking', ['group_id'], unique=False)
    _add_checked_columns("equipment", EQUIPMENT_COLUMNS)
    _add_checked_columns("user_account", USER_COLUMNS)

    _flag_existing_clashes()
    _create_trainer_guard()


def _flag_existing_clashes():
    bind = op.get_bind()
    rows = bind.execute(sa.text(CLASHES)).all()
    if not rows:
        return
    log.warning("The trainer guard: %d bookings share their trainer with another booking "
                "at the same time. They are flagged (booking.trainer_clash), shown to "
                "coordinators, and checked again when they change:", len(rows))
    for booking_id, trainer_id, start, end in rows:
        log.warning("  booking %s: trainer %s, %s to %s (UTC)", booking_id, trainer_id,
                    start, end)
    ids = [row[0] for row in rows]
    bind.execute(sa.text("UPDATE booking SET trainer_clash = :yes WHERE id IN :ids")
                 .bindparams(sa.bindparam("ids", expanding=True)), {"yes": True, "ids": ids})


def _create_trainer_guard():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_EXCLUSION)
        op.execute(PG_FUNCTION.format(holding=HOLDING, bound=BOUND_DAYS, travel=TRAVEL))
        op.execute(PG_TRIGGER)
    elif dialect == "sqlite":
        op.execute(SQLITE_GUARD.format(event="insert", event_clause="INSERT", holding=HOLDING,
                                       bound=BOUND_DAYS, travel=TRAVEL, changed=""))
        op.execute(SQLITE_GUARD.format(
            event="update",
            event_clause="UPDATE OF trainer_id, start_at, end_at, status, equipment_id, "
                         "group_id, trainer_clash",
            holding=HOLDING, bound=BOUND_DAYS, travel=TRAVEL,
            changed=SQLITE_CHANGED.format(holding=HOLDING)))


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS trg_booking_trainer_guard ON booking")
        op.execute("DROP FUNCTION IF EXISTS booking_trainer_guard()")
        op.execute("ALTER TABLE booking DROP CONSTRAINT IF EXISTS xcl_booking_trainer_busy")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_booking_trainer_busy_insert")
        op.execute("DROP TRIGGER IF EXISTS trg_booking_trainer_busy_update")
    # Plain DROP COLUMN (SQLite ≥ 3.35): a batch rebuild of these tables would
    # cascade through their keys; each CHECK was added with its own column.
    op.drop_index('ix_booking_group_id', table_name='booking')
    columns = [("user_account", c[0]) for c in USER_COLUMNS] + [
        ("equipment", c[0]) for c in EQUIPMENT_COLUMNS] + [
        ("booking", c) for c in ("trainer_clash", "cancelled_late", "group_id")]
    for table, column in columns:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_index('ix_quota_establishment_id_category', table_name='quota')
    op.drop_index(op.f('ix_quota_equipment_id'), table_name='quota')
    op.drop_table('quota')
    op.drop_index(op.f('ix_travel_time_establishment_b_id'), table_name='travel_time')
    op.drop_table('travel_time')
    op.drop_table('campus_setting')
