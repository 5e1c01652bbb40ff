"""What a ruling may do: the transition table of docs/supervision.md, nobody ruling on their own record,
bulk approval leaving out unchecked photos, and an author's photo change sending a ruled record back."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from backend.audit.models import AuditEvent
from backend.changes.models import Change
from backend.records import writes as records_service
from backend.visits import service as visits_service
from backend.visits.models import Visit
from tests.review.helpers import HOME, add_photo, etag, household_visit, new_visit, queue_ids, review
from tests.sync.conftest import cadre, count, device, supervisor  # noqa: F401

DOCS = Path(__file__).resolve().parents[2] / "docs" / "supervision.md"
STATUSES = ("pending", "approved", "returned", "rejected")
REASON = "请核实"


def documented_transitions() -> dict[str, set[str]]:
    """The table of docs/supervision.md: status -> what a supervisor may rule from it."""
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| .+? \|$", DOCS.read_text(encoding="utf-8"), re.MULTILINE)
    return {status: set(re.findall(r"`(\w+)`", ruled)) for status, ruled in rows if status in STATUSES}


def test_the_documented_table_is_the_one_the_code_follows():
    assert documented_transitions() == {status: set(to) for status, to in records_service.REVIEW_TRANSITIONS.items()}


def ruled(client, cadre, supervisor, status: str) -> str:  # noqa: F811
    visit_id = new_visit(client, cadre)
    if status != "pending":
        review(client, supervisor.headers, visit_id, status, REASON)
    return visit_id


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("ruling", STATUSES)
def test_a_ruling_follows_the_table(client, db, cadre, supervisor, current, ruling):  # noqa: F811
    visit_id = ruled(client, cadre, supervisor, current)
    version = etag(client, supervisor.headers, "visits", visit_id)

    response = client.post(f"/api/visits/{visit_id}/review", headers={**supervisor.headers, "If-Match": version},
                           json={"review_status": ruling, "review_comment": REASON})

    body = response.get_json()
    now = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers)
    if ruling in documented_transitions()[current]:
        assert response.status_code == 200, body
        next_version = f'"{int(version.strip(chr(34))) + 1}"'
        assert (now.get_json()["review_status"], now.headers["ETag"]) == (ruling, next_version)
    else:
        assert (response.status_code, body["reason"]) == (409, "invalid_transition"), body
        assert f"is {current}" in body["message"]
        assert body["errors"]["current"] == {"review_status": current}
        assert (now.get_json()["review_status"], now.headers["ETag"]) == (current, version)


def test_nobody_rules_on_their_own_visit(client, db, tree, supervisor):  # noqa: F811
    both = device("cadre-supervisor", tree.V1, "cadre", "supervisor")
    visit_id = new_visit(client, both)

    response = client.post(f"/api/visits/{visit_id}/review", headers={**both.headers, "If-Match": '"1"'},
                           json={"review_status": "approved"})

    assert (response.status_code, response.get_json()["reason"]) == (403, "own_record")
    assert client.get(f"/api/visits/{visit_id}", headers=both.headers).get_json()["review_status"] == "pending"
    bulk = client.post("/api/review/bulk-approve", headers=both.headers,
                       json={"items": [{"record_type": "visit", "id": visit_id, "version": 1}]}).get_json()
    assert (bulk["approved"], bulk["items"][0]["reason"]) == (0, "own_record")
    # Another supervisor may.
    assert review(client, supervisor.headers, visit_id, "approved")["review_status"] == "approved"


def test_bulk_approval_skips_a_record_whose_photo_is_still_on_the_phone(client, db, cadre, supervisor):  # noqa: F811
    waiting = household_visit(client, cadre)
    add_photo(client, cadre, waiting, taken_at=HOME, seed=11, send_bytes=False)
    arrived = household_visit(client, cadre)
    add_photo(client, cadre, arrived, taken_at=HOME, seed=12)
    items = [{"record_type": "visit", "id": record_id, "version": 1} for record_id in (waiting, arrived)]

    answer = client.post("/api/review/bulk-approve", headers=supervisor.headers, json={"items": items}).get_json()

    assert [(item["status"], item["reason"]) for item in answer["items"]] == [
        ("skipped", "photos_not_stored"), ("approved", None)]
    assert waiting in queue_ids(client, supervisor.headers)
    assert db.session.get(Visit, uuid.UUID(waiting)).review_status == "pending"


@pytest.mark.parametrize("status", ["approved", "returned", "rejected"])
def test_the_authors_photo_change_sends_a_ruled_visit_back_to_pending(client, db, cadre, supervisor,  # noqa: F811
                                                                       status):
    visit_id = ruled(client, cadre, supervisor, status)
    record = db.session.get(Visit, uuid.UUID(visit_id))
    changes = count(db, Change, Change.record_id == record.id)

    done = records_service.resubmit_after_author_change(visits_service.SPEC, record, actor=cadre.user,
                                                        writer=records_service.rest_writer(cadre.user))
    db.session.commit()

    assert done is True
    assert (record.review_status, record.version, record.review_comment) == ("pending", 3, REASON)
    assert record.field_versions["review_status"] == [3, "server"]
    assert count(db, Change, Change.record_id == record.id) == changes + 1
    event = db.session.query(AuditEvent).filter_by(entity_id=visit_id, action="visit.resubmit").one()
    assert (event.before, event.after) == ({"review_status": status}, {"review_status": "pending"})
    assert visit_id in queue_ids(client, supervisor.headers)


def test_a_photo_change_by_someone_else_or_of_a_pending_visit_resubmits_nothing(client, db, cadre,  # noqa: F811
                                                                                  supervisor):  # noqa: F811
    approved = ruled(client, cadre, supervisor, "approved")
    pending = new_visit(client, cadre)
    writer = records_service.rest_writer(cadre.user)

    by_other = records_service.resubmit_after_author_change(
        visits_service.SPEC, db.session.get(Visit, uuid.UUID(approved)), actor=supervisor.user, writer=writer)
    of_pending = records_service.resubmit_after_author_change(
        visits_service.SPEC, db.session.get(Visit, uuid.UUID(pending)), actor=cadre.user, writer=writer)

    assert (by_other, of_pending) == (False, False)
    assert [(v.review_status, v.version) for v in (db.session.get(Visit, uuid.UUID(approved)),
                                                   db.session.get(Visit, uuid.UUID(pending)))] == [
        ("approved", 2), ("pending", 1)]
