"""Sign-in, device tokens, lockout."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from backend.accounts.models import DeviceToken, LoginThrottle
from backend.audit.models import AuditEvent
from backend.models_base import utcnow
from tests.factories import PASSWORD, bearer, make_user, token_for
from tests.test_app import assert_error


def login(client, username, password=PASSWORD, device_name="红米 12"):
    return client.post("/api/auth/login", json={"username": username, "password": password,
                                                 "device_name": device_name})


def test_login_returns_a_bearer_token_that_works(client, tree):
    make_user("wang", tree.V1, "cadre")
    response = login(client, "Wang")  # usernames are case-insensitive
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["user"]["username"] == "wang"
    assert body["user"]["roles"] == ["cadre"]
    assert body["user"]["area_name"] == "一村"
    assert "password" not in str(body["user"])
    me = client.get("/api/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.get_json()["username"] == "wang"


def test_token_expires_after_30_idle_days_at_most(client, tree):
    make_user("wang", tree.V1)
    from datetime import datetime

    body = login(client, "wang").get_json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29, hours=23) < expires - utcnow() <= timedelta(days=30)


def test_token_is_stored_only_as_a_hash(client, db, tree):
    make_user("wang", tree.V1)
    token = login(client, "wang").get_json()["token"]
    rows = db.session.execute(text("SELECT * FROM device_tokens")).mappings().all()
    assert len(rows) == 1
    assert token not in str(dict(rows[0]))
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("header, reason", [
    (None, "token_missing"),
    ("Bearer", "token_invalid"),
    ("Basic d2FuZzpzZWNyZXQ=", "token_invalid"),
    ("Bearer not-a-zoufang-token", "token_invalid"),
    ("Bearer zf_" + "x" * 43, "token_invalid"),
])
def test_missing_malformed_and_unknown_tokens_are_401(client, db, header, reason):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/auth/me", headers=headers)
    body = assert_error(response, 401)
    assert body["reason"] == reason
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_logout_revokes_the_token_at_once(client, tree):
    make_user("wang", tree.V1)
    token = login(client, "wang").get_json()["token"]
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    body = assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)
    assert body["reason"] == "token_revoked"


@pytest.mark.parametrize("field, age", [("last_used_at", timedelta(days=30, seconds=1)),
                                        ("created_at", timedelta(days=180, seconds=1))])
def test_idle_and_absolute_expiry(client, db, tree, field, age):
    user = make_user("wang", tree.V1)
    token = token_for(user)
    device = db.session.scalar(select(DeviceToken))
    if field == "created_at":
        device.last_used_at = utcnow()  # in daily use, but too old
    setattr(device, field, utcnow() - age)
    db.session.flush()
    body = assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)
    assert body["reason"] == "token_expired"


def test_use_keeps_an_idle_token_alive(client, db, tree):
    token = token_for(make_user("wang", tree.V1))
    device = db.session.scalar(select(DeviceToken))
    device.last_used_at = utcnow() - timedelta(days=29)
    db.session.flush()
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert utcnow() - db.session.scalar(select(DeviceToken)).last_used_at < timedelta(minutes=1)


def test_deactivated_user_is_refused(client, db, tree):
    user = make_user("wang", tree.V1)
    token = token_for(user)
    user.active = False
    db.session.flush()
    assert assert_error(client.get("/api/auth/me", headers=bearer(token)), 401)["reason"] == "account_inactive"
    assert assert_error(login(client, "wang"), 403)["reason"] == "account_inactive"


def test_devices_lists_own_tokens_and_revokes_one(client, tree):
    make_user("wang", tree.V1)
    phone = login(client, "wang", device_name="phone").get_json()["token"]
    tablet = login(client, "wang", device_name="tablet").get_json()["token"]
    devices = client.get("/api/devices", headers=bearer(phone)).get_json()
    assert [(d["name"], d["current"]) for d in devices] == [("phone", True), ("tablet", False)]
    assert {"created_at", "last_used_at", "expires_at"} <= set(devices[0])
    tablet_id = devices[1]["id"]
    assert client.delete(f"/api/devices/{tablet_id}", headers=bearer(phone)).status_code == 204
    assert assert_error(client.get("/api/auth/me", headers=bearer(tablet)), 401)["reason"] == "token_revoked"
    assert [d["name"] for d in client.get("/api/devices", headers=bearer(phone)).get_json()] == ["phone"]


def test_a_user_cannot_revoke_someone_elses_device(client, tree):
    make_user("wang", tree.V1)
    make_user("li", tree.V1)
    wang = login(client, "wang").get_json()["token"]
    li = login(client, "li").get_json()["token"]
    li_device = client.get("/api/devices", headers=bearer(li)).get_json()[0]["id"]
    assert_error(client.delete(f"/api/devices/{li_device}", headers=bearer(wang)), 404)
    assert client.get("/api/auth/me", headers=bearer(li)).status_code == 200


def test_an_admin_revokes_a_lost_phone_in_their_area_only(client, tree):
    admin = bearer(token_for(make_user("admin", tree.T1, "admin")))
    make_user("wang", tree.V1)
    make_user("zhao", tree.V2)
    wang = login(client, "wang").get_json()["token"]
    zhao = login(client, "zhao").get_json()["token"]
    wang_user_id = client.get("/api/auth/me", headers=bearer(wang)).get_json()["id"]
    zhao_device = client.get("/api/devices", headers=bearer(zhao)).get_json()[0]["id"]
    wang_devices = client.get(f"/api/devices?user_id={wang_user_id}", headers=admin).get_json()
    assert client.delete(f"/api/devices/{wang_devices[0]['id']}", headers=admin).status_code == 204
    assert assert_error(client.get("/api/auth/me", headers=bearer(wang)), 401)["reason"] == "token_revoked"
    assert_error(client.delete(f"/api/devices/{zhao_device}", headers=admin), 404)  # V2 is outside T1


def test_five_failures_lock_the_username_for_15_minutes(client, db, tree):
    make_user("wang", tree.V1)
    for _ in range(4):
        assert assert_error(login(client, "wang", "wrong-password"), 401)["reason"] == "invalid_credentials"
    locked = login(client, "wang", "wrong-password")
    assert assert_error(locked, 429)["reason"] == "account_locked"
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    # Even the right password waits.
    right = login(client, "wang")
    assert assert_error(right, 429)["reason"] == "account_locked"
    throttle = db.session.get(LoginThrottle, "wang")
    throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert login(client, "wang").status_code == 200


def test_success_resets_the_count_of_failures_in_a_row(client, tree):
    make_user("wang", tree.V1)
    for _ in range(4):
        login(client, "wang", "wrong-password")
    assert login(client, "wang").status_code == 200
    for _ in range(4):
        assert login(client, "wang", "wrong-password").status_code == 401


def test_responses_never_tell_whether_a_username_exists(client, tree):
    make_user("wang", tree.V1)
    known = [login(client, "wang", "wrong-password") for _ in range(6)]
    unknown = [login(client, "nobody", "wrong-password") for _ in range(6)]
    for k, u in zip(known, unknown, strict=True):
        assert (k.status_code, k.get_json()["message"], k.get_json().get("reason")) == \
               (u.status_code, u.get_json()["message"], u.get_json().get("reason"))
    assert [r.status_code for r in known] == [401] * 4 + [429] * 2


def test_change_own_password_signs_out_the_other_devices(client, tree):
    make_user("wang", tree.V1)
    phone = login(client, "wang", device_name="phone").get_json()["token"]
    tablet = login(client, "wang", device_name="tablet").get_json()["token"]
    short = client.post("/api/auth/password", headers=bearer(phone),
                        json={"current_password": PASSWORD, "new_password": "short"})
    assert_error(short, 422)
    wrong = client.post("/api/auth/password", headers=bearer(phone),
                        json={"current_password": "not-my-password", "new_password": "a-new-long-password"})
    assert assert_error(wrong, 403)["reason"] == "wrong_password"
    ok = client.post("/api/auth/password", headers=bearer(phone),
                     json={"current_password": PASSWORD, "new_password": "a-new-long-password"})
    assert ok.status_code == 204
    assert client.get("/api/auth/me", headers=bearer(phone)).status_code == 200
    assert_error(client.get("/api/auth/me", headers=bearer(tablet)), 401)
    assert login(client, "wang", "a-new-long-password").status_code == 200


def change_password(client, token, current, new="a-new-long-password"):
    return client.post("/api/auth/password", headers=bearer(token),
                       json={"current_password": current, "new_password": new})


def test_wrong_current_passwords_count_toward_the_lockout(client, db, tree):
    make_user("wang", tree.V1)
    token = login(client, "wang").get_json()["token"]
    for _ in range(4):
        assert assert_error(change_password(client, token, "not-my-password"), 403)["reason"] == "wrong_password"
    locked = change_password(client, token, "not-my-password")
    assert assert_error(locked, 429)["reason"] == "account_locked"
    assert 14 * 60 < int(locked.headers["Retry-After"]) <= 15 * 60
    # Locked: the right current password changes nothing, and sign-in waits too.
    assert assert_error(change_password(client, token, PASSWORD), 429)["reason"] == "account_locked"
    assert assert_error(login(client, "wang"), 429)["reason"] == "account_locked"
    db.session.get(LoginThrottle, "wang").locked_until = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert login(client, "wang", "a-new-long-password").status_code == 401  # the password never changed
    assert change_password(client, token, PASSWORD).status_code == 204


def test_sign_in_failures_and_password_change_failures_share_one_count(client, tree):
    make_user("wang", tree.V1)
    token = login(client, "wang").get_json()["token"]
    for _ in range(3):
        login(client, "wang", "wrong-password")
    change_password(client, token, "not-my-password")
    assert assert_error(login(client, "wang", "wrong-password"), 429)["reason"] == "account_locked"


def test_failures_older_than_the_lock_window_are_forgotten(client, db, tree):
    make_user("wang", tree.V1)
    for _ in range(4):
        login(client, "wang", "wrong-password")
    db.session.get(LoginThrottle, "wang").last_failure_at = utcnow() - timedelta(minutes=16)
    db.session.flush()
    for _ in range(4):
        assert assert_error(login(client, "wang", "wrong-password"), 401)["reason"] == "invalid_credentials"
    assert db.session.get(LoginThrottle, "wang").failures == 4


def test_unknown_usernames_cost_the_same_hashing_as_a_wrong_password(client, tree, hasher):
    make_user("wang", tree.V1)
    login(client, "wang", "wrong-password")
    assert hasher.verified == 1
    login(client, "nobody", "wrong-password")
    assert hasher.verified == 2


def test_the_unknown_name_hash_costs_what_a_users_hash_costs():
    from argon2 import extract_parameters

    from backend.accounts import service as accounts_service

    user_hash = accounts_service.hash_password("a-long-password")
    assert extract_parameters(accounts_service._dummy_hash()) == extract_parameters(user_hash)


def audit_actions(db, username):
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.after).where(AuditEvent.entity_id == username)
                              .order_by(AuditEvent.id)).all()
    return [(action, (after or {}).get("failures")) for action, after in rows]


def test_failures_of_unknown_names_are_audited_once_a_lock_with_their_count(client, db, tree):
    make_user("wang", tree.V1)
    for _ in range(7):
        login(client, "wang", "wrong-password")
        login(client, "nobody", "wrong-password")
        login(client, f"sprayed{_}", "wrong-password")
    assert audit_actions(db, "wang") == [("auth.login_failed", n) for n in range(1, 6)] + [("auth.locked", 5)]
    assert audit_actions(db, "nobody") == [("auth.locked", 5)]
    assert all(audit_actions(db, f"sprayed{n}") == [] for n in range(7))


def test_a_hash_of_older_cost_is_replaced_at_sign_in_and_the_password_still_works(client, db, tree):
    """Raising the hashing cost reaches every account as its owner next signs in."""
    from argon2 import PasswordHasher, extract_parameters

    from backend.accounts import service as accounts_service

    user = make_user("wang", tree.V1)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    db.session.commit()

    assert login(client, "wang").status_code == 200

    stored = db.session.get(type(user), user.id).password_hash
    assert extract_parameters(stored) == extract_parameters(accounts_service._hasher.hash("x"))
    assert login(client, "wang").status_code == 200


def test_a_sign_in_is_audited_as_the_user_on_the_new_device(client, db, tree):
    user = make_user("wang", tree.V1)

    assert login(client, "wang", device_name="红米 12").status_code == 200

    device = db.session.scalar(select(DeviceToken).where(DeviceToken.user_id == user.id))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert (event.actor_id, event.entity, event.entity_id, event.area_code, event.after) == (
        user.id, "device_token", str(device.id), tree.V1, {"name": "红米 12"})


def test_the_trail_of_failed_sign_ins_is_filed_under_the_accounts_area(client, db, tree):
    """An area's admin reads the trail of their area: each event names the sign-in, the
    account's area (none for a name nobody has), whether the name exists, and the lock's end."""
    make_user("wang", tree.V1)
    before = utcnow()
    for _ in range(5):
        login(client, "wang", "wrong-password")
        login(client, "nobody", "wrong-password")
    after = utcnow()

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.entity_id.in_(["wang", "nobody"]))
                                .order_by(AuditEvent.id)).all()
    trail = [(e.action, e.entity, e.entity_id, e.area_code) for e in events]
    assert trail == [("auth.login_failed", "login", "wang", tree.V1)] * 5 + [
        ("auth.locked", "login", "wang", tree.V1), ("auth.locked", "login", "nobody", None)]
    wang_lock, nobody_lock = events[-2].after, events[-1].after
    assert (wang_lock["failures"], wang_lock["known"]) == (5, True)
    assert (nobody_lock["failures"], nobody_lock["known"]) == (5, False)
    throttle = db.session.get(LoginThrottle, "wang")
    assert before <= throttle.last_failure_at <= after
    assert str(throttle.locked_until.isoformat())[:16] == str(wang_lock["locked_until"])[:16]


def test_throttle_rows_that_hold_nothing_are_pruned_as_failures_come(client, db, tree):
    now = utcnow()
    old, recent = now - timedelta(minutes=16), now - timedelta(minutes=5)
    db.session.add_all([LoginThrottle(username=f"old{n}", failures=1, last_failure_at=old) for n in range(150)])
    db.session.add_all([
        LoginThrottle(username="recent", failures=2, last_failure_at=recent),
        LoginThrottle(username="locked", failures=5, last_failure_at=old, locked_until=now + timedelta(minutes=1)),
    ])
    db.session.flush()
    login(client, "someone", "wrong-password")
    # One failure drops at most a batch; the next drops the rest.
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 150 + 3 - 100
    login(client, "someone", "wrong-password")
    names = set(db.session.scalars(select(LoginThrottle.username)))
    assert names == {"recent", "locked", "someone"}


def test_token_last_use_is_written_at_most_once_a_minute(client, db, tree):
    token = token_for(make_user("wang", tree.V1))
    device = db.session.scalar(select(DeviceToken))
    recently = utcnow() - timedelta(seconds=30)
    device.last_used_at = recently
    db.session.flush()
    for _ in range(3):
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(DeviceToken.last_used_at)) == recently
    db.session.scalar(select(DeviceToken)).last_used_at = utcnow() - timedelta(seconds=61)
    db.session.flush()
    client.get("/api/auth/me", headers=bearer(token))
    db.session.expire_all()
    assert utcnow() - db.session.scalar(select(DeviceToken.last_used_at)) < timedelta(seconds=5)


def test_prune_command_drops_what_holds_nothing(cli, db, tree):
    from backend.accounts.models import RateLimitCounter

    now = utcnow()
    db.session.add_all([
        LoginThrottle(username="old", failures=1, last_failure_at=now - timedelta(minutes=16)),
        LoginThrottle(username="recent", failures=1, last_failure_at=now - timedelta(minutes=1)),
        RateLimitCounter(key="LIMITER/203.0.113.7/sign-in/30/1/minute", count=3, expires_at=now.timestamp() - 1),
        RateLimitCounter(key="LIMITER/203.0.113.8/sign-in/30/1/minute", count=3, expires_at=now.timestamp() + 30),
    ])
    db.session.commit()
    result = cli.invoke(args=["users", "prune-sign-ins"])
    assert result.exit_code == 0, result.output
    assert "Dropped 1 login-throttle rows and 1 ended rate-limit windows." in result.output
    assert set(db.session.scalars(select(LoginThrottle.username))) == {"recent"}
    assert [c.key for c in db.session.scalars(select(RateLimitCounter))] == ["LIMITER/203.0.113.8/sign-in/30/1/minute"]
