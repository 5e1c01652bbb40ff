"""The map layers /api/geo/*, as the supervisors' map reads them.

Every response is checked by geojson-pydantic (RFC 7946 shape) and, since that validator
does not check ranges, for longitude/latitude order and range here. Records are written
through sync as the phones write them; positions are east of 90°E, so a swapped [lat, lon]
pair would show as a latitude out of range.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from geojson_pydantic import FeatureCollection

from backend.geo.schemas import (
    HotspotCollectionSchema,
    InspectionCollectionSchema,
    PhotoCollectionSchema,
    VisitCollectionSchema,
)
from tests.evidence.conftest import attach, generated_jpeg, gps_exif, upload
from tests.sync.conftest import (  # noqa: F401
    Device,
    cadre,
    device,
    hotspot_fields,
    household_fields,
    push,
    supervisor,
    visit_fields,
)

HOME = (29.4561, 119.8867)  # (lat, lon) in 甲县
LAYERS = ("visits", "inspections", "hotspots", "photos")
# The schemas the OpenAPI document shows: a response must load through them (no field missing, none extra).
DOCUMENTED = {"visits": VisitCollectionSchema, "inspections": InspectionCollectionSchema,
              "hotspots": HotspotCollectionSchema, "photos": PhotoCollectionSchema}


def layer(client, headers: dict[str, str], name: str, status: int = 200, **query: Any) -> dict[str, Any]:
    """GET /api/geo/<name>; the body, checked as RFC 7946 GeoJSON with [lon, lat] in range."""
    response = client.get(f"/api/geo/{name}", headers=headers, query_string=query)
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json(force=True)
    if status != 200:
        return body
    assert response.mimetype == "application/geo+json"
    collection = FeatureCollection.model_validate(body)
    for feature in collection.features:
        assert feature.geometry.type == "Point"
        lon, lat = feature.geometry.coordinates
        assert -180 <= lon <= 180 and -90 <= lat <= 90, feature
        assert isinstance(feature.id, str)
    assert isinstance(body["truncated"], bool) and isinstance(body["total"], int)
    DOCUMENTED[name]().load(body)
    return body


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["id"]: feature for feature in body["features"]}


def write(client, owner: Device, type_: str, fields: dict[str, Any]) -> str:
    """One record created by ``owner``'s phone; its id."""
    record_id = str(uuid.uuid4())
    result = push(client, owner.headers, owner.client_id, [owner.mutation(type_, record_id, fields)])["results"][-1]
    assert result["status"] == "applied", result
    return record_id


def visit_at(client, owner: Device, position: tuple[float, float] | None, **fields: Any) -> str:
    where = {"lat": position[0], "lon": position[1], "accuracy_m": 8} if position else {}
    return write(client, owner, "visit.upsert", visit_fields(**where, **fields))


def household_at(client, owner: Device, position: tuple[float, float], **fields: Any) -> str:
    return write(client, owner, "household.upsert", household_fields(lat=position[0], lon=position[1], **fields))


# --- shape and order ----------------------------------------------------------------

def test_visits_are_points_at_lon_lat_with_small_properties(client, cadre, supervisor):  # noqa: F811
    placed = visit_at(client, cadre, HOME)
    unplaced = visit_at(client, cadre, None)

    body = layer(client, supervisor.headers, "visits")

    features = by_id(body)
    assert set(features) == {placed}, "a visit without a position has no point"
    feature = features[placed]
    assert feature["geometry"] == {"type": "Point", "coordinates": [HOME[1], HOME[0]]}
    assert feature["properties"] == {"kind": "household", "review_status": "pending", "flag_count": 0,
                                     "time": "2026-11-20T01:30:00+00:00", "area_code": "990101001001"}
    assert body["truncated"] is False and body["total"] == 1
    assert unplaced not in features


