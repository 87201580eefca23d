"""equipment documents and photos: one row per file kept under DOCUMENTS_DIR

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-12

A machine's safety instructions, operating procedures, other documents (PDF)
and photos (PNG, JPEG, WebP), some marked as required reading before a
session (issue 11). The files themselves live outside the database; the
downgrade drops the table and leaves the files where they are.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

PDF = 'application/pdf'
TYPES = "'application/pdf', 'image/png', 'image/jpeg', 'image/webp'"


def upgrade():
    op.create_table('equipment_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('safety', 'procedure', 'other', 'photo', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=160), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_equipment_document_size_positive')),
    sa.CheckConstraint(f'content_type IN ({TYPES})', name=op.f('ck_equipment_document_known_content_type')),
    sa.CheckConstraint(f"kind = 'photo' OR content_type = '{PDF}'", name=op.f('ck_equipment_document_document_is_pdf')),
    sa.CheckConstraint(f"kind <> 'photo' OR content_type <> '{PDF}'", name=op.f('ck_equipment_document_photo_is_image')),
    sa.CheckConstraint("kind <> 'photo' OR NOT required", name=op.f('ck_equipment_document_photo_not_required')),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_equipment_document_title_not_empty')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_equipment_document_equipment_id_equipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_equipment_document_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_equipment_document')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_equipment_document_stored_name'))
    )
    with op.batch_alter_table('equipment_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_equipment_document_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_equipment_document_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('equipment_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_equipment_document_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_equipment_document_equipment_id'))

    op.drop_table('equipment_document')
