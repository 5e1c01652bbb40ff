"""What a supervisor sees an author changed: exactly the fields whose values changed, no more.

docs/supervision.md, "The author's change": the audit row of the author's edit shows
``review_status`` → ``pending`` beside the fields changed. A phone sends the whole form
back; fields it sends unchanged (the same instant in another offset, the same list) must
not appear there, or every edit would look like a rewrite of the record.
"""

from __future__ import annotations

import pytest

from tests.review.helpers import etag, new_visit, review, write
from tests.sync.conftest import cadre, device, supervisor, visit_fields  # noqa: F401

COMMENT = "请补充走访对象的诉求"


def last_update(client, tree, visit_id: str) -> dict:
    admin = device("admin-edited", tree.A, "admin")
    response = client.get("/api/audit", headers=admin.headers, query_string={"entity_id": visit_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    updates = [event for event in response.get_json()["items"] if event["action"] == "visit.update"]
    assert updates, response.get_json()["items"]
    return updates[0]  # newest first


def whole_form(**changes) -> dict:
    """The visit as the phone sends it back: every field, ``visited_at`` in UTC this time."""
    return {**visit_fields(visited_at="2026-11-20T01:30:00+00:00"), **changes}


@pytest.mark.parametrize("how", ["sync", "rest"])
def test_the_edit_of_a_returned_visit_names_only_what_changed(client, db, tree, cadre, supervisor, how):  # noqa: F811
    visit_id = new_visit(client, cadre)
    returned = review(client, supervisor.headers, visit_id, "returned", COMMENT)
    form = whole_form(summary="已补充：诉求为宅基地边界确认")

    if how == "sync":
        write(client, cadre, "visit.upsert", form, record_id=visit_id, base_version=returned["version"])
    else:
        form.pop("area_code")  # the REST form leaves the area alone
        patched = client.patch(f"/api/visits/{visit_id}", json=form,
                               headers={**cadre.headers, "If-Match": etag(client, cadre.headers, "visits", visit_id)})
        assert patched.status_code == 200, patched.get_data(as_text=True)

    event = last_update(client, tree, visit_id)
    assert event["before"] == {"summary": visit_fields()["summary"], "review_status": "returned"}
    assert event["after"] == {"summary": "已补充：诉求为宅基地边界确认", "review_status": "pending"}


def test_sending_the_form_back_unchanged_changes_nothing_and_keeps_the_ruling(client, db, tree, cadre,  # noqa: F811
                                                                               supervisor):  # noqa: F811
    visit_id = new_visit(client, cadre)
    returned = review(client, supervisor.headers, visit_id, "returned", COMMENT)

    result = write(client, cadre, "visit.upsert", whole_form(), record_id=visit_id, base_version=returned["version"])

    assert result["version"] == returned["version"]
    visit = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    assert (visit["review_status"], visit["version"]) == ("returned", returned["version"])
