"""Push: retries, gaps, one bad mutation in a batch, limits, and who owns a client id."""

from __future__ import annotations

import uuid

from backend.sync.models import SyncClient, SyncResult
from tests.sync.conftest import count, device, mutation, new_id, push, visit_fields, written
from tests.test_app import assert_error


def test_retry_after_a_lost_response_returns_the_same_results_and_writes_nothing_again(client, db, cadre):
    first_visit, second_visit = new_id(), new_id()
    mutations = [
        cadre.mutation("visit.upsert", first_visit, visit_fields()),
        cadre.mutation("visit.upsert", second_visit, visit_fields(summary="第二户")),
        cadre.mutation("visit.upsert", first_visit, {"summary": "补记：已调解"}, base_version=1),
    ]
    answered = push(client, cadre.headers, cadre.client_id, mutations)
    assert [(r["status"], r["version"]) for r in answered["results"]] == [("applied", 1), ("applied", 1),
                                                                            ("applied", 2)]
    before = written(db), count(db, SyncResult)

    # The response never reached the phone: it sends the very same batch again.
    again = push(client, cadre.headers, cadre.client_id, mutations)

    assert again == answered
    assert (written(db), count(db, SyncResult)) == before
    assert before[0][0] == 2  # two visit rows, not four
    visit = client.get(f"/api/visits/{first_visit}", headers=cadre.headers).get_json()
    assert (visit["version"], visit["summary"]) == (2, "补记：已调解")


def test_retry_with_new_mutations_after_it_applies_only_the_new_ones(client, db, cadre):
    record_id = new_id()
    created = cadre.mutation("visit.upsert", record_id, visit_fields())
    first = push(client, cadre.headers, cadre.client_id, [created])
    edited = cadre.mutation("visit.upsert", record_id, {"satisfaction": 4}, base_version=1)

    answered = push(client, cadre.headers, cadre.client_id, [created, edited])

    assert answered["results"][0] == first["results"][0]
    assert (answered["results"][1]["status"], answered["results"][1]["version"]) == ("applied", 2)
    assert answered["last_mutation_id"] == 2
    assert written(db)[0] == 1


def test_a_gap_in_mutation_ids_stops_the_batch_until_the_missing_one_is_sent(client, db, cadre):
    ids = [new_id() for _ in range(4)]
    one, two, three, four = (mutation(n, "visit.upsert", ids[n - 1], visit_fields()) for n in (1, 2, 3, 4))

    answered = push(client, cadre.headers, cadre.client_id, [one, two, four])

    assert answered["last_mutation_id"] == 2
    assert [(r["id"], r["status"]) for r in answered["results"]] == [(1, "applied"), (2, "applied")]
    assert client.get(f"/api/visits/{ids[3]}", headers=cadre.headers).status_code == 404
    assert written(db)[0] == 2

    resent = push(client, cadre.headers, cadre.client_id, [three, four])

    assert resent["last_mutation_id"] == 4
    assert [(r["id"], r["status"]) for r in resent["results"]] == [(3, "applied"), (4, "applied")]
    assert written(db)[0] == 4


def test_one_invalid_mutation_in_a_batch_is_rejected_and_the_others_apply(client, db, cadre):
    good_before, bad, good_after = new_id(), new_id(), new_id()
    mutations = [
        cadre.mutation("visit.upsert", good_before, visit_fields()),
        cadre.mutation("visit.upsert", bad, visit_fields(lat=91)),
        cadre.mutation("visit.upsert", good_after, visit_fields()),
    ]

    answered = push(client, cadre.headers, cadre.client_id, mutations)

    assert answered["last_mutation_id"] == 3
    statuses = [r["status"] for r in answered["results"]]
    assert statuses == ["applied", "rejected", "applied"]
    error = answered["results"][1]["error"]
    assert (error["code"], error["field"]) == ("validation", "lat")
    assert "lat" in error["message"]
    assert client.get(f"/api/visits/{bad}", headers=cadre.headers).status_code == 404
    for applied in (good_before, good_after):
        assert client.get(f"/api/visits/{applied}", headers=cadre.headers).status_code == 200
    assert written(db)[0] == 2
    assert db.session.get(SyncClient, uuid.UUID(cadre.client_id)).last_mutation_id == 3


