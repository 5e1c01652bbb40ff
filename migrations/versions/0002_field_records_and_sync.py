"""Field records and sync: households, visits, hotspots, inspections, the change log and
its counter, sync clients and their results, and the category lists with their first
entries (DESIGN §3).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 21:21:54.087195

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('categories',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('zh', sa.String(length=64), nullable=False),
    sa.Column('en', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'code', name=op.f('pk_categories'))
    )
    op.create_table('changes',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('record_id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('prev_area_code', sa.String(length=12), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_changes'))
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_record', ['entity', 'record_id'], unique=False)

    op.create_table('sync_counter',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('pruned_through', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_counter'))
    )
    op.create_table('hotspots',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('radius_m', sa.Float(), nullable=True),
    sa.Column('risk_level', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('responsible_user_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('field_versions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_hotspots_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_hotspots_created_by_id_users')),
    sa.ForeignKeyConstraint(['responsible_user_id'], ['users.id'], name=op.f('fk_hotspots_responsible_user_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_hotspots_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotspots'))
    )
    with op.batch_alter_table('hotspots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotspots_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_hotspots_status'), ['status'], unique=False)

    op.create_table('households',
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('head_name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('field_versions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_households_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_households_created_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_households_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_area_code'), ['area_code'], unique=False)

    op.create_table('sync_clients',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_mutation_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_push_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sync_clients_user_id_users')),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_sync_clients'))
    )
    with op.batch_alter_table('sync_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_clients_user_id'), ['user_id'], unique=False)

    op.create_table('inspections',
    sa.Column('hotspot_id', sa.Uuid(), nullable=False),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('field_versions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sa.String(length=16), nullable=False),
    sa.Column('review_comment', sa.String(length=2000), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_inspections_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspections_created_by_id_users')),
    sa.ForeignKeyConstraint(['hotspot_id'], ['hotspots.id'], name=op.f('fk_inspections_hotspot_id_hotspots')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_inspections_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_inspections_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_hotspot_id'), ['hotspot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_inspected_at'), ['inspected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_review_status'), ['review_status'], unique=False)

    op.create_table('sync_results',
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('mutation_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['sync_clients.client_id'], name=op.f('fk_sync_results_client_id_sync_clients')),
    sa.PrimaryKeyConstraint('client_id', 'mutation_id', name=op.f('pk_sync_results'))
    )
    with op.batch_alter_table('sync_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_results_at'), ['at'], unique=False)

    op.create_table('visits',
    sa.Column('household_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('concerns', sa.JSON(), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('follow_up_due', sa.Date(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('field_versions', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_status', sa.String(length=16), nullable=False),
    sa.Column('review_comment', sa.String(length=2000), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_visits_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visits_created_by_id_users')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_visits_household_id_households')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_visits_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_visits_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_household_id'), ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_review_status'), ['review_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_visited_at'), ['visited_at'], unique=False)



    _seed()


DISPUTE_TYPES = [
    ("marriage_family", "婚姻家庭", "Marriage and family"),
    ("neighbourhood", "邻里", "Neighbours"),
    ("housing_homestead", "房屋宅基地", "Housing and homestead"),
    ("contract", "合同", "Contracts"),
    ("business", "生产经营", "Production and business"),
    ("damages", "损害赔偿", "Compensation for damage"),
    ("forest_land", "山林土地", "Forest and land"),
    ("land_requisition", "征地拆迁", "Land requisition and demolition"),
    ("pollution", "环境污染", "Environmental pollution"),
    ("labour", "劳动争议（含拖欠农民工工资）", "Labour disputes (incl. unpaid migrant wages)"),
    ("medical", "医疗", "Medical"),
    ("traffic", "道路交通事故", "Road traffic accidents"),
    ("property_management", "物业", "Property management"),
    ("village_affairs", "村务管理", "Village affairs"),
    ("other", "其他", "Other"),
]
HOTSPOT_TYPES = [
    ("rental_cluster", "出租屋集中区", "Rental housing cluster"),
    ("entertainment_venue", "娱乐场所", "Entertainment venue"),
    ("urban_rural_fringe", "城乡结合部", "Urban-rural fringe"),
    ("school_surroundings", "校园周边", "School surroundings"),
    ("market", "集贸市场", "Market"),
    ("transport_hub", "车站码头", "Station or wharf"),
    ("construction_site", "建筑工地", "Construction site"),
    ("other", "其他", "Other"),
]
VISIT_KINDS = [
    ("household", "入户走访", "Household"),
    ("enterprise", "企业走访", "Enterprise"),
    ("site", "场所走访", "Site"),
    ("key_person", "重点人员走访", "Key person"),
]


def _seed():
    categories = sa.table("categories", sa.column("kind", sa.String), sa.column("code", sa.String),
                          sa.column("zh", sa.String), sa.column("en", sa.String),
                          sa.column("position", sa.Integer), sa.column("active", sa.Boolean))
    rows = []
    for kind, entries in (("dispute_type", DISPUTE_TYPES), ("hotspot_type", HOTSPOT_TYPES),
                          ("visit_kind", VISIT_KINDS)):
        rows += [{"kind": kind, "code": code, "zh": zh, "en": en, "position": position, "active": True}
                 for position, (code, zh, en) in enumerate(entries)]
    op.bulk_insert(categories, rows)
    counter = sa.table("sync_counter", sa.column("id", sa.Integer), sa.column("value", sa.BigInteger),
                       sa.column("pruned_through", sa.BigInteger))
    op.bulk_insert(counter, [{"id": 1, "value": 0, "pruned_through": 0}])


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_visited_at'))
        batch_op.drop_index(batch_op.f('ix_visits_review_status'))
        batch_op.drop_index(batch_op.f('ix_visits_household_id'))
        batch_op.drop_index(batch_op.f('ix_visits_area_code'))

    op.drop_table('visits')
    with op.batch_alter_table('sync_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_results_at'))

    op.drop_table('sync_results')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspections_review_status'))
        batch_op.drop_index(batch_op.f('ix_inspections_inspected_at'))
        batch_op.drop_index(batch_op.f('ix_inspections_hotspot_id'))
        batch_op.drop_index(batch_op.f('ix_inspections_area_code'))

    op.drop_table('inspections')
    with op.batch_alter_table('sync_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_clients_user_id'))

    op.drop_table('sync_clients')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_area_code'))

    op.drop_table('households')
    with op.batch_alter_table('hotspots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotspots_status'))
        batch_op.drop_index(batch_op.f('ix_hotspots_area_code'))

    op.drop_table('hotspots')
    op.drop_table('sync_counter')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_record')

    op.drop_table('changes')
    op.drop_table('categories')
