"""GET /api/review/queue: what awaits a supervisor's review, in their area, most-flagged first.

Records come in by sync push; photos by photo.attach and tus, and their flags from the real
pipeline: a photo whose EXIF position is 2 km from its household is far_from_target, one whose
device fix is also 2 km from its EXIF position is exif_far_from_device as well, one without GPS
is no_exif_gps, one taken at the household has no flag.
"""

from __future__ import annotations

from tests.evidence.conftest import inspector  # noqa: F401
from tests.review.helpers import (
    HOME,
    add_photo,
    away,
    household_visit,
    new_inspection,
    new_visit,
    queue,
    queue_ids,
    review,
)
from tests.sync.conftest import cadre, device, push, supervisor  # noqa: F401

FAR = away(HOME, 2000, bearing=45)


def test_cadres_and_inspectors_may_not_open_the_queue(client, cadre, inspector):  # noqa: F811
    for worker in (cadre, inspector):
        answer = queue(client, worker.headers, status=403)
        assert answer["reason"] == "forbidden"


def test_a_township_supervisor_sees_only_their_township_and_another_county_is_invisible(client, tree, cadre,  # noqa: F811
                                                                                        supervisor):  # noqa: F811
    cadre_v2 = device("cadre-v2", tree.V2, "cadre")
    cadre_b = device("cadre-b", tree.BV, "cadre")
    in_t1 = new_visit(client, cadre)
    in_t2 = new_visit(client, cadre_v2, area_code=tree.V2)
    in_b = new_visit(client, cadre_b, area_code=tree.BV)
    township = device("supervisor-t1", tree.T1, "supervisor")
    county_b = device("supervisor-b", tree.B, "supervisor")

    assert queue_ids(client, township.headers) == [in_t1]
    assert set(queue_ids(client, supervisor.headers)) == {in_t1, in_t2}
    assert queue_ids(client, county_b.headers) == [in_b]
    # Asking for an area outside one's own is asking for something that does not exist.
    assert queue(client, township.headers, status=404, area=tree.T2)["reason"] == "not_found"
    assert queue(client, supervisor.headers, status=404, area=tree.B)["reason"] == "not_found"
    assert queue_ids(client, township.headers, author=cadre_v2.user.id) == []


def test_an_item_shows_the_record_its_author_its_time_and_its_photos(client, db, tree, cadre,  # noqa: F811
                                                                      supervisor):  # noqa: F811
    visit_id = household_visit(client, cadre, visited_at="2026-11-20T09:30:00+08:00")
    add_photo(client, cadre, visit_id, taken_at=HOME, seed=1)
    add_photo(client, cadre, visit_id, taken_at=FAR, seed=2)
    add_photo(client, cadre, visit_id, taken_at=None, seed=3, send_bytes=False)  # bytes still on the phone

    cadre.user.display_name = "一村 张网格员"
    db.session.commit()

    [item] = queue(client, supervisor.headers)["items"]

    assert item == {"record_type": "visit", "id": visit_id, "area_code": tree.V1, "area_name": "一村",
                    "author_id": cadre.user.id, "author_name": "一村 张网格员",
                    "record_time": "2026-11-20T01:30:00+00:00", "version": 1, "photo_count": 3,
                    "photos_stored": 2, "flag_count": 1, "flags": ["far_from_target"]}


def test_most_flagged_first_then_oldest_first(client, cadre, inspector, supervisor):  # noqa: F811
    quiet_late = new_visit(client, cadre, visited_at="2026-11-22T09:00:00+08:00")
    quiet_early = new_visit(client, cadre, visited_at="2026-11-19T09:00:00+08:00")
    one_flag = household_visit(client, cadre, visited_at="2026-11-21T09:00:00+08:00")
    add_photo(client, cadre, one_flag, taken_at=FAR, seed=4)
    add_photo(client, cadre, one_flag, taken_at=HOME, seed=5)
    three_flags = household_visit(client, cadre, visited_at="2026-11-23T09:00:00+08:00")
    double = add_photo(client, cadre, three_flags, taken_at=FAR, device_fix=HOME, seed=6)
    add_photo(client, cadre, three_flags, taken_at=None, seed=7)
    assert set(double["flags"]) == {"far_from_target", "exif_far_from_device"}
    inspection = new_inspection(client, inspector, inspected_at="2026-11-20T10:00:00+08:00")

    items = queue(client, supervisor.headers)["items"]

    assert [(item["id"], item["flag_count"]) for item in items] == [
        (three_flags, 3), (one_flag, 1), (quiet_early, 0), (inspection, 0), (quiet_late, 0)]
    assert items[0]["flags"] == ["exif_far_from_device", "far_from_target", "no_exif_gps"]
    assert items[3]["record_type"] == "inspection"


