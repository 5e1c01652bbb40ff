"""POST /api/review/bulk-approve: many unflagged records approved at once, each through the one review path."""

from __future__ import annotations

import uuid

from tests.evidence.conftest import inspector  # noqa: F401
from tests.review.helpers import HOME, add_photo, away, etag, household_visit, new_inspection, new_visit, review
from tests.sync.conftest import cadre, device, supervisor  # noqa: F401


def bulk(client, headers: dict[str, str], items: list[dict], status: int = 200) -> dict:
    response = client.post("/api/review/bulk-approve", headers=headers, json={"items": items})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def item(record_id: str, version: int = 1, record_type: str = "visit") -> dict:
    return {"record_type": record_type, "id": record_id, "version": version}


def audit(client, headers: dict[str, str], entity_id: str) -> list[dict]:
    response = client.get("/api/audit", headers=headers, query_string={"entity_id": entity_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["items"]


def test_each_item_is_approved_or_skipped_with_its_reason(client, tree, cadre, inspector, supervisor):  # noqa: F811
    clean = new_visit(client, cadre)
    clean_inspection = new_inspection(client, inspector)
    with_quiet_photo = household_visit(client, cadre)
    add_photo(client, cadre, with_quiet_photo, taken_at=HOME, seed=1)
    flagged = household_visit(client, cadre)
    add_photo(client, cadre, flagged, taken_at=away(HOME, 2000), seed=2)
    edited_since = new_visit(client, cadre)
    response = client.patch(f"/api/visits/{edited_since}", headers={**cadre.headers, "If-Match": '"1"'},
                            json={"summary": "补充：户主外出务工"})
    assert response.status_code == 200
    ruled = new_visit(client, cadre)
    review(client, supervisor.headers, ruled, "rejected", "不是本户")
    elsewhere = new_visit(client, device("cadre-b", tree.BV, "cadre"), area_code=tree.BV)
    never = str(uuid.uuid4())

    answer = bulk(client, supervisor.headers, [
        item(clean), item(clean_inspection, record_type="inspection"), item(with_quiet_photo), item(flagged),
        item(edited_since, 1), item(ruled, 2), item(elsewhere), item(never)])

    assert [(o["id"], o["status"], o["reason"], o["version"]) for o in answer["items"]] == [
        (clean, "approved", None, 2), (clean_inspection, "approved", None, 2), (with_quiet_photo, "approved", None, 2),
        (flagged, "skipped", "flagged", 1), (edited_since, "skipped", "stale_version", 2),
        (ruled, "skipped", "not_pending", 2), (elsewhere, "skipped", "not_found", None),
        (never, "skipped", "not_found", None)]
    assert (answer["approved"], answer["skipped"]) == (3, 5)
    for record_id, plural in ((clean, "visits"), (clean_inspection, "inspections"), (with_quiet_photo, "visits")):
        found = client.get(f"/api/{plural}/{record_id}", headers=supervisor.headers).get_json()
        assert (found["review_status"], found["reviewed_by_id"], found["version"]) == (
            "approved", supervisor.user.id, 2)
    for record_id in (flagged, edited_since):
        assert client.get(f"/api/visits/{record_id}", headers=supervisor.headers).get_json()["review_status"] == \
            "pending"
    assert etag(client, supervisor.headers, "visits", ruled) == '"2"'


def test_each_approval_is_audited_as_a_review(client, tree, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    admin = device("admin-a", tree.A, "admin")

    bulk(client, supervisor.headers, [item(visit_id)])

    [event] = [e for e in audit(client, admin.headers, visit_id) if e["action"] == "visit.review"]
    assert event["actor_id"] == supervisor.user.id
    assert event["before"]["review_status"] == "pending"
    assert event["after"]["review_status"] == "approved"


def test_the_same_record_twice_is_approved_once(client, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)

    answer = bulk(client, supervisor.headers, [item(visit_id), item(visit_id)])

    assert [(o["status"], o["reason"]) for o in answer["items"]] == [("approved", None), ("skipped", "not_pending")]
    assert etag(client, supervisor.headers, "visits", visit_id) == '"2"'


def test_a_township_supervisor_cannot_approve_beyond_their_township(client, tree, supervisor):  # noqa: F811
    cadre_v2 = device("cadre-v2", tree.V2, "cadre")
    in_t2 = new_visit(client, cadre_v2, area_code=tree.V2)
    township = device("supervisor-t1", tree.T1, "supervisor")

    answer = bulk(client, township.headers, [item(in_t2)])

    assert (answer["items"][0]["reason"], answer["approved"]) == ("not_found", 0)
    assert client.get(f"/api/visits/{in_t2}", headers=supervisor.headers).get_json()["review_status"] == "pending"


def test_only_supervisors_and_admins_approve_and_at_most_200_at_once(client, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)

    assert bulk(client, cadre.headers, [item(visit_id)], status=403)["reason"] == "forbidden"
    too_many = bulk(client, supervisor.headers, [item(str(uuid.uuid4())) for _ in range(201)], status=422)
    assert "items" in too_many["errors"]["json"]
    wrong_type = bulk(client, supervisor.headers, [item(visit_id, record_type="hotspot")], status=422)
    assert "items" in wrong_type["errors"]["json"]
    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == "pending"
