"""one live feed per owner and scope: a partial unique index

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-12

The calendars page refused a second live feed of one scope, but the API made
one (issue 9); the rule now lives in the feeds service and here. Feeds already
duplicated that way show the same bookings under two URLs: the oldest of each
group stays live and the newer ones are revoked (dated now), each listed in the
migration's log, since the oldest is the one most likely pasted in calendar
apps and a revoked feed keeps its row (it can be looked up, and regenerated
under a new scope if anyone needs it). The downgrade drops the index only.
"""
import logging

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

INDEX = 'uq_feed_owner_id_scope_live'
LIVE = 'revoked_at IS NULL'
log = logging.getLogger('alembic.runtime.migration')


def upgrade():
    bind = op.get_bind()
    extra = bind.execute(sa.text(
        f"SELECT f.id, f.owner_id, f.scope, f.scope_id FROM feed f WHERE f.{LIVE} AND EXISTS "
        f"(SELECT 1 FROM feed o WHERE o.{LIVE} AND o.owner_id = f.owner_id "
        f"AND o.scope = f.scope AND o.scope_id = f.scope_id AND o.id < f.id) ORDER BY f.id"
    )).all()
    for feed_id, owner_id, scope, scope_id in extra:
        log.warning("feed %s of user %s (%s %s) duplicated an older live feed: revoked",
                    feed_id, owner_id, scope, scope_id)
        bind.execute(sa.text("UPDATE feed SET revoked_at = CURRENT_TIMESTAMP WHERE id = :id"),
                     {"id": feed_id})
    op.create_index(INDEX, 'feed', ['owner_id', 'scope', 'scope_id'], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade():
    op.drop_index(INDEX, table_name='feed')