def test_pages_follow_the_order_and_approving_page_one_skips_nothing(client, cadre, supervisor):  # noqa: F811
    visits = [new_visit(client, cadre, visited_at=f"2026-11-{day:02d}T09:00:00+08:00") for day in range(10, 17)]
    flagged = household_visit(client, cadre, visited_at="2026-11-30T09:00:00+08:00")
    add_photo(client, cadre, flagged, taken_at=FAR, seed=8)
    expected = [flagged, *visits]
    assert queue_ids(client, supervisor.headers, limit=3) == expected

    first = queue(client, supervisor.headers, limit=3)
    for item in first["items"]:
        review(client, supervisor.headers, item["id"], "approved")
    rest = queue_ids(client, supervisor.headers, limit=3, cursor=first["next_cursor"])

    assert rest == expected[3:]
    assert queue_ids(client, supervisor.headers) == expected[3:]


def test_a_cursor_the_server_never_gave_is_refused(client, supervisor):  # noqa: F811
    assert queue(client, supervisor.headers, status=422, cursor="bm90LWEtY3Vyc29y")["reason"] == "validation"


def test_filters_by_area_author_time_flag_and_record_type(client, tree, cadre, inspector, supervisor):  # noqa: F811
    other_cadre = device("cadre-v1-b", tree.V1, "cadre")
    cadre_v2 = device("cadre-v2", tree.V2, "cadre")
    early = new_visit(client, cadre, visited_at="2026-11-01T09:00:00+08:00")
    late = household_visit(client, cadre, visited_at="2026-11-25T09:00:00+08:00")
    add_photo(client, cadre, late, taken_at=FAR, seed=9)
    no_gps = household_visit(client, other_cadre, visited_at="2026-11-20T09:00:00+08:00")
    add_photo(client, other_cadre, no_gps, taken_at=None, seed=10)
    in_v2 = new_visit(client, cadre_v2, area_code=tree.V2, visited_at="2026-11-20T09:00:00+08:00")
    inspection = new_inspection(client, inspector, inspected_at="2026-11-20T10:00:00+08:00")
    headers = supervisor.headers

    assert set(queue_ids(client, headers, area=tree.T1)) == {early, late, no_gps, inspection}
    assert queue_ids(client, headers, area=tree.T2) == [in_v2]
    assert set(queue_ids(client, headers, author=cadre.user.id)) == {early, late}
    assert set(queue_ids(client, headers, since="2026-11-20T00:00:00+08:00",
                         until="2026-11-25T09:00:00+08:00")) == {no_gps, in_v2, inspection}
    assert queue_ids(client, headers, flag="far_from_target") == [late]
    assert queue_ids(client, headers, flag="no_exif_gps") == [no_gps]
    assert queue_ids(client, headers, flag="reused") == []
    assert queue_ids(client, headers, record_type="inspection") == [inspection]
    assert set(queue_ids(client, headers, record_type="visit")) == {early, late, no_gps, in_v2}
    assert set(queue(client, headers, status=422, record_type="hotspot")["errors"]["query"]) == {"record_type"}
    assert set(queue(client, headers, status=422, flag="far'); --")["errors"]["query"]) == {"flag"}


def test_only_pending_live_records_with_live_photos_count(client, cadre, supervisor):  # noqa: F811
    approved = new_visit(client, cadre)
    review(client, supervisor.headers, approved, "approved")
    returned = new_visit(client, cadre)
    review(client, supervisor.headers, returned, "returned", "照片不清楚")
    deleted = new_visit(client, cadre)
    push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.delete", deleted)])
    pending = household_visit(client, cadre)
    dropped = add_photo(client, cadre, pending, taken_at=FAR, seed=11)
    push(client, cadre.headers, cadre.client_id, [cadre.mutation("photo.delete", dropped["id"])])

    [item] = queue(client, supervisor.headers)["items"]

    assert (item["id"], item["photo_count"], item["flag_count"], item["flags"]) == (pending, 0, 0, [])
