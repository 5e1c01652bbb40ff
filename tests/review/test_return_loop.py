"""The return loop: a supervisor returns a record with a comment, its author's phone learns it on the next
pull, and the author's edit sends it back to the queue as pending, with both steps in the audit trail."""

from __future__ import annotations

import dataclasses
import uuid

from backend.records import writes as records_service
from backend.visits import service as visits_service
from backend.visits.models import Visit
from tests.evidence.conftest import inspector  # noqa: F401
from tests.review.helpers import etag, new_inspection, new_visit, queue_ids, review, write
from tests.sync.conftest import cadre, device, pull_all, supervisor  # noqa: F401

COMMENT = "照片与户址不符，请补拍门牌照片"


def audit(client, headers: dict[str, str], entity_id: str) -> list[dict]:
    """The record's audit events, oldest first."""
    response = client.get("/api/audit", headers=headers, query_string={"entity_id": entity_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(reversed(response.get_json()["items"]))


def patch(client, headers: dict[str, str], plural: str, record_id: str, fields: dict, status: int = 200) -> dict:
    response = client.patch(f"/api/{plural}/{record_id}", json=fields,
                            headers={**headers, "If-Match": etag(client, headers, plural, record_id)})
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_returned_visit_reaches_the_phone_and_the_offline_edit_sends_it_back_to_pending(db, client, tree,
                                                                                        cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    cursor = pull_all(client, cadre.headers, cadre.client_id).cursor

    returned = review(client, supervisor.headers, visit_id, "returned", COMMENT)
    assert visit_id not in queue_ids(client, supervisor.headers)

    on_phone = pull_all(client, cadre.headers, cadre.client_id, cursor).upserted("visits")[visit_id]
    assert (on_phone["review_status"], on_phone["review_comment"], on_phone["version"]) == (
        "returned", COMMENT, returned["version"])

    # Edited offline on the version the phone holds, then synced.
    result = write(client, cadre, "visit.upsert", {"summary": "已补拍门牌照片"}, record_id=visit_id,
                   base_version=on_phone["version"])

    assert (result["status"], result["version"]) == ("applied", returned["version"] + 1)
    now = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    assert (now["review_status"], now["review_comment"], now["reviewed_by_id"], now["summary"]) == (
        "pending", COMMENT, supervisor.user.id, "已补拍门牌照片")
    assert visit_id in queue_ids(client, supervisor.headers)
    assert pull_all(client, cadre.headers, cadre.client_id, cursor).upserted("visits")[visit_id][
        "review_status"] == "pending"

    admin = device("admin-a", tree.A, "admin")
    steps = [(e["action"], e["actor_id"], e["before"], e["after"]) for e in audit(client, admin.headers, visit_id)
             if e["action"] != "visit.create"]
    assert [(action, actor) for action, actor, _before, _after in steps] == [
        ("visit.review", supervisor.user.id), ("visit.update", cadre.user.id)]
    _action, _actor, review_before, review_after = steps[0]
    assert (review_before["review_status"], review_after["review_status"], review_after["review_comment"]) == (
        "pending", "returned", COMMENT)
    _action, _actor, update_before, update_after = steps[1]
    assert update_before == {"summary": "入户走访，了解邻里纠纷情况。", "review_status": "returned"}
    assert update_after == {"summary": "已补拍门牌照片", "review_status": "pending"}
    # The status was the server's write, in the same version as the cadre's edit.
    versions = db.session.get(Visit, uuid.UUID(visit_id)).field_versions
    assert versions["review_status"] == [result["version"], "server"]
    assert versions["summary"] == [result["version"], f"client:{cadre.client_id}"]


def test_an_offline_edit_that_crossed_the_return_leaves_it_returned_until_the_next_edit(client, cadre,  # noqa: F811
                                                                                         supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    cursor = pull_all(client, cadre.headers, cadre.client_id).cursor
    returned = review(client, supervisor.headers, visit_id, "returned", COMMENT)

    # Made on version 1, before the phone could know of the return: not an answer to the comment.
    crossed = write(client, cadre, "visit.upsert", {"summary": "路上补记"}, record_id=visit_id, base_version=1)
    assert crossed["status"] == "merged"
    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == \
        "returned"

    on_phone = pull_all(client, cadre.headers, cadre.client_id, cursor).upserted("visits")[visit_id]
    assert (on_phone["review_status"], on_phone["review_comment"], on_phone["version"]) == (
        "returned", COMMENT, returned["version"] + 1)
    write(client, cadre, "visit.upsert", {"summary": "已补拍门牌照片"}, record_id=visit_id,
          base_version=on_phone["version"])
    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == \
        "pending"


def test_returned_inspection_edited_over_rest_is_pending_again(client, inspector, supervisor):  # noqa: F811
    inspection_id = new_inspection(client, inspector)
    review(client, supervisor.headers, inspection_id, "returned", "整改前后照片缺失", plural="inspections")

    edited = patch(client, inspector.headers, "inspections", inspection_id, {"measures": "已清理占道摊位"})

    assert (edited["review_status"], edited["review_comment"], edited["version"]) == (
        "pending", "整改前后照片缺失", 3)


def test_a_sync_that_changes_nothing_leaves_it_returned(client, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    returned = review(client, supervisor.headers, visit_id, "returned", COMMENT)

    write(client, cadre, "visit.upsert", {"summary": returned["summary"]}, record_id=visit_id,
          base_version=returned["version"])

    now = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    assert (now["review_status"], now["version"]) == ("returned", returned["version"])


def test_editing_an_approved_or_rejected_visit_sends_it_back_to_the_queue(db, client, cadre, supervisor):  # noqa: F811
    for ruling in ("approved", "rejected"):
        visit_id = new_visit(client, cadre)
        review(client, supervisor.headers, visit_id, ruling, "ok" if ruling == "approved" else "重复走访")

        edited = patch(client, cadre.headers, "visits", visit_id, {"summary": "补记：已电话回访"})

        assert (edited["review_status"], edited["summary"], edited["version"]) == ("pending", "补记：已电话回访", 3)
        assert visit_id in queue_ids(client, supervisor.headers)
        assert db.session.get(Visit, uuid.UUID(visit_id)).field_versions["review_status"] == [3, "server"]


def test_an_offline_edit_that_crossed_an_approval_still_undoes_it(client, cadre, supervisor):  # noqa: F811
    # The approval covered the summary the supervisor read; the phone changed it unaware.
    visit_id = new_visit(client, cadre)
    review(client, supervisor.headers, visit_id, "approved", None)

    crossed = write(client, cadre, "visit.upsert", {"summary": "路上补记"}, record_id=visit_id, base_version=1)

    assert (crossed["status"], crossed["version"]) == ("merged", 3)
    now = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    assert (now["review_status"], now["summary"]) == ("pending", "路上补记")
    assert visit_id in queue_ids(client, supervisor.headers)


def test_a_supervisor_may_not_edit_a_returned_visit_so_it_stays_returned(client, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    review(client, supervisor.headers, visit_id, "returned", COMMENT)

    refused = patch(client, supervisor.headers, "visits", visit_id, {"summary": "督查代改"}, status=403)

    assert refused["reason"] == "forbidden"
    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == \
        "returned"


def test_an_edit_by_someone_other_than_the_author_does_not_resubmit(db, client, cadre, supervisor):  # noqa: F811
    # No record kind lets anyone but its author edit a reviewed record today, so this drives the service
    # with a visit spec that lets supervisors edit: their own correction is not the author's resubmission.
    visit_id = new_visit(client, cadre)
    review(client, supervisor.headers, visit_id, "returned", COMMENT)
    editable = dataclasses.replace(visits_service.SPEC, edit_roles=("cadre", "supervisor"), author_only=False)
    record = db.session.get(Visit, uuid.UUID(visit_id))

    outcome = records_service.update(editable, actor=supervisor.user, writer=f"user:{supervisor.user.id}",
                                     record_id=record.id, fields={"summary": "督查更正错别字"},
                                     base_version=record.version, strict=True)

    assert (outcome.record.summary, outcome.record.review_status) == ("督查更正错别字", "returned")


def test_returning_or_rejecting_needs_a_reason_and_changes_nothing_without_one(client, cadre, supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    version = etag(client, supervisor.headers, "visits", visit_id)
    for ruling in ("returned", "rejected"):
        for comment in (None, "", "   "):
            response = client.post(f"/api/visits/{visit_id}/review",
                                   headers={**supervisor.headers, "If-Match": version},
                                   json={"review_status": ruling, "review_comment": comment})
            body = response.get_json()
            assert response.status_code == 422, body
            assert "author reads" in body["errors"]["json"]["review_comment"][0], body

    now = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers)
    assert (now.get_json()["review_status"], now.headers["ETag"]) == ("pending", version)
    approved = review(client, supervisor.headers, visit_id, "approved", None)
    assert approved["review_status"] == "approved"
