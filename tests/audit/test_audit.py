"""Every write leaves an audit row with its actor and diff; the trail is append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from backend.audit.models import AuditEvent
from tests.factories import PASSWORD, bearer, make_user, token_for
from tests.test_app import assert_error


def events(db, **filters) -> list[AuditEvent]:
    query = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


@pytest.fixture
def admin(tree):
    return make_user("admin", tree.A, "admin")


def test_user_create_and_update_are_audited_with_actor_diff_request_and_ip(client, db, tree, admin):
    headers = {**bearer(token_for(admin)), "X-Request-ID": "req-create-1"}
    created = client.post("/api/users", headers=headers, json={
        "username": "wang", "password": "a-long-password", "roles": ["cadre"], "area_code": tree.V1}).get_json()
    [create] = events(db, action="user.create")
    assert (create.actor_id, create.actor_name, create.entity, create.entity_id) == \
           (admin.id, "admin", "user", str(created["id"]))
    assert create.after["roles"] == ["cadre"] and create.after["area_code"] == tree.V1
    assert "password_hash" not in create.after
    assert (create.request_id, create.ip, create.area_code) == ("req-create-1", "127.0.0.1", tree.V1)

    client.patch(f"/api/users/{created['id']}", headers=headers,
                 json={"display_name": "王五", "roles": ["cadre"], "area_code": tree.V2})
    [update] = events(db, action="user.update")
    assert update.before == {"display_name": "wang", "area_code": tree.V1}
    assert update.after == {"display_name": "王五", "area_code": tree.V2}


def test_deactivation_audits_the_flag_and_each_revoked_device(client, db, tree, admin):
    user = make_user("wang", tree.V1)
    token_for(user)
    client.patch(f"/api/users/{user.id}", headers=bearer(token_for(admin)), json={"active": False})
    [update] = events(db, action="user.update")
    assert (update.before, update.after) == ({"active": True}, {"active": False})
    [revoke] = events(db, action="device.revoke")
    assert revoke.actor_id == admin.id and revoke.before == {"revoked_at": None}


def test_unchanged_update_writes_no_event(client, db, tree, admin):
    user = make_user("wang", tree.V1)
    response = client.patch(f"/api/users/{user.id}", headers=bearer(token_for(admin)), json={"display_name": "wang"})
    # A refused request writes no event either: only an accepted one shows the rule.
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["display_name"] == user.display_name == "wang"
    assert events(db, action="user.update") == []


def test_area_writes_are_audited(client, db, tree, admin):
    headers = bearer(token_for(admin))
    client.post("/api/areas", headers=headers,
                json={"code": "990101001902", "name": "二网格", "level": "grid", "parent_code": tree.V1})
    client.patch("/api/areas/990101001902", headers=headers, json={"name": "第二网格"})
    create, update = events(db, entity="area", entity_id="990101001902")
    assert (create.action, create.actor_id, create.after["name"]) == ("area.create", admin.id, "二网格")
    assert (update.action, update.before, update.after) == ("area.update", {"name": "二网格"}, {"name": "第二网格"})


def test_sign_in_out_and_failures_are_audited(client, db, tree):
    user = make_user("wang", tree.V1)
    client.post("/api/auth/login", json={"username": "wang", "password": "wrong-password"})
    token = client.post("/api/auth/login", json={"username": "wang", "password": PASSWORD}).get_json()["token"]
    client.post("/api/auth/logout", headers=bearer(token))
    actions = [(e.action, e.actor_name) for e in events(db) if e.action.startswith(("auth.", "device."))]
    assert actions == [("auth.login_failed", "cli"), ("auth.login", "wang"), ("device.revoke", "wang")]
    assert events(db, action="auth.login")[0].actor_id == user.id


def test_audit_endpoint_filters_and_stays_in_the_admins_area(client, db, tree):
    county_admin = make_user("county-admin", tree.A, "admin")
    township_admin = make_user("township-admin", tree.T1, "admin")
    for code, name in (("990101001902", "T1 grid"), ("990101100901", "T2 grid")):
        parent = tree.V1 if code.startswith("990101001") else tree.V2
        client.post("/api/areas", headers=bearer(token_for(county_admin)),
                    json={"code": code, "name": name, "level": "grid", "parent_code": parent})
    seen_by_county = client.get("/api/audit?entity=area", headers=bearer(token_for(county_admin))).get_json()
    assert [e["entity_id"] for e in seen_by_county["items"]][:2] == ["990101100901", "990101001902"]
    seen_by_township = client.get("/api/audit?entity=area&action=area.create",
                                  headers=bearer(token_for(township_admin))).get_json()["items"]
    assert "990101100901" not in [e["entity_id"] for e in seen_by_township]
    assert "990101001902" in [e["entity_id"] for e in seen_by_township]
    by_actor = client.get(f"/api/audit?actor_id={county_admin.id}&limit=1",
                          headers=bearer(token_for(county_admin))).get_json()
    assert len(by_actor["items"]) == 1 and by_actor["next_cursor"]
    future = client.get("/api/audit?since=2999-01-01T00:00:00%2B08:00", headers=bearer(token_for(county_admin)))
    assert future.get_json()["items"] == []
    naive = client.get("/api/audit?since=2024-01-01T00:00:00", headers=bearer(token_for(county_admin)))
    assert_error(naive, 422)


def test_the_trail_refuses_updates_and_deletes(db, tree):
    event = events(db)[0]
    event.action = "tampered"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'tampered'", "DELETE FROM audit_events"])
def test_the_database_itself_refuses_changes_to_the_trail(db, tree, statement):
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text(statement))
