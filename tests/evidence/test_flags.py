"""Verification flags (DESIGN §5.5), as a supervisor reads them on GET /api/photos/<id>.

Photos are attached by sync and uploaded by tus; generated JPEGs carry the EXIF position,
time and software each case needs. Distances are checked against geopy's geodesic, computed
here from the positions the test wrote.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from geopy.distance import geodesic

from tests.evidence.conftest import (
    attach,
    fixture_photo,
    generated_jpeg,
    gps_exif,
    new_household,
    new_visit,
    photo,
    upload,
)
from tests.sync.conftest import Device, cadre, device, push  # noqa: F401

HOME = (30.274100, 120.155100)      # the household's position
VISITED_AT = "2026-11-20T09:30:00+08:00"  # visit_fields' visited_at


def away(point: tuple[float, float], metres: float, bearing: float = 0) -> tuple[float, float]:
    """The point ``metres`` from ``point`` along ``bearing`` (degrees from north), on WGS-84."""
    reached = geodesic(meters=metres).destination(point, bearing)
    return (reached.latitude, reached.longitude)


def stored(client, owner: Device, visit_id: str, data: bytes, **fields: Any) -> dict[str, Any]:
    """Attach ``data`` to the visit and upload it; the photo as the API shows it once stored."""
    photo_id = str(uuid.uuid4())
    result = attach(client, owner, visit_id, data, photo_id=photo_id, **fields)
    assert result["status"] == "applied", result
    if photo(client, owner.headers, photo_id)["status"] != "stored":
        upload(client, owner.headers, photo_id, data)
    return current(client, owner, photo_id)


def current(client, reader: Device, photo_id: str) -> dict[str, Any]:
    found = photo(client, reader.headers, photo_id)
    assert found["status"] == "stored", found
    assert found["flag_count"] == len(found["flags"]), found
    return found


def at(position: tuple[float, float], seed: int = 1, **exif: Any) -> bytes:
    """A phone JPEG whose EXIF puts it at ``position``."""
    return generated_jpeg(seed=seed, exif=gps_exif(*position, **exif))


def household_visit(client, owner: Device, position: tuple[float, float] = HOME) -> tuple[str, str]:
    household_id = new_household(client, owner, lat=position[0], lon=position[1])
    return household_id, new_visit(client, owner, household_id=household_id)


def upsert(client, owner: Device, type_: str, record_id: str, fields: dict[str, Any], base_version: int) -> None:
    result = push(client, owner.headers, owner.client_id, [owner.mutation(type_, record_id, fields, base_version)])
    assert result["results"][-1]["status"] == "applied", result


# --- position ----------------------------------------------------------------------

def test_photo_taken_2_km_from_its_household_is_far_from_target(client, cadre):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)
    taken = away(HOME, 2000, bearing=45)

    found = stored(client, cadre, visit_id, at(taken))

    assert set(found["flags"]) == {"far_from_target"}
    flag = found["flags"]["far_from_target"]
    expected = geodesic((found["exif_lat"], found["exif_lon"]), HOME).meters
    assert flag["exif_distance_m"] == pytest.approx(expected, abs=1)
    assert flag["exif_distance_m"] == pytest.approx(2000, abs=5)
    assert flag["limit_m"] == 300
    assert flag["target"] == "household"


def test_device_fix_2_km_from_the_household_is_far_from_target(client, cadre):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)
    fix = away(HOME, 2000, bearing=180)

    found = stored(client, cadre, visit_id, generated_jpeg(seed=2), lat=fix[0], lon=fix[1], accuracy_m=10)

    flag = found["flags"]["far_from_target"]
    assert flag["device_distance_m"] == pytest.approx(geodesic(fix, HOME).meters, abs=1)
    assert flag["device_distance_m"] == pytest.approx(2000, abs=5)


def test_photo_taken_50_m_from_its_household_is_not_flagged(client, cadre):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)

    found = stored(client, cadre, visit_id, at(away(HOME, 50)))

    assert found["flags"] == {}
    assert found["flag_count"] == 0


def test_exif_position_1_km_from_the_device_fix_is_flagged(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)
    fix = away(HOME, 1000, bearing=90)

    found = stored(client, cadre, visit_id, at(HOME), lat=fix[0], lon=fix[1], accuracy_m=15)

    assert set(found["flags"]) == {"exif_far_from_device"}
    flag = found["flags"]["exif_far_from_device"]
    assert flag["distance_m"] == pytest.approx(geodesic((found["exif_lat"], found["exif_lon"]), fix).meters, abs=1)
    assert flag["distance_m"] == pytest.approx(1000, abs=5)
    assert flag["limit_m"] == 200


def test_a_poor_device_fix_widens_the_exif_limit_to_twice_its_accuracy(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)
    fix = away(HOME, 1000, bearing=90)

    found = stored(client, cadre, visit_id, at(HOME), lat=fix[0], lon=fix[1], accuracy_m=800)

    assert "exif_far_from_device" not in found["flags"]
    assert found["flags"] == {}


# --- time --------------------------------------------------------------------------

@pytest.mark.parametrize(("taken", "offset"), [
    ("2026:11:20 12:30:00", None),        # no offset: read in the county's zone (Asia/Shanghai)
    ("2026:11:20 09:30:00", "+05:00"),    # the visit's wall time, but at +05:00: 12:30 in Shanghai
], ids=["without_offset", "with_offset"])
def test_exif_time_3_hours_from_the_visit_is_time_mismatch(client, cadre, taken, offset):  # noqa: F811
    visit_id = new_visit(client, cadre)

    found = stored(client, cadre, visit_id, at(HOME, taken=taken, offset=offset))

    assert set(found["flags"]) == {"time_mismatch"}
    flag = found["flags"]["time_mismatch"]
    assert abs(flag["gap_minutes"]) == 180
    assert flag["limit_minutes"] == 120


def test_photo_2_days_before_the_visit_is_older_than_record(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)

    found = stored(client, cadre, visit_id, at(HOME, taken="2026:11:18 09:30:00"))

    assert set(found["flags"]) == {"time_mismatch", "older_than_record"}
    assert found["flags"]["older_than_record"]["gap_minutes"] == 2 * 24 * 60
    assert found["flags"]["older_than_record"]["limit_minutes"] == 24 * 60
    assert abs(found["flags"]["time_mismatch"]["gap_minutes"]) == 2 * 24 * 60


def test_photo_30_minutes_from_the_visit_is_not_flagged(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)

    found = stored(client, cadre, visit_id, at(HOME, taken="2026:11:20 10:00:00"))

    assert found["exif_taken_at"] == "2026-11-20T10:00:00"
    assert found["flags"] == {}


# --- reuse and near duplicates -----------------------------------------------------

def test_same_bytes_on_a_second_visit_are_reused_naming_the_first(client, cadre):  # noqa: F811
    data = at(HOME, seed=3)
    first_visit, second_visit = new_visit(client, cadre), new_visit(client, cadre)

    first = stored(client, cadre, first_visit, data)
    second = stored(client, cadre, second_visit, data)

    assert "reused" in second["flags"]
    assert second["flags"]["reused"]["also_on"] == [
        {"photo_id": first["id"], "record_type": "visit", "record_id": first_visit}]
    assert "reused" not in current(client, cadre, first["id"])["flags"]


LANDSCAPES = ("landscape_3.jpg", "landscape_6.jpg", "landscape_8.jpg")


@pytest.mark.fixtures
def test_landscape_photos_on_three_visits_flag_each_other_as_near_duplicates(client, cadre, app):  # noqa: F811
    photos = [stored(client, cadre, new_visit(client, cadre), fixture_photo(name)) for name in LANDSCAPES]

    for found in photos:
        flag = current(client, cadre, found["id"])["flags"]["near_duplicate"]
        others = {item["photo_id"]: item for item in flag["photos"]}
        assert set(others) == {other["id"] for other in photos if other is not found}
        for other in photos:
            if other is not found:
                assert others[other["id"]]["record_id"] == other["record_id"]
                assert 0 <= others[other["id"]]["distance_bits"] <= app.config["FLAG_NEAR_DUPLICATE_BITS"]


@pytest.mark.fixtures
def test_near_duplicates_are_not_flagged_across_counties(client, cadre, tree):  # noqa: F811
    other_county = device("cadre-bv", tree.BV, "cadre")
    here = stored(client, cadre, new_visit(client, cadre), fixture_photo(LANDSCAPES[0]))
    there = [stored(client, other_county, new_visit(client, other_county, area_code=tree.BV), fixture_photo(name))
             for name in LANDSCAPES[1:]]

    assert "near_duplicate" not in current(client, cadre, here["id"])["flags"]
    for found, other in (there, there[::-1]):
        flag = current(client, other_county, found["id"])["flags"]["near_duplicate"]
        assert [item["photo_id"] for item in flag["photos"]] == [other["id"]]


@pytest.mark.fixtures
def test_deleting_a_visit_takes_its_photo_out_of_the_others_near_duplicates(client, cadre):  # noqa: F811
    visits = [new_visit(client, cadre) for _ in LANDSCAPES]
    photos = [stored(client, cadre, visit_id, fixture_photo(name)) for visit_id, name in zip(visits, LANDSCAPES,
                                                                                             strict=True)]

    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.delete", visits[0])])
    assert result["results"][-1]["status"] == "applied", result

    left, right = photos[1:]
    for found, other in ((left, right), (right, left)):
        flag = current(client, cadre, found["id"])["flags"]["near_duplicate"]
        assert [item["photo_id"] for item in flag["photos"]] == [other["id"]]


@pytest.mark.fixtures
def test_two_near_identical_photos_of_one_visit_are_not_near_duplicates(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)

    photos = [stored(client, cadre, visit_id, fixture_photo(name)) for name in LANDSCAPES[:2]]

    for found in photos:
        assert "near_duplicate" not in current(client, cadre, found["id"])["flags"]


# --- the file itself ---------------------------------------------------------------

@pytest.mark.fixtures
def test_photo_saved_by_gimp_is_edited(client, cadre):  # noqa: F811
    found = stored(client, cadre, new_visit(client, cadre), fixture_photo("Kodak_CX7530.jpg"))

    assert found["flags"]["edited"] == {"software": "GIMP 2.4.5"}


@pytest.mark.fixtures
def test_phone_photo_is_not_edited(client, cadre):  # noqa: F811
    found = stored(client, cadre, new_visit(client, cadre), fixture_photo("iphone_hdr_NO.jpg"))

    assert found["software"] == "8.3"
    assert "edited" not in found["flags"]


@pytest.mark.fixtures
def test_photo_without_exif_is_no_exif_gps(client, cadre):  # noqa: F811
    found = stored(client, cadre, new_visit(client, cadre), fixture_photo("olympus-d320l.jpg"))

    assert found["exif_lat"] is None
    assert "no_exif_gps" in found["flags"]


def test_flag_count_is_the_number_of_flags(client, cadre):  # noqa: F811
    _household, visit_id = household_visit(client, cadre)
    fix = away(HOME, 3000)
    data = at(away(HOME, 1500, bearing=180), taken="2026:11:17 09:30:00", software="Adobe Photoshop CC")

    found = stored(client, cadre, visit_id, data, lat=fix[0], lon=fix[1], accuracy_m=20)

    assert set(found["flags"]) == {"exif_far_from_device", "far_from_target", "time_mismatch", "older_than_record",
                                   "edited"}
    assert found["flag_count"] == 5


# --- flags follow the record -------------------------------------------------------

def test_moving_the_household_away_flags_its_visit_photo_and_moving_it_back_clears_it(client, cadre):  # noqa: F811
    household_id, visit_id = household_visit(client, cadre)
    found = stored(client, cadre, visit_id, at(away(HOME, 50)))
    assert found["flags"] == {}
    elsewhere = away(HOME, 5000, bearing=270)

    upsert(client, cadre, "household.upsert", household_id, {"lat": elsewhere[0], "lon": elsewhere[1]}, 1)
    moved = current(client, cadre, found["id"])
    assert set(moved["flags"]) == {"far_from_target"}
    assert moved["flags"]["far_from_target"]["exif_distance_m"] == pytest.approx(
        geodesic((found["exif_lat"], found["exif_lon"]), elsewhere).meters, abs=1)
    assert moved["version"] > found["version"]

    upsert(client, cadre, "household.upsert", household_id, {"lat": HOME[0], "lon": HOME[1]}, 2)
    back = current(client, cadre, found["id"])
    assert back["flags"] == {}
    assert back["flag_count"] == 0


def test_changing_visited_at_changes_the_time_flags(client, cadre):  # noqa: F811
    visit_id = new_visit(client, cadre)
    found = stored(client, cadre, visit_id, at(HOME, taken="2026:11:20 09:40:00"))
    assert found["flags"] == {}

    upsert(client, cadre, "visit.upsert", visit_id, {"visited_at": "2026-11-23T09:40:00+08:00"}, 1)
    later = current(client, cadre, found["id"])
    assert set(later["flags"]) == {"time_mismatch", "older_than_record"}
    assert later["flags"]["older_than_record"]["gap_minutes"] == 3 * 24 * 60

    upsert(client, cadre, "visit.upsert", visit_id, {"visited_at": VISITED_AT}, 2)
    assert current(client, cadre, found["id"])["flags"] == {}


def test_deleting_the_first_visit_of_a_reused_pair_clears_reused_on_the_second(client, cadre):  # noqa: F811
    data = at(HOME, seed=4)
    first_visit, second_visit = new_visit(client, cadre), new_visit(client, cadre)
    first = stored(client, cadre, first_visit, data)
    second = stored(client, cadre, second_visit, data)
    assert "reused" in second["flags"]

    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("visit.delete", first_visit)])
    assert result["results"][-1]["status"] == "applied", result

    assert client.get(f"/api/photos/{first['id']}", headers=cadre.headers).status_code == 404
    assert "reused" not in current(client, cadre, second["id"])["flags"]


def test_deleting_the_first_photo_of_a_reused_pair_clears_reused_on_the_second(client, cadre):  # noqa: F811
    data = at(HOME, seed=5)
    first = stored(client, cadre, new_visit(client, cadre), data)
    second = stored(client, cadre, new_visit(client, cadre), data)
    assert "reused" in second["flags"]

    result = push(client, cadre.headers, cadre.client_id, [cadre.mutation("photo.delete", first["id"])])
    assert result["results"][-1]["status"] == "applied", result

    assert "reused" not in current(client, cadre, second["id"])["flags"]


# --- what each viewer is shown ------------------------------------------------------

def stored_in(client, owner: Device, data: bytes, area_code: str) -> dict[str, Any]:
    return stored(client, owner, new_visit(client, owner, area_code=area_code), data)


def evidence_photo(client, reader: Device, visit_id: str) -> dict[str, Any]:
    response = client.get(f"/api/visits/{visit_id}/evidence", headers=reader.headers)
    assert response.status_code == 200, response.get_json()
    [shown] = response.get_json()["photos"]
    return shown["photo"]


def test_reuse_of_another_townships_photo_names_no_ids_to_the_cadre(client, cadre, tree):  # noqa: F811
    data = at(HOME, seed=6)
    outsider, supervisor = device("cadre-v2", tree.V2, "cadre"), device("supervisor-a", tree.A, "supervisor")
    first = stored_in(client, cadre, data, tree.V1)
    second = stored_in(client, outsider, data, tree.V2)

    assert current(client, outsider, second["id"])["flags"]["reused"] == {"also_on": [{"in_another_area": True}]}
    assert evidence_photo(client, outsider, second["record_id"])["flags"]["reused"] == {
        "also_on": [{"in_another_area": True}]}
    assert current(client, supervisor, second["id"])["flags"]["reused"] == {"also_on": [
        {"photo_id": first["id"], "record_type": "visit", "record_id": first["record_id"]}]}
    assert first["id"] not in str(current(client, outsider, second["id"]))


def test_near_duplicate_in_another_township_names_no_ids_to_the_cadre(client, cadre, tree):  # noqa: F811
    outsider, supervisor = device("cadre-v2", tree.V2, "cadre"), device("supervisor-a", tree.A, "supervisor")
    first = stored_in(client, cadre, generated_jpeg(seed=7), tree.V1)
    second = stored_in(client, outsider, generated_jpeg(seed=7, quality=60), tree.V2)

    for mine, theirs, owner in ((first, second, cadre), (second, first, outsider)):
        assert current(client, owner, mine["id"])["flags"]["near_duplicate"] == {"photos": [{"in_another_area": True}]}
        [named] = current(client, supervisor, mine["id"])["flags"]["near_duplicate"]["photos"]
        assert (named["photo_id"], named["record_id"], named["record_type"]) == \
               (theirs["id"], theirs["record_id"], "visit")
        assert named["distance_bits"] <= 8


def test_flags_stored_before_entries_kept_their_area_are_cut_the_same_way(client, db, cadre, tree):  # noqa: F811
    from backend.evidence.models import Photo

    data = at(HOME, seed=8)
    outsider, supervisor = device("cadre-v2", tree.V2, "cadre"), device("supervisor-a", tree.A, "supervisor")
    first = stored_in(client, cadre, data, tree.V1)
    second = stored_in(client, outsider, data, tree.V2)
    row = db.session.get(Photo, uuid.UUID(second["id"]))
    row.flags = {"reused": {"also_on": [{key: value for key, value in entry.items() if key != "area_code"}
                                        for entry in row.flags["reused"]["also_on"]]}}
    db.session.commit()

    assert current(client, outsider, second["id"])["flags"]["reused"] == {"also_on": [{"in_another_area": True}]}
    assert current(client, supervisor, second["id"])["flags"]["reused"] == {"also_on": [
        {"photo_id": first["id"], "record_type": "visit", "record_id": first["record_id"]}]}


CAPTURE = ("exif_lat", "exif_lon", "make", "model", "software")


def test_capture_details_go_to_reviewers_and_the_author_only(client, cadre, tree):  # noqa: F811
    data = at(HOME, seed=9, taken="2026:11:20 09:40:00", software="Snapseed 2.0")
    found = stored(client, cadre, new_visit(client, cadre), data)
    neighbour = device("cadre-v1-b", tree.V1, "cadre")
    supervisor = device("supervisor-a", tree.A, "supervisor")

    seen = current(client, neighbour, found["id"])
    assert {name: seen[name] for name in CAPTURE} == dict.fromkeys(CAPTURE)
    assert seen["exif_alt_m"] is None
    assert seen["flags"]["edited"] == {}
    assert seen["exif_taken_at"] == "2026-11-20T09:40:00"
    listed = client.get("/api/photos", headers=neighbour.headers,
                        query_string={"record_id": found["record_id"]}).get_json()["items"]
    assert [item["make"] for item in listed] == [None]
    for entitled in (cadre, supervisor):
        full = current(client, entitled, found["id"])
        assert (full["make"], full["model"], full["software"]) == ("Xiaomi", "Redmi Note 12", "Snapseed 2.0")
        assert full["exif_lat"] == pytest.approx(HOME[0], abs=1e-6)
        assert full["flags"]["edited"] == {"software": "Snapseed 2.0"}


def test_a_pull_shows_another_cadres_photo_without_its_capture_details(client, cadre, tree):  # noqa: F811
    from tests.sync.conftest import pull_all

    found = stored(client, cadre, new_visit(client, cadre), at(HOME, seed=10))
    neighbour = device("cadre-v1-b", tree.V1, "cadre")

    pulled = pull_all(client, neighbour.headers, neighbour.client_id).upserted("photos")[found["id"]]
    mine = pull_all(client, cadre.headers, cadre.client_id).upserted("photos")[found["id"]]

    assert {name: pulled[name] for name in CAPTURE} == dict.fromkeys(CAPTURE)
    assert mine["make"] == "Xiaomi"
