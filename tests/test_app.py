"""The API shell: health, OpenAPI, the error shape, request ids, settings, SQLite set-up."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from backend import create_app
from backend.config import ConfigError, read_environment

ERROR_KEYS = {"code", "status", "message", "errors"}


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert ERROR_KEYS <= set(body), body
    assert body["code"] == status
    assert body["message"], "an error must say what went wrong"
    return body


def test_health_reports_database_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
                      "INSTANCE_DIR": str(tmp_path), "TESTING": True})
    response = app.test_client().get("/api/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_openapi_document_describes_the_api_and_its_bearer_auth(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/health", "/api/auth/login", "/api/users", "/api/areas", "/api/audit",
                 "/api/devices/{device_id}"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/api/auth/login"]["post"]["security"] == []
    assert spec["paths"]["/api/health"]["get"]["security"] == []
    assert set(spec["components"]["schemas"]["Error"]["properties"]) >= ERROR_KEYS | {"reason"}


def test_interactive_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_unknown_api_path_is_a_json_404(client):
    body = assert_error(client.get("/api/no-such-thing"), 404)
    assert "/api/no-such-thing" in body["message"]
    assert_error(client.post("/api/no-such-thing"), 404)


def test_wrong_method_is_a_json_405_naming_the_allowed_ones(client):
    response = client.delete("/api/health")
    body = assert_error(response, 405)
    assert "GET" in response.headers["Allow"]
    assert "GET" in body["message"]


def test_oversized_body_is_a_json_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/api/auth/login", data=b"x" * (limit + 1), content_type="application/json")
    body = assert_error(response, 413)
    assert body["reason"] == "body_too_large"
    assert str(limit) in body["message"]


def test_invalid_json_fields_are_a_422_naming_the_field(client):
    body = assert_error(client.post("/api/auth/login", json={"username": "a"}), 422)
    assert body["reason"] == "validation"
    assert "password" in body["errors"]["json"]


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/api/health", headers={"X-Request-ID": "phone-42.abc"})
    assert given.headers["X-Request-ID"] == "phone-42.abc"
    generated = client.get("/api/health")
    assert len(generated.headers["X-Request-ID"]) == 32
    hostile = client.get("/api/health", headers={"X-Request-ID": "<script>"})
    assert hostile.headers["X-Request-ID"] != "<script>"
    assert client.get("/api/nothing-here").headers["X-Request-ID"]


def test_api_responses_are_not_cached(client):
    assert client.get("/api/health").headers["Cache-Control"] == "no-store"


def test_json_crosses_slow_links_compressed_and_is_not_compressed_for_clients_that_cannot_undo_it(client):
    import gzip
    import json

    squeezed = client.get("/api/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert squeezed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    document = json.loads(gzip.decompress(squeezed.data))
    assert document["info"]["title"].startswith("Zoufang")
    assert len(squeezed.data) * 3 < len(json.dumps(document))

    plain = client.get("/api/openapi.json")
    assert "Content-Encoding" not in plain.headers
    assert plain.get_json() == document


def test_pages_are_served_under_a_strict_content_security_policy(client):
    response = client.get("/some/app/route")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ZOUFANG_SECRET_KEY", raising=False)
    config = {"DATABASE_URL": "sqlite://", "INSTANCE_DIR": str(tmp_path)}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 40
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_settings_come_from_zoufang_environment_variables():
    values = read_environment({"ZOUFANG_TOKEN_IDLE_DAYS": "7", "ZOUFANG_DATABASE_URL": "sqlite://"})
    assert values["TOKEN_IDLE_DAYS"] == 7
    assert values["DATABASE_URL"] == "sqlite://"
    assert values["LOGIN_MAX_FAILURES"] == 5
    with pytest.raises(ConfigError, match="ZOUFANG_TOKEN_IDLE_DAYS"):
        read_environment({"ZOUFANG_TOKEN_IDLE_DAYS": "a week"})


def test_sqlite_connections_get_wal_foreign_keys_and_a_busy_timeout(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "INSTANCE_DIR": str(tmp_path)})
    from backend.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_postgres_plans_each_query_with_its_own_values(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting; the PostgreSQL run checks it")
    # A generic plan of a scoped query does not know the area prefix (backend/config.py).
    assert db.session.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


def test_a_nul_character_is_never_a_500(client, db, tree):
    from tests.factories import login_headers

    headers = login_headers("admin", tree.A, "admin")
    audit = client.get("/api/audit?entity=a%00b", headers=headers)
    if db.engine.dialect.name == "postgresql":  # PostgreSQL refuses NUL in text; SQLite stores it
        assert assert_error(audit, 422)["reason"] == "unstorable_value"
    else:
        assert audit.status_code == 200
    # In a JSON body it is refused before any database sees it (tests/test_hostile_input.py).
    login = client.post("/api/auth/login", json={"username": "a\x00b", "password": "whatever"})
    assert assert_error(login, 422)["reason"] == "invalid_text"


def test_an_unreachable_database_is_a_503_the_client_retries(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
                      "INSTANCE_DIR": str(tmp_path), "TESTING": True})
    response = app.test_client().post("/api/auth/login", json={"username": "wang", "password": "whatever"})
    assert assert_error(response, 503)["reason"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
