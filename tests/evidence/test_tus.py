"""The tus 1.0 server at /api/uploads, as a resumable-upload client sees it (https://tus.io/protocols/resumable-upload).

Core protocol plus creation, creation-with-upload, expiration, checksum and termination;
every answer is checked for Tus-Resumable, and scope is the photo's area.
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select, update

from backend.evidence import uploads
from backend.evidence.models import Upload
from backend.storage import get_storage
from tests.evidence.conftest import (
    TUS,
    attach,
    checksum,
    metadata,
    new_visit,
    photo,
    send_chunk,
    sha256,
    start_upload,
)
from tests.sync.conftest import cadre, device  # noqa: F401

CHUNK = 4 * 1024
EXTENSIONS = {"creation", "creation-with-upload", "expiration", "checksum", "termination"}


@functools.cache
def jpeg() -> bytes:
    """A small JPEG of a few chunks (made once: building it pixel by pixel is slow)."""
    from tests.evidence.conftest import generated_jpeg

    data = generated_jpeg(320, 240, seed=7)
    assert len(data) > 3 * CHUNK
    return data


def tus(response, status: int):
    """The response, after checking its status and that it speaks tus 1.0.0."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.headers.get("Tus-Resumable") == "1.0.0", dict(response.headers)
    return response


def head(client, headers, location: str):
    return client.head(location, headers={**headers, **TUS})


def upload_id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[-1]


def chunk_keys(location: str) -> list[str]:
    return get_storage().keys(f"uploads/{upload_id(location)}/")


@pytest.fixture
def attached(client, cadre):  # noqa: F811
    """A V1 cadre's visit with a photo attached and waiting for its bytes: (photo_id, data)."""
    visit_id = new_visit(client, cadre)
    result = attach(client, cadre, visit_id, jpeg())
    assert result["status"] == "applied", result
    return result["record_id"], jpeg()


@pytest.fixture
def started(client, cadre, attached):  # noqa: F811
    """An upload of the attached photo, created with nothing sent: its Location."""
    photo_id, data = attached
    return tus(start_upload(client, cadre.headers, photo_id, data), 201).headers["Location"]


# --- discovery and version ----------------------------------------------------------

def test_options_advertises_version_extensions_max_size_and_checksums(client, app):
    response = tus(client.options("/api/uploads"), 204)
    assert response.headers["Tus-Version"] == "1.0.0"
    assert set(response.headers["Tus-Extension"].split(",")) == EXTENSIONS
    assert int(response.headers["Tus-Max-Size"]) == app.config["PHOTO_MAX_BYTES"]
    assert set(response.headers["Tus-Checksum-Algorithm"].split(",")) == {"sha1", "sha256"}


@pytest.mark.parametrize("method", ["post", "head", "patch", "delete"])
def test_request_without_tus_resumable_is_412_with_tus_version(client, cadre, started, method):  # noqa: F811
    url = "/api/uploads" if method == "post" else started
    response = tus(getattr(client, method)(url, headers=cadre.headers), 412)
    assert response.headers["Tus-Version"] == "1.0.0"
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"


# --- creation -----------------------------------------------------------------------

def start_with_body(client, headers, photo_id, data, *, body: bytes, **extra):
    return client.post("/api/uploads", data=body, headers={
        **headers, **TUS, "Upload-Length": str(len(data)), "Content-Type": "application/offset+octet-stream",
        "Upload-Metadata": metadata(photo_id=photo_id, sha256=sha256(data)), **extra})


def test_creation_gives_a_location_whose_head_shows_offset_zero(client, app, cadre, attached):  # noqa: F811
    photo_id, data = attached
    created = tus(start_upload(client, cadre.headers, photo_id, data), 201)
    location = created.headers["Location"]
    assert "/api/uploads/" in location

    state = tus(head(client, cadre.headers, location), 200)
    assert state.headers["Upload-Offset"] == "0"
    assert state.headers["Upload-Length"] == str(len(data))
    assert state.headers["Cache-Control"] == "no-store"
    expires = parsedate_to_datetime(state.headers["Upload-Expires"])
    lifetime = timedelta(hours=app.config["UPLOAD_EXPIRY_HOURS"])
    assert datetime.now(UTC) < expires <= datetime.now(UTC) + lifetime
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"


