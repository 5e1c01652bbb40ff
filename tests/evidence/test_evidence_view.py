"""The evidence view GET /api/{visits|inspections}/<id>/evidence, as a supervisor reads it before ruling.

Distances are checked against geopy's geodesic, computed here from the positions the test wrote.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from geopy.distance import geodesic

from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_household, upload
from tests.sync.conftest import Device, cadre, device, hotspot_fields, push, supervisor  # noqa: F401

HOME = (30.274100, 120.155100)  # the household's (and the hotspot's) position


def away(point: tuple[float, float], metres: float, bearing: float = 0) -> tuple[float, float]:
    reached = geodesic(meters=metres).destination(point, bearing)
    return (reached.latitude, reached.longitude)


def write(client, owner: Device, type_: str, fields: dict[str, Any]) -> str:
    record_id = str(uuid.uuid4())
    result = push(client, owner.headers, owner.client_id, [owner.mutation(type_, record_id, fields)])["results"][-1]
    assert result["status"] == "applied", result
    return record_id


def evidence(client, headers: dict[str, str], record_id: str, plural: str = "visits",
             status: int = 200) -> dict[str, Any]:
    response = client.get(f"/api/{plural}/{record_id}/evidence", headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def visit_2_km_off(client, owner: Device) -> tuple[str, str, dict[str, tuple[float, float]]]:
    """A visit to a household at HOME, logged 40 m from it, with one photo whose EXIF puts it 2 km away and
    whose phone fix at capture is 30 m away. (visit id, photo id, the positions written)."""
    household_id = new_household(client, owner, lat=HOME[0], lon=HOME[1])
    where = {"fix": away(HOME, 40, 90), "exif": away(HOME, 2000, 45), "device": away(HOME, 30, 180)}
    visit_id = write(client, owner, "visit.upsert", {
        "area_code": "990101001001", "household_id": household_id, "kind": "household",
        "visited_at": "2026-11-20T09:30:00+08:00", "lat": where["fix"][0], "lon": where["fix"][1],
        "accuracy_m": 12})
    photo_id = str(uuid.uuid4())
    data = generated_jpeg(320, 240, seed=9, exif=gps_exif(*where["exif"]))
    result = attach(client, owner, visit_id, data, photo_id=photo_id, lat=where["device"][0],
                    lon=where["device"][1], accuracy_m=15)
    assert result["status"] == "applied", result
    upload(client, owner.headers, photo_id, data)
    return visit_id, photo_id, where


def test_photo_taken_2_km_from_the_household_shows_the_distances(client, cadre, supervisor):  # noqa: F811
    visit_id, photo_id, where = visit_2_km_off(client, cadre)

    body = evidence(client, supervisor.headers, visit_id)

    assert body["record_type"] == "visit"
    assert (body["author_name"], body["area_name"]) == (cadre.user.display_name, "一村")
    assert body["record"] == client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    target = body["target"]
    assert (target["kind"], target["lat"], target["lon"]) == ("household", HOME[0], HOME[1])
    assert (target["head_name"], target["address"]) == ("张三", "一村3组12号")
    assert body["fix"] == {"lat": where["fix"][0], "lon": where["fix"][1], "accuracy_m": 12}
    assert body["distances_m"]["fix_to_target"] == pytest.approx(geodesic(where["fix"], HOME).meters, abs=0.1)
    assert body["distances_m"]["fix_to_target"] == pytest.approx(40, abs=0.5)

    [item] = body["photos"]
    assert item["photo"]["id"] == photo_id
    assert item["photo"]["status"] == "stored"
    exif = (item["positions"]["exif"]["lat"], item["positions"]["exif"]["lon"])
    assert exif == pytest.approx(where["exif"], abs=1e-5)  # EXIF stores seconds to 4 decimals
    assert item["positions"]["device"] == {"lat": where["device"][0], "lon": where["device"][1], "accuracy_m": 15}
    distances = item["distances_m"]
    assert distances["exif_to_target"] == pytest.approx(geodesic(exif, HOME).meters, abs=0.1)
    assert distances["exif_to_target"] == pytest.approx(2000, abs=5)
    assert distances["device_to_target"] == pytest.approx(geodesic(where["device"], HOME).meters, abs=0.1)
    assert distances["exif_to_device"] == pytest.approx(geodesic(exif, where["device"]).meters, abs=0.1)
    # The flag carries the same number the view shows.
    flag = item["photo"]["flags"]["far_from_target"]
    assert flag["exif_distance_m"] == distances["exif_to_target"]
    assert "exif_far_from_device" in item["photo"]["flags"]


def test_the_author_sees_it_another_cadre_of_the_village_does_not(client, tree, cadre, supervisor):  # noqa: F811
    visit_id, _photo_id, _where = visit_2_km_off(client, cadre)
    neighbour = device("cadre-v1-b", tree.V1, "cadre")
    other_county = device("supervisor-b", tree.B, "supervisor")
    admin = device("admin-a", tree.A, "admin")

    assert evidence(client, cadre.headers, visit_id)["record"]["id"] == visit_id
    assert evidence(client, admin.headers, visit_id)["record"]["id"] == visit_id
    assert evidence(client, neighbour.headers, visit_id, status=404)["reason"] == "not_found"
    assert evidence(client, other_county.headers, visit_id, status=404)["reason"] == "not_found"
    assert evidence(client, supervisor.headers, visit_id, "inspections", status=404)["reason"] == "not_found"


def test_visit_without_household_or_fix_has_no_target_and_no_distances(client, cadre, supervisor):  # noqa: F811
    visit_id = write(client, cadre, "visit.upsert", {
        "area_code": "990101001001", "kind": "site", "visited_at": "2026-11-20T09:30:00+08:00"})
    kept, dropped = str(uuid.uuid4()), str(uuid.uuid4())
    attach(client, cadre, visit_id, generated_jpeg(64, 48, seed=2), photo_id=kept, lat=HOME[0], lon=HOME[1])
    attach(client, cadre, visit_id, generated_jpeg(64, 48, seed=3), photo_id=dropped)
    deleted = push(client, cadre.headers, cadre.client_id, [cadre.mutation("photo.delete", dropped)])
    assert deleted["results"][-1]["status"] == "applied", deleted

    body = evidence(client, supervisor.headers, visit_id)

    assert body["target"] is None and body["fix"] is None
    assert body["distances_m"] == {"fix_to_target": None}
    [item] = body["photos"]
    assert item["photo"]["id"] == kept and item["photo"]["status"] == "awaiting_upload"
    assert item["positions"] == {"exif": None, "device": {"lat": HOME[0], "lon": HOME[1], "accuracy_m": None}}
    assert item["distances_m"] == {"exif_to_target": None, "device_to_target": None, "exif_to_device": None}


def test_inspection_evidence_measures_against_the_hotspot(client, tree, supervisor):  # noqa: F811
    inspector = device("inspector-v1", tree.V1, "inspector")
    hotspot_id = write(client, inspector, "hotspot.upsert", hotspot_fields(lat=HOME[0], lon=HOME[1]))
    inspection_id = write(client, inspector, "inspection.upsert", {
        "hotspot_id": hotspot_id, "inspected_at": "2026-11-20T10:00:00+08:00", "result": "rectified"})
    fix = away(HOME, 500, 270)
    photo_id = str(uuid.uuid4())
    assert attach(client, inspector, inspection_id, generated_jpeg(64, 48, seed=4), photo_id=photo_id,
                  record_type="inspection", phase="after", lat=fix[0], lon=fix[1])["status"] == "applied"

    body = evidence(client, supervisor.headers, inspection_id, "inspections")

    assert body["record_type"] == "inspection" and body["record"]["hotspot_id"] == hotspot_id
    assert body["target"] == {"kind": "hotspot", "id": hotspot_id, "name": "一村集贸市场", "address": None,
                              "head_name": None, "lat": HOME[0], "lon": HOME[1]}
    assert body["fix"] is None
    [item] = body["photos"]
    assert item["distances_m"]["device_to_target"] == pytest.approx(geodesic(fix, HOME).meters, abs=0.1)
    assert item["distances_m"]["exif_to_target"] is None
    assert item["photo"]["flags"]["far_from_target"]["device_distance_m"] == item["distances_m"]["device_to_target"]
    assert evidence(client, inspector.headers, inspection_id, "inspections")["record"]["id"] == inspection_id
    other_inspector = device("inspector-v1-b", tree.V1, "inspector")
    assert evidence(client, other_inspector.headers, inspection_id, "inspections", status=404)
