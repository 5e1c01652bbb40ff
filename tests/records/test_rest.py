"""The REST side of field records: idempotent creates, If-Match, filters, masking, reviews, lifecycle."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditEvent
from backend.changes.models import Change
from tests.factories import login_headers
from tests.test_app import assert_error


def visit_body(tree, **overrides):
    body = {"id": str(uuid.uuid4()), "area_code": tree.V1, "kind": "household",
            "visited_at": "2026-11-20T09:30:00+08:00", "lat": 29.45, "lon": 119.89, "accuracy_m": 12,
            "summary": "反映村道路灯不亮", "concerns": [{"category": "village_affairs", "description": "路灯"}],
            "satisfaction": 4, "follow_up_due": "2026-12-01"}
    body.update(overrides)
    return body


@pytest.fixture
def cadre(tree):
    return login_headers("cadre", tree.V1, "cadre")


@pytest.fixture
def supervisor(tree):
    return login_headers("supervisor", tree.A, "supervisor")


def test_create_returns_the_record_with_its_version_as_etag(client, tree, cadre):
    response = client.post("/api/visits", headers=cadre, json=visit_body(tree))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["version"], body["review_status"], response.headers["ETag"]) == (1, "pending", '"1"')
    assert body["visited_at"] == "2026-11-20T01:30:00+00:00"  # stored in UTC, the same instant
    assert body["concerns"] == [{"category": "village_affairs", "description": "路灯"}]


def test_replaying_an_identical_create_returns_the_existing_record(client, db, tree, cadre):
    body = visit_body(tree)
    first = client.post("/api/visits", headers=cadre, json=body)
    again = client.post("/api/visits", headers=cadre, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert db.session.scalar(select(func.count()).select_from(Change)) == 1
    different = client.post("/api/visits", headers=cadre, json={**body, "summary": "另一件事"})
    assert assert_error(different, 409)["reason"] == "id_conflict"


def test_updates_need_the_current_version_in_if_match(client, tree, cadre):
    created = client.post("/api/visits", headers=cadre, json=visit_body(tree)).get_json()
    url = f"/api/visits/{created['id']}"
    assert assert_error(client.patch(url, headers=cadre, json={"summary": "x"}), 428)["reason"] == \
        "if_match_required"
    updated = client.patch(url, headers={**cadre, "If-Match": '"1"'}, json={"summary": "路灯已修好"})
    assert updated.status_code == 200
    assert (updated.get_json()["version"], updated.headers["ETag"]) == (2, '"2"')
    stale = client.patch(url, headers={**cadre, "If-Match": '"1"'}, json={"summary": "旧版本"})
    assert assert_error(stale, 412)["reason"] == "stale_version"
    assert client.get(url, headers=cadre).get_json()["summary"] == "路灯已修好"


def test_field_workers_cannot_write_review_fields_over_rest(client, tree, cadre):
    created = client.post("/api/visits", headers=cadre, json=visit_body(tree)).get_json()
    response = client.patch(f"/api/visits/{created['id']}", headers={**cadre, "If-Match": '"1"'},
                            json={"review_status": "approved"})
    assert "review_status" in assert_error(response, 422)["errors"]["json"]
    review = client.post(f"/api/visits/{created['id']}/review", headers={**cadre, "If-Match": '"1"'},
                         json={"review_status": "approved"})
    assert_error(review, 403)


def test_a_supervisor_reviews_with_if_match(client, db, tree, cadre, supervisor):
    created = client.post("/api/visits", headers=cadre, json=visit_body(tree)).get_json()
    url = f"/api/visits/{created['id']}/review"
    assert_error(client.post(url, headers=supervisor, json={"review_status": "approved"}), 428)
    response = client.post(url, headers={**supervisor, "If-Match": '"1"'},
                           json={"review_status": "returned", "review_comment": "照片不清楚，请补拍"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["review_status"], body["review_comment"], body["version"]) == ("returned", "照片不清楚，请补拍", 2)
    assert body["reviewed_by_id"] and body["reviewed_at"]
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "visit.review")).all()
    assert event.before["review_status"] == "pending" and event.after["review_status"] == "returned"


def test_only_the_author_edits_a_visit(client, tree, cadre):
    created = client.post("/api/visits", headers=cadre, json=visit_body(tree)).get_json()
    colleague = login_headers("colleague", tree.V1, "cadre")
    response = client.patch(f"/api/visits/{created['id']}", headers={**colleague, "If-Match": '"1"'},
                            json={"summary": "改别人的"})
    assert assert_error(response, 403)["reason"] == "forbidden"
    assert client.get(f"/api/visits/{created['id']}", headers=colleague).status_code == 200


def test_delete_is_soft_and_needs_if_match(client, db, tree, cadre):
    created = client.post("/api/visits", headers=cadre, json=visit_body(tree)).get_json()
    url = f"/api/visits/{created['id']}"
    assert_error(client.delete(url, headers=cadre), 428)
    assert client.delete(url, headers={**cadre, "If-Match": '"1"'}).status_code == 204
    assert_error(client.get(url, headers=cadre), 404)
    from backend.visits.models import Visit

    stored = db.session.get(Visit, uuid.UUID(created["id"]))
    assert stored.deleted and stored.summary == "反映村道路灯不亮"


@pytest.mark.parametrize("field, value, status, reason", [
    ("lat", 91, 422, "validation"), ("lon", -181, 422, "validation"), ("satisfaction", 6, 422, "validation"),
    ("kind", "party", 422, "validation"), ("visited_at", "2026-11-20T09:30:00", 422, "validation"),
    ("summary", "字" * 4001, 422, "validation"), ("colour", "red", 422, "validation"),
    ("area_code", "990102001001", 404, "scope")])  # another county's village: as if it did not exist
def test_bad_fields_are_refused_with_the_field_named(client, db, tree, cadre, field, value, status, reason):
    response = client.post("/api/visits", headers=cadre, json=visit_body(tree, **{field: value}))
    body = assert_error(response, status)
    assert body["reason"] == reason
    assert list(body["errors"]["json"]) == [field]
    assert db.session.scalar(select(func.count()).select_from(Change)) == 0


def test_a_concern_needs_a_known_dispute_type(client, tree, cadre):
    response = client.post("/api/visits", headers=cadre,
                           json=visit_body(tree, concerns=[{"category": "aliens", "description": "?"}]))
    assert "concerns.0.category" in assert_error(response, 422)["errors"]["json"]


def test_a_visit_takes_its_households_area(client, tree, cadre):
    household = {"id": str(uuid.uuid4()), "area_code": tree.G1, "address": "一村3组12号", "head_name": "王大"}
    assert client.post("/api/households", headers=cadre, json=household).status_code == 201
    body = visit_body(tree, household_id=household["id"])
    del body["area_code"]
    created = client.post("/api/visits", headers=cadre, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["area_code"] == tree.G1
    elsewhere = client.post("/api/visits", headers=cadre, json=visit_body(tree, household_id=household["id"]))
    assert "area_code" in assert_error(elsewhere, 422)["errors"]["json"]
    unknown = client.post("/api/visits", headers=cadre, json=visit_body(tree, household_id=str(uuid.uuid4())))
    assert "household_id" in assert_error(unknown, 422)["errors"]["json"]


def test_households_belong_to_villages_or_grids_and_lists_mask_phones(client, tree, cadre):
    base = {"address": "一村3组12号", "head_name": "王大", "phone": "13812341234"}
    township = client.post("/api/households", headers=login_headers("t", tree.T1, "cadre"),
                           json={"id": str(uuid.uuid4()), "area_code": tree.T1, **base})
    assert "area_code" in assert_error(township, 422)["errors"]["json"]
    created = client.post("/api/households", headers=cadre, json={"id": str(uuid.uuid4()), "area_code": tree.V1,
                                                                   **base}).get_json()
    assert created["phone"] == "13812341234"
    listed = client.get("/api/households", headers=cadre).get_json()["items"]
    assert [h["phone"] for h in listed] == ["138****1234"]
    assert client.get(f"/api/households/{created['id']}", headers=cadre).get_json()["phone"] == "13812341234"


def test_lists_filter_by_area_time_status_author_and_bbox(client, tree, cadre, supervisor):
    other = login_headers("other", tree.V2, "cadre")
    ids = {}
    for name, headers, area, when, lat, lon in [
        ("early", cadre, tree.V1, "2026-11-01T09:00:00+08:00", 29.40, 119.80),
        ("late", cadre, tree.V1, "2026-11-25T09:00:00+08:00", 29.50, 119.95),
        ("v2", other, tree.V2, "2026-11-20T09:00:00+08:00", 30.10, 120.50),
    ]:
        body = visit_body(tree, area_code=area, visited_at=when, lat=lat, lon=lon)
        ids[name] = client.post("/api/visits", headers=headers, json=body).get_json()
    client.post(f"/api/visits/{ids['late']['id']}/review", headers={**supervisor, "If-Match": '"1"'},
                json={"review_status": "approved"})

    def names(query, headers=supervisor):
        items = client.get(f"/api/visits?{query}", headers=headers).get_json()["items"]
        return sorted(name for name, record in ids.items() if record["id"] in {i["id"] for i in items})

    assert names("") == ["early", "late", "v2"]
    assert names("", headers=cadre) == ["early", "late"]  # the V1 cadre sees V1 only
    assert names(f"area={tree.T2}") == ["v2"]
    assert names("since=2026-11-10T00:00:00%2B08:00&until=2026-11-21T00:00:00%2B08:00") == ["v2"]
    assert names("status=approved") == ["late"]
    assert names(f"author={ids['v2']['created_by_id']}") == ["v2"]
    assert names("bbox=119.7,29.3,120.0,29.45") == ["early"]
    assert_error(client.get("/api/visits?bbox=120,30,119,29", headers=supervisor), 422)
    assert_error(client.get(f"/api/visits?area={tree.B}", headers=supervisor), 404)


def test_list_pages_by_cursor(client, tree, cadre):
    for _ in range(5):
        client.post("/api/visits", headers=cadre, json=visit_body(tree))
    first = client.get("/api/visits?limit=2", headers=cadre).get_json()
    second = client.get(f"/api/visits?limit=2&cursor={first['next_cursor']}", headers=cadre).get_json()
    third = client.get(f"/api/visits?limit=2&cursor={second['next_cursor']}", headers=cadre).get_json()
    seen = [v["id"] for page in (first, second, third) for v in page["items"]]
    assert len(seen) == len(set(seen)) == 5 and third["next_cursor"] is None


def test_hotspot_status_moves_only_along_its_lifecycle(client, tree):
    inspector = login_headers("inspector", tree.T1, "inspector")
    supervisor = login_headers("sup", tree.A, "supervisor")
    hotspot = {"id": str(uuid.uuid4()), "area_code": tree.V1, "name": "城西出租屋片区",
               "category": "rental_cluster", "risk_level": "high", "deadline": "2026-12-31"}
    created = client.post("/api/hotspots", headers=inspector, json=hotspot)
    assert created.status_code == 201 and created.get_json()["status"] == "listed"
    url = f"/api/hotspots/{hotspot['id']}"

    def move(headers, status, version):
        return client.patch(url, headers={**headers, "If-Match": f'"{version}"'}, json={"status": status})

    assert assert_error(move(inspector, "closed", 1), 409)["reason"] == "invalid_transition"
    assert move(inspector, "rectifying", 1).status_code == 200
    assert move(inspector, "acceptance_requested", 2).status_code == 200
    assert assert_error(move(inspector, "closed", 3), 403)["reason"] == "forbidden"  # acceptance is a supervisor's
    assert move(supervisor, "closed", 3).get_json()["status"] == "closed"
    assert move(inspector, "relapsed", 4).status_code == 200
    starts_closed = client.post("/api/hotspots", headers=inspector,
                                json={**hotspot, "id": str(uuid.uuid4()), "status": "closed"})
    assert_error(starts_closed, 409)


def test_an_inspection_takes_its_hotspots_area_and_is_reviewed(client, tree):
    inspector = login_headers("inspector", tree.T1, "inspector")
    supervisor = login_headers("sup", tree.A, "supervisor")
    hotspot_id = str(uuid.uuid4())
    client.post("/api/hotspots", headers=inspector, json={"id": hotspot_id, "area_code": tree.V1,
                                                           "name": "夜市", "category": "market"})
    inspection = {"id": str(uuid.uuid4()), "hotspot_id": hotspot_id, "inspected_at": "2026-11-21T20:00:00+08:00",
                  "findings": "消防通道堵塞", "measures": "责令清理", "result": "in_progress"}
    created = client.post("/api/inspections", headers=inspector, json=inspection)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["area_code"] == tree.V1
    reviewed = client.post(f"/api/inspections/{inspection['id']}/review",
                           headers={**supervisor, "If-Match": '"1"'}, json={"review_status": "approved"})
    assert reviewed.get_json()["review_status"] == "approved"
    cadre = login_headers("cadre", tree.V1, "cadre")
    assert_error(client.post("/api/inspections", headers=cadre, json={**inspection, "id": str(uuid.uuid4())}), 403)


def test_records_outside_your_area_do_not_exist_for_you(client, tree):
    mine = login_headers("mine", tree.V1, "cadre")
    theirs = login_headers("theirs", tree.BV, "cadre")
    created = client.post("/api/visits", headers=theirs, json=visit_body(tree, area_code=tree.BV)).get_json()
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)(f"/api/visits/{created['id']}", headers={**mine, "If-Match": '"1"'},
                                           json={"summary": "x"} if method == "patch" else None)
        assert_error(response, 404)


def test_categories_are_served_in_both_languages(client, tree, cadre):
    lists = client.get("/api/categories", headers=cadre).get_json()
    assert {"dispute_types", "hotspot_types", "visit_kinds"} <= set(lists)
    disputes = {c["code"]: c for c in lists["dispute_types"]}
    assert len(disputes) == 15
    assert disputes["labour"]["zh"] == "劳动争议（含拖欠农民工工资）"
    assert disputes["marriage_family"]["en"] == "Marriage and family"
    assert [c["code"] for c in lists["visit_kinds"]] == ["household", "enterprise", "site", "key_person"]
    assert "rental_cluster" in {c["code"] for c in lists["hotspot_types"]}


def test_a_time_filter_outside_the_calendar_in_utc_is_a_422_not_a_500(client, db, tree):
    from tests.factories import login_headers

    headers = login_headers("since-cadre", tree.V1, "cadre")
    response = client.get("/api/visits", headers=headers, query_string={"since": "0001-01-01T00:00:00+01:00"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "since" in response.get_json()["errors"]["query"]
