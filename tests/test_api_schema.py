"""Schemathesis explores every operation of /api/openapi.json with a signed-in admin's token.

It must find no 5xx and no response that contradicts the document (status, content type,
body schema, headers).
"""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend import create_app
from tests.factories import bearer, make_user, token_for

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]


def openapi_document() -> dict:
    # The document does not depend on data: a throwaway app serves it at collection
    # time; the calls go to the test session's app and its database.
    app = create_app({"DATABASE_URL": "sqlite://", "INSTANCE_DIR": tempfile.mkdtemp()})
    return app.test_client().get("/api/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def admin(db, tree):
    return make_user("fuzz-admin", tree.A, "admin")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case, app, admin):
    # A fresh token per call: the fuzzer may well revoke the one it was given. Bodies are
    # asked for uncompressed: the in-process client does not undo Content-Encoding
    # (tests/test_app.py checks compression itself).
    headers = {**bearer(token_for(admin)), "Accept-Encoding": "identity"}
    case.call_and_validate(headers=headers, checks=CHECKS, app=app)