def test_hotspots_and_inspections_layers(client, tree, supervisor):  # noqa: F811
    inspector = device("inspector-geo", tree.V1, "inspector")
    hotspot = write(client, inspector, "hotspot.upsert", hotspot_fields(lat=HOME[0], lon=HOME[1],
                                                                        deadline="2026-12-31"))
    at = (HOME[0] + 0.001, HOME[1] + 0.002)
    inspection = write(client, inspector, "inspection.upsert", {
        "hotspot_id": hotspot, "inspected_at": "2026-11-21T10:00:00+08:00", "result": "in_progress",
        "lat": at[0], "lon": at[1]})

    hotspots = by_id(layer(client, supervisor.headers, "hotspots"))
    inspections = by_id(layer(client, supervisor.headers, "inspections"))

    assert hotspots[hotspot]["geometry"]["coordinates"] == [HOME[1], HOME[0]]
    properties = hotspots[hotspot]["properties"]
    assert {key: properties[key] for key in ("name", "category", "status", "risk_level", "deadline", "flag_count")} \
        == {"name": "一村集贸市场", "category": "market", "status": "listed", "risk_level": "medium",
            "deadline": "2026-12-31", "flag_count": 0}
    assert inspections[inspection]["geometry"]["coordinates"] == [at[1], at[0]]
    assert inspections[inspection]["properties"] == {
        "result": "in_progress", "review_status": "pending", "hotspot_id": hotspot, "flag_count": 0,
        "time": "2026-11-21T02:00:00+00:00", "area_code": "990101001001"}


def test_photo_is_placed_at_its_exif_position_else_the_phones_fix(client, cadre, supervisor):  # noqa: F811
    visit = visit_at(client, cadre, HOME)
    taken = (HOME[0] + 0.01, HOME[1] + 0.01)
    fix = (HOME[0] - 0.01, HOME[1] - 0.01)
    with_exif, without_exif = str(uuid.uuid4()), str(uuid.uuid4())
    data = generated_jpeg(160, 120, seed=4, exif=gps_exif(*taken))
    assert attach(client, cadre, visit, data, photo_id=with_exif, lat=fix[0], lon=fix[1])["status"] == "applied"
    upload(client, cadre.headers, with_exif, data)
    plain = generated_jpeg(160, 120, seed=5)
    assert attach(client, cadre, visit, plain, photo_id=without_exif, lat=fix[0], lon=fix[1])["status"] == "applied"

    features = by_id(layer(client, supervisor.headers, "photos"))

    exif_point = features[with_exif]
    assert exif_point["geometry"]["coordinates"] == pytest.approx([taken[1], taken[0]], abs=1e-5)
    assert exif_point["properties"]["position"] == "exif"
    assert exif_point["properties"]["record_type"] == "visit" and exif_point["properties"]["record_id"] == visit
    assert exif_point["properties"]["status"] == "stored"
    device_point = features[without_exif]
    assert device_point["geometry"]["coordinates"] == [fix[1], fix[0]]
    assert device_point["properties"]["position"] == "device"
    assert device_point["properties"]["status"] == "awaiting_upload"
    assert device_point["properties"]["time"] == "2026-11-20T01:35:00+00:00"


def test_a_colleagues_photo_is_placed_at_the_phones_fix_not_its_exif_position(client, tree, cadre,  # noqa: F811
                                                                                supervisor):  # noqa: F811
    visit = visit_at(client, cadre, HOME)
    taken, fix = (HOME[0] + 0.01, HOME[1] + 0.01), (HOME[0] - 0.01, HOME[1] - 0.01)
    photo_id = str(uuid.uuid4())
    data = generated_jpeg(160, 120, seed=7, exif=gps_exif(*taken))
    attach(client, cadre, visit, data, photo_id=photo_id, lat=fix[0], lon=fix[1])
    upload(client, cadre.headers, photo_id, data)
    colleague = device("cadre-v1-colleague", tree.V1, "cadre")

    seen = {who: by_id(layer(client, headers, "photos"))[photo_id]
            for who, headers in (("colleague", colleague.headers), ("author", cadre.headers),
                                 ("supervisor", supervisor.headers))}

    assert seen["colleague"]["geometry"]["coordinates"] == [fix[1], fix[0]]
    assert seen["colleague"]["properties"]["position"] == "device"
    for who in ("author", "supervisor"):
        assert seen[who]["geometry"]["coordinates"] == pytest.approx([taken[1], taken[0]], abs=1e-5), who
        assert seen[who]["properties"]["position"] == "exif", who


# --- filters --------------------------------------------------------------------------

