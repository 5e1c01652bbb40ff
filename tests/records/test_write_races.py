"""Writers of one record at one version, at the same moment, on real PostgreSQL connections.

Each writer is a request of its own (its own app context, session and connection). The
server is slowed between reading the record and writing it (``_apply`` sleeps first), so
without the row lock every writer would read the same version and all would write. With it,
of N writers at one version exactly one wins; the others get 412 (REST) or a merge computed
against the winner (sync).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import select

from backend import create_app
from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.hotspots.models import Hotspot
from backend.households.models import Household
from backend.records import writes as records_service
from backend.visits.models import Visit
from tests.factories import bearer, build_tree, make_user, token_for
from tests.sync.conftest import hotspot_fields, household_fields, mutation, visit_fields

pytestmark = pytest.mark.postgres

WRITERS = 6
WINDOW_S = 0.3  # between the read and the write of each request


@dataclass
class Live:
    """An app on its own database, whose requests really commit, and its users' headers."""

    app: Flask
    headers: dict[str, dict[str, str]]

    def request(self, method: str, path: str, who: str, *, json: Any = None,
                if_match: int | None = None) -> tuple[int, dict[str, Any]]:
        headers = dict(self.headers[who])
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        response = self.app.test_client().open(path, method=method, headers=headers, json=json)
        return response.status_code, response.get_json(silent=True) or {}

    def read(self, model: type, record_id: str) -> Any:
        with self.app.app_context():
            record = db.session.get(model, uuid.UUID(record_id))
            db.session.expunge(record)
            db.session.remove()
            return record

    def audits(self, record_id: str) -> list[str]:
        with self.app.app_context():
            actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == record_id)
                                         .order_by(AuditEvent.id)).all()
            db.session.remove()
            return list(actions)


@pytest.fixture
def live(empty_database_url, tmp_path, monkeypatch) -> Iterator[Live]:
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    with app.app_context():
        flask_migrate.upgrade()
        tree = build_tree()
        users = {"author": (tree.V1, "cadre"), "supervisor": (tree.A, "supervisor"),
                 "supervisor2": (tree.A, "supervisor"), "inspector": (tree.V1, "inspector")}
        users.update({f"cadre{n}": (tree.V1, "cadre") for n in range(WRITERS)})
        headers = {name: bearer(token_for(make_user(name, area, role))) for name, (area, role) in users.items()}
        db.session.remove()
    apply = records_service._apply

    def slow_apply(*args: Any, **kwargs: Any) -> None:
        time.sleep(WINDOW_S)
        apply(*args, **kwargs)

    monkeypatch.setattr(records_service, "_apply", slow_apply)
    yield Live(app, headers)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in parallel threads, started together; their answers in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def created(live: Live, plural: str, who: str, fields: dict[str, Any]) -> str:
    """A new record, committed (a create takes no read-modify-write, so it is not slowed)."""
    record_id = str(uuid.uuid4())
    status, body = live.request("POST", f"/api/{plural}", who, json={"id": record_id, **fields})
    assert status == 201, body
    return record_id


def test_six_patches_at_one_version_one_wins_and_five_are_412(live):
    visit_id = created(live, "visits", "author", visit_fields())
    summaries = [f"第{n}次修改" for n in range(WRITERS)]

    answers = at_once([lambda text=text: live.request("PATCH", f"/api/visits/{visit_id}", "author",
                                                      json={"summary": text}, if_match=1)
                       for text in summaries])

    statuses = [status for status, _body in answers]
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1), answers
    winner = summaries[statuses.index(200)]
    assert {body["reason"] for status, body in answers if status == 412} == {"stale_version"}
    visit = live.read(Visit, visit_id)
    assert (visit.version, visit.summary) == (2, winner)
    assert live.audits(visit_id) == ["visit.create", "visit.update"]


def test_the_authors_edit_and_a_supervisors_approval_at_one_version_one_wins(live):
    visit_id = created(live, "visits", "author", visit_fields())

    edit, approval = at_once([
        lambda: live.request("PATCH", f"/api/visits/{visit_id}", "author", json={"summary": "补记"}, if_match=1),
        lambda: live.request("POST", f"/api/visits/{visit_id}/review", "supervisor",
                             json={"review_status": "approved"}, if_match=1)])

    assert sorted([edit[0], approval[0]]) == [200, 412], (edit, approval)
    visit = live.read(Visit, visit_id)
    assert visit.version == 2
    if edit[0] == 200:
        assert (visit.summary, visit.review_status) == ("补记", "pending")
        assert live.audits(visit_id) == ["visit.create", "visit.update"]
    else:
        # What was approved is what the supervisor saw: the edit did not slip under the approval.
        assert (visit.summary, visit.review_status) == (visit_fields()["summary"], "approved")
        assert live.audits(visit_id) == ["visit.create", "visit.review"]