def test_more_than_100_mutations_in_one_push_is_413_and_applies_none(client, db, cadre):
    mutations = [cadre.mutation("visit.upsert", new_id(), visit_fields()) for _ in range(101)]

    response = client.post("/api/sync/push", headers=cadre.headers,
                           json={"client_id": cadre.client_id, "mutations": mutations})

    body = assert_error(response, 413)
    assert body["reason"] == "too_many_mutations"
    assert "100" in body["message"]
    assert written(db) == (0, 0, 0)
    assert count(db, SyncClient) == 0


def test_a_push_over_1_mib_is_413_with_the_limit_stated(client, db, cadre):
    huge = cadre.mutation("visit.upsert", new_id(), visit_fields(summary="走" * (10 * 1024 * 1024 // 3)))

    response = client.post("/api/sync/push", headers=cadre.headers,
                           json={"client_id": cadre.client_id, "mutations": [huge]})

    body = assert_error(response, 413)
    assert str(1024 * 1024) in body["message"] or "1 MiB" in body["message"]
    assert written(db) == (0, 0, 0)
    assert count(db, SyncClient) == 0


def test_a_client_id_of_another_user_is_409_and_writes_nothing(client, db, tree, cadre):
    push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.upsert", new_id(), visit_fields())])
    before = written(db)
    intruder = device("cadre-v1-other", tree.V1, "cadre")

    response = client.post("/api/sync/push", headers=intruder.headers, json={
        "client_id": cadre.client_id, "mutations": [mutation(2, "visit.upsert", new_id(), visit_fields())]})

    body = assert_error(response, 409)
    assert body["reason"] == "client_of_another_user"
    assert written(db) == before
    owner = db.session.get(SyncClient, uuid.UUID(cadre.client_id))
    assert (owner.user_id, owner.last_mutation_id) == (cadre.user.id, 1)
    # The owner's queue goes on as before.
    answered = push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.upsert", new_id(), visit_fields())])
    assert answered["last_mutation_id"] == 2



def test_a_push_while_the_database_fails_is_a_503_with_retry_after_and_the_retry_applies(client, db, cadre):
    from sqlalchemy import event

    record_id = new_id()
    batch = [cadre.mutation("visit.upsert", record_id, visit_fields())]
    before = written(db)
    refused_dbapi = db.engine.dialect.loaded_dbapi.OperationalError
    failed: list[str] = []

    def database_goes_away(_conn, _cursor, statement, *_args):
        # The driver's own error, raised where a lost connection raises it: SQLAlchemy wraps
        # it as it would a real one, and the push has already passed sign-in by then.
        if "sync_" in statement and not failed:
            failed.append(statement)
            raise refused_dbapi("server closed the connection unexpectedly")

    event.listen(db.engine, "before_cursor_execute", database_goes_away)
    try:
        response = client.post("/api/sync/push", headers=cadre.headers,
                               json={"client_id": cadre.client_id, "mutations": batch})
    finally:
        event.remove(db.engine, "before_cursor_execute", database_goes_away)

    assert failed, "the push never reached the sync tables"
    assert assert_error(response, 503)["reason"] == "database_unavailable"
    assert int(response.headers["Retry-After"]) > 0
    assert written(db) == before
    retried = push(client, cadre.headers, cadre.client_id, batch)
    assert [(r["status"], r["record_id"]) for r in retried["results"]] == [("applied", record_id)]


def test_a_retry_of_a_result_pruned_long_ago_is_rejected_as_expired_and_applies_nothing(client, db, cadre):
    from datetime import timedelta

    from backend.models_base import utcnow
    from backend.sync import service as sync_service

    record_id = new_id()
    batch = [cadre.mutation("visit.upsert", record_id, visit_fields())]
    push(client, cadre.headers, cadre.client_id, batch)
    db.session.execute(SyncResult.__table__.update().values(at=utcnow() - timedelta(days=120)))
    sync_service.prune(older_than=utcnow() - timedelta(days=90))
    assert count(db, SyncResult) == 0
    before = written(db)

    retried = push(client, cadre.headers, cadre.client_id, batch)

    [result] = retried["results"]
    assert (result["id"], result["status"], result["record_id"], result["version"]) == (1, "rejected", None, None)
    assert (result["error"]["code"], result["error"]["field"]) == ("result_expired", None)
    assert "Pull" in result["error"]["message"]
    assert written(db) == before
