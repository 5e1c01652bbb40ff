"""The revisions build the models' schema on an empty database, with no drift, on SQLite and PostgreSQL."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from backend import create_app
from backend.extensions import db


def test_upgrade_from_empty_to_head_leaves_no_drift(empty_database_url, tmp_path):
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()
        tables = set(sa.inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        flask_migrate.check()  # raises (exits) when the models and the revisions differ
        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
