"""Indexes for the supervisors' reports at county scale (bench/metrics.py): an area's visits
by time, by follow-up date and by position, a household's visits by time, an area's live
households. The single-column indexes on visits.area_code, visits.household_id and
households.area_code give way to the composite ones that lead with the same column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:54:17.999626

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_area_live', ['area_code', 'deleted', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_households_area_code'))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_area_time',
                              ['area_code', 'visited_at', 'review_status', 'deleted', 'household_id'], unique=False)
        batch_op.create_index('ix_visits_area_follow_up',
                              ['area_code', 'follow_up_due', 'deleted', 'household_id', 'visited_at'], unique=False,
                              postgresql_where=sa.text('follow_up_due IS NOT NULL'),
                              sqlite_where=sa.text('follow_up_due IS NOT NULL'))
        batch_op.create_index('ix_visits_area_position', ['area_code', 'lon', 'lat', 'deleted'], unique=False)
        batch_op.create_index('ix_visits_household_time', ['household_id', 'visited_at', 'deleted', 'area_code'],
                              unique=False)
        batch_op.drop_index(batch_op.f('ix_visits_area_code'))
        batch_op.drop_index(batch_op.f('ix_visits_household_id'))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_area_code'), ['area_code'], unique=False)
        batch_op.drop_index('ix_visits_household_time')
        batch_op.drop_index('ix_visits_area_position')
        batch_op.drop_index('ix_visits_area_follow_up')
        batch_op.drop_index('ix_visits_area_time')

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_area_code'), ['area_code'], unique=False)
        batch_op.drop_index('ix_households_area_live')
