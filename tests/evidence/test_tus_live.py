"""tus uploads against real servers, where every request commits.

A tus client nobody here wrote (tuspy, from PyPI) uploads a phone photo; an upload
interrupted halfway resumes on a new app instance; two uploads of the same bytes at
once leave one blob (on PostgreSQL: SQLite's single writer would keep them apart anyway).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from tusclient import client as tus_client
from werkzeug.serving import make_server

from backend import create_app
from backend.evidence.models import Blob
from backend.evidence.service import storage_key
from backend.extensions import db
from backend.storage import get_storage
from tests.evidence.conftest import (
    CHUNK,
    PHOTOS,
    TUS,
    attach,
    fixture_photo,
    manifest,
    new_visit,
    photo,
    send_chunk,
    sha256,
    start_upload,
)
from tests.factories import bearer
from tests.sync.conftest import Device, committing_app  # noqa: F401

PHONE_PHOTO = "iphone_hdr_NO.jpg"
pytestmark = pytest.mark.fixtures  # every test here uploads a real phone photo


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on a free port, for as long as the block runs: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def close(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def cadre_of(app: Flask) -> Device:
    """The committing app's V1 cadre, on one phone."""
    return Device(user=None, headers=bearer(app.config["TEST_TOKEN"]))  # type: ignore[arg-type]


@dataclass
class Live:
    """An app (maybe behind a server at ``url``) and the V1 cadre using it."""

    app: Flask
    cadre: Device
    url: str = ""

    def attach_photo(self, data: bytes) -> str:
        """A new visit of the cadre with a photo of ``data`` attached: the photo's id."""
        client = self.app.test_client()
        result = attach(client, self.cadre, new_visit(client, self.cadre), data)
        assert result["status"] == "applied", result
        return result["record_id"]

    def photo(self, photo_id: str) -> dict[str, Any]:
        return photo(self.app.test_client(), self.cadre.headers, photo_id)

    def tus_upload(self, photo_id: str, data: bytes, *, path: str | None = None) -> None:
        """Upload the phone photo with tuspy, 256 KiB a chunk, sha1 checksums on; resume ``path`` if given."""
        client = tus_client.TusClient(f"{self.url}/api/uploads", headers=self.cadre.headers)
        uploader = client.uploader(file_path=str(PHOTOS / PHONE_PHOTO), chunk_size=CHUNK,
                                   url=f"{self.url}{path}" if path else None, upload_checksum=True,
                                   metadata={"photo_id": photo_id, "sha256": sha256(data)})
        uploader.upload()


@pytest.fixture
def live(committing_app) -> Iterator[Live]:  # noqa: F811
    """The committing app (areas, a V1 cadre) served over HTTP."""
    with serving(committing_app) as url:
        yield Live(committing_app, cadre_of(committing_app), url)


def phone_photo() -> tuple[bytes, dict[str, str]]:
    data = fixture_photo(PHONE_PHOTO)
    row = next(row for row in manifest() if row["file"] == PHONE_PHOTO)
    assert data and sha256(data) == row["sha256"]
    return data, row


def test_tuspy_uploads_a_phone_photo_in_256_kib_chunks_and_it_is_stored(live):
    data, row = phone_photo()
    assert len(data) > 4 * CHUNK
    photo_id = live.attach_photo(data)

    live.tus_upload(photo_id, data)

    stored = live.photo(photo_id)
    assert stored["status"] == "stored", stored
    assert (stored["width"], stored["height"]) == (int(row["width"]), int(row["height"]))
    assert stored["exif_lat"] == pytest.approx(float(row["lat"]), abs=1e-5)
    assert stored["exif_lon"] == pytest.approx(float(row["lon"]), abs=1e-5)
    assert stored["exif_alt_m"] == pytest.approx(float(row["alt_m"]), abs=0.01)
    assert (stored["make"], stored["model"]) == (row["make"], row["model"])
    assert stored["exif_taken_at"].startswith(row["datetime_original"].replace(":", "-", 2).replace(" ", "T"))


def test_upload_interrupted_halfway_resumes_on_a_new_app_instance(committing_app, empty_database_url,  # noqa: F811
                                                                  tmp_path):
    data, _row = phone_photo()
    first = Live(committing_app, cadre_of(committing_app))
    photo_id = first.attach_photo(data)
    client = committing_app.test_client()
    created = start_upload(client, first.cadre.headers, photo_id, data)
    assert created.status_code == 201, created.get_data(as_text=True)
    path = urlsplit(created.headers["Location"]).path
    offsets = range(0, len(data), CHUNK)
    half = len(offsets) // 2
    for offset in offsets[:half]:
        sent = send_chunk(client, first.cadre.headers, path, offset, data[offset:offset + CHUNK])
        assert sent.status_code == 204, sent.get_data(as_text=True)
    close(committing_app)  # the first app process is gone

    second = create_app({"DATABASE_URL": empty_database_url, "INSTANCE_DIR": str(tmp_path)})
    try:
        restarted = Live(second, first.cadre)
        state = second.test_client().head(path, headers={**first.cadre.headers, **TUS})
        assert state.status_code == 200
        assert int(state.headers["Upload-Offset"]) == half * CHUNK

        with serving(second) as url:
            restarted.url = url
            restarted.tus_upload(photo_id, data, path=path)  # tuspy asks HEAD for the offset, then sends the rest

        assert restarted.photo(photo_id)["status"] == "stored"
        with second.app_context():
            assert get_storage().get(storage_key("original", sha256(data))) == data
            assert get_storage().keys("uploads/") == []
    finally:
        close(second)


@pytest.mark.postgres
def test_two_uploads_of_the_same_bytes_at_once_keep_one_blob(live):
    data, _row = phone_photo()
    photo_ids = [live.attach_photo(data), live.attach_photo(data)]
    start = threading.Barrier(len(photo_ids))
    failures: list[BaseException] = []

    def upload(photo_id: str) -> None:
        try:
            start.wait(timeout=10)
            live.tus_upload(photo_id, data)
        except BaseException as exc:  # reported by the test thread below
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(photo_id,)) for photo_id in photo_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    assert [live.photo(photo_id)["status"] for photo_id in photo_ids] == ["stored", "stored"]
    with live.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Blob)) == 1
        assert get_storage().keys("original/") == [storage_key("original", sha256(data))]
        assert get_storage().get(storage_key("original", sha256(data))) == data
