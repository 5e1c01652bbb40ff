"""Photos as a phone sends them: push the visit, attach the photo, upload its bytes by tus, read it back.

What the server makes of the bytes is asserted through GET /api/photos/<id> and the image
endpoints, as a client sees it; storage and the blobs table only where "not kept" and
"kept once" cannot be seen from outside.
"""

from __future__ import annotations

import io
import uuid

import pillow_heif
import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat

from backend.evidence.models import Blob
from backend.evidence.service import storage_key
from backend.storage import get_storage
from tests.evidence.conftest import (
    TUS,
    attach,
    fixture_photo,
    generated_jpeg,
    gps_exif,
    manifest,
    metadata,
    new_visit,
    photo,
    send_chunk,
    sha256,
    upload,
)
from tests.evidence.test_pipeline import EXIF_APP1, XMP, encoded, png_bomb
from tests.sync.conftest import cadre, count  # noqa: F401


@pytest.fixture
def visit(client, cadre):  # noqa: F811
    return new_visit(client, cadre)


def unique_jpeg(width: int = 120, height: int = 90) -> bytes:
    """A small JPEG no other test sends: storage outlives each test's rolled-back database."""
    image = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    return encoded(image, "JPEG", quality=85, comment=uuid.uuid4().hex)


def send(client, device, record_id: str, data: bytes) -> str:
    """Attach ``data`` to the visit and upload it; the photo's id."""
    photo_id = str(uuid.uuid4())
    result = attach(client, device, record_id, data, photo_id=photo_id)
    assert result["status"] == "applied", result
    upload(client, device.headers, photo_id, data)
    return photo_id


def row(name: str) -> dict[str, str]:
    return next(item for item in manifest() if item["file"] == name)


def blobs(db, data: bytes) -> int:
    return count(db, Blob, Blob.sha256 == sha256(data))


def image_of(response) -> Image.Image:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/jpeg"
    return Image.open(io.BytesIO(response.data))


# --- photos that are stored ------------------------------------------------------------

@pytest.mark.fixtures
@pytest.mark.parametrize("name", ["iphone_hdr_NO.jpg", "canon_hdr_NO.jpg", "Kodak_CX7530.jpg"])
def test_a_fixture_photo_is_stored_with_what_its_exif_says(client, cadre, visit, name):  # noqa: F811
    expected = row(name)
    got = photo(client, cadre.headers, send(client, cadre, visit, fixture_photo(name)))
    stored = (int(expected["width"]), int(expected["height"]))
    upright = stored[::-1] if expected["orientation"] in ("5", "6", "7", "8") else stored
    assert (got["status"], got["rejected_reason"], got["mime"]) == ("stored", None, "image/jpeg")
    assert (got["width"], got["height"]) == upright
    assert (got["make"], got["model"]) == (expected["make"] or None, expected["model"] or None)
    assert got["exif_taken_at"] == expected["datetime_original"].replace(":", "-", 2).replace(" ", "T")
    if expected["has_gps"] == "true":
        assert (got["exif_lat"], got["exif_lon"]) == (pytest.approx(float(expected["lat"]), abs=1e-5),
                                                      pytest.approx(float(expected["lon"]), abs=1e-5))
    else:
        assert (got["exif_lat"], got["exif_lon"]) == (None, None)
    assert got["exif_alt_m"] == (pytest.approx(float(expected["alt_m"]), abs=0.01) if expected["alt_m"] else None)


@pytest.mark.fixtures
@pytest.mark.parametrize("name", ["olympus-d320l.jpg", "45-gps_ifd.jpg"])
def test_a_photo_without_usable_exif_gps_is_stored_and_flagged(client, cadre, visit, name):  # noqa: F811
    got = photo(client, cadre.headers, send(client, cadre, visit, fixture_photo(name)))
    assert (got["status"], got["rejected_reason"]) == ("stored", None)
    assert (got["exif_lat"], got["exif_lon"]) == (None, None)
    assert "no_exif_gps" in got["flags"]


