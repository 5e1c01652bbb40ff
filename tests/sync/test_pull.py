"""Pull: scope, records that move away, pagination, re-pulled pages, pruned cursors, client clocks."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from backend.areas import service as areas_service
from backend.changes.models import Change
from backend.models_base import utcnow
from backend.sync import service as sync_service
from tests.sync.conftest import (
    Device,
    device,
    household_fields,
    new_id,
    pull,
    pull_all,
    push,
    visit_fields,
)
from tests.test_app import assert_error


def create_visits(client, cadre: Device, count: int, **fields) -> list[str]:
    """``count`` new visits by ``cadre``, pushed 100 at a time."""
    ids = [new_id() for _ in range(count)]
    for start in range(0, count, 100):
        batch = [cadre.mutation("visit.upsert", record_id, visit_fields(area_code=cadre.user.area_code, **fields))
                 for record_id in ids[start:start + 100]]
        answered = push(client, cadre.headers, cadre.client_id, batch)
        assert {r["status"] for r in answered["results"]} == {"applied"}
    return ids


def test_a_cadres_pull_never_contains_records_outside_their_area(client, db, tree, cadre, supervisor):
    in_v1 = create_visits(client, cadre, 2)
    in_grid = create_visits(client, device("cadre-g1", tree.G1, "cadre"), 1)
    in_v2 = create_visits(client, device("cadre-v2", tree.V2, "cadre"), 2)
    in_bv = create_visits(client, device("cadre-bv", tree.BV, "cadre"), 2)
    household_in_v2 = new_id()
    county_cadre = device("cadre-a", tree.A, "cadre")
    push(client, county_cadre.headers, county_cadre.client_id, [
        county_cadre.mutation("household.upsert", household_in_v2, household_fields(area_code=tree.V2))])

    mine = pull_all(client, cadre.headers, cadre.client_id)

    assert set(mine.upserted("visits")) == set(in_v1 + in_grid)
    assert {record["area_code"] for record in mine.upserted("visits").values()} == {tree.V1, tree.G1}
    assert mine.upserted("households") == {}
    assert all(not page["changes"][plural]["deleted"] for page in mine.pages for plural in page["changes"])
    county = pull_all(client, supervisor.headers, supervisor.client_id)
    assert set(county.upserted("visits")) == set(in_v1 + in_grid + in_v2)
    assert set(county.upserted("households")) == {household_in_v2}
    assert not set(in_bv) & set(county.upserted("visits"))


def test_a_household_moved_out_of_a_cadres_area_reaches_their_next_pull_as_a_delete(client, db, tree, cadre):
    v3 = "990101001002"  # a second village of township T1
    areas_service.create_area(actor=None, code=v3, name="三村", level="village", parent_code=tree.T1)
    db.session.commit()
    township, county = device("cadre-t1", tree.T1, "cadre"), device("supervisor-a2", tree.A, "supervisor")
    v3_cadre = device("cadre-v3", v3, "cadre")
    record_id = new_id()
    push(client, cadre.headers, cadre.client_id, [cadre.mutation("household.upsert", record_id, household_fields())])
    cursors = {who.client_id: pull_all(client, who.headers, who.client_id).cursor
               for who in (cadre, township, county, v3_cadre)}

    moved = client.patch(f"/api/households/{record_id}", headers={**township.headers, "If-Match": '"1"'},
                         json={"area_code": v3, "address": "三村1组1号"})
    assert moved.status_code == 200, moved.get_json()

    old_area = pull_all(client, cadre.headers, cadre.client_id, cursors[cadre.client_id])
    assert old_area.deleted("households") == {record_id}
    assert old_area.upserted("households") == {}
    for keeper in (township, county, v3_cadre):
        pulled = pull_all(client, keeper.headers, keeper.client_id, cursors[keeper.client_id])
        assert pulled.deleted("households") == set()
        assert pulled.upserted("households")[record_id]["area_code"] == v3
    assert_error(client.get(f"/api/households/{record_id}", headers=cadre.headers), 404)

    # Later edits in its new village no longer reach the old one at all.
    push(client, township.headers, township.client_id, [
        township.mutation("household.upsert", record_id, {"phone": "13900000000"}, base_version=2)])
    later = pull_all(client, cadre.headers, cadre.client_id, old_area.cursor)
    assert later.deleted("households") == set() and later.upserted("households") == {}


def test_pull_pages_over_1200_changes_return_each_exactly_once(client, db, cadre):
    start = pull_all(client, cadre.headers, cadre.client_id).cursor
    created = create_visits(client, cadre, 1200)

    pulled = pull_all(client, cadre.headers, cadre.client_id, start, limit=500)

    sizes = [len(page["changes"]["visits"]["upserted"]) for page in pulled.pages]
    assert sizes == [500, 500, 200]
    assert [page["has_more"] for page in pulled.pages] == [True, True, False]
    assert [page["reset"] for page in pulled.pages] == [False, False, False]
    ids = [record["id"] for page in pulled.pages for record in page["changes"]["visits"]["upserted"]]
    assert len(ids) == len(set(ids)) == 1200
    assert set(ids) == set(created)
    assert [page["last_mutation_id"] for page in pulled.pages] == [1200] * 3
    # A page applied but its cursor not saved: pulled again, it is the same page.
    assert pull(client, cadre.headers, cadre.client_id, pulled.pages[0]["cursor"], limit=500) == pulled.pages[1]
    # Nothing new: the saved cursor answers an empty last page.
    after = pull(client, cadre.headers, cadre.client_id, pulled.cursor)
    assert (after["has_more"], after["changes"]["visits"], after["cursor"]) == \
           (False, {"upserted": [], "deleted": []}, pulled.cursor)


def test_pulling_a_page_again_from_the_same_cursor_returns_the_same_page(client, db, cadre):
    start = pull_all(client, cadre.headers, cadre.client_id).cursor
    create_visits(client, cadre, 7)

    # The phone died before saving the cursor of the page: it asks again.
    first = pull(client, cadre.headers, cadre.client_id, start, limit=5)
    again = pull(client, cadre.headers, cadre.client_id, start, limit=5)

    assert again == first
    rest = pull(client, cadre.headers, cadre.client_id, first["cursor"], limit=5)
    assert len(rest["changes"]["visits"]["upserted"]) == 2 and not rest["has_more"]
    assert not {r["id"] for r in rest["changes"]["visits"]["upserted"]} & \
        {r["id"] for r in first["changes"]["visits"]["upserted"]}


def prune_everything_prunable(db) -> int:
    """Make every change old, then prune what the retention window allows."""
    db.session.execute(update(Change).values(at=utcnow() - timedelta(days=60)))
    dropped = sync_service.prune(older_than=utcnow() - timedelta(days=30))
    db.session.commit()
    return dropped


def test_a_pruned_cursor_gets_reset_and_a_fresh_one_does_not(client, db, cadre):
    kept, edited, removed = create_visits(client, cadre, 3)
    old_cursor = pull_all(client, cadre.headers, cadre.client_id).cursor
    push(client, cadre.headers, cadre.client_id, [
        cadre.mutation("visit.upsert", edited, {"summary": "已回访"}, base_version=1),
        cadre.mutation("visit.delete", removed)])
    assert prune_everything_prunable(db) == 3  # edited's create; removed's create and delete

    stale = pull_all(client, cadre.headers, cadre.client_id, old_cursor)

    assert stale.pages[0]["reset"] is True
    assert set(stale.upserted("visits")) == {kept, edited}
    assert stale.upserted("visits")[edited]["summary"] == "已回访"
    assert [page["reset"] for page in stale.pages[1:]] == [False] * (len(stale.pages) - 1)
    fresh = pull_all(client, cadre.headers, cadre.client_id)
    assert [page["reset"] for page in fresh.pages] == [False] * len(fresh.pages)
    # The cursors both pulls end with are fresh: the next pull does not reset.
    for cursor in (stale.cursor, fresh.cursor):
        next_page = pull(client, cadre.headers, cadre.client_id, cursor)
        assert (next_page["reset"], next_page["changes"]["visits"]) == (False, {"upserted": [], "deleted": []})


def test_after_pruning_a_pull_in_small_pages_finishes_without_resetting_again(client, db, cadre):
    ids = create_visits(client, cadre, 6)
    old_cursor = pull_all(client, cadre.headers, cadre.client_id).cursor
    push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.upsert", ids[0], {"summary": "改"},
                                                                 base_version=1),
                                                  cadre.mutation("visit.delete", ids[1])])
    prune_everything_prunable(db)

    for cursor in (None, old_cursor):
        pulled = pull_all(client, cadre.headers, cadre.client_id, cursor, limit=1)
        assert [page["reset"] for page in pulled.pages][1:] == [False] * (len(pulled.pages) - 1)
        assert set(pulled.upserted("visits")) == set(ids) - {ids[1]}
        assert len(pulled.pages) == 5


def test_a_wrong_client_clock_never_affects_cursors(client, db, cadre):
    start = pull_all(client, cadre.headers, cadre.client_id).cursor
    [future] = create_visits(client, cadre, 1, visited_at="2099-01-01T08:00:00+08:00")

    first = pull_all(client, cadre.headers, cadre.client_id, start)
    assert set(first.upserted("visits")) == {future}

    # A phone whose clock is 25 years slow pushes after the one whose clock ran ahead.
    [past] = create_visits(client, cadre, 1, visited_at="2001-01-01T08:00:00+08:00")
    [today] = create_visits(client, cadre, 1)

    second = pull_all(client, cadre.headers, cadre.client_id, first.cursor)
    assert set(second.upserted("visits")) == {past, today}
    assert second.upserted("visits")[past]["visited_at"].startswith("2001-01-01")
    everything = pull_all(client, cadre.headers, cadre.client_id, start)
    assert set(everything.upserted("visits")) == {future, past, today}
    # Visits are listed by their own time, which the cursor never used.
    listed = client.get("/api/visits", headers=cadre.headers,
                        query_string={"until": "2002-01-01T00:00:00+00:00"}).get_json()["items"]
    assert [visit["id"] for visit in listed] == [past]


def test_a_user_posted_to_another_area_rebuilds_their_mirror(client, db, tree):
    from backend.accounts import service as accounts_service
    from tests.factories import bearer, make_user, token_for

    v1_cadre = make_user("v1-cadre", tree.V1, "cadre")
    v2_cadre = make_user("v2-cadre", tree.V2, "cadre")
    admin = make_user("county-admin", tree.A, "admin")
    phone, v1_headers, v2_headers = str(uuid.uuid4()), bearer(token_for(v1_cadre)), bearer(token_for(v2_cadre))
    in_v1, in_v2 = str(uuid.uuid4()), str(uuid.uuid4())
    for headers, client_id, record_id, area in ((v2_headers, str(uuid.uuid4()), in_v2, tree.V2),
                                               (v1_headers, phone, in_v1, tree.V1)):
        client.post("/api/sync/push", headers=headers, json={"client_id": client_id, "mutations": [
            {"id": 1, "type": "household.upsert", "record_id": record_id, "base_version": None,
             "fields": {"area_code": area, "address": "一组1号", "head_name": "张三"}}]})
    page = client.get("/api/sync/pull", headers=v1_headers, query_string={"client_id": phone}).get_json()
    assert [h["id"] for h in page["changes"]["households"]["upserted"]] == [in_v1]

    accounts_service.update_user(actor=admin, user_id=v1_cadre.id, changes={"area_code": tree.V2})
    db.session.commit()

    moved = client.get("/api/sync/pull", headers=v1_headers,
                       query_string={"client_id": phone, "cursor": page["cursor"]}).get_json()
    assert moved["reset"] is True  # the phone drops its mirror of V1 ...
    assert [h["id"] for h in moved["changes"]["households"]["upserted"]] == [in_v2]  # ... and gets V2's
    again = client.get("/api/sync/pull", headers=v1_headers,
                       query_string={"client_id": phone, "cursor": moved["cursor"]}).get_json()
    assert again["reset"] is False
