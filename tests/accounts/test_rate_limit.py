"""The sign-in rate limit per client address."""

from __future__ import annotations

import subprocess
import sys

import flask_migrate
import pytest

from backend import create_app
from backend.config import ConfigError, read_environment
from backend.extensions import db
from tests.factories import PASSWORD, bearer, make_user, token_for
from tests.test_app import assert_error

RATE = 5


@pytest.fixture(autouse=True)
def rate(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE", f"{RATE} per minute")


def sign_in(client, address, username="wang", password="wrong-password"):
    return client.post("/api/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_one_address_over_the_rate_is_refused_and_another_is_not(client, tree):
    make_user("wang", tree.V1)
    # Spread over names, so that the per-username lockout is not what stops them.
    statuses = [sign_in(client, "203.0.113.7", username=f"user{n}").status_code for n in range(RATE)]
    assert statuses == [401] * RATE
    refused = sign_in(client, "203.0.113.7", password=PASSWORD)
    body = assert_error(refused, 429)
    assert body["reason"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another address signs in; the limited one does not even with the right password.
    assert sign_in(client, "203.0.113.8", password=PASSWORD).status_code == 200


def test_password_changes_share_the_sign_in_budget(client, tree):
    token = token_for(make_user("wang", tree.V1))
    for n in range(RATE):
        sign_in(client, "203.0.113.7", username=f"user{n}")
    response = client.post("/api/auth/password", headers=bearer(token), environ_base={"REMOTE_ADDR": "203.0.113.7"},
                           json={"current_password": PASSWORD, "new_password": "a-new-long-password"})
    assert assert_error(response, 429)["reason"] == "rate_limited"


def test_other_requests_are_not_limited(client, tree):
    token = token_for(make_user("wang", tree.V1))
    for n in range(RATE):
        sign_in(client, "203.0.113.7", username=f"user{n}")
    me = client.get("/api/auth/me", headers=bearer(token), environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert me.status_code == 200


SIGN_INS_IN_ANOTHER_PROCESS = """
import sys
from backend import create_app
app = create_app({"DATABASE_URL": sys.argv[1], "INSTANCE_DIR": sys.argv[2], "LOGIN_RATE": "4 per minute"})
client = app.test_client()
print(" ".join(str(client.post("/api/auth/login", json={"username": f"other{n}", "password": "wrong-password"},
                               environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code) for n in range(2)))
"""


def test_the_count_holds_across_app_processes(empty_database_url, tmp_path):
    """Another process (a second gunicorn worker) spends the same budget."""
    app = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path),
                      "LOGIN_RATE": "4 per minute"})
    with app.app_context():
        flask_migrate.upgrade()
    try:
        here = [sign_in(app.test_client(), "198.51.100.1", username=f"user{n}").status_code for n in range(3)]
        other = subprocess.run([sys.executable, "-c", SIGN_INS_IN_ANOTHER_PROCESS, empty_database_url,
                                str(tmp_path)], capture_output=True, text=True, check=True, timeout=120)
        assert here == [401] * 3
        assert other.stdout.split() == ["401", "429"]
        assert sign_in(app.test_client(), "198.51.100.1").status_code == 429
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("value", ["30 per minute", "5/second", "100 per hour; 1000 per day"])
def test_login_rate_setting_takes_rates(value):
    assert read_environment({"ZOUFANG_LOGIN_RATE": value})["LOGIN_RATE"] == value


def test_login_rate_setting_refuses_what_is_not_a_rate():
    with pytest.raises(ConfigError, match="ZOUFANG_LOGIN_RATE"):
        read_environment({"ZOUFANG_LOGIN_RATE": "thirty a minute"})
