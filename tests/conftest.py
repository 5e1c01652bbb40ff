"""Fixtures: one migrated database per run, each test inside a rolled-back transaction.

SQLite by default; PostgreSQL when ZOUFANG_TEST_DATABASE_URL is set (CI runs both).
Markers (docs/testing.md): ``postgres`` tests need two real writers and are skipped on
SQLite; ``browser`` tests drive Chromium; ``fixtures`` tests read ../shared/fixtures
(ZOUFANG_TEST_FIXTURES elsewhere). In CI (CI=true) a skip of any of them, where it
should have run, is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from backend import create_app
from backend.extensions import db as _db

TEST_DATABASE_URL = os.environ.get("ZOUFANG_TEST_DATABASE_URL")
ON_POSTGRES = bool(TEST_DATABASE_URL) and sa.engine.make_url(TEST_DATABASE_URL).get_backend_name() == "postgresql"
IN_CI = os.environ.get("CI") == "true"
FIXTURES = Path(os.environ.get("ZOUFANG_TEST_FIXTURES")
                or Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures")
# Tests whose skipping in CI means something was not tested. A postgres test belongs to
# the PostgreSQL run only: its skip in the SQLite run is expected.
MUST_RUN_IN_CI = ("postgres", "browser", "fixtures", "redis")
SQLITE_CANNOT_PROVE = ("SQLite has a single writer, so a pass here proves no lock: "
                       "this test runs on PostgreSQL (ZOUFANG_TEST_DATABASE_URL)")


def pytest_report_header() -> str:
    database = sa.engine.make_url(TEST_DATABASE_URL).get_backend_name() if TEST_DATABASE_URL else "sqlite"
    return f"zoufang test database: {database}; fixtures: {FIXTURES if FIXTURES.is_dir() else 'absent'}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=SQLITE_CANNOT_PROVE))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    # An expected failure reports as a skip; so does a postgres test in the SQLite run.
    expected = hasattr(report, "wasxfail") or (not ON_POSTGRES and item.get_closest_marker("postgres"))
    if IN_CI and report.skipped and not expected and any(item.get_closest_marker(m) for m in MUST_RUN_IN_CI):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {report.longrepr}"
    return report


def reset_postgres(url: str) -> None:
    """Give the run an empty database: drop everything a previous run left."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        pytest.exit(f"ZOUFANG_TEST_DATABASE_URL={url} does not answer: {exc}", returncode=1)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with tiny costs: the same code path, without 64 MiB per hash."""
    from argon2 import PasswordHasher

    from backend.accounts import service as accounts_service

    original = accounts_service._hasher
    accounts_service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts_service._hasher = original


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance")
    url = TEST_DATABASE_URL or f"sqlite:///{instance / 'test.sqlite3'}"
    if url.startswith("postgresql"):
        reset_postgres(url)
    # Jobs run inside the request that starts them; tests/jobs/ start real workers where that matters.
    app = create_app({"DATABASE_URL": url, "INSTANCE_DIR": str(instance), "TESTING": True, "JOBS_IMMEDIATE": True})
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[type[_db]]:
    """The database, inside a transaction rolled back after the test.

    Sessions join it through savepoints, so a route's commit() ends a savepoint and
    the test still sees nothing of other tests.
    """
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"), scopefunc=_app_ctx_id
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db):
    return app.test_client()


@pytest.fixture
def cli(app: Flask, db):
    return app.test_cli_runner()


@pytest.fixture
def tree(db):
    from tests.factories import build_tree

    return build_tree()


@pytest.fixture
def empty_database_url(tmp_path) -> Iterator[str]:
    """A new, empty database of the kind under test, for tests that must commit."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"zoufang_scratch_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
