"""identity providers

Revision ID: 0009
Revises: 0008
Create Date: 2027-01-25

identity_provider: an establishment's OpenID Connect, CAS, SAML or LDAP
service, its settings and its attribute-to-role rules; identity_link: the
provider's stable subject of an account (unique per provider); login_session
remembers the provider a login came through; establishment.local_passwords
(true for every existing establishment: nothing changes until an admin turns
it off); sso_answered_request: the SAML requests already answered (replays).
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'identity_provider',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('establishment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('role_rules', sa.JSON(), nullable=False),
        sa.Column('default_role', sa.String(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('oidc', 'cas', 'saml', 'ldap')",
                           name=op.f('ck_identity_provider_kind_known')),
        sa.CheckConstraint('length(code) BETWEEN 2 AND 40',
                           name=op.f('ck_identity_provider_code_length')),
        sa.CheckConstraint('length(label) > 0', name=op.f('ck_identity_provider_label_not_empty')),
        sa.CheckConstraint("default_role IS NULL OR default_role IN ('trainer', 'coordinator')",
                           name=op.f('ck_identity_provider_default_role_known')),
        sa.ForeignKeyConstraint(['establishment_id'], ['establishment.id'], ondelete='CASCADE',
                                name=op.f('fk_identity_provider_establishment_id_establishment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider')),
        sa.UniqueConstraint('code', name=op.f('uq_identity_provider_code')),
    )
    op.create_index(op.f('ix_identity_provider_establishment_id'), 'identity_provider',
                    ['establishment_id'], unique=False)
    op.create_table(
        'identity_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['provider_id'], ['identity_provider.id'], ondelete='CASCADE',
                                name=op.f('fk_identity_link_provider_id_identity_provider')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_identity_link_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_link')),
        sa.UniqueConstraint('provider_id', 'subject', name=op.f('uq_identity_link_provider_id_subject')),
    )
    op.create_index(op.f('ix_identity_link_user_id'), 'identity_link', ['user_id'], unique=False)
    op.create_table(
        'sso_answered_request',
        sa.Column('request_id', sa.String(length=100), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('request_id', name=op.f('pk_sso_answered_request')),
    )
    op.create_index(op.f('ix_sso_answered_request_expires_at'), 'sso_answered_request',
                    ['expires_at'], unique=False)
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_passwords', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_login_session_provider_id_identity_provider'),
                                    'identity_provider', ['provider_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_login_session_provider_id_identity_provider'),
                                 type_='foreignkey')
        batch_op.drop_column('provider_id')
    with op.batch_alter_table('establishment', schema=None) as batch_op:
        batch_op.drop_column('local_passwords')
    op.drop_index(op.f('ix_sso_answered_request_expires_at'), table_name='sso_answered_request')
    op.drop_table('sso_answered_request')
    op.drop_index(op.f('ix_identity_link_user_id'), table_name='identity_link')
    op.drop_table('identity_link')
    op.drop_index(op.f('ix_identity_provider_establishment_id'), table_name='identity_provider')
    op.drop_table('identity_provider')
