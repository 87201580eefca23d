"""closure import UID unique per scope: two partial unique indexes

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-12

0001 declared UNIQUE (establishment_id, equipment_id, source_uid) on closure.
Exactly one of the two scope columns is NULL in every row (ck_closure_one_scope)
and NULLs are distinct in a unique key, so it never fired: the same import UID
could be stored twice in one scope, on both databases. Each scope now has its
own partial unique index, over the rows of that scope that carry a UID.

Duplicates already stored stop the upgrade, before anything changes, with a
message listing them (scope, UID, closure ids). They are not merged or deleted
here: two closures with one UID may differ (dates, reason), each may block
bookings and be referred to by people, and only a coordinator knows which one
is right; the migration cannot pick one without losing information silently.
Delete the extra rows (or clear their ``source_uid``) and run the upgrade again.

The downgrade restores 0001's unique key (weaker, so it never fails).
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_UNIQUE = 'uq_closure_establishment_id_equipment_id_source_uid'
# (index, scope column, the other scope column); same names and predicates as models/closure.py.
SCOPES = (
    ('uq_closure_establishment_id_source_uid', 'establishment_id', 'equipment_id'),
    ('uq_closure_equipment_id_source_uid', 'equipment_id', 'establishment_id'),
)


def _where(other):
    """The rows of one scope that carry a UID: the other scope column is NULL."""
    return f"{other} IS NULL AND source_uid IS NOT NULL"


def _refuse_duplicates():
    bind = op.get_bind()
    found = []
    for _name, column, other in SCOPES:
        groups = bind.execute(sa.text(
            f"SELECT {column}, source_uid FROM closure WHERE {_where(other)} "
            f"GROUP BY {column}, source_uid HAVING count(*) > 1 "
            f"ORDER BY {column}, source_uid")).all()
        for scope_id, uid in groups:
            ids = bind.execute(sa.text(
                f"SELECT id FROM closure WHERE {_where(other)} "
                f"AND {column} = :scope_id AND source_uid = :uid ORDER BY id"),
                {"scope_id": scope_id, "uid": uid}).scalars()
            found.append(f"  {column.removesuffix('_id')} {scope_id}, UID {uid!r}: "
                         f"closures {', '.join(str(i) for i in ids)}")
    if found:
        raise RuntimeError(
            "Migration 0004 stopped, nothing changed: these closures share an import UID "
            "within one scope (an establishment or a machine). Keep one closure of each "
            "group: delete the others or set their source_uid to NULL, then run the "
            "upgrade again.\n" + "\n".join(found))


def upgrade():
    _refuse_duplicates()
    with op.batch_alter_table('closure', schema=None) as batch_op:
        batch_op.drop_constraint(OLD_UNIQUE, type_='unique')
        for name, column, other in SCOPES:
            where = sa.text(_where(other))
            batch_op.create_index(name, [column, 'source_uid'], unique=True,
                                  sqlite_where=where, postgresql_where=where)


def downgrade():
    with op.batch_alter_table('closure', schema=None) as batch_op:
        for name, _column, _other in reversed(SCOPES):
            batch_op.drop_index(name)
        batch_op.create_unique_constraint(
            OLD_UNIQUE, ['establishment_id', 'equipment_id', 'source_uid'])
