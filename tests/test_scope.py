"""The scope matrix: inside your area's subtree you read and write; outside it, nothing exists."""

from __future__ import annotations

import pytest

from tests.factories import Tree, bearer, login_headers, make_user, token_for
from tests.test_app import assert_error

T = Tree()
INSIDE = {
    "county": [T.A, T.T1, T.V1, T.G1, T.T2, T.V2],
    "township": [T.T1, T.V1, T.G1],
    "village": [T.V1, T.G1],
}
EVERY_AREA = [T.A, T.T1, T.V1, T.G1, T.T2, T.V2, T.B, T.BT, T.BV]
HOME = {"county": T.A, "township": T.T1, "village": T.V1}
CHILD = {"county": ("township", "777000"), "township": ("village", "777"), "village": ("grid", "888")}
LEVEL_OF = {T.A: "county", T.B: "county", T.T1: "township", T.T2: "township", T.BT: "township",
            T.V1: "village", T.V2: "village", T.BV: "village", T.G1: "grid"}

CASES = [(level, code, code in INSIDE[level]) for level in HOME for code in EVERY_AREA]
CASE_IDS = [f"{level}-admin-{code}-{'in' if inside else 'out'}" for level, code, inside in CASES]


def expect(response, inside: bool, ok: int = 200) -> None:
    if inside:
        assert response.status_code == ok, response.get_json()
    else:
        assert_error(response, 404)


@pytest.mark.parametrize("level, code, inside", CASES, ids=CASE_IDS)
def test_area_reads(client, tree, level, code, inside):
    headers = login_headers("reader", HOME[level], "cadre")
    expect(client.get(f"/api/areas/{code}", headers=headers), inside)
    expect(client.get(f"/api/areas?parent={code}", headers=headers), inside)


@pytest.mark.parametrize("level, code, inside", CASES, ids=CASE_IDS)
def test_area_writes(client, tree, level, code, inside):
    headers = login_headers("admin", HOME[level], "admin")
    expect(client.patch(f"/api/areas/{code}", headers=headers, json={"name": "新名"}), inside)
    child = CHILD.get(LEVEL_OF[code])
    if child:
        child_level, suffix = child
        child_code = code[:12 - len(suffix)] + suffix
        response = client.post("/api/areas", headers=headers,
                               json={"code": child_code, "name": "新区", "level": child_level, "parent_code": code})
        expect(response, inside, 201)


@pytest.mark.parametrize("level, code, inside", CASES, ids=CASE_IDS)
def test_user_reads_and_writes(client, tree, level, code, inside):
    headers = login_headers("admin", HOME[level], "admin")
    target = make_user("target", code, "cadre")
    expect(client.get(f"/api/users/{target.id}", headers=headers), inside)
    expect(client.patch(f"/api/users/{target.id}", headers=headers, json={"display_name": "改名"}), inside)
    expect(client.post(f"/api/users/{target.id}/password", headers=headers,
                       json={"password": "a-long-new-password"}), inside, 204)
    created = client.post("/api/users", headers=headers, json={
        "username": "newcomer", "password": "a-long-password", "roles": ["cadre"], "area_code": code})
    expect(created, inside, 201)


@pytest.mark.parametrize("level", HOME)
def test_user_list_holds_exactly_the_users_in_scope(client, tree, level):
    headers = login_headers("admin", HOME[level], "admin")
    for index, code in enumerate(EVERY_AREA):
        make_user(f"user{index}", code)
    listed = client.get("/api/users?limit=200", headers=headers).get_json()["items"]
    expected = {f"user{i}" for i, code in enumerate(EVERY_AREA) if code in INSIDE[level]} | {"admin"}
    assert {user["username"] for user in listed} == expected


def test_areas_without_parent_is_your_own_area(client, tree):
    headers = login_headers("wang", tree.T1, "cadre")
    listed = client.get("/api/areas", headers=headers).get_json()
    assert [(a["code"], a["child_count"]) for a in listed] == [(tree.T1, 1)]
    children = client.get(f"/api/areas?parent={tree.T1}", headers=headers).get_json()
    assert [(a["code"], a["name"], a["level"]) for a in children] == [(tree.V1, "一村", "village")]


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/users", None),
    ("post", "/api/users", {"username": "x-user", "password": "a-long-password", "roles": ["cadre"],
                            "area_code": Tree.V1}),
    ("get", "/api/users/1", None),
    ("patch", "/api/users/1", {"active": False}),
    ("post", "/api/users/1/password", {"password": "a-long-password"}),
    ("get", "/api/audit", None),
    ("post", "/api/areas", {"code": "990101001777", "name": "x", "level": "grid", "parent_code": Tree.V1}),
    ("patch", f"/api/areas/{Tree.V1}", {"name": "x"}),
])
@pytest.mark.parametrize("role", ["cadre", "inspector", "supervisor"])
def test_only_admins_use_admin_endpoints(client, tree, role, method, path, body):
    headers = bearer(token_for(make_user("someone", tree.A, role)))
    response = getattr(client, method)(path, headers=headers, json=body)
    assert assert_error(response, 403)["reason"] == "forbidden"
