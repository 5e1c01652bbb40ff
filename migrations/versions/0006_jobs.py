"""Background jobs: one row per job a user or the scheduler started (state, progress, attempts,
the last error, the stored file), and a daily snapshot of each county's campaign rates.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:07:18.704684

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rate_snapshots',
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('visited_households', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('flagged_visits', sa.Integer(), nullable=False),
    sa.Column('overdue_follow_ups', sa.Integer(), nullable=False),
    sa.Column('hotspots_due', sa.Integer(), nullable=False),
    sa.Column('hotspots_closed', sa.Integer(), nullable=False),
    sa.Column('hotspots_overdue', sa.Integer(), nullable=False),
    sa.Column('hotspots_relapsed', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_rate_snapshots_area_code_areas')),
    sa.PrimaryKeyConstraint('area_code', 'day', name=op.f('pk_rate_snapshots'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('progress_text', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('result_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_jobs_state')),
    sa.CheckConstraint('progress >= 0 AND progress <= 100', name=op.f('ck_jobs_progress')),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_jobs_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_jobs_state_created_at', ['state', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_created_at')
        batch_op.drop_index(batch_op.f('ix_jobs_created_by_id'))

    op.drop_table('jobs')
    op.drop_table('rate_snapshots')
