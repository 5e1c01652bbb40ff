"""Photos through the sync protocol (DESIGN §4, §5.2): ``photo.attach`` and ``photo.delete`` in
pushes, ``changes.photos`` in pulls, and photos following their record."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from backend.changes.models import Change
from backend.evidence.models import Photo
from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_visit, photo, sha256, upload
from tests.sync.conftest import Device, cadre, count, device, pull_all, push, supervisor  # noqa: F401

JPEG_EXIF = gps_exif(30.2741, 120.1551, taken="2026:11:20 09:40:00", offset="+08:00")


@pytest.fixture
def jpeg() -> bytes:
    return generated_jpeg(seed=7, exif=JPEG_EXIF)


def attach_fields(record_id: str, data: bytes, **overrides: Any) -> dict[str, Any]:
    return {"record_type": "visit", "record_id": record_id, "sha256": sha256(data), "bytes": len(data),
            "captured_at": "2026-11-20T09:35:00+08:00", "lat": 30.2741, "lon": 120.1551, "accuracy_m": 12,
            **overrides}


def pushed(client, owner: Device, type_: str, record_id: str, fields: dict[str, Any] | None = None,
           base_version: int | None = None) -> dict[str, Any]:
    """The result of one mutation pushed by ``owner``."""
    result = push(client, owner.headers, owner.client_id, [owner.mutation(type_, record_id, fields, base_version)])
    return result["results"][-1]


def photo_rows(db, photo_id: str) -> tuple[int, int]:
    """(photo rows, change-log rows) of this photo id: what an attach leaves behind."""
    key = uuid.UUID(photo_id)
    return count(db, Photo, Photo.id == key), count(db, Change, Change.entity == "photo", Change.record_id == key)


# --- push ------------------------------------------------------------------------

def test_replayed_attach_is_applied_once(client, db, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    fields = attach_fields(visit_id, jpeg)

    first = pushed(client, cadre, "photo.attach", photo_id, fields)
    again = pushed(client, cadre, "photo.attach", photo_id, dict(fields))

    assert (first["status"], again["status"]) == ("applied", "applied")
    assert again["version"] == first["version"]
    assert photo_rows(db, photo_id) == (1, 1)
    listed = client.get("/api/photos", headers=cadre.headers, query_string={"record_id": visit_id}).get_json()
    assert [item["id"] for item in listed["items"]] == [photo_id]


def test_other_payload_under_the_same_photo_id_is_id_conflict(client, db, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"

    other = generated_jpeg(seed=8)
    result = pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, other))

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "id_conflict"
    assert photo(client, cadre.headers, photo_id)["sha256"] == sha256(jpeg)


def test_attach_to_a_visit_outside_your_area_is_rejected(client, db, cadre, tree, jpeg):  # noqa: F811
    visit_id = new_visit(client, cadre)
    outsider, photo_id = device("cadre-v2", tree.V2, "cadre"), str(uuid.uuid4())

    result = pushed(client, outsider, "photo.attach", photo_id, attach_fields(visit_id, jpeg))

    assert result["status"] == "rejected"
    assert result["error"]["code"] in ("validation", "scope", "not_found")
    assert result["error"]["field"] == "record_id"
    assert "area" in result["error"]["message"]
    assert photo_rows(db, photo_id) == (0, 0)


def test_attach_to_another_cadres_visit_is_forbidden(client, db, cadre, jpeg):  # noqa: F811
    visit_id = new_visit(client, cadre)
    neighbour, photo_id = device("cadre-v1-b", cadre.user.area_code, "cadre"), str(uuid.uuid4())

    result = pushed(client, neighbour, "photo.attach", photo_id, attach_fields(visit_id, jpeg))

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "forbidden"
    assert "author" in result["error"]["message"]
    assert photo_rows(db, photo_id) == (0, 0)


@pytest.mark.parametrize(("change", "field"), [
    ({"sha256": "0" * 63}, "sha256"),
    ({"sha256": "A" * 64}, "sha256"),
    ({"sha256": None}, "sha256"),
    ({"bytes": None}, "bytes"),
    ({"bytes": 0}, "bytes"),
    ({"record_type": None}, "record_type"),
    ({"record_type": "household"}, "record_type"),
    ({"record_id": None}, "record_id"),
    ({"lat": 91}, "lat"),
], ids=["short_sha256", "uppercase_sha256", "missing_sha256", "missing_bytes", "zero_bytes", "missing_record_type",
        "household_record_type", "missing_record_id", "bad_lat"])
def test_attach_with_bad_fields_is_rejected_naming_the_field(client, db, cadre, jpeg, change, field):  # noqa: F811
    fields = {name: value for name, value in {**attach_fields(new_visit(client, cadre), jpeg), **change}.items()
              if value is not None}
    photo_id = str(uuid.uuid4())

    result = pushed(client, cadre, "photo.attach", photo_id, fields)

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "validation"
    assert result["error"]["field"] == field
    assert photo_rows(db, photo_id) == (0, 0)


def test_photo_upsert_is_an_unknown_type(client, db, cadre, jpeg):  # noqa: F811
    photo_id = str(uuid.uuid4())

    result = pushed(client, cadre, "photo.upsert", photo_id, attach_fields(new_visit(client, cadre), jpeg))

    assert result["status"] == "rejected"
    assert result["error"]["code"] == "unknown_type"
    assert "photo.attach" in result["error"]["message"]
    assert photo_rows(db, photo_id) == (0, 0)


# --- pull ------------------------------------------------------------------------

def test_pull_carries_the_photo_before_and_after_its_upload(client, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"

    first = pull_all(client, cadre.headers, cadre.client_id)
    waiting = first.upserted("photos")[photo_id]
    assert (waiting["status"], waiting["record_id"], waiting["sha256"]) == ("awaiting_upload", visit_id, sha256(jpeg))
    assert waiting["exif_lat"] is None

    upload(client, cadre.headers, photo_id, jpeg)
    later = pull_all(client, cadre.headers, cadre.client_id, first.cursor)

    stored = later.upserted("photos")[photo_id]
    assert stored["status"] == "stored"
    assert stored["version"] > waiting["version"]
    assert stored["exif_lat"] == pytest.approx(30.2741, abs=1e-6)
    assert stored["exif_lon"] == pytest.approx(120.1551, abs=1e-6)
    assert stored["exif_taken_at"] == "2026-11-20T09:40:00+08:00"
    assert (stored["make"], stored["model"], stored["width"], stored["height"]) == ("Xiaomi", "Redmi Note 12", 640, 480)
    assert stored["flags"] == {}
    assert stored["flag_count"] == 0
    assert visit_id not in later.upserted("visits")  # only what changed travels


def test_pulled_photo_carries_its_flags(client, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    far = attach_fields(visit_id, jpeg, lat=31.2741, lon=120.1551)  # device fix ~111 km from the EXIF position
    assert pushed(client, cadre, "photo.attach", photo_id, far)["status"] == "applied"
    upload(client, cadre.headers, photo_id, jpeg)

    pulled = pull_all(client, cadre.headers, cadre.client_id).upserted("photos")[photo_id]

    assert set(pulled["flags"]) == {"exif_far_from_device"}
    assert pulled["flags"]["exif_far_from_device"]["distance_m"] == pytest.approx(110_900, rel=0.01)
    assert pulled["flag_count"] == 1


def test_supervisor_of_the_county_pulls_the_photo_and_another_village_does_not(client, cadre, supervisor, tree,  # noqa: F811
                                                                                jpeg):
    photo_id = str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(new_visit(client, cadre), jpeg))["status"] \
        == "applied"
    upload(client, cadre.headers, photo_id, jpeg)
    other_village = device("cadre-v2", tree.V2, "cadre")
    other_county = device("supervisor-b", tree.B, "supervisor")

    assert pull_all(client, supervisor.headers, supervisor.client_id).upserted("photos")[photo_id]["status"] == "stored"
    for outsider in (other_village, other_county):
        pulled = pull_all(client, outsider.headers, outsider.client_id)
        assert photo_id not in pulled.upserted("photos")
        assert photo_id not in pulled.deleted("photos")


def test_deleted_photo_travels_as_a_tombstone_and_is_no_longer_listed(client, cadre, supervisor, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    upload(client, cadre.headers, photo_id, jpeg)
    mirror = pull_all(client, cadre.headers, cadre.client_id)
    assert photo_id in mirror.upserted("photos")

    assert pushed(client, cadre, "photo.delete", photo_id)["status"] == "applied"

    later = pull_all(client, cadre.headers, cadre.client_id, mirror.cursor)
    assert later.deleted("photos") == {photo_id}
    assert later.upserted("photos") == {}
    for reader in (cadre, supervisor):
        listed = client.get("/api/photos", headers=reader.headers, query_string={"record_id": visit_id}).get_json()
        assert listed["items"] == []
        assert client.get(f"/api/photos/{photo_id}", headers=reader.headers).status_code == 404


def test_photo_follows_its_visit_to_another_village(client, db, tree, jpeg):
    author = device("cadre-a", tree.A, "cadre")  # a county cadre, who may write in V1 and V2
    old_village, new_village = device("cadre-v1", tree.V1, "cadre"), device("cadre-v2", tree.V2, "cadre")
    visit_id, photo_id = new_visit(client, author), str(uuid.uuid4())
    assert pushed(client, author, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    upload(client, author.headers, photo_id, jpeg)
    old_mirror = pull_all(client, old_village.headers, old_village.client_id)
    new_mirror = pull_all(client, new_village.headers, new_village.client_id)
    assert photo_id in old_mirror.upserted("photos")
    assert photo_id not in new_mirror.upserted("photos")

    moved = pushed(client, author, "visit.upsert", visit_id, {"area_code": tree.V2, "household_id": None}, 1)
    assert moved["status"] == "applied", moved

    old_later = pull_all(client, old_village.headers, old_village.client_id, old_mirror.cursor)
    new_later = pull_all(client, new_village.headers, new_village.client_id, new_mirror.cursor)
    assert photo_id in old_later.deleted("photos")
    assert visit_id in old_later.deleted("visits")
    assert new_later.upserted("photos")[photo_id]["status"] == "stored"
    assert new_later.upserted("visits")[visit_id]["area_code"] == tree.V2
    assert photo(client, new_village.headers, photo_id)["record_id"] == visit_id
    assert client.get(f"/api/photos/{photo_id}", headers=old_village.headers).status_code == 404
    assert db.session.scalar(select(Photo.area_code).where(Photo.id == uuid.UUID(photo_id))) == tree.V2


def test_deleting_the_visit_deletes_its_photos(client, cadre, supervisor, jpeg):  # noqa: F811
    visit_id = new_visit(client, cadre)
    photo_ids = {str(uuid.uuid4()) for _ in range(2)}
    for photo_id in photo_ids:
        assert attach(client, cadre, visit_id, jpeg, photo_id=photo_id)["status"] == "applied"
    upload(client, cadre.headers, sorted(photo_ids)[0], jpeg)
    mirror = pull_all(client, cadre.headers, cadre.client_id)
    assert set(mirror.upserted("photos")) == photo_ids

    assert pushed(client, cadre, "visit.delete", visit_id)["status"] == "applied"

    later = pull_all(client, cadre.headers, cadre.client_id, mirror.cursor)
    assert later.deleted("photos") == photo_ids
    assert later.deleted("visits") == {visit_id}
    for photo_id in photo_ids:
        assert client.get(f"/api/photos/{photo_id}", headers=supervisor.headers).status_code == 404


def test_an_inspections_photos_say_before_or_after(client, tree, jpeg):
    from tests.sync.conftest import hotspot_fields

    inspector = device("inspector-phase", tree.V1, "inspector")
    hotspot_id, inspection_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert pushed(client, inspector, "hotspot.upsert", hotspot_id, hotspot_fields())["status"] == "applied"
    assert pushed(client, inspector, "inspection.upsert", inspection_id, {
        "hotspot_id": hotspot_id, "inspected_at": "2026-11-20T10:00:00+08:00", "result": "in_progress"},
    )["status"] == "applied"
    before = pushed(client, inspector, "photo.attach", str(uuid.uuid4()),
                    attach_fields(inspection_id, jpeg, record_type="inspection", phase="before"))
    assert before["status"] == "applied", before
    pulled = pull_all(client, inspector.headers, inspector.client_id)
    assert [p["phase"] for p in pulled.upserted("photos").values()] == ["before"]


def test_a_visits_photo_has_no_phase(client, cadre, jpeg):  # noqa: F811
    visit_id = new_visit(client, cadre)
    result = pushed(client, cadre, "photo.attach", str(uuid.uuid4()), attach_fields(visit_id, jpeg, phase="after"))
    assert result["status"] == "rejected"
    assert result["error"]["field"] == "phase"


# --- evidence belongs to its record's author ----------------------------------------

def test_another_cadre_of_the_village_cannot_delete_the_authors_photo(client, db, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    neighbour = device("cadre-v1-b", cadre.user.area_code, "cadre")

    result = pushed(client, neighbour, "photo.delete", photo_id)

    assert (result["status"], result["error"]["code"]) == ("rejected", "forbidden")
    assert "author" in result["error"]["message"]
    listed = client.get("/api/photos", headers=cadre.headers, query_string={"record_id": visit_id}).get_json()
    assert [item["id"] for item in listed["items"]] == [photo_id]
    assert photo_rows(db, photo_id) == (1, 1)


def test_a_supervisor_neither_attaches_to_nor_deletes_from_a_cadres_visit(client, db, cadre, supervisor,  # noqa: F811
                                                                         jpeg):
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    added = str(uuid.uuid4())

    attached = pushed(client, supervisor, "photo.attach", added, attach_fields(visit_id, generated_jpeg(seed=9)))
    deleted = pushed(client, supervisor, "photo.delete", photo_id)

    assert [(r["status"], r["error"]["code"]) for r in (attached, deleted)] == [("rejected", "forbidden")] * 2
    assert photo_rows(db, added) == (0, 0)
    assert photo(client, supervisor.headers, photo_id)["id"] == photo_id


def test_the_author_deletes_their_own_photo(client, cadre, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"

    assert pushed(client, cadre, "photo.delete", photo_id)["status"] == "applied"

    assert client.get(f"/api/photos/{photo_id}", headers=cadre.headers).status_code == 404


def rule(client, supervisor: Device, visit_id: str, status: str) -> None:  # noqa: F811
    version = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["version"]
    response = client.post(f"/api/visits/{visit_id}/review", headers={**supervisor.headers, "If-Match": f'"{version}"'},
                           json={"review_status": status, "review_comment": None if status == "approved" else "补照片"})
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("ruling", ["approved", "returned"])
def test_the_authors_new_photo_sends_a_ruled_visit_back_to_review(client, cadre, supervisor, jpeg,  # noqa: F811
                                                                  ruling):
    visit_id = new_visit(client, cadre)
    rule(client, supervisor, visit_id, ruling)

    assert pushed(client, cadre, "photo.attach", str(uuid.uuid4()), attach_fields(visit_id, jpeg))["status"] \
        == "applied"

    visit = client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()
    assert visit["review_status"] == "pending"
    pulled = pull_all(client, cadre.headers, cadre.client_id).upserted("visits")[visit_id]
    assert pulled["review_status"] == "pending"


def test_the_authors_deleted_photo_sends_an_approved_visit_back_to_review(client, cadre, supervisor, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    rule(client, supervisor, visit_id, "approved")

    assert pushed(client, cadre, "photo.delete", photo_id)["status"] == "applied"

    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == "pending"


def test_a_refused_delete_leaves_the_ruling_alone(client, cadre, supervisor, jpeg):  # noqa: F811
    visit_id, photo_id = new_visit(client, cadre), str(uuid.uuid4())
    assert pushed(client, cadre, "photo.attach", photo_id, attach_fields(visit_id, jpeg))["status"] == "applied"
    rule(client, supervisor, visit_id, "approved")

    assert pushed(client, supervisor, "photo.delete", photo_id)["status"] == "rejected"

    assert client.get(f"/api/visits/{visit_id}", headers=supervisor.headers).get_json()["review_status"] == "approved"
