"""certification requests: a trainer asks a coordinator for a certification type

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-12 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# At most one open request per trainer and type (a partial unique index).
OPEN_REQUEST = "status = 'requested'"


def upgrade():
    op.create_table('certification_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('certification_type_id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'granted', 'declined', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status = 'requested' OR (decided_at IS NOT NULL)", name=op.f('ck_certification_request_decision_dated')),
    sa.CheckConstraint("status <> 'requested' OR (decided_at IS NULL AND decided_by_id IS NULL)", name=op.f('ck_certification_request_open_undecided')),
    sa.ForeignKeyConstraint(['certification_type_id'], ['certification_type.id'], name=op.f('fk_certification_request_certification_type_id_certification_type'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_certification_request_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_certification_request_equipment_id_equipment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_certification_request_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certification_request'))
    )
    with op.batch_alter_table('certification_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certification_request_certification_type_id'), ['certification_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_request_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index('ix_certification_request_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_certification_request_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_certification_request_user_id_certification_type_id', ['user_id', 'certification_type_id'], unique=True, sqlite_where=sa.text(OPEN_REQUEST), postgresql_where=sa.text(OPEN_REQUEST))


def downgrade():
    with op.batch_alter_table('certification_request', schema=None) as batch_op:
        batch_op.drop_index('uq_certification_request_user_id_certification_type_id')
        batch_op.drop_index(batch_op.f('ix_certification_request_user_id'))
        batch_op.drop_index('ix_certification_request_status_created_at')
        batch_op.drop_index(batch_op.f('ix_certification_request_equipment_id'))
        batch_op.drop_index(batch_op.f('ix_certification_request_certification_type_id'))

    op.drop_table('certification_request')
