"""Hostile input is a 4xx in the one error shape, never a 500.

Each test sends one input that once reached code unprepared for it: digits str.isdigit()
accepts and int() does not, a cursor time outside the calendar in UTC, text no database
stores, JSON nested deeper than the parser's stack.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.evidence.conftest import (
    TUS,
    inspector,  # noqa: F401
    start_upload,
)
from tests.evidence.test_tus import attached, jpeg, started  # noqa: F401
from tests.factories import PASSWORD, bearer, login_headers, make_user, token_for
from tests.sync.conftest import cadre, device, push, supervisor, visit_fields  # noqa: F401
from tests.test_app import ERROR_KEYS, assert_error

# Characters str.isdigit() says are digits and int() refuses (superscripts, circled
# numbers), and decimal digits of other scripts that int() would accept.
UNICODE_DIGITS = ["²", "①", "٣", "３", "1²", "١"]
# Per operation; 66 operations x 25 requests stay well under a minute on SQLite.
FUZZ_EXAMPLES = 25
TEXT_REFUSED = "Holds a NUL or an unpaired surrogate character."


def raw_json(client, method: str, path: str, text: str, headers: dict[str, str] | None = None):
    """``text`` sent as the JSON body, byte for byte (json= would re-encode it)."""
    return client.open(path, method=method, data=text.encode(), content_type="application/json",
                       headers=headers or {})


# --- numbers in headers ------------------------------------------------------------------


@pytest.mark.parametrize("value", UNICODE_DIGITS + ['"²"', 'W/"٣"'])
def test_if_match_with_non_ascii_digits_is_412(client, cadre, value):  # noqa: F811
    visit = client.post("/api/visits", json={"id": str(uuid.uuid4()), **visit_fields()}, headers=cadre.headers)
    assert visit.status_code == 201, visit.get_json()
    response = client.patch(f"/api/visits/{visit.get_json()['id']}", json={"summary": "改"},
                            headers={**cadre.headers, "If-Match": value})
    assert assert_error(response, 412)["reason"] == "stale_version"


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_upload_length_with_non_ascii_digits_is_400(client, cadre, attached, value):  # noqa: F811
    photo_id, data = attached
    response = start_upload(client, cadre.headers, photo_id, data, **{"Upload-Length": value})
    assert assert_error(response, 400)["reason"] == "bad_header"


@pytest.mark.parametrize("value", UNICODE_DIGITS)
def test_upload_offset_with_non_ascii_digits_is_400(client, cadre, started, value):  # noqa: F811
    response = client.patch(started, data=jpeg()[:100], content_type="application/offset+octet-stream",
                            headers={**cadre.headers, **TUS, "Upload-Offset": value})
    assert assert_error(response, 400)["reason"] == "bad_header"


# --- cursors -------------------------------------------------------------------------------


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_queue_cursor_whose_time_leaves_the_calendar_in_utc_is_422(client, supervisor, at):  # noqa: F811
    cursor = cursor_of(f"0|{at}|visit|{uuid.uuid4()}")
    response = client.get("/api/review/queue", query_string={"cursor": cursor}, headers=supervisor.headers)
    body = assert_error(response, 422)
    assert body["reason"] == "validation"
    assert "cursor" in body["errors"]["query"]


# --- text no database stores ------------------------------------------------------------


def test_a_lone_surrogate_in_the_sign_in_body_is_422_naming_the_field(client, db, tree):
    make_user("wang", tree.V1)
    for body in ('{"username": "\\ud800", "password": "whatever-long"}',
                 '{"username": "wang", "password": "\\udfff-long-enough"}'):
        answer = assert_error(raw_json(client, "POST", "/api/auth/login", body), 422)
        assert answer["reason"] == "invalid_text"
        assert set(answer["errors"]["json"]) <= {"username", "password"}


def test_a_nul_in_a_json_body_is_422_on_every_database(client, db, tree):
    answer = assert_error(client.post("/api/auth/login", json={"username": "a\x00b", "password": "whatever"}), 422)
    assert answer["reason"] == "invalid_text"
    assert answer["errors"] == {"json": {"username": [TEXT_REFUSED]}}


def test_a_lone_surrogate_in_a_display_name_an_area_name_or_a_password_is_422(client, db, tree):
    admin = login_headers("admin-a", tree.A, "admin")
    user = make_user("li", tree.V1)
    for method, path, body, where in [
        ("PATCH", f"/api/users/{user.id}", '{"display_name": "李\\ud83d"}', "display_name"),
        ("POST", "/api/users", '{"username": "zhao", "password": "\\ud800aaaaaaaaaa", "roles": ["cadre"], '
                               f'"area_code": "{tree.V1}", "display_name": "赵"}}', "password"),
        ("POST", f"/api/users/{user.id}/password", '{"password": "aaaaaaaaaa\\udc00"}', "password"),
        ("POST", "/api/areas", f'{{"code": "990101001002", "name": "\\udc00村", "level": "village", '
                               f'"parent_code": "{tree.T1}"}}', "name"),
        ("PATCH", f"/api/areas/{tree.V1}", '{"name": "一\\ud800村"}', "name"),
    ]:
        answer = assert_error(raw_json(client, method, path, body, admin), 422)
        assert answer["reason"] == "invalid_text", (path, answer)
        assert where in answer["errors"]["json"], (path, answer)
    change = raw_json(client, "POST", "/api/auth/password",
                      f'{{"current_password": "{PASSWORD}", "new_password": "\\ud800\\ud800xxxxxxxxxx"}}',
                      login_headers("self", tree.V1))
    assert assert_error(change, 422)["errors"] == {"json": {"new_password": [TEXT_REFUSED]}}


def test_the_sync_push_refuses_a_bad_mutation_alone_and_the_queue_moves_on(client, cadre):  # noqa: F811
    bad = cadre.mutation("visit.upsert", uuid.uuid4(), visit_fields(summary="PLACEHOLDER"))
    good = cadre.mutation("visit.upsert", uuid.uuid4(), visit_fields())
    body = json.dumps({"client_id": cadre.client_id, "mutations": [bad, good]}).replace("PLACEHOLDER", "\\ud800")
    response = raw_json(client, "POST", "/api/sync/push", body, cadre.headers)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "applied"], results
    assert response.get_json()["last_mutation_id"] == good["id"]


# --- JSON nested deeper than the parser goes ---------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/sync/push", "/api/users", "/api/health"])
def test_json_nested_50000_deep_is_400_json_too_deep(client, db, tree, path):
    admin = login_headers("admin-a", tree.A, "admin")
    response = raw_json(client, "POST", path, "[" * 50_000 + "]" * 50_000, admin)
    body = assert_error(response, 400 if path != "/api/health" else 405)
    if path != "/api/health":
        assert body["reason"] == "json_too_deep"


def test_json_a_little_over_the_depth_limit_is_400_and_at_the_limit_is_read(client, db, tree):
    from backend.json_body import MAX_DEPTH

    too_deep = '{"username": "wang", "password": "whatever", "device_name": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
    assert assert_error(raw_json(client, "POST", "/api/auth/login", too_deep), 400)["reason"] == "json_too_deep"
    at_limit = '{"username": "wang", "password": "whatever", "device_name": ' + "[" * (MAX_DEPTH - 1) + \
        "]" * (MAX_DEPTH - 1) + "}"
    assert assert_error(raw_json(client, "POST", "/api/auth/login", at_limit), 422)["reason"] == "validation"


# --- every operation of the OpenAPI document, fuzzed -------------------------------------

# Strings that once reached code unprepared for them, and their relatives.
NASTY_TEXT = [
    "", " ", "\ud800", "a\udfffb", "\x00", "a\x00b", "²", "①", "٣", "３", "1²", "-1", "0", "1.5", "1e999",
    "2147483648", "9223372036854775808", "1" * 5000, "x" * 10_000, "NaN", "null", "true", "[]", "{}",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-11-20T09:30:00", "2026-13-45T99:99:99Z",
    "' OR 1=1 --", "../../etc/passwd", "%00", "%ud800", "<script>alert(1)</script>", "\u202e", "😀", "一村",
    "990101001001", "990101000000", "３３０７２６００１００１", "990101001001\n", "0,0,1,1", "181,91,-181,-91",
]
# Header values arrive as Latin-1 text: byte 0xB2 from the wire is "²".
NASTY_HEADERS = ["²", "¹", '"²"', 'W/"³"', '"1"', "W/\"1\"", "*", "-1", "99999999999999999999", " 1", "0x10",
                 "1.0.0", "0.2.2", "Bearer", "Bearer ", "Bearer \xff\xfe", "Basic YWRtaW46YWRtaW4=",
                 "sha256 ²", "photo_id ²,sha256 ///", "filename", ""]
CONTENT_TYPES = ["application/json", "application/json; charset=latin-1", "application/merge-patch+json",
                 "text/plain", "application/offset+octet-stream", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/json; charset=\xb2"]
NASTY_CURSORS = [cursor_of(text) for text in [
    f"0|0001-01-01T00:00:00+14:00|visit|{uuid.UUID(int=1)}", f"0|9999-12-31T23:59:59-14:00|visit|{uuid.UUID(int=1)}",
    f"-1|2026-01-01T00:00:00+00:00|visit|{uuid.UUID(int=1)}", f"0|2026-01-01T00:00:00|visit|{uuid.UUID(int=1)}",
    "1.0.\x00", "1.0.990101001001", "-1", "9" * 30, "²", str(uuid.UUID(int=1)), "x"]] + [
    "!!!", "%%%", "", "\ud800"]
RAW_BODIES = ["[" * 50_000 + "]" * 50_000, '{"a":' * 5000 + "1" + "}" * 5000, "1" * 5000, "-" + "9" * 4301,
              "1e999999", "NaN", "[Infinity]", '{"a": 1,}', "\ufeff{}", '"\\ud800"', '{"\\u0000": 1}', "null", "",
              "\xff\xfe", '{"username": "\\udbff\\udfff\\udbff"}']

header_text = st.one_of(
    st.sampled_from(NASTY_HEADERS),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40))
nasty_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(st.characters(codec=None, categories=["L", "N", "P", "S", "Cc", "Cs", "Zs"]), max_size=20))
nasty_scalar = st.one_of(
    nasty_text, st.none(), st.booleans(), st.integers(),
    st.sampled_from([2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**40, 1e308, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True))
nasty_json = st.recursive(nasty_scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=8)


def _openapi_operations() -> tuple[dict, list[tuple[str, str, dict]]]:
    from tests.test_api_schema import openapi_document

    document = openapi_document()
    return document, [(path, method, operation) for path, item in document["paths"].items()
                      for method, operation in item.items() if method != "parameters"]


DOCUMENT, OPERATIONS = _openapi_operations()


def _resolved(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def shaped_like(schema: dict, real: dict[str, list], depth: int = 0) -> st.SearchStrategy:
    """Values of roughly the shape ``schema`` describes, with hostile leaves (and real ids among them)."""
    schema = _resolved(schema)
    anything = nasty_json if depth < 3 else nasty_scalar
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), anything)
    kind = schema.get("type")
    if kind == "object" and schema.get("properties") and depth < 3:
        return st.one_of(anything, st.fixed_dictionaries(
            {}, optional={name: shaped_like(field, real, depth + 1) for name, field in schema["properties"].items()}))
    if kind == "array" and depth < 3:
        return st.one_of(anything, st.lists(shaped_like(schema.get("items", {}), real, depth + 1), max_size=3))
    if schema.get("format") == "uuid":
        return st.one_of(st.sampled_from(real["uuid"]), st.uuids().map(str), nasty_scalar)
    if schema.get("format") == "date-time":
        return st.one_of(st.sampled_from(["2026-11-20T09:30:00+08:00", "0001-01-01T00:00:00+14:00"]), nasty_scalar)
    return st.one_of(st.sampled_from(real["any"]), nasty_scalar)


def _url_part(value: str) -> str:
    # What a client can put on the wire: the bytes of any text, a lone surrogate included.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def mostly(real: list[str], hostile: st.SearchStrategy) -> st.SearchStrategy:
    """A real value two times in three: one hostile part in an otherwise sound request
    reaches further than a request that is wrong everywhere and fails at its first check."""
    return st.one_of(st.sampled_from(real), st.sampled_from(real), hostile)


@st.composite
def hostile_request(draw, path: str, method: str, operation: dict, real: dict[str, list]) -> dict:
    """Keyword arguments for ``client.open``: one hostile request to this operation."""
    parameters = operation.get("parameters", []) + DOCUMENT["paths"][path].get("parameters", [])
    url = path
    for parameter in (p for p in parameters if p["in"] == "path"):
        value = draw(mostly(real.get(parameter["name"], real["any"]), nasty_text))
        url = url.replace("{" + parameter["name"] + "}", _url_part(value))
    names = [p["name"] for p in parameters if p["in"] == "query"] + ["cursor", "x"]
    query = [(name, draw(st.sampled_from(NASTY_CURSORS) if name == "cursor" else
                         mostly(real.get(name, real["any"]), nasty_text)))
             for name in draw(st.lists(st.sampled_from(names), max_size=4))]
    headers = {"Accept-Encoding": "identity"}
    who = draw(st.sampled_from(["signed in", "signed in", "anonymous", "garbage"]))
    if who == "signed in":
        headers["Authorization"] = real["authorization"]()
    elif who == "garbage":
        headers["Authorization"] = draw(header_text)
    if any(p["name"] == "If-Match" for p in parameters):
        headers["If-Match"] = draw(mostly(['"1"', 'W/"1"'], header_text))
    if path.startswith("/api/uploads"):
        headers.update(TUS)
    for name in draw(st.sets(st.sampled_from(["If-Match", "Upload-Length", "Upload-Offset", "Upload-Metadata",
                                               "Upload-Checksum", "Tus-Resumable", "Upload-Defer-Length"]),
                             max_size=3)):
        headers[name] = draw(header_text)
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    headers["Content-Type"] = draw(mostly(["application/json"], st.one_of(st.sampled_from(CONTENT_TYPES),
                                                                          header_text)))
    bodies = [st.sampled_from(RAW_BODIES), nasty_json.map(json.dumps), st.binary(max_size=64)]
    if content:
        shaped = shaped_like(content["schema"], real).map(json.dumps)
        bodies += [shaped, shaped]  # as likely as all the rest
    body = draw(st.one_of(*bodies))
    return {"path": url, "method": method.upper(), "headers": headers,
            "query_string": "&".join(f"{_url_part(k)}={_url_part(v)}" for k, v in query),
            "data": body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body}


@pytest.fixture
def real_data(client, db, tree) -> dict[str, list]:
    """Values that exist, by parameter name, so hostile requests also reach the code behind
    the lookups; and a way to a live token of a user who holds every role (a fresh one per
    request: the fuzzer signs out and revokes devices)."""
    user = make_user("fuzz-all-roles", tree.A, "admin", "supervisor", "inspector", "cadre")
    token = token_for(user)
    visit = client.post("/api/visits", json={"id": str(uuid.uuid4()), **visit_fields()}, headers=bearer(token))
    assert visit.status_code == 201, visit.get_json()
    visit_id = visit.get_json()["id"]
    device_id = client.get("/api/devices", headers=bearer(token)).get_json()[0]["id"]
    areas = [tree.A, tree.V1, tree.B]
    return {"record_id": [visit_id], "photo_id": [visit_id], "upload_id": [visit_id], "user_id": [str(user.id)],
            "device_id": [str(device_id)], "code": areas, "area": areas, "parent": areas, "variant": ["thumb"],
            "sha256": ["0" * 64], "since": ["2026-01-01T00:00:00+08:00"], "until": ["2027-01-01T00:00:00+08:00"],
            "uuid": [visit_id], "any": [visit_id, str(user.id), *areas, "1"],
            "authorization": lambda: bearer(token_for(user))["Authorization"]}


def assert_answer_in_the_error_shape(response, request: dict) -> None:
    where = f"{request['method']} {request['path']}?{request['query_string']}"
    assert response.status_code < 500, (where, response.get_data(as_text=True)[:500])
    if response.status_code < 400 or request["method"] == "HEAD":
        return
    assert response.mimetype == "application/json", (where, response.status_code, response.mimetype)
    body = response.get_json()
    assert ERROR_KEYS <= set(body), (where, body)
    assert body["code"] == response.status_code, (where, body)
    assert isinstance(body["message"], str) and body["message"], (where, body)
    assert isinstance(body["errors"], dict), (where, body)
    assert isinstance(body.get("reason", ""), str), (where, body)


# derandomize: every run, in CI and on a laptop, sends the same requests, so a red run is
# one anyone can replay and a green one is not luck; new ground is covered by changing the
# strategies (or running with --hypothesis-seed and derandomize off), not by chance in CI.
@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS,
                         ids=[f"{method.upper()} {path}" for path, method, _ in OPERATIONS])
@settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_every_operation_answers_hostile_input_with_a_4xx_in_the_error_shape(client, real_data, path, method,
                                                                             operation, data):
    request = data.draw(hostile_request(path, method, operation, real_data))
    assert_answer_in_the_error_shape(client.open(**request), request)
