"""A photo's bytes are its author's to send: who may start, see, continue and stop an upload,
and what bytes that are not the photo's do (fail the upload, never the photo).
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from backend.evidence.models import Blob, Upload
from backend.evidence.service import storage_key
from backend.storage import get_storage
from tests.evidence.conftest import TUS, attach, metadata, new_visit, photo, send_chunk, sha256, start_upload
from tests.evidence.test_tus import CHUNK, chunk_keys, head, jpeg, start_with_body, tus, upload_id
from tests.sync.conftest import cadre, device, supervisor  # noqa: F401


@pytest.fixture
def attached(client, cadre):  # noqa: F811
    """A V1 cadre's visit with a photo attached and waiting for its bytes: (photo_id, data)."""
    result = attach(client, cadre, new_visit(client, cadre), jpeg())
    assert result["status"] == "applied", result
    return result["record_id"], jpeg()


@pytest.fixture
def colleague(tree):
    """Another cadre of the same village: the photo is in their area, the visit is not theirs."""
    return device("cadre-v1-b", tree.V1, "cadre")


@pytest.fixture
def started(client, cadre, attached):  # noqa: F811
    photo_id, data = attached
    location = tus(start_upload(client, cadre.headers, photo_id, data), 201).headers["Location"]
    tus(send_chunk(client, cadre.headers, location, 0, data[:CHUNK]), 204)
    return location


def wrong_bytes(data: bytes) -> bytes:
    """The same length, one byte changed in the middle."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


def uploads_of(db, photo_id: str) -> list[Upload]:
    return list(db.session.scalars(select(Upload).where(Upload.photo_id == uuid.UUID(photo_id))))


def blob_count(db, data: bytes) -> int:
    return len(db.session.scalars(select(Blob).where(Blob.sha256 == sha256(data))).all())


# --- starting an upload ---------------------------------------------------------------

@pytest.mark.parametrize("who", ["colleague", "supervisor"])
def test_only_the_author_of_the_photos_record_may_start_its_upload(client, db, request, attached, who):
    photo_id, data = attached
    other = request.getfixturevalue(who)
    held = get_storage().keys("uploads/")
    # The photo is in their area: they see it, so the refusal says why.
    assert photo(client, other.headers, photo_id)["status"] == "awaiting_upload"

    refused = tus(start_upload(client, other.headers, photo_id, data), 403)
    assert refused.get_json()["reason"] == "not_author"
    refused = tus(start_with_body(client, other.headers, photo_id, data, body=wrong_bytes(data)), 403)
    assert refused.get_json()["reason"] == "not_author"

    assert photo(client, other.headers, photo_id)["status"] == "awaiting_upload"
    assert uploads_of(db, photo_id) == []
    assert get_storage().keys("uploads/") == held


def test_a_colleague_cannot_spoil_a_waiting_photo_with_wrong_bytes_of_the_right_length(client, db, cadre,  # noqa: F811
                                                                                      colleague, attached):
    photo_id, data = attached
    answer = client.post("/api/uploads", data=wrong_bytes(data), headers={
        **colleague.headers, **TUS, "Upload-Length": str(len(data)), "Content-Type": "application/offset+octet-stream",
        "Upload-Metadata": metadata(photo_id=photo_id, sha256=sha256(data))})
    tus(answer, 403)

    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"
    location = tus(start_upload(client, cadre.headers, photo_id, data), 201).headers["Location"]
    tus(send_chunk(client, cadre.headers, location, 0, data), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"


# --- someone else's upload URL --------------------------------------------------------

@pytest.mark.parametrize("who", ["colleague", "supervisor"])
def test_someone_elses_upload_answers_exactly_like_an_unknown_one(client, request, cadre, attached,  # noqa: F811
                                                                 started, who):
    _photo_id, data = attached
    other = request.getfixturevalue(who)
    unknown = "/api/uploads/" + "0" * 32

    for method, send in [
        ("HEAD", lambda url: head(client, other.headers, url)),
        ("PATCH", lambda url: send_chunk(client, other.headers, url, CHUNK, data[CHUNK:2 * CHUNK])),
        ("DELETE", lambda url: client.delete(url, headers={**other.headers, **TUS})),
    ]:
        theirs, nobodys = send(started), send(unknown)
        assert (method, theirs.status_code) == (method, 404)
        assert theirs.get_data() == nobodys.get_data()
        assert "Upload-Offset" not in theirs.headers

    state = tus(head(client, cadre.headers, started), 200)
    assert state.headers["Upload-Offset"] == str(CHUNK)
    assert len(chunk_keys(started)) == 1


def test_a_colleagues_wrong_last_chunk_on_the_authors_upload_changes_nothing(client, cadre, colleague,  # noqa: F811
                                                                             attached, started):
    photo_id, data = attached
    tus(send_chunk(client, colleague.headers, started, CHUNK, wrong_bytes(data)[CHUNK:]), 404)

    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"
    tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:]), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"


# --- bytes that are not the photo's ---------------------------------------------------

def test_a_file_that_is_not_the_photos_fails_the_upload_and_leaves_the_photo_waiting(client, db, cadre,  # noqa: F811
                                                                                    attached, started):
    photo_id, data = attached
    sent = wrong_bytes(data)
    answer = tus(send_chunk(client, cadre.headers, started, CHUNK, sent[CHUNK:]), 460)
    body = answer.get_json()
    assert body["reason"] == "sha256_mismatch"
    assert sha256(sent) in body["message"]

    got = photo(client, cadre.headers, photo_id)
    assert (got["status"], got["rejected_reason"], got["version"]) == ("awaiting_upload", None, 1)
    # The upload is back at byte 0 with nothing held: the author sends the file again.
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"
    assert chunk_keys(started) == []
    assert not get_storage().exists(storage_key("original", sha256(sent)))
    assert blob_count(db, sent) == 0

    for offset in range(0, len(data), CHUNK):
        tus(send_chunk(client, cadre.headers, started, offset, data[offset:offset + CHUNK]), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"
    assert chunk_keys(started) == []


def test_a_whole_wrong_file_sent_with_the_creation_fails_and_leaves_the_photo_waiting(client, db, cadre,  # noqa: F811
                                                                                     attached):
    photo_id, data = attached
    answer = tus(start_with_body(client, cadre.headers, photo_id, data, body=wrong_bytes(data)), 460)
    assert answer.get_json()["reason"] == "sha256_mismatch"
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"
    [upload] = uploads_of(db, photo_id)
    assert (upload.offset, upload.chunks) == (0, [])
    assert get_storage().keys(f"uploads/{upload.id}/") == []


def test_an_upload_whose_chunk_is_missing_starts_again_instead_of_failing(client, cadre, attached,  # noqa: F811
                                                                         started):
    photo_id, data = attached
    for key in chunk_keys(started):
        get_storage().delete(key)

    answer = tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:]), 409)
    assert answer.get_json()["reason"] == "upload_restarted"
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == "0"
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"

    tus(send_chunk(client, cadre.headers, started, 0, data), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"
    assert get_storage().keys(f"uploads/{upload_id(started)}/") == []
