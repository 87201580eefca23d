"""waiting list

Revision ID: 0011
Revises: 0010
Create Date: 2027-03-01

- waitlist_entry: a user's request for a taken slot (machine, period, title,
  purpose, trainer, project), in line by created_at then id; offered when
  the slot frees (offered_at, offer_expires_at), claimed with the booking
  it made (booking_id), or expired, or cancelled by its owner.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'waitlist_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('equipment_id', sa.Integer(), nullable=False),
        sa.Column('start_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('end_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('title', sa.String(length=255), nullable=False),
        sa.Column('purpose', sa.Enum('training', 'industrial_project', 'discovery_workshop',
                                     'maintenance', 'other', name='waitlist_purpose',
                                     native_enum=False, create_constraint=True),
                  nullable=False),
        sa.Column('trainer_id', sa.Integer(), nullable=True),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('waiting', 'offered', 'claimed', 'expired', 'cancelled',
                                    name='waitlist_status', native_enum=False,
                                    create_constraint=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('booking_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('start_at < end_at', name=op.f('ck_waitlist_entry_start_before_end')),
        sa.CheckConstraint("status <> 'offered' OR (offered_at IS NOT NULL "
                           "AND offer_expires_at IS NOT NULL)",
                           name=op.f('ck_waitlist_entry_offer_has_times')),
        sa.CheckConstraint("status <> 'claimed' OR claimed_at IS NOT NULL",
                           name=op.f('ck_waitlist_entry_claim_has_time')),
        sa.ForeignKeyConstraint(['booking_id'], ['booking.id'],
                                name=op.f('fk_waitlist_entry_booking_id_booking'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'],
                                name=op.f('fk_waitlist_entry_equipment_id_equipment'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['project.id'],
                                name=op.f('fk_waitlist_entry_project_id_project'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['trainer_id'], ['user_account.id'],
                                name=op.f('fk_waitlist_entry_trainer_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_waitlist_entry_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry')),
    )
    op.create_index('ix_waitlist_entry_equipment_status_start', 'waitlist_entry',
                    ['equipment_id', 'status', 'start_at'], unique=False)
    op.create_index('ix_waitlist_entry_user_id_status', 'waitlist_entry',
                    ['user_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_waitlist_entry_user_id_status', table_name='waitlist_entry')
    op.drop_index('ix_waitlist_entry_equipment_status_start', table_name='waitlist_entry')
    op.drop_table('waitlist_entry')