def test_creation_with_upload_stores_the_first_chunk_at_once(client, cadre, attached):  # noqa: F811
    photo_id, data = attached
    created = tus(start_with_body(client, cadre.headers, photo_id, data, body=data[:CHUNK]), 201)
    assert created.headers["Upload-Offset"] == str(CHUNK)
    location = created.headers["Location"]
    assert tus(head(client, cadre.headers, location), 200).headers["Upload-Offset"] == str(CHUNK)

    tus(send_chunk(client, cadre.headers, location, CHUNK, data[CHUNK:]), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"


# --- chunks -------------------------------------------------------------------------

def test_chunks_in_order_complete_the_upload_and_store_the_photo(client, cadre, attached, started):  # noqa: F811
    photo_id, data = attached
    for offset in range(0, len(data), CHUNK):
        sent = tus(send_chunk(client, cadre.headers, started, offset, data[offset:offset + CHUNK]), 204)
        assert sent.headers["Upload-Offset"] == str(min(offset + CHUNK, len(data)))
        if offset + CHUNK < len(data):
            assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"

    stored = photo(client, cadre.headers, photo_id)
    assert stored["status"] == "stored"
    assert (stored["width"], stored["height"], stored["mime"]) == (320, 240, "image/jpeg")
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(len(data))
    assert chunk_keys(started) == []


def test_chunk_at_the_wrong_offset_is_409_and_changes_nothing(client, cadre, attached, started):  # noqa: F811
    _photo_id, data = attached
    tus(send_chunk(client, cadre.headers, started, 0, data[:CHUNK]), 204)
    keys = chunk_keys(started)

    for wrong in (0, 2 * CHUNK):
        answer = tus(send_chunk(client, cadre.headers, started, wrong, data[wrong:wrong + CHUNK]), 409)
        assert answer.get_json()["reason"] == "offset_mismatch"

    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(CHUNK)
    assert chunk_keys(started) == keys


def test_chunk_without_the_tus_content_type_is_415(client, cadre, attached, started):  # noqa: F811
    _photo_id, data = attached
    response = client.patch(started, data=data[:CHUNK], headers={
        **cadre.headers, **TUS, "Upload-Offset": "0", "Content-Type": "application/octet-stream"})
    tus(response, 415)
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_chunk_with_a_right_checksum_is_accepted(client, cadre, attached, started, algorithm):  # noqa: F811
    _photo_id, data = attached
    chunk = data[:CHUNK]
    sent = tus(send_chunk(client, cadre.headers, started, 0, chunk, **{"Upload-Checksum": checksum(chunk, algorithm)}),
               204)
    assert sent.headers["Upload-Offset"] == str(CHUNK)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_chunk_with_a_wrong_checksum_is_460_and_discarded(client, cadre, attached, started, algorithm):  # noqa: F811
    photo_id, data = attached
    tus(send_chunk(client, cadre.headers, started, 0, data[:CHUNK]), 204)
    keys = chunk_keys(started)
    chunk = data[CHUNK:2 * CHUNK]
    damaged = chunk[:-1] + bytes([chunk[-1] ^ 0xFF])

    answer = tus(send_chunk(client, cadre.headers, started, CHUNK, damaged,
                            **{"Upload-Checksum": checksum(chunk, algorithm)}), 460)
    assert answer.get_json()["reason"] == "checksum_mismatch"
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(CHUNK)
    assert chunk_keys(started) == keys

    tus(send_chunk(client, cadre.headers, started, CHUNK, chunk, **{"Upload-Checksum": checksum(chunk, algorithm)}),
        204)
    tus(send_chunk(client, cadre.headers, started, 2 * CHUNK, data[2 * CHUNK:]), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"


def test_chunk_checksum_with_an_unknown_algorithm_is_400(client, cadre, attached, started):  # noqa: F811
    _photo_id, data = attached
    digest = base64.b64encode(b"\0" * 16).decode()
    tus(send_chunk(client, cadre.headers, started, 0, data[:CHUNK], **{"Upload-Checksum": f"md5 {digest}"}), 400)
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"


# --- who may see an upload ----------------------------------------------------------

def test_unknown_upload_is_404(client, cadre):  # noqa: F811
    unknown = "/api/uploads/" + "0" * 32
    tus(head(client, cadre.headers, unknown), 404)
    tus(send_chunk(client, cadre.headers, unknown, 0, b"x"), 404)
    tus(client.delete(unknown, headers={**cadre.headers, **TUS}), 404)


OUTSIDERS = [("cadre-v2", "V2"), ("cadre-bv", "BV")]  # another village of the county; another county


@pytest.mark.parametrize(("username", "area"), OUTSIDERS, ids=["other-village", "other-county"])
def test_upload_of_a_photo_outside_the_callers_area_is_404(client, tree, cadre, attached, started,  # noqa: F811
                                                           username, area):
    _photo_id, data = attached
    outsider = device(username, getattr(tree, area), "cadre")
    tus(head(client, outsider.headers, started), 404)
    tus(send_chunk(client, outsider.headers, started, 0, data[:CHUNK]), 404)
    tus(client.delete(started, headers={**outsider.headers, **TUS}), 404)

    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"
    assert chunk_keys(started) == []


@pytest.mark.parametrize(("username", "area"), OUTSIDERS, ids=["other-village", "other-county"])
def test_starting_an_upload_for_a_photo_outside_the_callers_area_is_404(client, tree, attached, username, area):
    photo_id, data = attached
    outsider = device(username, getattr(tree, area), "cadre")
    tus(start_upload(client, outsider.headers, photo_id, data), 404)


def test_upload_without_a_token_is_401(client, attached, started):
    photo_id, data = attached
    tus(start_upload(client, {}, photo_id, data), 401)
    tus(head(client, {}, started), 401)
    tus(send_chunk(client, {}, started, 0, data[:CHUNK]), 401)
    tus(client.delete(started, headers=TUS), 401)


# --- what an upload must match ------------------------------------------------------

def test_upload_length_over_the_photo_limit_is_413(client, app, cadre, attached):  # noqa: F811
    photo_id, data = attached
    too_long = str(app.config["PHOTO_MAX_BYTES"] + 1)
    tus(start_upload(client, cadre.headers, photo_id, data, **{"Upload-Length": too_long}), 413)


@pytest.mark.parametrize(("header", "reason"), [("Upload-Length", "length_differs"),
                                                ("Upload-Metadata", "sha256_differs")])
def test_upload_that_differs_from_the_attached_photo_is_409(client, cadre, attached, header, reason):  # noqa: F811
    photo_id, data = attached
    other = {"Upload-Length": str(len(data) + 1),
             "Upload-Metadata": metadata(photo_id=photo_id, sha256=sha256(data + b"x"))}
    answer = tus(start_upload(client, cadre.headers, photo_id, data, **{header: other[header]}), 409)
    assert answer.get_json()["reason"] == reason


@pytest.mark.parametrize("garbled", [
    "",
    "sha256 {sha}",
    "photo_id {pid}",
    "photo_id not-base64!,sha256 {sha}",
    "photo_id {not_uuid},sha256 {sha}",
    "photo_id {pid},sha256 {short}",
], ids=["none", "no-photo-id", "no-sha256", "not-base64", "not-a-uuid", "not-a-sha256"])
def test_missing_or_garbled_metadata_is_400(client, cadre, attached, garbled):  # noqa: F811
    photo_id, data = attached

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    header = garbled.format(pid=b64(photo_id), sha=b64(sha256(data)), not_uuid=b64("visit-12"),
                            short=b64(sha256(data)[:40]))
    tus(start_upload(client, cadre.headers, photo_id, data, **{"Upload-Metadata": header}), 400)


def test_upload_without_upload_length_is_400(client, cadre, attached):  # noqa: F811
    photo_id, data = attached
    response = client.post("/api/uploads", headers={
        **cadre.headers, **TUS, "Upload-Metadata": metadata(photo_id=photo_id, sha256=sha256(data))})
    tus(response, 400)


def test_chunk_past_upload_length_is_refused(client, cadre, attached, started):  # noqa: F811
    photo_id, data = attached
    tus(send_chunk(client, cadre.headers, started, 0, data + b"\0"), 400)
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"


# --- expiration and termination -----------------------------------------------------

def expire(db, location: str) -> None:
    """Move the upload's expiry into the past, as if it had been left alone for a day."""
    db.session.execute(update(Upload).where(Upload.id == upload_id(location))
                       .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    db.session.commit()


def half_sent(client, cadre, attached, started) -> bytes:  # noqa: F811
    _photo_id, data = attached
    tus(send_chunk(client, cadre.headers, started, 0, data[:CHUNK]), 204)
    assert chunk_keys(started) != []
    return data


def test_expired_upload_is_410(client, db, cadre, attached, started):  # noqa: F811
    data = half_sent(client, cadre, attached, started)
    expire(db, started)
    tus(head(client, cadre.headers, started), 410)
    tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:2 * CHUNK]), 410)


