"""bounded overlap trigger on SQLite: read only the recent rows of the machine

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

The SQLite triggers of 0001 compared a new occupancy row with every earlier
row of its machine, so inserting grew with the history. An occupancy lasts at
most a week's booking plus a day's changeover (CHECKs on equipment), so a row
that starts more than eight days before the new one cannot overlap it: the
bound lets the (equipment_id, starts_at) index read only the neighbourhood,
as the application's own queries do (booking.services.bookings.occupancy.MAX_SPAN).
PostgreSQL is unchanged: its exclusion constraint uses a GiST index.
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

HOLDING = "('pending', 'confirmed', 'completed')"

TRIGGER = """
CREATE TRIGGER trg_occupancy_no_overlap_{event}
BEFORE {event_clause} ON occupancy
WHEN NEW.booking_status IN {holding}
BEGIN
    SELECT RAISE(ABORT, 'xcl_occupancy_no_overlap: overlapping occupancy')
    WHERE EXISTS (
        SELECT 1 FROM occupancy AS other
        WHERE other.equipment_id = NEW.equipment_id
          AND other.id IS NOT NEW.id
          AND other.booking_status IN {holding}
          AND other.starts_at < NEW.ends_at
          {bound}
          AND NEW.starts_at < other.ends_at
    );
END
"""
BOUND = "AND other.starts_at > datetime(NEW.starts_at, '-8 days')"
EVENTS = (("insert", "INSERT"),
          ("update", "UPDATE OF equipment_id, starts_at, ends_at, booking_status"))


def _recreate(bound):
    if op.get_bind().dialect.name != "sqlite":
        return
    for event, clause in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_occupancy_no_overlap_{event}")
        op.execute(TRIGGER.format(event=event, event_clause=clause, holding=HOLDING,
                                  bound=bound))


def upgrade():
    _recreate(BOUND)


def downgrade():
    _recreate("")
