"""check-in at the machine, no-shows, incidents, kiosk links

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-15

- booking status ``no_show`` (a booking of a machine requiring check-in that
  nobody checked in: released by the scheduler); booking.checked_in_at and
  checked_out_at;
- equipment.check_in_required and check_in_grace_minutes;
- incident: a problem reported on a machine (at check-out);
- kiosk_link: secret, revocable links to a machine's or a site's kiosk view.

SQLite cannot alter a CHECK constraint: the new status is added to the two
status CHECKs by editing their text in the schema, the procedure SQLite
documents for loosening a constraint (every row already satisfies the new
one). Rebuilding booking instead would drop its triggers and, with foreign
keys on, cascade through occupancy.
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD = ("'pending', 'confirmed', 'cancelled', 'rejected', 'expired', 'completed'")
NEW = OLD + ", 'no_show'"
STATUS_CHECKS = (("booking", "status"), ("occupancy", "booking_status"))


def _status_checks(values_from, values_to):
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        for table, column in STATUS_CHECKS:
            old = f"CONSTRAINT ck_{table}_{column} CHECK ({column} IN ({values_from}))"
            new = f"CONSTRAINT ck_{table}_{column} CHECK ({column} IN ({values_to}))"
            done = bind.execute(
                sa.text("UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                        "WHERE type = 'table' AND name = :table AND instr(sql, :old) > 0"),
                {"old": old, "new": new, "table": table}).rowcount
            if done != 1:
                raise RuntimeError(f"ck_{table}_{column} is not as migration 0012 expects")
        bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    for table, column in STATUS_CHECKS:
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table,
                                   f"{column} IN ({values_to})")


def upgrade():
    _status_checks(OLD, NEW)
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column('booking', sa.Column('checked_in_at', sa.DateTime(timezone=True),
                                       nullable=True))
    condition = "checked_out_at IS NULL OR checked_in_at IS NOT NULL"
    if sqlite:
        op.execute("ALTER TABLE booking ADD COLUMN checked_out_at DATETIME "
                   f"CONSTRAINT ck_booking_check_out_after_in CHECK ({condition})")
        op.execute("ALTER TABLE equipment ADD COLUMN check_in_required BOOLEAN NOT NULL "
                   "DEFAULT 0")
        op.execute("ALTER TABLE equipment ADD COLUMN check_in_grace_minutes INTEGER NOT NULL "
                   "DEFAULT 15 CONSTRAINT ck_equipment_check_in_grace_bounded "
                   "CHECK (check_in_grace_minutes BETWEEN 0 AND 240)")
    else:
        op.add_column('booking', sa.Column('checked_out_at', sa.DateTime(timezone=True),
                                           nullable=True))
        op.create_check_constraint(op.f('ck_booking_check_out_after_in'), 'booking', condition)
        op.add_column('equipment', sa.Column('check_in_required', sa.Boolean(),
                                             server_default=sa.false(), nullable=False))
        op.add_column('equipment', sa.Column('check_in_grace_minutes', sa.Integer(),
                                             server_default=sa.text('15'), nullable=False))
        op.create_check_constraint(op.f('ck_equipment_check_in_grace_bounded'), 'equipment',
                                   "check_in_grace_minutes BETWEEN 0 AND 240")

    op.create_table(
        'incident',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('equipment_id', sa.Integer(), nullable=False),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.Column('reported_by_id', sa.Integer(), nullable=True),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('length(description) > 0',
                           name=op.f('ck_incident_description_not_empty')),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'],
                                name=op.f('fk_incident_booking_id_booking'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'],
                                name=op.f('fk_incident_equipment_id_equipment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reported_by_id'], ['user_account.id'],
                                name=op.f('fk_incident_reported_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'],
                                name=op.f('fk_incident_resolved_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    )
    op.create_index(op.f('ix_incident_booking_id'), 'incident', ['booking_id'], unique=False)
    op.create_index('ix_incident_equipment_id_reported_at', 'incident',
                    ['equipment_id', 'reported_at'], unique=False)

    op.create_table(
        'kiosk_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.Enum('equipment', 'establishment', name='scope',
                                   native_enum=False, create_constraint=True, length=13),
                  nullable=False),
        sa.Column('equipment_id', sa.Integer(), nullable=True),
        sa.Column('establishment_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=255), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(scope = 'equipment' AND equipment_id IS NOT NULL AND establishment_id IS NULL)"
            " OR (scope = 'establishment' AND establishment_id IS NOT NULL"
            " AND equipment_id IS NULL)", name=op.f('ck_kiosk_link_one_target')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_kiosk_link_created_by_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'],
                                name=op.f('fk_kiosk_link_equipment_id_equipment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'],
                                name=op.f('fk_kiosk_link_establishment_id_establishment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_kiosk_link_token_hash')),
    )
    op.create_index('ix_kiosk_link_equipment_id', 'kiosk_link', ['equipment_id'], unique=False)
    op.create_index('ix_kiosk_link_establishment_id', 'kiosk_link', ['establishment_id'],
                    unique=False)


def downgrade():
    # Older revisions know no no-show: such bookings become cancelled ones
    # (they hold no slot either way), dated when they were released.
    op.execute("UPDATE booking SET status = 'cancelled', cancelled_at = updated_at, "
               "cancel_reason = coalesce(cancel_reason, 'no_show') WHERE status = 'no_show'")
    op.drop_index('ix_kiosk_link_establishment_id', table_name='kiosk_link')
    op.drop_index('ix_kiosk_link_equipment_id', table_name='kiosk_link')
    op.drop_table('kiosk_link')
    op.drop_index('ix_incident_equipment_id_reported_at', table_name='incident')
    op.drop_index(op.f('ix_incident_booking_id'), table_name='incident')
    op.drop_table('incident')
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('ck_equipment_check_in_grace_bounded'), 'equipment', type_="check")
        op.drop_constraint(op.f('ck_booking_check_out_after_in'), 'booking', type_="check")
    for table, column in (("equipment", "check_in_grace_minutes"),
                          ("equipment", "check_in_required"),
                          ("booking", "checked_out_at"), ("booking", "checked_in_at")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    _status_checks(NEW, OLD)
