"""Alembic environment, run through Flask-Migrate (`zoufang db ...`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from backend.models_base import UTCDateTime

config = context.config
if config.config_file_name:
    # Keep the app's loggers alive when migrating from inside a running app or test.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
MIGRATION_LOCK_KEY = 0x7A6F7566  # "zouf"


def render_item(type_, obj, autogen_context):
    """Write UTCDateTime columns as plain timezone-aware DateTime in revisions."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    context.configure(url=str(target_db.engine.url), target_metadata=target_db.metadata,
                      literal_binds=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty_revision(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revision)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata,
                          render_item=render_item, **conf_args)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several app containers may start at once: one migrates, the rest wait
                # for it and then find nothing left to do.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
