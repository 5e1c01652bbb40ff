"""A record outside your area answers exactly as a missing one, over REST and in sync results; and a
hotspot's deadline and its deletion once work has begun are a supervisor's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sync.conftest import device, hotspot_fields, new_id, push, visit_fields

V2_VISIT = visit_fields(area_code="990101100201")


@pytest.fixture
def foreign_visit(client, tree) -> str:
    """A visit in V2, written by V2's cadre: outside the V1 cadre's area."""
    other = device("cadre-v2", tree.V2, "cadre")
    record_id = new_id()
    [result] = push(client, other.headers, other.client_id,
                    [other.mutation("visit.upsert", record_id, V2_VISIT)])["results"]
    assert result["status"] == "applied"
    return record_id


def answer(response, record_id: str) -> tuple[int, str | None, str, Any]:
    body = response.get_json()
    return response.status_code, body.get("reason"), body["message"].replace(record_id, "<id>"), body["errors"]


@pytest.mark.parametrize("method, suffix, body", [
    ("get", "", None),
    ("patch", "", {"summary": "改"}),
    ("delete", "", None),
    ("post", "/review", {"review_status": "approved"}),
])
def test_rest_answers_a_foreign_visit_as_a_missing_one(client, tree, foreign_visit, method, suffix, body):
    reader = device("supervisor-t1", tree.T1, "cadre", "supervisor")
    missing = new_id()

    def call(record_id: str):
        return getattr(client, method)(f"/api/visits/{record_id}{suffix}", json=body,
                                       headers={**reader.headers, "If-Match": '"1"'})

    foreign, absent = call(foreign_visit), call(missing)

    assert answer(foreign, foreign_visit) == answer(absent, missing)
    assert answer(foreign, foreign_visit)[:2] == (404, "not_found")


def test_a_create_under_a_foreign_id_answers_as_a_clash_with_a_visible_record(client, tree, foreign_visit):
    cadre = device("cadre-v1", tree.V1, "cadre")
    mine = new_id()
    assert client.post("/api/visits", headers=cadre.headers, json={"id": mine, **visit_fields()}).status_code == 201

    foreign = client.post("/api/visits", headers=cadre.headers, json={"id": foreign_visit, **visit_fields()})
    clash = client.post("/api/visits", headers=cadre.headers,
                        json={"id": mine, **visit_fields(summary="另一次走访")})

    assert answer(foreign, foreign_visit) == answer(clash, mine)
    assert answer(foreign, foreign_visit)[:2] == (409, "id_conflict")


def test_sync_answers_a_foreign_visit_as_a_missing_one(client, tree, foreign_visit):
    cadre = device("cadre-v1", tree.V1, "cadre")
    missing = new_id()

    def results(record_id: str) -> list[dict[str, Any]]:
        answered = push(client, cadre.headers, cadre.client_id, [
            cadre.mutation("visit.upsert", record_id, {"summary": "离线修改"}, base_version=1),
            cadre.mutation("visit.delete", record_id)])["results"]
        return [{**result, "id": None, "record_id": result["record_id"] == record_id,
                 "error": result["error"] and {**result["error"],
                                               "message": result["error"]["message"].replace(record_id, "<id>")}}
                for result in answered]

    foreign, absent = results(foreign_visit), results(missing)

    assert foreign == absent
    assert [(r["status"], r["error"] and r["error"]["code"]) for r in foreign] == [
        ("rejected", "not_found"), ("applied", None)]
    supervisor = device("supervisor-a", tree.A, "supervisor")
    still = client.get(f"/api/visits/{foreign_visit}", headers=supervisor.headers).get_json()
    assert (still["version"], still["summary"]) == (1, V2_VISIT["summary"])


def test_a_sync_create_under_a_foreign_id_is_an_id_conflict(client, tree, foreign_visit):
    cadre = device("cadre-v1", tree.V1, "cadre")

    [result] = push(client, cadre.headers, cadre.client_id,
                    [cadre.mutation("visit.upsert", foreign_visit, visit_fields())])["results"]

    assert (result["status"], result["error"]["code"]) == ("rejected", "id_conflict")


def hotspot_at(client, inspector, supervisor, status: str) -> str:
    record_id = new_id()
    created = client.post("/api/hotspots", headers=inspector.headers,
                          json={"id": record_id, **hotspot_fields(deadline="2026-12-31")})
    assert created.status_code == 201, created.get_json()
    path = ["rectifying", "acceptance_requested"]
    for version, step in enumerate(path[:path.index(status) + 1] if status != "listed" else [], start=1):
        moved = client.patch(f"/api/hotspots/{record_id}", headers={**inspector.headers, "If-Match": f'"{version}"'},
                             json={"status": step})
        assert moved.status_code == 200, moved.get_json()
    return record_id


def test_only_a_supervisor_moves_a_hotspots_deadline(client, tree):
    inspector = device("inspector-v1", tree.V1, "inspector")
    supervisor = device("supervisor-a", tree.A, "supervisor")
    record_id = hotspot_at(client, inspector, supervisor, "listed")

    moved = client.patch(f"/api/hotspots/{record_id}", headers={**inspector.headers, "If-Match": '"1"'},
                         json={"deadline": "2099-12-31"})
    synced = push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, {"deadline": "2099-12-31"}, base_version=1)])["results"][0]

    assert (moved.status_code, moved.get_json()["reason"]) == (403, "forbidden")
    assert (synced["status"], synced["error"]["code"], synced["error"]["field"]) == (
        "rejected", "forbidden", "deadline")
    assert client.get(f"/api/hotspots/{record_id}", headers=inspector.headers).get_json()["deadline"] == "2026-12-31"
    by_supervisor = client.patch(f"/api/hotspots/{record_id}", headers={**supervisor.headers, "If-Match": '"1"'},
                                 json={"deadline": "2027-01-31"})
    assert (by_supervisor.status_code, by_supervisor.get_json()["deadline"]) == (200, "2027-01-31")


def test_once_work_has_begun_only_a_supervisor_deletes_a_hotspot(client, tree):
    inspector = device("inspector-v1", tree.V1, "inspector")
    supervisor = device("supervisor-a", tree.A, "supervisor")
    mistaken = hotspot_at(client, inspector, supervisor, "listed")
    waiting = hotspot_at(client, inspector, supervisor, "acceptance_requested")

    refused = client.delete(f"/api/hotspots/{waiting}", headers={**inspector.headers, "If-Match": '"3"'})
    synced = push(client, inspector.headers, inspector.client_id,
                  [inspector.mutation("hotspot.delete", waiting)])["results"][0]

    assert (refused.status_code, refused.get_json()["reason"]) == (403, "forbidden")
    assert (synced["status"], synced["error"]["code"]) == ("rejected", "forbidden")
    assert client.get(f"/api/hotspots/{waiting}", headers=inspector.headers).status_code == 200
    assert client.delete(f"/api/hotspots/{mistaken}", headers={**inspector.headers, "If-Match": '"1"'}
                         ).status_code == 204
    assert client.delete(f"/api/hotspots/{waiting}", headers={**supervisor.headers, "If-Match": '"3"'}
                         ).status_code == 204
