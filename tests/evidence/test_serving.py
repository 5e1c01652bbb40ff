"""Serving photos (DESIGN §5.6): thumbs and display copies to anyone in scope, originals to
supervisors only and audited, never sniffed. A shared phone's browser may keep a derivative but
shows it again only after the server has checked the reader (a 304); it never keeps an original."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from backend.audit.models import AuditEvent
from tests.evidence.conftest import attach, generated_jpeg, gps_exif, new_visit, photo, upload
from tests.sync.conftest import Device, cadre, device, supervisor  # noqa: F401

REVALIDATE = "private, no-cache"
DERIVED = ("thumb", "display")
VARIANTS = ("thumb", "display", "original")


def stored_photo(client, owner: Device, data: bytes) -> str:
    """A photo of a new visit of ``owner``, uploaded and stored; its id."""
    photo_id = str(uuid.uuid4())
    result = attach(client, owner, new_visit(client, owner), data, photo_id=photo_id)
    assert result["status"] == "applied", result
    upload(client, owner.headers, photo_id, data)
    assert photo(client, owner.headers, photo_id)["status"] == "stored"
    return photo_id


@pytest.fixture
def jpeg() -> bytes:
    return generated_jpeg(seed=2, exif=gps_exif(30.2741, 120.1551, taken="2026:11:20 09:40:00"))


@pytest.fixture
def photo_id(client, cadre, jpeg) -> str:  # noqa: F811
    return stored_photo(client, cadre, jpeg)


def read_original_events(db, photo_id: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "photo",
                                                            AuditEvent.entity_id == photo_id,
                                                            AuditEvent.action == "photo.read_original")))


@pytest.mark.parametrize("variant", DERIVED)
def test_cadre_in_scope_gets_the_derivative_as_a_jpeg_to_revalidate(client, cadre, photo_id, variant):  # noqa: F811
    response = client.get(f"/api/photos/{photo_id}/{variant}", headers=cadre.headers)

    assert response.status_code == 200
    assert response.content_type == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert response.headers["Cache-Control"] == REVALIDATE
    assert "max-age" not in response.headers["Cache-Control"] and "immutable" not in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("variant", DERIVED)
def test_if_none_match_with_the_etag_is_not_modified(client, cadre, photo_id, variant):  # noqa: F811
    etag = client.get(f"/api/photos/{photo_id}/{variant}", headers=cadre.headers).headers["ETag"]

    again = client.get(f"/api/photos/{photo_id}/{variant}", headers={**cadre.headers, "If-None-Match": etag})

    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == REVALIDATE


def test_if_none_match_among_other_etags_is_not_modified_and_another_etag_is_sent_in_full(client, cadre,  # noqa: F811
                                                                                          photo_id):
    etag = client.get(f"/api/photos/{photo_id}/thumb", headers=cadre.headers).headers["ETag"]

    listed = client.get(f"/api/photos/{photo_id}/thumb", headers={**cadre.headers,
                                                                   "If-None-Match": f'"other", {etag}'})
    other = client.get(f"/api/photos/{photo_id}/thumb", headers={**cadre.headers, "If-None-Match": '"other"'})

    assert listed.status_code == 304
    assert (other.status_code, other.data[:3]) == (200, b"\xff\xd8\xff")


def test_a_reader_who_lost_scope_gets_404_not_304(client, tree, cadre, photo_id):  # noqa: F811
    etag = client.get(f"/api/photos/{photo_id}/thumb", headers=cadre.headers).headers["ETag"]
    outsider = device("cadre-v2", tree.V2, "cadre")

    again = client.get(f"/api/photos/{photo_id}/thumb", headers={**outsider.headers, "If-None-Match": etag})

    assert again.status_code == 404


def test_thumb_display_and_original_have_different_etags(client, supervisor, photo_id):  # noqa: F811
    etags = {client.get(f"/api/photos/{photo_id}/{variant}", headers=supervisor.headers).headers["ETag"]
             for variant in VARIANTS}

    assert len(etags) == 3


def test_cadre_may_not_open_the_original(client, cadre, photo_id):  # noqa: F811
    response = client.get(f"/api/photos/{photo_id}/original", headers=cadre.headers)

    assert response.status_code == 403
    assert response.get_json()["reason"] == "forbidden"


def test_supervisor_gets_the_exact_original_bytes(client, supervisor, photo_id, jpeg):  # noqa: F811
    response = client.get(f"/api/photos/{photo_id}/original", headers=supervisor.headers)

    assert response.status_code == 200
    assert response.data == jpeg
    assert response.content_type == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_original_keeps_its_own_content_type(client, cadre, supervisor):  # noqa: F811
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    photo_id = stored_photo(client, cadre, out.getvalue())

    original = client.get(f"/api/photos/{photo_id}/original", headers=supervisor.headers)
    thumb = client.get(f"/api/photos/{photo_id}/thumb", headers=supervisor.headers)

    assert (original.status_code, original.content_type, original.data) == (200, "image/png", out.getvalue())
    assert thumb.content_type == "image/jpeg"


def test_each_original_read_is_audited(client, db, supervisor, tree, photo_id):  # noqa: F811
    admin = device("admin-a", tree.A, "admin")

    for _ in range(2):
        assert client.get(f"/api/photos/{photo_id}/original", headers=supervisor.headers).status_code == 200

    events = client.get("/api/audit", headers=admin.headers,
                        query_string={"action": "photo.read_original", "entity_id": photo_id}).get_json()["items"]
    assert len(events) == 2
    assert {(event["actor_name"], event["entity"]) for event in events} == {("supervisor-a", "photo")}
    assert len(read_original_events(db, photo_id)) == 2


def test_cadre_reading_a_thumb_writes_no_audit_event(client, db, cadre, photo_id):  # noqa: F811
    before = db.session.scalars(select(AuditEvent.id).where(AuditEvent.entity_id == photo_id)).all()

    for variant in DERIVED:
        assert client.get(f"/api/photos/{photo_id}/{variant}", headers=cadre.headers).status_code == 200

    assert db.session.scalars(select(AuditEvent.id).where(AuditEvent.entity_id == photo_id)).all() == before
    assert read_original_events(db, photo_id) == []


def test_forbidden_original_read_writes_no_audit_event(client, db, cadre, photo_id):  # noqa: F811
    assert client.get(f"/api/photos/{photo_id}/original", headers=cadre.headers).status_code == 403

    assert read_original_events(db, photo_id) == []


@pytest.mark.parametrize(("username", "where", "role"), [
    ("cadre-v2", "V2", "cadre"), ("cadre-bv", "BV", "cadre"), ("supervisor-b", "B", "supervisor"),
])
def test_photo_outside_your_area_does_not_exist_for_you(client, db, tree, photo_id, username, where, role):
    outsider = device(username, getattr(tree, where), role)

    assert client.get(f"/api/photos/{photo_id}", headers=outsider.headers).status_code == 404
    for variant in VARIANTS:
        response = client.get(f"/api/photos/{photo_id}/{variant}", headers=outsider.headers)
        assert response.status_code == 404, variant
        assert response.get_json()["reason"] == "not_found"
    assert read_original_events(db, photo_id) == []


def test_photo_awaiting_upload_has_no_image_yet(client, cadre, supervisor):  # noqa: F811
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), generated_jpeg(seed=3), photo_id=photo_id)["status"] \
        == "applied"

    for reader, variant in ((cadre, "thumb"), (cadre, "display"), (supervisor, "original")):
        response = client.get(f"/api/photos/{photo_id}/{variant}", headers=reader.headers)
        assert response.status_code == 404, variant
        assert response.get_json()["reason"] == "photo_awaiting_upload"


def test_rejected_photo_has_no_image(client, cadre, supervisor):  # noqa: F811
    page = b"<!DOCTYPE html><html><body>not a photo</body></html>"
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), page, photo_id=photo_id)["status"] == "applied"
    upload(client, cadre.headers, photo_id, page)
    assert photo(client, cadre.headers, photo_id)["status"] == "rejected"

    for reader, variant in ((cadre, "thumb"), (cadre, "display"), (supervisor, "original")):
        response = client.get(f"/api/photos/{photo_id}/{variant}", headers=reader.headers)
        assert response.status_code == 404, variant
        assert response.get_json()["reason"] == "photo_rejected"


def test_photos_of_a_visit_are_listed_in_scope_only(client, cadre, supervisor, tree):  # noqa: F811
    visit_id = new_visit(client, cadre)
    other_visit = new_visit(client, cadre)
    ids = set()
    for seed in (4, 5):
        photo_id = str(uuid.uuid4())
        assert attach(client, cadre, visit_id, generated_jpeg(seed=seed), photo_id=photo_id)["status"] == "applied"
        ids.add(photo_id)
    assert attach(client, cadre, other_visit, generated_jpeg(seed=6))["status"] == "applied"
    query = {"record_type": "visit", "record_id": visit_id}

    for reader in (cadre, supervisor):
        listed = client.get("/api/photos", headers=reader.headers, query_string=query)
        assert listed.status_code == 200
        assert {item["id"] for item in listed.get_json()["items"]} == ids
        assert {item["record_id"] for item in listed.get_json()["items"]} == {visit_id}
    for outsider in (device("cadre-v2", tree.V2, "cadre"), device("supervisor-b", tree.B, "supervisor")):
        listed = client.get("/api/photos", headers=outsider.headers, query_string=query)
        assert listed.status_code == 200
        assert listed.get_json()["items"] == []

