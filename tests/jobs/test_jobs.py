"""Jobs as users and admins see them: a ledger's job, its scope, failures, retries and the schedule.

Jobs here run inside the request that starts them (huey's immediate mode, tests/conftest.py):
what is checked is the logic around the work. tests/jobs/test_workers.py runs real workers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.exports import service as exports_service
from backend.jobs import tasks
from backend.jobs.models import Job, RateSnapshot
from backend.metrics import service as metrics_service
from tests.exports.ledger import csv_rows
from tests.factories import login_headers
from tests.sync.conftest import cadre, device, supervisor  # noqa: F401
from tests.test_app import assert_error


def start_ledger(client, headers, path="visits.csv", **query):
    response = client.post(f"/api/exports/{path}", headers=headers, query_string=query)
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.json


def test_a_ledger_job_ends_done_with_its_rows_and_a_link_only_its_starter_follows(client, tree, supervisor):  # noqa: F811
    job = start_ledger(client, supervisor.headers, "hotspots.csv")

    seen = client.get(f"/api/jobs/{job['id']}", headers=supervisor.headers).json
    assert (seen["kind"], seen["state"], seen["progress"], seen["attempts"]) == ("ledger", "done", 100, 1)
    assert seen["params"] == {"name": "hotspots", "format": "csv", "filters": {}}
    assert seen["result"]["rows"] == 0 and seen["result"]["filename"].startswith("乱点整治台账-甲县-")
    assert seen["download_url"] == f"/api/jobs/{job['id']}/download"
    header, rows = csv_rows(client.get(seen["download_url"], headers=supervisor.headers))
    assert header[0] == "序号" and rows == []


def test_a_job_and_its_file_do_not_exist_for_anyone_else_but_an_admin_over_its_area(client, tree, supervisor):  # noqa: F811
    job = start_ledger(client, supervisor.headers, area=tree.T1)
    paths = (f"/api/jobs/{job['id']}", f"/api/jobs/{job['id']}/download")
    others = {"another county's supervisor": login_headers("sup-b", tree.B, "supervisor"),
              "another county's admin": login_headers("admin-b", tree.B, "admin"),
              "a supervisor beside the starter": login_headers("sup-a2", tree.A, "supervisor"),
              "an admin of the other township": login_headers("admin-t2", tree.T2, "admin"),
              "a cadre of the township": login_headers("cadre-t1", tree.T1, "cadre")}
    for who, headers in others.items():
        for path in paths:
            assert assert_error(client.get(path, headers=headers), 404)["reason"] == "not_found", (who, path)
    for headers in (supervisor.headers, login_headers("admin-a", tree.A, "admin"),
                    login_headers("admin-t1", tree.T1, "admin")):
        assert [client.get(path, headers=headers).status_code for path in paths] == [200, 200]


def test_a_job_without_its_file_yet_answers_409_on_download(client, db, tree, supervisor, monkeypatch):  # noqa: F811
    monkeypatch.setattr(tasks.JobQueue, "submit", lambda self, job_id: None)  # nobody works the queue
    job = start_ledger(client, supervisor.headers)

    assert job["state"] == "queued" and job["download_url"] is None
    response = client.get(f"/api/jobs/{job['id']}/download", headers=supervisor.headers)
    assert assert_error(response, 409)["reason"] == "job_not_done"


def _failing_ledgers(monkeypatch, failures: list[int]):
    """Ledgers fail while ``failures`` has entries, one taken per attempt."""
    write = exports_service.write_ledger

    def flaky(**kwargs):
        if failures:
            failures.pop()
            raise OSError("disk full while writing the ledger")
        return write(**kwargs)

    monkeypatch.setattr(exports_service, "write_ledger", flaky)
    monkeypatch.setattr(tasks, "RETRY_DELAY", 0)  # huey then requeues at once, and immediate mode runs it


def test_a_failing_job_is_retried_then_shown_failed_to_the_admin_who_can_run_it_again(
        client, tree, supervisor, monkeypatch):  # noqa: F811
    _failing_ledgers(monkeypatch, failures=[1] * (tasks.RETRIES + 1))
    admin = login_headers("admin-a", tree.A, "admin")
    job = start_ledger(client, supervisor.headers)

    seen = client.get(f"/api/jobs/{job['id']}", headers=supervisor.headers).json
    assert (seen["state"], seen["attempts"]) == ("failed", tasks.RETRIES + 1)
    assert seen["last_error"] == "OSError: disk full while writing the ledger" and seen["download_url"] is None
    failed = client.get("/api/jobs", headers=admin, query_string={"state": "failed"}).json
    assert [(one["id"], one["kind"], one["last_error"]) for one in failed] == [
        (job["id"], "ledger", seen["last_error"])]
    assert assert_error(client.get("/api/jobs", headers=supervisor.headers), 403)["reason"] == "forbidden"
    assert assert_error(client.post(f"/api/jobs/{job['id']}/retry", headers=supervisor.headers), 403)
    assert client.get("/api/jobs", headers=login_headers("admin-b", tree.B, "admin"),
                      query_string={"state": "failed"}).json == []

    retried = client.post(f"/api/jobs/{job['id']}/retry", headers=admin)

    assert retried.status_code == 202
    assert (retried.json["state"], retried.json["attempts"]) == ("done", tasks.RETRIES + 2)
    assert client.get(retried.json["download_url"], headers=supervisor.headers).status_code == 200
    again = client.post(f"/api/jobs/{job['id']}/retry", headers=admin)
    assert assert_error(again, 409)["reason"] == "job_not_failed"


def test_a_job_that_fails_once_succeeds_on_its_retry(client, tree, supervisor, monkeypatch):  # noqa: F811
    _failing_ledgers(monkeypatch, failures=[1])
    job = start_ledger(client, supervisor.headers)

    seen = client.get(f"/api/jobs/{job['id']}", headers=supervisor.headers).json
    assert (seen["state"], seen["attempts"]) == ("done", 2)
    assert seen["last_error"] == "OSError: disk full while writing the ledger"  # kept: it happened


def test_a_ledger_whose_starter_was_deactivated_fails_at_once_without_retries(app, client, db, tree, monkeypatch):
    from backend.accounts.models import User

    monkeypatch.setattr(tasks.JobQueue, "submit", lambda self, job_id: None)
    job = start_ledger(client, login_headers("sup-gone", tree.A, "supervisor"))
    db.session.scalars(select(User).where(User.username == "sup-gone")).one().active = False
    db.session.commit()
    monkeypatch.undo()
    monkeypatch.setattr(tasks, "RETRY_DELAY", 0)

    app.extensions["zoufang_jobs"].submit(uuid.UUID(job["id"]))

    stored = db.session.get(Job, uuid.UUID(job["id"]))
    assert (stored.state, stored.attempts) == ("failed", 1)
    assert stored.last_error == "The user who asked for this ledger is no longer active."


# --- the schedule ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["sync_prune", "upload_expiry", "sign_in_prune", "jobs_prune", "rates_snapshot"])
def test_each_housekeeping_job_runs_as_a_job_an_admin_sees(cli, client, tree, kind):
    result = cli.invoke(args=["jobs", "run", kind])

    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{kind}: done ")
    listed = client.get("/api/jobs", headers=login_headers("admin-b", tree.B, "admin"),
                        query_string={"kind": kind}).json
    assert [(one["state"], one["created_by_id"], one["area_code"]) for one in listed] == [("done", None, None)]


def test_the_scheduler_starts_the_daily_snapshot_after_the_county_midnight(app, client, db, tree, cadre):  # noqa: F811
    huey = app.extensions["zoufang_jobs"].huey
    due = {task.name for task in huey.read_periodic(datetime(2026, 12, 4, 16, 10))}
    assert due == {"start_rates_snapshot"}  # 00:10 in Shanghai; hourly ones run at :17 and :47
    assert {task.name for task in huey.read_periodic(datetime(2026, 12, 4, 3, 17))} == {"start_sign_in_prune"}

    for task in huey.read_periodic(datetime(2026, 12, 4, 16, 10)):
        huey.execute(task)

    job = db.session.scalars(select(Job).where(Job.kind == "rates_snapshot")).one()
    assert job.state == "done" and job.created_by_id is None
    day = metrics_service.local_today(metrics_service.county_zone()) - timedelta(days=1)
    assert job.result == {"day": day.isoformat(), "counties": 2}
    rows = {row.area_code: row for row in db.session.scalars(select(RateSnapshot).where(RateSnapshot.day == day))}
    assert set(rows) == {tree.A, tree.B}
    live = metrics_service.coverage(actor=None, area=tree.A, end=day).total
    assert (rows[tree.A].households, rows[tree.A].visited_households, rows[tree.A].visits) == (
        live.households, live.visited_households, live.visits)


def test_a_second_snapshot_of_the_same_day_replaces_the_first(cli, db, tree):
    assert cli.invoke(args=["jobs", "run", "rates_snapshot"]).exit_code == 0
    assert cli.invoke(args=["jobs", "run", "rates_snapshot"]).exit_code == 0

    assert len(db.session.scalars(select(RateSnapshot).where(RateSnapshot.area_code == tree.A)).all()) == 1


def test_old_job_files_are_removed_and_a_run_whose_worker_vanished_is_failed(app, client, db, tree, supervisor,  # noqa: F811
                                                                             cli):  # noqa: F811
    job = start_ledger(client, supervisor.headers)
    stored = db.session.get(Job, uuid.UUID(job["id"]))
    stored.created_at = datetime.now(UTC) - timedelta(days=8)
    stalled = Job(kind="sync_prune", params={}, state="running", progress=0, progress_text="", attempts=1,
                  started_at=datetime.now(UTC) - timedelta(hours=7))
    db.session.add(stalled)
    db.session.commit()

    assert cli.invoke(args=["jobs", "run", "jobs_prune"]).exit_code == 0

    response = client.get(f"/api/jobs/{job['id']}/download", headers=supervisor.headers)
    assert assert_error(response, 404)["reason"] == "job_file_expired"
    assert client.get(f"/api/jobs/{job['id']}", headers=supervisor.headers).json["download_url"] is None
    assert not app.extensions["zoufang_storage"].exists(f"jobs/{job['id']}.csv")
    db.session.refresh(stalled)
    assert stalled.state == "failed" and "stopped during the run" in stalled.last_error
