"""Parallel guesses against one username all count: the lockout has no race to slip through."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import flask_migrate
from sqlalchemy import func, select

from backend import create_app
from backend.accounts.models import LoginThrottle
from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.models_base import utcnow

GUESSES = 12


def test_parallel_failed_logins_are_all_counted_and_lock(empty_database_url, tmp_path):
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()

    def guess(attempt: int) -> int:
        response = app.test_client().post("/api/auth/login",
                                          json={"username": "target", "password": f"guess-{attempt}"})
        return response.status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(guess, range(GUESSES)))

    assert set(statuses) <= {401, 429}, statuses
    assert 429 in statuses
    with app.app_context():
        throttle = db.session.get(LoginThrottle, "target")
        assert throttle.locked_until > utcnow()
        counted = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.action == "auth.login_failed"))
        refused_while_locked = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                                 .where(AuditEvent.action == "auth.locked"))
        # Every guess was either counted or refused by a lock that was already in place.
        assert counted >= 5 and refused_while_locked >= 1
        assert counted + statuses.count(429) - refused_while_locked >= GUESSES
        db.session.remove()
        db.engine.dispose()