def test_a_heic_photo_from_an_iphone_is_stored_with_its_position(client, cadre, visit):  # noqa: F811
    pillow_heif.register_heif_opener()
    exif = gps_exif(30.2741, 120.1551, taken="2026:11:20 09:30:00", offset="+08:00", make="Apple", model="iPhone 15")
    heic = encoded(Image.new("RGB", (64, 48), (40, 120, 60)), "HEIF", exif=exif.tobytes())
    got = photo(client, cadre.headers, send(client, cadre, visit, heic))
    assert (got["status"], got["mime"], got["width"], got["height"]) == ("stored", "image/heic", 64, 48)
    assert (got["exif_lat"], got["exif_lon"]) == (pytest.approx(30.2741, abs=1e-5), pytest.approx(120.1551, abs=1e-5))
    assert got["exif_taken_at"] == "2026-11-20T09:30:00+08:00"


# --- bytes that are not what was attached ------------------------------------------------

def test_bytes_that_differ_from_the_attached_sha256_fail_the_upload_and_are_dropped(client, db, cadre, visit):  # noqa: F811
    attached = unique_jpeg()
    middle = len(attached) // 2
    sent = attached[:middle] + bytes([attached[middle] ^ 0xFF]) + attached[middle + 1:]  # one byte changed
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, visit, attached, photo_id=photo_id)["status"] == "applied"
    created = client.post("/api/uploads", headers={**cadre.headers, **TUS, "Upload-Length": str(len(sent)),
                                                   "Upload-Metadata": metadata(photo_id=photo_id,
                                                                               sha256=sha256(attached))})
    assert created.status_code == 201, created.get_data(as_text=True)
    location = created.headers["Location"]
    answer = send_chunk(client, cadre.headers, location, 0, sent)
    assert (answer.status_code, answer.get_json()["reason"]) == (460, "sha256_mismatch")
    assert sha256(sent) in answer.get_json()["message"]

    got = photo(client, cadre.headers, photo_id)
    assert (got["status"], got["rejected_reason"]) == ("awaiting_upload", None)
    storage = get_storage()
    assert not storage.exists(storage_key("original", sha256(sent)))
    assert not storage.exists(storage_key("original", sha256(attached)))
    assert storage.keys(f"uploads/{location.rsplit('/', 1)[-1]}") == []
    assert (blobs(db, sent), blobs(db, attached)) == (0, 0)


def test_a_zero_byte_photo_cannot_be_attached(client, cadre, visit):  # noqa: F811
    photo_id = str(uuid.uuid4())
    result = attach(client, cadre, visit, b"", photo_id=photo_id)
    assert (result["status"], result["error"]["code"], result["error"]["field"]) == ("rejected", "validation", "bytes")
    assert client.get(f"/api/photos/{photo_id}", headers=cadre.headers).status_code == 404


# --- files that are not photos the server keeps ---------------------------------------------

SVG = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">'
       b'<rect width="640" height="480" fill="red"/></svg>\n')
HTML = b"<!DOCTYPE html>\n<html><head><title>IMG_2041.jpg</title></head><body><img src=x></body></html>\n"


def truncated_jpeg() -> bytes:
    jpeg = generated_jpeg(320, 240, seed=5)
    return jpeg[:int(len(jpeg) * 0.6)]


@pytest.mark.parametrize(("make", "code", "says"), [
    (lambda: SVG, "unsupported_type", "SVG"),
    (lambda: HTML, "unsupported_type", "web page"),
    (truncated_jpeg, "corrupt", "cannot"),
    (png_bomb, "too_many_pixels", "decompression bomb"),
], ids=["svg", "html", "truncated-jpeg", "png-bomb"])
def test_a_file_that_is_not_a_photo_ends_rejected_with_a_reason(client, db, cadre, visit, make, code,  # noqa: F811
                                                                 says):
    data = make()
    got = photo(client, cadre.headers, send(client, cadre, visit, data))
    assert (got["status"], got["rejected_reason"]["code"]) == ("rejected", code)
    message = got["rejected_reason"]["message"]
    assert says in message and message.endswith(".") and len(message.split()) >= 5
    assert blobs(db, data) == 0