def test_expire_old_drops_an_expired_upload_and_its_bytes(client, db, cadre, attached, started):  # noqa: F811
    half_sent(client, cadre, attached, started)
    expire(db, started)

    assert uploads.expire_old() == 1
    db.session.commit()

    assert chunk_keys(started) == []
    assert db.session.scalar(select(Upload).where(Upload.id == upload_id(started))) is None
    tus(head(client, cadre.headers, started), 404)


def test_expire_uploads_command_drops_an_expired_upload_and_its_bytes(client, cli, db, cadre, attached,  # noqa: F811
                                                                       started):
    half_sent(client, cadre, attached, started)
    expire(db, started)

    result = cli.invoke(args=["storage", "expire-uploads"])
    assert result.exit_code == 0, result.output
    assert "Dropped 1 expired uploads." in result.output

    assert chunk_keys(started) == []
    tus(head(client, cadre.headers, started), 404)


def test_expire_old_keeps_uploads_still_in_time(client, db, cadre, attached, started):  # noqa: F811
    half_sent(client, cadre, attached, started)
    assert uploads.expire_old() == 0
    assert chunk_keys(started) != []
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(CHUNK)


def test_terminated_upload_is_gone_with_its_bytes(client, cadre, attached, started):  # noqa: F811
    photo_id, _data = attached
    half_sent(client, cadre, attached, started)

    tus(client.delete(started, headers={**cadre.headers, **TUS}), 204)

    assert chunk_keys(started) == []
    tus(head(client, cadre.headers, started), 404)
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"
