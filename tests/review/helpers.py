"""Records for the review tests, written through sync and tus as a phone would write them."""

from __future__ import annotations

import uuid
from typing import Any

from geopy.distance import geodesic

from tests.evidence.conftest import attach, generated_jpeg, gps_exif, photo, upload
from tests.sync.conftest import Device, hotspot_fields, household_fields, new_id, push, visit_fields

HOME = (30.274100, 120.155100)  # where the households of these tests are


def away(point: tuple[float, float], metres: float, bearing: float = 0) -> tuple[float, float]:
    reached = geodesic(meters=metres).destination(point, bearing)
    return (reached.latitude, reached.longitude)


def write(client, owner: Device, type_: str, fields: dict[str, Any], record_id: str | None = None,
          base_version: int | None = None) -> dict[str, Any]:
    """One upsert pushed by ``owner``'s phone; its result, which must be applied or merged."""
    record_id = record_id or new_id()
    result = push(client, owner.headers, owner.client_id,
                  [owner.mutation(type_, record_id, fields, base_version)])["results"][-1]
    assert result["status"] in ("applied", "merged"), result
    return result


def new_visit(client, owner: Device, **fields: Any) -> str:
    """A visit in the owner's village (V1 unless ``area_code`` says otherwise)."""
    return write(client, owner, "visit.upsert", visit_fields(**fields))["record_id"]


def household_visit(client, owner: Device, **fields: Any) -> str:
    """A visit to a new household standing at HOME."""
    area = fields.get("area_code", "990101001001")
    household = write(client, owner, "household.upsert",
                      household_fields(area_code=area, lat=HOME[0], lon=HOME[1]))["record_id"]
    return new_visit(client, owner, household_id=household, **fields)


def new_inspection(client, inspector: Device, **fields: Any) -> str:
    hotspot = write(client, inspector, "hotspot.upsert", hotspot_fields(lat=HOME[0], lon=HOME[1]))["record_id"]
    return write(client, inspector, "inspection.upsert", {
        "hotspot_id": hotspot, "inspected_at": "2026-11-20T10:00:00+08:00", "result": "rectified",
        **fields})["record_id"]


def add_photo(client, owner: Device, record_id: str, *, taken_at: tuple[float, float] | None, seed: int,
              device_fix: tuple[float, float] | None = None, record_type: str = "visit",
              send_bytes: bool = True) -> dict[str, Any]:
    """Attach a photo whose EXIF puts it at ``taken_at`` (None: no GPS) and upload it; the photo as the API
    shows it. ``device_fix`` is the phone's own position at capture."""
    data = generated_jpeg(240, 180, seed=seed, exif=gps_exif(*taken_at) if taken_at else None)
    photo_id = str(uuid.uuid4())
    fix = {"lat": device_fix[0], "lon": device_fix[1], "accuracy_m": 10} if device_fix else {}
    result = attach(client, owner, record_id, data, photo_id=photo_id, record_type=record_type, **fix)
    assert result["status"] == "applied", result
    if send_bytes:
        upload(client, owner.headers, photo_id, data)
    return photo(client, owner.headers, photo_id)


def queue(client, headers: dict[str, str], status: int = 200, **query: Any) -> dict[str, Any]:
    response = client.get("/api/review/queue", headers=headers, query_string=query)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def queue_ids(client, headers: dict[str, str], cursor: str | None = None, **query: Any) -> list[str]:
    """The ids of the queue (from ``cursor`` on), in its order, following next_cursor."""
    ids: list[str] = []
    for _page in range(50):
        page = queue(client, headers, **query, **({"cursor": cursor} if cursor else {}))
        ids += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the queue did not end in 50 pages")


def etag(client, headers: dict[str, str], plural: str, record_id: str) -> str:
    response = client.get(f"/api/{plural}/{record_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.headers["ETag"]


def review(client, headers: dict[str, str], record_id: str, status: str, comment: str | None = None,
           plural: str = "visits") -> dict[str, Any]:
    """A supervisor's ruling on the version they just read."""
    response = client.post(f"/api/{plural}/{record_id}/review",
                           headers={**headers, "If-Match": etag(client, headers, plural, record_id)},
                           json={"review_status": status, "review_comment": comment})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()
