"""Real workers: a `zoufang jobs worker` process on the SQLite queue, and huey's Consumer on Redis.

Apps here commit for real, on a database of their own (``empty_database_url``); the API is
asked for a ledger and polled, as the PWA does, until a worker has written the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select

from backend import create_app
from backend.accounts import service as accounts_service
from backend.areas import service as areas_service
from backend.exports import service as exports_service
from backend.extensions import db
from backend.jobs import tasks
from backend.jobs.models import Job
from tests.exports.ledger import csv_rows
from tests.exports.test_export_while_writing import push_visit
from tests.factories import bearer
from tests.jobs.worker import consuming
from tests.sync.conftest import COUNTY, TOWNSHIP, VILLAGE, committing_app  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"


def _people(app) -> tuple[str, str]:
    """Tokens of a county supervisor and a county admin."""
    with app.app_context():
        tokens = []
        for name, role in (("supervisor", "supervisor"), ("admin", "admin")):
            user = accounts_service.create_user(actor=None, username=name, password="a-long-password",
                                                roles=[role], area_code=COUNTY)
            tokens.append(accounts_service.issue_token(user, "desktop")[0])
        db.session.commit()
    return tokens[0], tokens[1]


def _until_settled(client, location: str, token: str, *, seconds: float = 60) -> dict:
    """Poll the job, as the PWA does, until it is done or failed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(location, headers=bearer(token)).json
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job still {job['state']} after {seconds} s: {job}")


def test_a_worker_process_writes_the_ledger_that_the_api_then_serves(committing_app, tmp_path):  # noqa: F811
    app = committing_app
    visit = str(uuid.uuid4())
    push_visit(app, visit, 1)
    supervisor, _admin = _people(app)
    env = {**os.environ, "ZOUFANG_INSTANCE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT),
           "ZOUFANG_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "ZOUFANG_REDIS_URL": ""}
    worker = subprocess.Popen([sys.executable, "-c", "from backend.cli import main; main()", "jobs", "worker",
                               "--workers", "1", "--no-periodic"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = app.test_client()
        started = client.post("/api/exports/visits.csv", headers=bearer(supervisor))
        assert started.status_code == 202 and started.json["state"] == "queued"

        job = _until_settled(client, started.headers["Location"], supervisor)
    finally:
        worker.send_signal(signal.SIGINT)  # huey's graceful stop
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()

    assert (app.extensions["zoufang_jobs"].huey.storage.filename, job["state"], job["attempts"]) == (
        str(tmp_path / "jobs.sqlite3"), "done", 1), output
    ran = [line for line in output.splitlines() if "backend.jobs.tasks.run_job" in line and "executed in" in line]
    assert len(ran) == 1 and f"[{worker.pid}]" in ran[0], output  # in the worker process, once
    header, rows = csv_rows(client.get(job["download_url"], headers=bearer(supervisor)))
    assert header[0] == "序号" and len(rows) == 1 and job["result"]["rows"] == 1


# --- Redis --------------------------------------------------------------------------------

@pytest.fixture
def redis_app(empty_database_url, tmp_path):
    """An app whose jobs wait in Redis under a queue name of their own, and a consumer in threads."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: {exc}")
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path), "REDIS_URL": REDIS_URL,
                      "JOBS_QUEUE_NAME": f"zoufang-test-{uuid.uuid4().hex[:12]}"})
    with app.app_context():
        flask_migrate.upgrade()
        for code, level, parent in ((COUNTY, "county", None), (TOWNSHIP, "township", COUNTY),
                                    (VILLAGE, "village", TOWNSHIP)):
            areas_service.create_area(actor=None, code=code, name=code, level=level, parent_code=parent)
        db.session.commit()
    with consuming(app):
        yield app
    app.extensions["zoufang_jobs"].huey.storage.flush_all()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.redis
def test_on_redis_a_ledger_is_written_and_a_failing_job_is_retried_then_shown_failed(redis_app, monkeypatch):
    app = redis_app
    assert type(app.extensions["zoufang_jobs"].huey.storage).__name__ == "RedisStorage"
    supervisor, admin = _people(app)
    client = app.test_client()

    started = client.post("/api/exports/hotspots.xlsx", headers=bearer(supervisor))
    job = _until_settled(client, started.headers["Location"], supervisor)
    assert (job["state"], job["attempts"]) == ("done", 1), job
    assert client.get(job["download_url"], headers=bearer(supervisor)).status_code == 200

    def broken(**kwargs):
        raise OSError("the object store refused the file")

    monkeypatch.setattr(exports_service, "write_ledger", broken)
    monkeypatch.setattr(tasks, "RETRY_DELAY", 1)
    started = client.post("/api/exports/visits.csv", headers=bearer(supervisor))
    job = _until_settled(client, started.headers["Location"], supervisor)

    assert (job["state"], job["attempts"], job["last_error"]) == (
        "failed", tasks.RETRIES + 1, "OSError: the object store refused the file")
    failed = client.get("/api/jobs", headers=bearer(admin), query_string={"state": "failed"}).json
    assert [one["id"] for one in failed] == [job["id"]]
    with app.app_context():
        assert db.session.scalars(select(Job.state).order_by(Job.created_at)).all() == ["done", "failed"]
