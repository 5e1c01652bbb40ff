"""An admin adds and renames areas over the API: each change is in the audit trail, each refusal says why.

Areas are the scope of everything else, so who added or renamed one, and when, must be
readable afterwards (README: every write is audited).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.areas.models import Area
from backend.audit.models import AuditEvent
from tests.factories import bearer, make_user, token_for
from tests.test_app import assert_error

GRID = "990101001902"


@pytest.fixture
def admin(tree):
    return make_user("admin-t1", tree.T1, "admin")


def headers(user) -> dict[str, str]:
    return bearer(token_for(user))


def area_events(db, code: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "area",
                                                            AuditEvent.entity_id == code).order_by(AuditEvent.id)))


def test_adding_a_grid_is_audited_with_who_and_what(client, db, tree, admin):
    response = client.post("/api/areas", headers=headers(admin),
                           json={"code": GRID, "name": "一村第二网格", "level": "grid", "parent_code": tree.V1})

    assert response.status_code == 201, response.get_data(as_text=True)
    [event] = area_events(db, GRID)
    assert (event.actor_id, event.action, event.area_code, event.before, event.after) == (
        admin.id, "area.create", GRID, None, {"name": "一村第二网格", "level": "grid", "parent_code": tree.V1})
    village = client.get(f"/api/areas/{tree.V1}", headers=headers(admin)).get_json()
    assert village["child_count"] == 2  # G1 and the new grid
    listed = client.get("/api/areas", headers=headers(admin), query_string={"parent": tree.T1}).get_json()
    assert {(a["code"], a["child_count"]) for a in listed} == {(tree.V1, 2)}


def test_renaming_is_audited_with_the_old_and_new_name_and_the_same_name_is_not(client, db, tree, admin):
    renamed = client.patch(f"/api/areas/{tree.V1}", headers=headers(admin), json={"name": " 东岭村 "})
    again = client.patch(f"/api/areas/{tree.V1}", headers=headers(admin), json={"name": "东岭村"})

    assert (renamed.status_code, renamed.get_json()["name"], again.status_code) == (200, "东岭村", 200)
    [event] = [e for e in area_events(db, tree.V1) if e.action == "area.update"]
    assert (event.actor_id, event.area_code, event.before, event.after) == (
        admin.id, tree.V1, {"name": "一村"}, {"name": "东岭村"})


def test_an_area_that_exists_is_409_area_exists(client, db, tree, admin):
    response = client.post("/api/areas", headers=headers(admin),
                           json={"code": tree.G1, "name": "重复", "level": "grid", "parent_code": tree.V1})
    body = assert_error(response, 409)
    assert body["reason"] == "area_exists" and tree.G1 in body["message"]


def test_a_code_outside_the_parents_block_is_422_on_the_code(client, db, tree, admin):
    response = client.post("/api/areas", headers=headers(admin),
                           json={"code": "990101002901", "name": "错块网格", "level": "grid", "parent_code": tree.V1})
    body = assert_error(response, 422)
    assert body["errors"]["json"] == {"code": ["grid code 990101002901 must start with 990101001 and not end in 000"]}
    assert db.session.get(Area, "990101002901") is None


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_name_is_422_on_the_name(client, db, tree, admin, name):
    response = client.patch(f"/api/areas/{tree.V1}", headers=headers(admin), json={"name": name})
    body = assert_error(response, 422)
    assert list(body["errors"]["json"]) == ["name"]


def test_a_parent_outside_your_area_does_not_exist_for_you(client, db, tree, admin):
    response = client.post("/api/areas", headers=headers(admin),
                           json={"code": "990101002901", "name": "二村网格", "level": "grid", "parent_code": tree.V2})
    body = assert_error(response, 404)
    assert db.session.get(Area, "990101002901") is None
    assert body["reason"] == "not_found"
    assert area_events(db, "990101002901") == []