def test_bbox_keeps_the_points_inside_it(client, cadre, supervisor):  # noqa: F811
    lat, lon = HOME
    inside = visit_at(client, cadre, (lat, lon))
    on_edge = visit_at(client, cadre, (lat + 0.01, lon + 0.01))
    east = visit_at(client, cadre, (lat, lon + 0.02))     # inside the latitudes, outside the longitudes
    north = visit_at(client, cadre, (lat + 0.02, lon))    # inside the longitudes, outside the latitudes
    bbox = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"

    found = by_id(layer(client, supervisor.headers, "visits", bbox=bbox))

    assert set(found) == {inside, on_edge}
    everything = by_id(layer(client, supervisor.headers, "visits"))
    assert {east, north} <= set(everything)


def test_bbox_picks_photos_by_the_position_they_are_shown_at(client, cadre, supervisor):  # noqa: F811
    visit = visit_at(client, cadre, HOME)
    far = (HOME[0] + 0.05, HOME[1] + 0.05)
    photo_id = str(uuid.uuid4())
    data = generated_jpeg(160, 120, seed=6, exif=gps_exif(*far))
    attach(client, cadre, visit, data, photo_id=photo_id, lat=HOME[0], lon=HOME[1])
    upload(client, cadre.headers, photo_id, data)

    around_home = f"{HOME[1] - 0.01},{HOME[0] - 0.01},{HOME[1] + 0.01},{HOME[0] + 0.01}"
    around_far = f"{far[1] - 0.01},{far[0] - 0.01},{far[1] + 0.01},{far[0] + 0.01}"

    assert photo_id not in by_id(layer(client, supervisor.headers, "photos", bbox=around_home))
    assert photo_id in by_id(layer(client, supervisor.headers, "photos", bbox=around_far))


def test_area_time_and_review_status_filters(client, tree, cadre, supervisor):  # noqa: F811
    other_township = device("cadre-v2", tree.V2, "cadre")
    early = visit_at(client, cadre, HOME, visited_at="2026-11-01T09:00:00+08:00")
    late = visit_at(client, cadre, HOME, visited_at="2026-11-20T09:00:00+08:00")
    elsewhere = visit_at(client, other_township, HOME, area_code=tree.V2)
    reviewed = client.post(f"/api/visits/{late}/review", headers={**supervisor.headers, "If-Match": '"1"'},
                           json={"review_status": "approved"})
    assert reviewed.status_code == 200, reviewed.get_data(as_text=True)

    assert set(by_id(layer(client, supervisor.headers, "visits", area=tree.T1))) == {early, late}
    assert set(by_id(layer(client, supervisor.headers, "visits", area=tree.T2))) == {elsewhere}
    assert set(by_id(layer(client, supervisor.headers, "visits", since="2026-11-10T00:00:00+08:00",
                           until="2026-11-30T00:00:00+08:00"))) == {late, elsewhere}
    assert set(by_id(layer(client, supervisor.headers, "visits", until="2026-11-10T00:00:00+08:00"))) == {early}
    assert set(by_id(layer(client, supervisor.headers, "visits", review_status="approved"))) == {late}
    assert set(by_id(layer(client, supervisor.headers, "visits", review_status="pending"))) == {early, elsewhere}


def test_flag_filter_keeps_records_and_photos_carrying_that_flag(client, cadre, supervisor):  # noqa: F811
    household = household_at(client, cadre, HOME)
    doubtful = visit_at(client, cadre, HOME, household_id=household)
    sound = visit_at(client, cadre, HOME, household_id=household)
    # The phone's fix at capture 0.05° (about 5 km) north of the household: far_from_target.
    far_photo, near_photo = str(uuid.uuid4()), str(uuid.uuid4())
    assert attach(client, cadre, doubtful, generated_jpeg(64, 48, seed=7), photo_id=far_photo,
                  lat=HOME[0] + 0.05, lon=HOME[1])["status"] == "applied"
    assert attach(client, cadre, sound, generated_jpeg(64, 48, seed=8), photo_id=near_photo,
                  lat=HOME[0], lon=HOME[1])["status"] == "applied"

    visits = by_id(layer(client, supervisor.headers, "visits", flag="far_from_target"))
    photos = by_id(layer(client, supervisor.headers, "photos", flag="far_from_target"))

    assert set(visits) == {doubtful}
    assert visits[doubtful]["properties"]["flag_count"] == 1
    assert set(photos) == {far_photo}
    assert photos[far_photo]["properties"]["flags"] == ["far_from_target"]
    assert by_id(layer(client, supervisor.headers, "visits"))[sound]["properties"]["flag_count"] == 0
    assert layer(client, supervisor.headers, "visits", flag="reused")["features"] == []


