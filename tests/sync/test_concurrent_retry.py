"""A retry that arrives while the first push is still running waits for it, then answers its results.

The phone gave up waiting and sent the batch again; both requests are in the server at
once, on two real connections. The client's row lock makes the second wait, so each
mutation is still applied exactly once. Marked postgres: on SQLite the single writer
would make the retry wait even without the lock, so only the PostgreSQL run proves it.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.extensions import db
from backend.sync import service as sync_service
from backend.sync.models import SyncResult
from backend.visits.models import Visit
from tests.factories import bearer
from tests.sync.conftest import mutation, visit_fields


@pytest.mark.postgres
def test_a_retry_during_the_first_push_waits_and_applies_nothing_twice(committing_app, monkeypatch):
    client_id = str(uuid.uuid4())
    batch = {"client_id": client_id,
             "mutations": [mutation(n, "visit.upsert", uuid.uuid4(), visit_fields(summary=f"第{n}户"))
                           for n in (1, 2, 3)]}
    first_applying, release = threading.Event(), threading.Event()
    apply = sync_service._apply

    def slow_first_push(actor, writer, queued):
        result = apply(actor, writer, queued)
        if threading.current_thread().name == "first" and queued["id"] == 1:
            first_applying.set()
            release.wait(timeout=8)
        return result

    monkeypatch.setattr(sync_service, "_apply", slow_first_push)
    answers: dict[str, tuple[int, dict]] = {}

    def send(name: str) -> None:
        response = committing_app.test_client().post("/api/sync/push", json=batch,
                                                     headers=bearer(committing_app.config["TEST_TOKEN"]))
        answers[name] = response.status_code, response.get_json()

    first = threading.Thread(target=send, args=("first",), name="first")
    retry = threading.Thread(target=send, args=("retry",), name="retry")
    first.start()
    assert first_applying.wait(timeout=10)
    retry.start()
    retry.join(timeout=1.0)
    assert retry.is_alive(), "the retry must wait for the push that holds the client"
    release.set()
    first.join(timeout=15)
    retry.join(timeout=15)

    assert answers["first"][0] == answers["retry"][0] == 200, answers
    assert [r["status"] for r in answers["first"][1]["results"]] == ["applied"] * 3
    assert answers["retry"][1] == answers["first"][1]
    with committing_app.app_context():
        counts = [db.session.scalar(select(func.count()).select_from(model))
                  for model in (Visit, Change, SyncResult)]
        audits = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                   .where(AuditEvent.action == "visit.create"))
        db.session.remove()
    assert counts == [3, 3, 3] and audits == 3
