"""continuing education: prices, quotes, agreements, learners, attendance, satisfaction

Revision ID: 0013
Revises: 0012
Create Date: 2027-03-20

- price (per establishment, machine, kind and public, valid from a date),
  billing_profile (an establishment's details and accounting codes),
  analytic_code (a machine's analytic section);
- quote, quote_line, quote_counter (gapless numbers per establishment and
  year), one accepted quote per project (partial unique index);
- training_agreement (what it says, as generated; its signed scan),
  agreement_waiver (a coordinator's word that none is needed);
- learner, attendance_sheet (a session's half-day, two signatures),
  attendance_mark;
- satisfaction_survey (single-use links, the answers);
- project.sector (cosmetics, pharmaceutical, other);
- projects already approved get a waiver: they stay schedulable.

project.sector is added with ALTER TABLE on SQLite too (a column-level CHECK):
a batch rebuild of project would drop and recreate a table bookings refer to.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('billing_profile',
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=False),
    sa.Column('vat_number', sa.String(length=20), nullable=False),
    sa.Column('training_declaration', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('signatory_name', sa.String(length=200), nullable=False),
    sa.Column('signatory_title', sa.String(length=200), nullable=False),
    sa.Column('quote_validity_days', sa.Integer(), nullable=False),
    sa.Column('payment_terms', sa.Text(), nullable=False),
    sa.Column('analytic_code', sa.String(length=40), nullable=False),
    sa.Column('account_machine_hour', sa.String(length=20), nullable=False),
    sa.Column('account_trainer_hour', sa.String(length=20), nullable=False),
    sa.Column('account_consumable', sa.String(length=20), nullable=False),
    sa.Column('account_flat_fee', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quote_validity_days BETWEEN 1 AND 365', name=op.f('ck_billing_profile_validity_bounded')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_billing_profile_establishment_id_establishment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('establishment_id', name=op.f('pk_billing_profile'))
    )
    op.create_table('quote_counter',
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_quote_counter_establishment_id_establishment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('establishment_id', 'year', name=op.f('pk_quote_counter'))
    )
    op.create_table('analytic_code',
    sa.Column('equipment_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_analytic_code_equipment_id_equipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('equipment_id', name=op.f('pk_analytic_code'))
    )
    op.create_table('price',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('machine_hour', 'trainer_hour', 'consumable', 'flat_fee', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('public', sa.Enum('own', 'campus', 'academic', 'company', 'job_seekers', name='public', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'machine_hour') = (equipment_id IS NOT NULL)", name=op.f('ck_price_machine_hour_has_equipment')),
    sa.CheckConstraint("length(label) > 0 OR kind IN ('machine_hour', 'trainer_hour')", name=op.f('ck_price_label_for_items')),
    sa.CheckConstraint('unit_price_cents >= 0', name=op.f('ck_price_unit_price_not_negative')),
    sa.CheckConstraint('vat_rate_bp BETWEEN 0 AND 10000', name=op.f('ck_price_vat_rate_bounded')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_price_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_price_equipment_id_equipment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_price_establishment_id_establishment'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price'))
    )
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index('ix_price_lookup', ['establishment_id', 'kind', 'public', 'valid_from'], unique=False)

    op.create_table('agreement_waiver',
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('waived_by_id', sa.Integer(), nullable=True),
    sa.Column('waived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_agreement_waiver_reason_not_empty')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_agreement_waiver_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['waived_by_id'], ['user_account.id'], name=op.f('fk_agreement_waiver_waived_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('project_id', name=op.f('pk_agreement_waiver'))
    )
    op.create_table('learner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=120), nullable=False),
    sa.Column('last_name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('public', sa.Enum('apprentice', 'student', 'employee', 'job_seeker', name='public', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('erased_at IS NOT NULL OR length(last_name) > 0', name=op.f('ck_learner_named_unless_erased')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_learner_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_learner_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner'))
    )
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_project_id'), ['project_id'], unique=False)

    op.create_table('quote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('public', sa.Enum('own', 'campus', 'academic', 'company', 'job_seekers', name='public', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('draft', 'issued', 'accepted', 'declined', 'superseded', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('revises_id', sa.Integer(), nullable=True),
    sa.Column('price_date', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('discount_bp', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('total_excl_cents', sa.Integer(), nullable=False),
    sa.Column('vat_cents', sa.Integer(), nullable=False),
    sa.Column('total_incl_cents', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_from', sa.String(length=64), nullable=True),
    sa.Column('decided_user_agent', sa.String(length=400), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name=op.f('ck_quote_issued_numbered')),
    sa.CheckConstraint('discount_bp BETWEEN 0 AND 10000', name=op.f('ck_quote_discount_bounded')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_quote_version_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_quote_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_quote_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_quote_establishment_id_establishment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_quote_issued_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_quote_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['revises_id'], ['quote.id'], name=op.f('fk_quote_revises_id_quote'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote')),
    sa.UniqueConstraint('number', 'version', name='number_version')
    )
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_establishment_id'), ['establishment_id'], unique=False)
        batch_op.create_index('ix_quote_project_id_status', ['project_id', 'status'], unique=False)
        batch_op.create_index('uq_quote_accepted_per_project', ['project_id'], unique=True, sqlite_where=sa.text("status = 'accepted'"), postgresql_where=sa.text("status = 'accepted'"))

    op.create_table('attendance_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('half_day', sa.Enum('morning', 'afternoon', name='half_day', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('hours_cents', sa.Integer(), nullable=False),
    sa.Column('trainer_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trainer_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('trainer_signature', sa.Text(), nullable=True),
    sa.Column('company_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('company_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('company_signature', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('company_signed_at IS NULL OR trainer_signed_at IS NOT NULL', name=op.f('ck_attendance_sheet_trainer_signs_first')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_attendance_sheet_booking_id_booking'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['company_signed_by_id'], ['user_account.id'], name=op.f('fk_attendance_sheet_company_signed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_attendance_sheet_project_id_project'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trainer_signed_by_id'], ['user_account.id'], name=op.f('fk_attendance_sheet_trainer_signed_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_sheet')),
    sa.UniqueConstraint('booking_id', 'day', 'half_day', name='one_per_half_day')
    )
    with op.batch_alter_table('attendance_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_sheet_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_sheet_project_id'), ['project_id'], unique=False)

    op.create_table('quote_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('machine_hour', 'trainer_hour', 'consumable', 'flat_fee', name='kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('price_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('quantity_cents', sa.Integer(), nullable=False),
    sa.Column('unit_price_cents', sa.Integer(), nullable=False),
    sa.Column('vat_rate_bp', sa.Integer(), nullable=False),
    sa.Column('discount_bp', sa.Integer(), nullable=False),
    sa.CheckConstraint('discount_bp BETWEEN 0 AND 10000', name=op.f('ck_quote_line_discount_bounded')),
    sa.CheckConstraint('length(label) > 0', name=op.f('ck_quote_line_label_not_empty')),
    sa.CheckConstraint('quantity_cents > 0', name=op.f('ck_quote_line_quantity_positive')),
    sa.CheckConstraint('unit_price_cents >= 0', name=op.f('ck_quote_line_unit_price_not_negative')),
    sa.CheckConstraint('vat_rate_bp BETWEEN 0 AND 10000', name=op.f('ck_quote_line_vat_rate_bounded')),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_quote_line_equipment_id_equipment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['price_id'], ['price.id'], name=op.f('fk_quote_line_price_id_price'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_quote_line_quote_id_quote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quote_line'))
    )
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quote_line_quote_id'), ['quote_id'], unique=False)

    op.create_table('satisfaction_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('respondent', sa.Enum('contact', 'learner', name='respondent', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overall', sa.Integer(), nullable=True),
    sa.Column('content', sa.Integer(), nullable=True),
    sa.Column('trainer', sa.Integer(), nullable=True),
    sa.Column('equipment', sa.Integer(), nullable=True),
    sa.Column('organisation', sa.Integer(), nullable=True),
    sa.Column('objectives', sa.Integer(), nullable=True),
    sa.Column('would_recommend', sa.Boolean(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint('answered_at IS NULL OR overall IS NOT NULL', name=op.f('ck_satisfaction_survey_answer_has_overall')),
    sa.CheckConstraint('content IS NULL OR content BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_content_rating')),
    sa.CheckConstraint('equipment IS NULL OR equipment BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_equipment_rating')),
    sa.CheckConstraint('objectives IS NULL OR objectives BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_objectives_rating')),
    sa.CheckConstraint('organisation IS NULL OR organisation BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_organisation_rating')),
    sa.CheckConstraint('overall IS NULL OR overall BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_overall_rating')),
    sa.CheckConstraint('trainer IS NULL OR trainer BETWEEN 1 AND 5', name=op.f('ck_satisfaction_survey_trainer_rating')),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], name=op.f('fk_satisfaction_survey_learner_id_learner'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_satisfaction_survey_project_id_project'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_survey')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_satisfaction_survey_token_digest'))
    )
    with op.batch_alter_table('satisfaction_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_survey_project_id'), ['project_id'], unique=False)
        batch_op.create_index('uq_satisfaction_survey_contact', ['project_id'], unique=True, sqlite_where=sa.text("respondent = 'contact'"), postgresql_where=sa.text("respondent = 'contact'"))
        batch_op.create_index('uq_satisfaction_survey_learner', ['project_id', 'learner_id'], unique=True, sqlite_where=sa.text("learner_id IS NOT NULL"), postgresql_where=sa.text("learner_id IS NOT NULL"))

    op.create_table('training_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('quote_id', sa.Integer(), nullable=False),
    sa.Column('establishment_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('generated', 'signed', 'cancelled', name='status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('company_name', sa.String(length=255), nullable=False),
    sa.Column('company_address', sa.Text(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('objectives', sa.Text(), nullable=False),
    sa.Column('programme', sa.Text(), nullable=False),
    sa.Column('place', sa.Text(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('duration_hours_cents', sa.Integer(), nullable=False),
    sa.Column('learners', sa.Integer(), nullable=False),
    sa.Column('total_excl_cents', sa.Integer(), nullable=False),
    sa.Column('vat_cents', sa.Integer(), nullable=False),
    sa.Column('total_incl_cents', sa.Integer(), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=160), nullable=True),
    sa.Column('content_type', sa.String(length=32), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('signed_recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status <> 'signed' OR stored_name IS NOT NULL", name=op.f('ck_training_agreement_signed_has_scan')),
    sa.CheckConstraint('duration_hours_cents > 0', name=op.f('ck_training_agreement_duration_positive')),
    sa.CheckConstraint('learners > 0', name=op.f('ck_training_agreement_learners_positive')),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_training_agreement_period')),
    sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], name=op.f('fk_training_agreement_establishment_id_establishment'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['generated_by_id'], ['user_account.id'], name=op.f('fk_training_agreement_generated_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_training_agreement_project_id_project'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['quote_id'], ['quote.id'], name=op.f('fk_training_agreement_quote_id_quote'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['signed_recorded_by_id'], ['user_account.id'], name=op.f('fk_training_agreement_signed_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_agreement')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_training_agreement_stored_name'))
    )
    with op.batch_alter_table('training_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_agreement_project_id'), ['project_id'], unique=False)

    op.create_table('attendance_mark',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('presence', sa.Enum('present', 'late', 'absent', name='presence', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('minutes_late', sa.Integer(), nullable=False),
    sa.CheckConstraint('minutes_late BETWEEN 0 AND 720', name=op.f('ck_attendance_mark_late_bounded')),
    sa.ForeignKeyConstraint(['learner_id'], ['learner.id'], name=op.f('fk_attendance_mark_learner_id_learner'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sheet_id'], ['attendance_sheet.id'], name=op.f('fk_attendance_mark_sheet_id_attendance_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_mark')),
    sa.UniqueConstraint('sheet_id', 'learner_id', name='one_per_learner')
    )
    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_mark_learner_id'), ['learner_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE project ADD COLUMN sector VARCHAR(14) DEFAULT 'other' NOT NULL "
                   "CONSTRAINT ck_project_sector "
                   "CHECK (sector IN ('cosmetics', 'pharmaceutical', 'other'))")
    else:
        op.add_column('project', sa.Column('sector', sa.Enum(
            'cosmetics', 'pharmaceutical', 'other', name='sector', native_enum=False,
            create_constraint=True, length=14), server_default='other', nullable=False))

    # Projects already approved went on without an agreement: they keep being
    # schedulable, waived in their name (a coordinator may still generate one).
    op.execute(
        "INSERT INTO agreement_waiver (project_id, waived_by_id, waived_at, reason) "
        "SELECT id, NULL, updated_at, "
        "'Projet antérieur à la gestion des conventions de formation' FROM project "
        "WHERE status IN ('approved', 'scheduled', 'in_progress', 'completed')")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f('ck_project_sector'), 'project', type_="check")
    op.execute("ALTER TABLE project DROP COLUMN sector")

    with op.batch_alter_table('attendance_mark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_mark_learner_id'))

    op.drop_table('attendance_mark')
    with op.batch_alter_table('training_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_agreement_project_id'))

    op.drop_table('training_agreement')
    with op.batch_alter_table('satisfaction_survey', schema=None) as batch_op:
        batch_op.drop_index('uq_satisfaction_survey_learner', sqlite_where=sa.text("learner_id IS NOT NULL"), postgresql_where=sa.text("learner_id IS NOT NULL"))
        batch_op.drop_index('uq_satisfaction_survey_contact', sqlite_where=sa.text("respondent = 'contact'"), postgresql_where=sa.text("respondent = 'contact'"))
        batch_op.drop_index(batch_op.f('ix_satisfaction_survey_project_id'))

    op.drop_table('satisfaction_survey')
    with op.batch_alter_table('quote_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quote_line_quote_id'))

    op.drop_table('quote_line')
    with op.batch_alter_table('attendance_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_sheet_project_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_sheet_booking_id'))

    op.drop_table('attendance_sheet')
    with op.batch_alter_table('quote', schema=None) as batch_op:
        batch_op.drop_index('uq_quote_accepted_per_project', sqlite_where=sa.text("status = 'accepted'"), postgresql_where=sa.text("status = 'accepted'"))
        batch_op.drop_index('ix_quote_project_id_status')
        batch_op.drop_index(batch_op.f('ix_quote_establishment_id'))

    op.drop_table('quote')
    with op.batch_alter_table('learner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_project_id'))

    op.drop_table('learner')
    op.drop_table('agreement_waiver')
    with op.batch_alter_table('price', schema=None) as batch_op:
        batch_op.drop_index('ix_price_lookup')
        batch_op.drop_index(batch_op.f('ix_price_equipment_id'))

    op.drop_table('price')
    op.drop_table('analytic_code')
    op.drop_table('quote_counter')
    op.drop_table('billing_profile')
