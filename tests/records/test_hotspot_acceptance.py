"""Accepting or refusing a hotspot's rectification is a supervisor's step, over REST and from a phone.

docs/sync.md: ``acceptance_requested → closed`` (accepted) and ``acceptance_requested →
rectifying`` (refused) are a supervisor's; the team that asked for acceptance cannot
answer its own request either way.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEvent
from backend.hotspots.models import Hotspot
from tests.sync.conftest import device, hotspot_fields, push, written
from tests.test_app import assert_error


def awaiting_acceptance(client, inspector) -> str:
    """A hotspot the inspector listed, rectified and asked to have accepted (version 3)."""
    record_id = str(uuid.uuid4())
    answered = push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, hotspot_fields()),
        inspector.mutation("hotspot.upsert", record_id, {"status": "rectifying"}, base_version=1),
        inspector.mutation("hotspot.upsert", record_id, {"status": "acceptance_requested"}, base_version=2)])
    assert [r["status"] for r in answered["results"]] == ["applied"] * 3, answered
    return record_id


def state(db, record_id: str) -> tuple[str, int]:
    hotspot = db.session.scalars(select(Hotspot).where(Hotspot.id == uuid.UUID(record_id))).one()
    db.session.refresh(hotspot)
    return hotspot.status, hotspot.version


@pytest.fixture
def inspector(tree):
    return device("inspector-v1", tree.V1, "inspector")


@pytest.fixture
def supervisor(tree):
    return device("supervisor-a", tree.A, "supervisor")


def test_an_inspector_cannot_refuse_acceptance_over_rest(client, db, inspector):
    record_id = awaiting_acceptance(client, inspector)
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent))

    refused = client.patch(f"/api/hotspots/{record_id}", headers={**inspector.headers, "If-Match": '"3"'},
                           json={"status": "rectifying"})

    assert assert_error(refused, 403)["reason"] == "forbidden"
    assert state(db, record_id) == ("acceptance_requested", 3)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_an_inspector_cannot_refuse_acceptance_from_a_phone(client, db, inspector):
    record_id = awaiting_acceptance(client, inspector)
    before = written(db)

    answered = push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, {"status": "rectifying"}, base_version=3)])

    [result] = answered["results"]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == \
        ("rejected", "forbidden", "status")
    assert state(db, record_id) == ("acceptance_requested", 3)
    assert written(db) == before


@pytest.mark.parametrize("how", ["rest", "sync"])
def test_a_supervisor_refuses_acceptance_and_the_hotspot_is_rectifying_again(client, db, inspector, supervisor, how):
    record_id = awaiting_acceptance(client, inspector)

    if how == "rest":
        refused = client.patch(f"/api/hotspots/{record_id}", headers={**supervisor.headers, "If-Match": '"3"'},
                               json={"status": "rectifying"})
        assert refused.status_code == 200, refused.get_data(as_text=True)
    else:
        answered = push(client, supervisor.headers, supervisor.client_id, [
            supervisor.mutation("hotspot.upsert", record_id, {"status": "rectifying"}, base_version=3)])
        assert answered["results"][0]["status"] == "applied", answered

    assert state(db, record_id) == ("rectifying", 4)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id == record_id)
                               .order_by(AuditEvent.id.desc())).first()
    assert (event.actor_id, event.before, event.after) == (
        supervisor.user.id, {"status": "acceptance_requested"}, {"status": "rectifying"})