def test_parallel_pushes_editing_one_household_merge_against_each_winner(live):
    writers = [f"cadre{n}" for n in range(4)]
    own_field = {"cadre0": ("phone", "13800000000"), "cadre1": ("address", "一村3组12号之一"),
                 "cadre2": ("lat", 30.25), "cadre3": ("lon", 120.15)}
    household_id = created(live, "households", "author", household_fields())

    def push(who: str) -> dict[str, Any]:
        name, value = own_field[who]
        fields = {"head_name": f"户主{who}", name: value}
        status, body = live.request("POST", "/api/sync/push", who, json={
            "client_id": str(uuid.uuid4()), "mutations": [mutation(1, "household.upsert", household_id, fields,
                                                                   base_version=1)]})
        assert status == 200, body
        return body["results"][0]

    results = dict(zip(writers, at_once([lambda who=who: push(who) for who in writers]), strict=True))

    by_version = sorted(results.items(), key=lambda item: item[1]["version"])
    assert [result["version"] for _who, result in by_version] == [2, 3, 4, 5], results
    _first_who, first = by_version[0]
    assert (first["status"], first["conflicts"]) == ("applied", [])
    for (previous_who, _previous), (_who, result) in zip(by_version, by_version[1:], strict=False):
        # Each later writer's merge was computed against the one that committed just before it.
        assert result["status"] == "conflict", result
        assert result["conflicts"] == [{"field": "head_name", "server_value": f"户主{previous_who}",
                                        "server_version": result["version"] - 1}]
    household = live.read(Household, household_id)
    assert household.version == 1 + len(writers)
    assert household.head_name == f"户主{by_version[-1][0]}"
    assert (household.phone, household.address, household.lat, household.lon) == (
        "13800000000", "一村3组12号之一", 30.25, 120.15)
    assert live.audits(household_id) == ["household.create"] + ["household.update"] * len(writers)


def test_a_bulk_approval_and_the_authors_edit_at_one_version_one_wins(live):
    visit_id = created(live, "visits", "author", visit_fields())

    bulk, edit = at_once([
        lambda: live.request("POST", "/api/review/bulk-approve", "supervisor",
                             json={"items": [{"record_type": "visit", "id": visit_id, "version": 1}]}),
        lambda: live.request("PATCH", f"/api/visits/{visit_id}", "author", json={"summary": "补记"}, if_match=1)])

    assert bulk[0] == 200, bulk
    [item] = bulk[1]["items"]
    visit = live.read(Visit, visit_id)
    assert visit.version == 2
    if item["status"] == "approved":
        assert edit[0] == 412, edit
        assert (visit.summary, visit.review_status) == (visit_fields()["summary"], "approved")
    else:
        assert (edit[0], item["reason"], item["version"]) == (200, "stale_version", 2)
        assert (visit.summary, visit.review_status) == ("补记", "pending")


def test_two_supervisors_ruling_on_one_acceptance_one_wins(live):
    hotspot_id = created(live, "hotspots", "inspector", hotspot_fields())
    for version, status in ((1, "rectifying"), (2, "acceptance_requested")):
        answered = live.request("PATCH", f"/api/hotspots/{hotspot_id}", "inspector", json={"status": status},
                                if_match=version)
        assert answered[0] == 200, answered

    # One accepts over REST, the other refuses from a phone that saw the same version.
    accepted, refused = at_once([
        lambda: live.request("PATCH", f"/api/hotspots/{hotspot_id}", "supervisor", json={"status": "closed"},
                             if_match=3),
        lambda: live.request("POST", "/api/sync/push", "supervisor2", json={
            "client_id": str(uuid.uuid4()),
            "mutations": [mutation(1, "hotspot.upsert", hotspot_id, {"status": "rectifying"}, base_version=3)]})])

    [result] = refused[1]["results"]
    hotspot = live.read(Hotspot, hotspot_id)
    assert hotspot.version == 4
    if accepted[0] == 200:
        # The refusal met the closed hotspot, from which rectifying is no step.
        assert (result["status"], result["error"]["code"]) == ("rejected", "invalid_transition")
        assert hotspot.status == "closed"
    else:
        assert (accepted[0], result["status"]) == (412, "applied")
        assert hotspot.status == "rectifying"
    assert live.audits(hotspot_id).count("hotspot.update") == 3


def test_the_push_answers_a_deadlock_as_a_busy_database(live, monkeypatch):
    # PostgreSQL's deadlock error is an OperationalError: the client retries after Retry-After.
    from psycopg.errors import DeadlockDetected
    from sqlalchemy.exc import OperationalError

    def deadlocked(*_args: Any, **_kwargs: Any) -> None:
        raise OperationalError("SELECT … FOR UPDATE", {}, DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(records_service, "preload", deadlocked)
    response = live.app.test_client().post("/api/sync/push", headers=live.headers["author"], json={
        "client_id": str(uuid.uuid4()), "mutations": [mutation(1, "visit.upsert", uuid.uuid4(), visit_fields())]})

    assert (response.status_code, response.get_json()["reason"]) == (503, "database_unavailable")
    assert response.headers["Retry-After"] == "5"
