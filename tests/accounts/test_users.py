"""User administration: validation, duplicates, deactivation."""

from __future__ import annotations

import pytest
from argon2 import Type

from backend.accounts import service as accounts_service
from backend.accounts.models import User
from tests.factories import bearer, login_headers, make_user, token_for
from tests.test_app import assert_error


def new_user(**overrides):
    body = {"username": "zhang.san", "password": "a-long-password", "display_name": "张三",
            "roles": ["cadre"], "area_code": "990101001001"}
    body.update(overrides)
    return body


@pytest.fixture
def admin(tree):
    return login_headers("admin", tree.A, "admin")


def test_admin_creates_a_user_who_can_sign_in(client, db, tree, admin):
    response = client.post("/api/users", headers=admin, json=new_user(phone="+86 138-0013-8000",
                                                                      roles=["cadre", "inspector"]))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["phone"] == "13800138000"
    assert body["roles"] == ["cadre", "inspector"]
    assert body["area_name"] == "一村"
    stored = db.session.get(User, body["id"])
    assert stored.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in stored.password_hash
    login = client.post("/api/auth/login", json={"username": "zhang.san", "password": "a-long-password"})
    assert login.status_code == 200


def test_production_hasher_is_argon2id_at_rfc_9106_cost():
    # The tests hash cheaply (conftest); this is the hasher every password gets outside them.
    hasher = accounts_service.production_hasher()
    assert hasher.type is Type.ID
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 64 * 1024, 4)
    assert (hasher.hash_len, hasher.salt_len) == (32, 16)
    assert hasher.hash("a-long-password").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_passwords_under_ten_characters_are_refused(client, tree, admin, password):
    body = assert_error(client.post("/api/users", headers=admin, json=new_user(password=password)), 422)
    assert "password" in body["errors"]["json"]


def test_service_enforces_the_password_length_too(db, tree):
    with pytest.raises(accounts_service.InvalidInput, match="at least 10"):
        accounts_service.create_user(actor=None, username="cli-user", password="123456789",
                                     roles=["cadre"], area_code=tree.V1)


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "138001380000", "02712345678", "电话",
                                   "１３８００１３８０００"])
def test_phones_must_be_mainland_mobile_numbers(client, tree, admin, phone):
    body = assert_error(client.post("/api/users", headers=admin, json=new_user(phone=phone)), 422)
    assert "mobile" in body["errors"]["json"]["phone"][0]


@pytest.mark.parametrize("phone, stored", [("13800138000", "13800138000"), ("+8619912345678", "19912345678"),
                                           ("0086 166 1234 5678", "16612345678"), (None, None)])
def test_phone_forms_are_normalised(client, tree, admin, phone, stored):
    response = client.post("/api/users", headers=admin, json=new_user(phone=phone))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["phone"] == stored


def test_duplicate_username_is_409_whatever_the_case(client, tree, admin):
    assert client.post("/api/users", headers=admin, json=new_user()).status_code == 201
    body = assert_error(client.post("/api/users", headers=admin, json=new_user(username="Zhang.San")), 409)
    assert body["reason"] == "username_taken"


@pytest.mark.parametrize("field, value", [("username", "x"), ("username", "has space"), ("roles", []),
                                          ("roles", ["mayor"]), ("area_code", "123")])
def test_invalid_fields_are_422(client, tree, admin, field, value):
    body = assert_error(client.post("/api/users", headers=admin, json=new_user(**{field: value})), 422)
    assert field in body["errors"]["json"]


def test_unknown_area_is_404(client, tree, admin):
    assert_error(client.post("/api/users", headers=admin, json=new_user(area_code="990101009009")), 404)


def test_deactivation_signs_the_user_out_everywhere(client, tree, admin):
    user = make_user("wang", tree.V1)
    token = token_for(user)
    response = client.patch(f"/api/users/{user.id}", headers=admin, json={"active": False})
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    assert assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)["reason"] == "token_revoked"
    refused = client.post("/api/auth/login", json={"username": "wang", "password": "correct-horse-battery"})
    assert_error(refused, 403)
    listed = client.get("/api/users?active=false", headers=admin).get_json()["items"]
    assert [u["username"] for u in listed] == ["wang"]


def test_admin_cannot_lock_themselves_out(client, tree):
    me = make_user("admin", tree.A, "admin")
    headers = bearer(token_for(me))
    for change in ({"active": False}, {"roles": ["supervisor"]}):
        body = assert_error(client.patch(f"/api/users/{me.id}", headers=headers, json=change), 403)
        assert body["reason"] == "self_lockout"


def test_admin_password_reset_signs_the_user_out(client, tree, admin):
    user = make_user("wang", tree.V1)
    token = token_for(user)
    assert client.post(f"/api/users/{user.id}/password", headers=admin,
                       json={"password": "reset-by-admin"}).status_code == 204
    assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)
    assert client.post("/api/auth/login", json={"username": "wang", "password": "reset-by-admin"}).status_code == 200


def test_user_list_filters_and_pages(client, tree, admin):
    for index in range(5):
        make_user(f"cadre{index}", tree.V1, "cadre")
    make_user("inspector0", tree.V2, "inspector")
    first = client.get("/api/users?role=cadre&limit=3", headers=admin).get_json()
    assert [u["username"] for u in first["items"]] == ["cadre0", "cadre1", "cadre2"]
    second = client.get(f"/api/users?role=cadre&limit=3&cursor={first['next_cursor']}", headers=admin).get_json()
    assert [u["username"] for u in second["items"]] == ["cadre3", "cadre4"]
    assert second["next_cursor"] is None
    in_t2 = client.get(f"/api/users?area={tree.T2}", headers=admin).get_json()["items"]
    assert [u["username"] for u in in_t2] == ["inspector0"]
    found = client.get("/api/users?q=DRE3", headers=admin).get_json()["items"]
    assert [u["username"] for u in found] == ["cadre3"]
    assert_error(client.get("/api/users?cursor=%%%", headers=admin), 422)