def test_a_rejected_photo_has_no_image_to_show(client, cadre, visit):  # noqa: F811
    photo_id = send(client, cadre, visit, HTML)
    response = client.get(f"/api/photos/{photo_id}/thumb", headers=cadre.headers)
    assert (response.status_code, response.get_json()["reason"]) == (404, "photo_rejected")


# --- the same bytes twice ---------------------------------------------------------------

def test_the_same_bytes_uploaded_for_two_photos_are_stored_once(client, db, cadre, visit):  # noqa: F811
    data = unique_jpeg(400, 300)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    for photo_id in (first, second):
        assert attach(client, cadre, visit, data, photo_id=photo_id)["status"] == "applied"
    upload(client, cadre.headers, first, data)
    upload(client, cadre.headers, second, data)
    assert blobs(db, data) == 1
    assert [photo(client, cadre.headers, photo_id)["status"] for photo_id in (first, second)] == ["stored", "stored"]


def test_two_uploads_of_the_same_bytes_in_progress_together_store_one_blob(client, db, cadre, visit):  # noqa: F811
    data = unique_jpeg(400, 300)
    half = len(data) // 2
    photo_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    locations = []
    for photo_id in photo_ids:
        assert attach(client, cadre, visit, data, photo_id=photo_id)["status"] == "applied"
        created = client.post("/api/uploads", headers={**cadre.headers, **TUS, "Upload-Length": str(len(data)),
                                                       "Upload-Metadata": metadata(photo_id=photo_id,
                                                                                   sha256=sha256(data))})
        assert created.status_code == 201
        locations.append(created.headers["Location"])
    for location in locations:
        assert send_chunk(client, cadre.headers, location, 0, data[:half]).status_code == 204
    for location in locations:
        assert send_chunk(client, cadre.headers, location, half, data[half:]).status_code == 204
    assert blobs(db, data) == 1
    assert [photo(client, cadre.headers, photo_id)["status"] for photo_id in photo_ids] == ["stored", "stored"]


def test_head_blob_answers_404_until_the_server_holds_the_bytes_then_200(client, cadre, visit):  # noqa: F811
    data = unique_jpeg()
    assert client.head(f"/api/blobs/{sha256(data)}", headers=cadre.headers).status_code == 404
    send(client, cadre, visit, data)
    assert client.head(f"/api/blobs/{sha256(data)}", headers=cadre.headers).status_code == 200


def test_a_photo_attached_after_its_bytes_arrived_is_stored_without_an_upload(client, cadre, visit):  # noqa: F811
    data = unique_jpeg(160, 120)
    send(client, cadre, visit, data)
    later = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), data, photo_id=later)["status"] == "applied"
    got = photo(client, cadre.headers, later)
    assert (got["status"], got["width"], got["height"], got["mime"]) == ("stored", 160, 120, "image/jpeg")


# --- what is served ---------------------------------------------------------------------

@pytest.mark.fixtures
@pytest.mark.parametrize(("variant", "size"), [("thumb", (240, 320)), ("display", (1200, 1600))])
def test_thumb_and_display_are_upright_jpegs_without_exif_or_xmp(client, cadre, visit, variant, size):  # noqa: F811
    original = fixture_photo("canon_hdr_NO.jpg")  # stored 2048×1536, orientation 6, with EXIF and XMP
    assert EXIF_APP1 in original and XMP in original
    photo_id = send(client, cadre, visit, original)
    response = client.get(f"/api/photos/{photo_id}/{variant}", headers=cadre.headers)
    assert image_of(response).size == size
    assert response.data[:3] == b"\xff\xd8\xff"
    assert EXIF_APP1 not in response.data and XMP not in response.data


@pytest.mark.fixtures
def test_the_display_copy_of_a_turned_photo_shows_it_upright(client, cadre, visit):  # noqa: F811
    original = fixture_photo("landscape_8.jpg")  # stored 450×600, orientation 8
    photo_id = send(client, cadre, visit, original)
    shown = image_of(client.get(f"/api/photos/{photo_id}/display", headers=cadre.headers)).convert("L")
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(original))).convert("L")
    assert shown.size == upright.size == (600, 450)
    assert ImageStat.Stat(ImageChops.difference(shown, upright)).mean[0] < 5
