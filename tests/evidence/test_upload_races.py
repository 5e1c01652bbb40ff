"""Two requests on one upload at the same moment, on PostgreSQL: the upload row is locked while a
chunk is counted, so the second writer at an offset waits, then finds the offset moved and is refused.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from backend.evidence.models import Upload
from backend.extensions import db
from backend.storage import LocalStorage
from tests.evidence.conftest import send_chunk, start_upload
from tests.evidence.test_tus import CHUNK, jpeg, upload_id
from tests.evidence.test_tus_live import Live, cadre_of
from tests.sync.conftest import committing_app  # noqa: F401


@pytest.mark.postgres
def test_two_chunks_sent_at_one_offset_at_once_count_once(committing_app, monkeypatch):  # noqa: F811
    live = Live(committing_app, cadre_of(committing_app))
    data = jpeg()
    photo_id = live.attach_photo(data)
    client = committing_app.test_client()
    created = start_upload(client, live.cadre.headers, photo_id, data)
    assert created.status_code == 201, created.get_data(as_text=True)
    location = created.headers["Location"]
    assert send_chunk(client, live.cadre.headers, location, 0, data[:CHUNK]).status_code == 204

    # A slow store keeps each request between reading the offset and committing the new one,
    # so without the row lock both would count their chunk.
    original_put = LocalStorage.put

    def slow_put(self, key, chunk):
        time.sleep(0.5)
        original_put(self, key, chunk)

    monkeypatch.setattr(LocalStorage, "put", slow_put)
    sizes = [CHUNK, CHUNK // 2]  # two tabs of one author, with different chunk sizes
    start = threading.Barrier(len(sizes))
    answers: dict[int, tuple[int, str | None]] = {}

    def send(size: int) -> None:
        start.wait(timeout=10)
        response = committing_app.test_client().patch(location, data=data[CHUNK:CHUNK + size], headers={
            **live.cadre.headers, "Tus-Resumable": "1.0.0", "Upload-Offset": str(CHUNK),
            "Content-Type": "application/offset+octet-stream"})
        answers[size] = (response.status_code, (response.get_json(silent=True) or {}).get("reason"))

    threads = [threading.Thread(target=send, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    monkeypatch.undo()

    assert sorted(status for status, _reason in answers.values()) == [204, 409], answers
    [winner] = [size for size, (status, _reason) in answers.items() if status == 204]
    [(_status, reason)] = [answer for answer in answers.values() if answer[0] == 409]
    assert reason == "offset_mismatch"
    with committing_app.app_context():
        stored = db.session.scalars(select(Upload).where(Upload.id == upload_id(location))).one()
        assert stored.offset == CHUNK + winner
        assert len(stored.chunks) == 2

    offset = CHUNK + winner
    assert send_chunk(client, live.cadre.headers, location, offset, data[offset:]).status_code == 204
    assert live.photo(photo_id)["status"] == "stored"  # the joined bytes are the photo's
