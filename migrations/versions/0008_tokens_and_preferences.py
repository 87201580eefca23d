"""integration tokens and preferences

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-21

api_token gains kind ('login' for the tokens of POST /api/v1/auth/tokens,
'integration' for those a user creates on the « Jetons d'intégration » page),
name, scope ('read', 'book', 'full': every existing token is a 'full' login
token) and last_used_at; expires_at may be empty for integration tokens only
(issue 12).

user_account gains the preferences: notify_bookings, notify_digest (both true,
as the mails went before) and digest_hour (7, the hour the digest had).
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=12), nullable=False, server_default='login'))
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('scope', sa.String(length=8), nullable=False, server_default='full'))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.create_check_constraint(op.f('ck_api_token_kind_known'), "kind IN ('login', 'integration')")
        batch_op.create_check_constraint(op.f('ck_api_token_scope_known'), "scope IN ('read', 'book', 'full')")
        batch_op.create_check_constraint(
            op.f('ck_api_token_login_token_expires'),
            "kind = 'integration' OR (expires_at IS NOT NULL AND scope = 'full')")
        batch_op.create_check_constraint(
            op.f('ck_api_token_integration_token_named'),
            "kind = 'login' OR (name IS NOT NULL AND scope <> 'full')")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_bookings', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_digest', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), server_default=sa.text('7'), nullable=False))
        batch_op.create_check_constraint(op.f('ck_user_account_digest_hour_of_day'), 'digest_hour BETWEEN 0 AND 23')
    # The defaults served only to fill the existing rows.
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=12), server_default=None)
        batch_op.alter_column('scope', existing_type=sa.String(length=8), server_default=None)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_digest_hour_of_day'), type_='check')
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('notify_digest')
        batch_op.drop_column('notify_bookings')
    # Integration tokens cannot exist without these columns: they go.
    op.execute("DELETE FROM api_token WHERE kind = 'integration'")
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_api_token_integration_token_named'), type_='check')
        batch_op.drop_constraint(op.f('ck_api_token_login_token_expires'), type_='check')
        batch_op.drop_constraint(op.f('ck_api_token_scope_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_api_token_kind_known'), type_='check')
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('scope')
        batch_op.drop_column('name')
        batch_op.drop_column('kind')
