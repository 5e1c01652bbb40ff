"""Parallel guesses against one username: the lockout has no race to slip through.

What the throttle's row lock protects is the number of wrong passwords the server
checks before the name locks. Forty guesses arrive at once from forty addresses (so the
per-address rate limit is not what stops them); with a threshold of five, exactly five
passwords may be verified and counted, and every other guess must be refused as locked
without its password being looked at.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import flask_migrate
import pytest
from sqlalchemy import func, select

from backend import create_app
from backend.accounts.models import LoginThrottle, User
from backend.areas import service as areas_service
from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.models_base import utcnow
from tests.factories import PASSWORD

GUESSES = 40
MAX_FAILURES = 5
LOCK_MINUTES = 15

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(empty_database_url, tmp_path):
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path),
                      "LOGIN_MAX_FAILURES": MAX_FAILURES, "LOGIN_LOCK_MINUTES": LOCK_MINUTES})
    with app.app_context():
        flask_migrate.upgrade()
        areas_service.create_area(actor=None, code="990101000000", name="甲县", level="county", parent_code=None)
        user = User(username="target", display_name="target", area_code="990101000000",
                    password_hash=_hash(PASSWORD))
        user.roles = ["cadre"]
        db.session.add(user)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _hash(password: str) -> str:
    from backend.accounts import service as accounts_service

    return accounts_service._hasher.hash(password)


def _parallel_guesses(app, username: str) -> list[int]:
    start = threading.Barrier(GUESSES)

    def guess(attempt: int) -> int:
        client = app.test_client()
        start.wait()
        response = client.post("/api/auth/login", json={"username": username, "password": f"guess-{attempt}"},
                               environ_base={"REMOTE_ADDR": f"10.0.{attempt // 200}.{attempt % 200 + 1}"})
        return response.status_code

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        return list(pool.map(guess, range(GUESSES)))


@pytest.mark.parametrize("username", ["target", "nobody"], ids=["known", "unknown"])
def test_parallel_wrong_passwords_stop_at_the_threshold(app, hasher, username):
    before = utcnow()
    statuses = _parallel_guesses(app, username)
    after = utcnow()

    # Exactly the threshold's worth of passwords was checked, and each was counted.
    assert hasher.verified == MAX_FAILURES
    assert sorted(statuses) == [401] * (MAX_FAILURES - 1) + [429] * (GUESSES - MAX_FAILURES + 1)
    with app.app_context():
        throttle = db.session.get(LoginThrottle, username)
        assert throttle.failures == MAX_FAILURES
        lock = timedelta(minutes=LOCK_MINUTES)
        assert before + lock <= throttle.locked_until <= after + lock
        locks = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == "auth.locked", AuditEvent.entity_id == username))
        assert locks == 1
        db.session.remove()

    # The right password waits for the lock like any guess, and is not checked either.
    response = app.test_client().post("/api/auth/login", json={"username": username, "password": PASSWORD},
                                      environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429 and response.get_json()["reason"] == "account_locked"
    assert hasher.verified == MAX_FAILURES
