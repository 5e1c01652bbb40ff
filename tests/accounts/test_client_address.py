"""The client address in the audit trail and the sign-in rate limit, under ZOUFANG_PROXY_COUNT."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend import create_app
from backend.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

PROXY = "10.0.0.1"  # the reverse proxy, as the app sees the connection


@pytest.fixture
def app_behind(app, db):
    """An app built with this many trusted proxies, on the test's database transaction."""
    def build(count: int):
        return create_app({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_DIR": app.instance_path,
                           "TESTING": True, "PROXY_COUNT": count})
    return build


def signed_in_from(app, forwarded_for: str) -> str:
    response = app.test_client().post("/api/auth/login", json={"username": "wang", "password": PASSWORD},
                                      headers={"X-Forwarded-For": forwarded_for},
                                      environ_base={"REMOTE_ADDR": PROXY})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        from backend.extensions import db

        return db.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "auth.login")
                                 .order_by(AuditEvent.id.desc()).limit(1))


@pytest.mark.parametrize("count, forwarded_for, recorded", [
    (0, "198.51.100.9", PROXY),                 # no proxy trusted: the header is anyone's to forge
    (1, "198.51.100.9", "198.51.100.9"),        # the proxy's own entry
    (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # a hop the client wrote itself is not trusted
])
def test_audit_records_the_trusted_client_address(app_behind, tree, count, forwarded_for, recorded):
    make_user("wang", tree.V1)
    assert signed_in_from(app_behind(count), forwarded_for) == recorded


def test_forged_hops_do_not_escape_the_rate_limit(app_behind, tree, monkeypatch):
    app = app_behind(1)
    monkeypatch.setitem(app.config, "LOGIN_RATE", "3 per minute")
    client = app.test_client()

    def attempt(forwarded_for: str) -> int:
        return client.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password"},
                           headers={"X-Forwarded-For": forwarded_for},
                           environ_base={"REMOTE_ADDR": PROXY}).status_code

    assert [attempt(f"6.6.6.{n}, 198.51.100.9") for n in range(4)] == [401, 401, 401, 429]
    # Another phone behind the same proxy has its own budget.
    assert attempt("198.51.100.10") == 401
