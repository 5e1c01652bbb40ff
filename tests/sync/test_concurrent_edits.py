"""Offline edits that meet other writes on the server: merges, conflicts, deletes, lifecycles."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.hotspots.models import Hotspot
from backend.visits.models import Visit
from tests.factories import bearer, make_user, token_for
from tests.sync.conftest import (
    count,
    device,
    hotspot_fields,
    household_fields,
    new_id,
    pull_all,
    push,
    visit_fields,
    written,
)
from tests.test_app import assert_error


def create_visit(client, cadre) -> str:
    record_id = new_id()
    answered = push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.upsert", record_id,
                                                                            visit_fields())])
    assert answered["results"][0]["status"] == "applied"
    return record_id


def test_cadre_edits_offline_while_a_supervisor_reviews_and_both_are_kept(client, db, cadre, supervisor):
    record_id = create_visit(client, cadre)
    reviewed = client.post(f"/api/visits/{record_id}/review", headers={**supervisor.headers, "If-Match": '"1"'},
                           json={"review_status": "returned", "review_comment": "请补充诉求"})
    assert reviewed.status_code == 200, reviewed.get_json()

    answered = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", record_id, {"summary": "已补充：双方同意调解"}, base_version=1)])

    [result] = answered["results"]
    assert (result["status"], result["version"], result["conflicts"], result["error"]) == ("merged", 3, [], None)
    visit = client.get(f"/api/visits/{record_id}", headers=supervisor.headers).get_json()
    assert (visit["summary"], visit["review_status"], visit["review_comment"], visit["reviewed_by_id"]) == \
           ("已补充：双方同意调解", "returned", "请补充诉求", supervisor.user.id)


def test_a_cadre_mutation_touching_review_status_is_rejected_and_writes_nothing(client, db, cadre):
    record_id = create_visit(client, cadre)
    before = written(db)

    answered = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", record_id, {"summary": "自己批准", "review_status": "approved"},
                       base_version=1),
        cadre.mutation("visit.upsert", new_id(), visit_fields(review_comment="好"))])

    assert [(r["status"], r["error"]["code"], r["error"]["field"]) for r in answered["results"]] == \
           [("rejected", "forbidden_field", "review_status"), ("rejected", "forbidden_field", "review_comment")]
    assert answered["last_mutation_id"] == 3
    assert written(db) == before
    visit = client.get(f"/api/visits/{record_id}", headers=cadre.headers).get_json()
    assert (visit["version"], visit["summary"], visit["review_status"]) == (1, visit_fields()["summary"], "pending")


def test_same_field_changed_on_two_devices_the_later_arrival_wins_and_the_loser_is_kept(client, db, tree):
    first, second = device("cadre-li", tree.V1, "cadre"), device("cadre-wang", tree.V1, "cadre")
    record_id = new_id()
    push(client, first.headers, first.client_id, [first.mutation("household.upsert", record_id, household_fields())])

    # Both phones saw version 1 and change the head of household while offline.
    earlier = push(client, first.headers, first.client_id, [
        first.mutation("household.upsert", record_id, {"head_name": "李四", "phone": "13800000001"},
                       base_version=1)])
    later = push(client, second.headers, second.client_id, [
        second.mutation("household.upsert", record_id, {"head_name": "王五", "address": "一村3组12号之一"},
                        base_version=1)])

    assert (earlier["results"][0]["status"], earlier["results"][0]["version"]) == ("applied", 2)
    [result] = later["results"]
    assert (result["status"], result["version"]) == ("conflict", 3)
    assert result["conflicts"] == [{"field": "head_name", "server_value": "李四", "server_version": 2}]
    household = client.get(f"/api/households/{record_id}", headers=first.headers).get_json()
    assert (household["head_name"], household["phone"], household["address"]) == \
           ("王五", "13800000001", "一村3组12号之一")

    admin = make_user("admin-a", tree.A, "admin")
    trail = client.get("/api/audit", headers=bearer(token_for(admin)),
                       query_string={"entity": "household", "entity_id": record_id}).get_json()["items"]
    assert [event["action"] for event in trail] == ["household.update", "household.update", "household.create"]
    losing = trail[0]
    assert losing["actor_id"] == second.user.id
    assert losing["before"] == {"head_name": "李四", "address": "一村3组12号"}
    assert losing["after"] == {"head_name": "王五", "address": "一村3组12号之一"}


def test_an_update_of_a_record_deleted_on_the_server_is_rejected_as_deleted(client, db, cadre):
    record_id = create_visit(client, cadre)
    deleted = client.delete(f"/api/visits/{record_id}", headers={**cadre.headers, "If-Match": '"1"'})
    assert deleted.status_code == 204
    before = written(db)

    answered = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", record_id, {"summary": "离线修改"}, base_version=1)])

    [result] = answered["results"]
    assert (result["status"], result["error"]["code"], result["record_id"]) == ("rejected", "deleted", record_id)
    assert answered["last_mutation_id"] == 2
    assert written(db) == before
    assert_error(client.get(f"/api/visits/{record_id}", headers=cadre.headers), 404)
    visit = db.session.get(Visit, uuid.UUID(record_id))
    assert (visit.deleted, visit.version, visit.summary) == (True, 2, visit_fields()["summary"])


def test_create_then_delete_offline_in_one_batch_leaves_nothing_live(client, db, cadre):
    record_id = new_id()

    answered = push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", record_id, visit_fields()),
        cadre.mutation("visit.delete", record_id)])

    assert [(r["status"], r["error"]) for r in answered["results"]] == [("applied", None), ("applied", None)]
    assert_error(client.get(f"/api/visits/{record_id}", headers=cadre.headers), 404)
    assert client.get("/api/visits", headers=cadre.headers).get_json()["items"] == []
    pulled = pull_all(client, cadre.headers, cadre.client_id)
    assert record_id not in pulled.upserted("visits")
    assert pulled.deleted("visits") <= {record_id}
    # Deleting it again (a retry from another queue) is harmless.
    again = push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.delete", record_id)])
    assert again["results"][0]["status"] == "applied"
    assert count(db, Change, Change.record_id == uuid.UUID(record_id)) == 2


def test_hotspot_status_moves_only_along_its_lifecycle(client, db, tree):
    inspector = device("inspector-v1", tree.V1, "inspector")
    record_id = new_id()
    push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, hotspot_fields())])
    before = written(db), count(db, AuditEvent)

    answered = push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, {"status": "closed"}, base_version=1)])

    [result] = answered["results"]
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == \
           ("rejected", "invalid_transition", "status")
    patched = client.patch(f"/api/hotspots/{record_id}", headers={**inspector.headers, "If-Match": '"1"'},
                           json={"status": "closed"})
    assert assert_error(patched, 409)["reason"] == "invalid_transition"
    assert (written(db), count(db, AuditEvent)) == before
    hotspot = db.session.scalars(select(Hotspot).where(Hotspot.id == uuid.UUID(record_id))).one()
    assert (hotspot.status, hotspot.version) == ("listed", 1)

    # The next step along the lifecycle is fine.
    answered = push(client, inspector.headers, inspector.client_id, [
        inspector.mutation("hotspot.upsert", record_id, {"status": "rectifying"}, base_version=1)])
    assert (answered["results"][0]["status"], answered["results"][0]["version"]) == ("applied", 2)
