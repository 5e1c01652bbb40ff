"""An export whose read overlaps a cadre's sync push still answers, and its audit entry is written.

On SQLite a transaction that has read cannot start writing once another connection has
committed since ("database is locked" at once, whatever the busy timeout), and a large
ledger reads for seconds while phones keep pushing. Here the push commits in the middle of
the export's read, on a database where requests really commit, and the ledger is written by
the job's task taken from the app's queue (SQLite file), as a worker takes it.
"""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import select

from backend.accounts import service as accounts_service
from backend.audit.models import AuditEvent
from backend.exports import service as exports_service
from backend.extensions import db
from backend.visits.models import Visit
from tests.exports.ledger import csv_rows
from tests.factories import bearer
from tests.jobs.worker import work_off
from tests.sync.conftest import COUNTY, committing_app, mutation, visit_fields  # noqa: F401


def push_visit(app, visit_id: str, mutation_id: int) -> None:
    batch = {"client_id": "00000000-0000-4000-8000-000000000001",
             "mutations": [mutation(mutation_id, "visit.upsert", visit_id, visit_fields())]}
    response = app.test_client().post("/api/sync/push", json=batch, headers=bearer(app.config["TEST_TOKEN"]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["results"][0]["status"] == "applied"


def test_an_export_overlapping_a_push_is_answered_and_audited(committing_app, monkeypatch):  # noqa: F811
    app = committing_app
    before, during = str(uuid.uuid4()), str(uuid.uuid4())
    push_visit(app, before, 1)
    with app.app_context():
        supervisor = accounts_service.create_user(actor=None, username="supervisor", password="a-long-password",
                                                  roles=["supervisor"], area_code=COUNTY)
        token, _device = accounts_service.issue_token(supervisor, "desktop")
        db.session.commit()
    read_labels = exports_service._labels

    def labels_while_a_phone_pushes():
        # The export has begun reading; a phone's push commits from another thread meanwhile.
        pusher = threading.Thread(target=push_visit, args=(app, during, 2))
        pusher.start()
        pusher.join()
        return read_labels()

    monkeypatch.setattr(exports_service, "_labels", labels_while_a_phone_pushes)

    client = app.test_client()
    started = client.post("/api/exports/visits.csv", headers=bearer(token))
    assert started.status_code == 202, started.get_data(as_text=True)
    assert started.json["state"] == "queued"
    assert work_off(app) == 1  # the worker's step, here: take the queued task and run it

    job = client.get(started.headers["Location"], headers=bearer(token)).json
    assert job["state"] == "done", job
    response = client.get(job["download_url"], headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    _header, ledger = csv_rows(response)
    with app.app_context():
        assert set(db.session.scalars(select(Visit.id))) == {uuid.UUID(before), uuid.UUID(during)}
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.visits")).one()
        assert event.after["rows"] == len(ledger) >= 1
        assert event.area_code == COUNTY
