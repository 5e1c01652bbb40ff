"""A visit with a household stays in the household's area, whichever field a write changes."""

from __future__ import annotations

import uuid

import pytest

from backend.extensions import db
from backend.visits.models import Visit
from tests.factories import login_headers
from tests.sync.conftest import device, household_fields, push, visit_fields
from tests.test_app import assert_error


@pytest.fixture
def cadre(tree):
    return login_headers("cadre-v1", tree.V1, "cadre")


def rest_visit_with_household(client, tree, cadre) -> tuple[str, str]:
    household = {"id": str(uuid.uuid4()), "area_code": tree.V1, "address": "一村3组12号", "head_name": "王大"}
    assert client.post("/api/households", headers=cadre, json=household).status_code == 201
    visit = {"id": str(uuid.uuid4()), "household_id": household["id"], "kind": "household",
             "visited_at": "2026-11-20T09:30:00+08:00"}
    created = client.post("/api/visits", headers=cadre, json=visit)
    assert created.status_code == 201, created.get_json()
    return visit["id"], household["id"]


def test_rest_cannot_move_a_visit_away_from_its_household(client, tree, cadre):
    visit_id, _household = rest_visit_with_household(client, tree, cadre)
    moved = client.patch(f"/api/visits/{visit_id}", headers={**cadre, "If-Match": '"1"'},
                         json={"area_code": tree.G1})  # in the cadre's area, but not the household's
    body = assert_error(moved, 422)
    assert body["reason"] == "validation" and "area_code" in body["errors"]["json"]
    assert db.session.get(Visit, uuid.UUID(visit_id)).area_code == tree.V1


def test_rest_moves_a_visit_with_no_household(client, tree, cadre):
    visit = {"id": str(uuid.uuid4()), "area_code": tree.V1, "kind": "site", "visited_at": "2026-11-20T09:30:00+08:00"}
    assert client.post("/api/visits", headers=cadre, json=visit).status_code == 201
    moved = client.patch(f"/api/visits/{visit['id']}", headers={**cadre, "If-Match": '"1"'},
                         json={"area_code": tree.G1})
    assert moved.status_code == 200 and moved.get_json()["area_code"] == tree.G1


def test_sync_cannot_move_a_visit_away_from_its_household(client, tree):
    phone = device("cadre-v1", tree.V1, "cadre")
    household_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    fields = visit_fields(household_id=household_id)
    del fields["area_code"]
    result = push(client, phone.headers, phone.client_id, [
        phone.mutation("household.upsert", household_id, household_fields()),
        phone.mutation("visit.upsert", visit_id, fields),
        phone.mutation("visit.upsert", visit_id, {"area_code": tree.G1}, 1),
    ])
    statuses = [(r["status"], (r.get("error") or {}).get("code")) for r in result["results"]]
    assert statuses == [("applied", None), ("applied", None), ("rejected", "validation")]
    assert "area_code" in result["results"][-1]["error"]["message"]
    assert db.session.get(Visit, uuid.UUID(visit_id)).area_code == tree.V1