def test_unknown_flag_and_bad_bbox_are_refused(client, supervisor):  # noqa: F811
    assert layer(client, supervisor.headers, "visits", 422, flag="made_up")["errors"]["query"]["flag"]
    assert layer(client, supervisor.headers, "visits", 422, bbox="120,30,119,29")["errors"]["query"]["bbox"]
    assert layer(client, supervisor.headers, "photos", 422, limit=5001)["errors"]["query"]["limit"]
    # A valid ISO 8601 time that is before year 1 in UTC: refused, not a server error.
    assert layer(client, supervisor.headers, "photos", 422, since="0001-01-01T00:00:00+01:00")["errors"]["query"]


# --- the 5,000 cap -----------------------------------------------------------------

def test_more_than_limit_is_truncated_with_the_total_and_newest_first(client, cadre, supervisor):  # noqa: F811
    ids = [visit_at(client, cadre, HOME, visited_at=f"2026-11-0{day}T09:00:00+08:00") for day in range(1, 6)]

    cut = layer(client, supervisor.headers, "visits", limit=2)
    whole = layer(client, supervisor.headers, "visits", limit=5)

    assert [feature["id"] for feature in cut["features"]] == [ids[4], ids[3]]
    assert cut["truncated"] is True and cut["total"] == 5
    assert len(whole["features"]) == 5
    assert whole["truncated"] is False and whole["total"] == 5


def test_truncation_total_counts_only_what_matches_the_filters(client, cadre, supervisor):  # noqa: F811
    for _ in range(3):
        visit_at(client, cadre, HOME)
    far_away = (HOME[0] + 1, HOME[1] + 1)
    for _ in range(2):
        visit_at(client, cadre, far_away)
    bbox = f"{HOME[1] - 0.1},{HOME[0] - 0.1},{HOME[1] + 0.1},{HOME[0] + 0.1}"

    cut = layer(client, supervisor.headers, "visits", bbox=bbox, limit=1)

    assert len(cut["features"]) == 1
    assert cut["truncated"] is True and cut["total"] == 3


# --- scope -------------------------------------------------------------------------

@pytest.mark.parametrize("name", LAYERS)
def test_another_countys_points_never_appear(client, tree, cadre, supervisor, name):  # noqa: F811
    theirs = device("cadre-bv", tree.BV, "cadre")
    their_inspector = device("inspector-bv", tree.BV, "inspector")
    our_inspector = device("inspector-v1", tree.V1, "inspector")
    their_supervisor = device("supervisor-b", tree.B, "supervisor")
    ours_ids = _one_of_each(client, cadre, our_inspector, tree.V1, seed=11)
    theirs_ids = _one_of_each(client, theirs, their_inspector, tree.BV, seed=12)

    mine = set(by_id(layer(client, supervisor.headers, name)))
    other = set(by_id(layer(client, their_supervisor.headers, name)))
    everywhere = "-180,-90,180,90"

    assert mine == ours_ids[name]
    assert other == theirs_ids[name]
    assert not set(by_id(layer(client, supervisor.headers, name, bbox=everywhere))) & theirs_ids[name]
    assert layer(client, supervisor.headers, name, 404, area=tree.BV)["reason"] == "not_found"
    assert set(by_id(layer(client, cadre.headers, name))) == ours_ids[name]


def _one_of_each(client, field_cadre: Device, inspector: Device, village: str, *, seed: int) -> dict[str, set[str]]:
    """A visit with a photo, a hotspot and an inspection, all placed, in ``village``."""
    visit = visit_at(client, field_cadre, HOME, area_code=village)
    photo_id = str(uuid.uuid4())
    data = generated_jpeg(64, 48, seed=seed)
    assert attach(client, field_cadre, visit, data, photo_id=photo_id, lat=HOME[0], lon=HOME[1])["status"] \
        == "applied"
    hotspot = write(client, inspector, "hotspot.upsert", hotspot_fields(area_code=village, lat=HOME[0],
                                                                        lon=HOME[1]))
    inspection = write(client, inspector, "inspection.upsert", {
        "hotspot_id": hotspot, "inspected_at": "2026-11-21T10:00:00+08:00", "result": "in_progress",
        "lat": HOME[0], "lon": HOME[1]})
    return {"visits": {visit}, "photos": {photo_id}, "hotspots": {hotspot}, "inspections": {inspection}}
