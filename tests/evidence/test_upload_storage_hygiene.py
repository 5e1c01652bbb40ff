"""Upload chunks and the transaction: nothing a committed row names is deleted before the commit,
and nothing a failed commit leaves behind stays for ever. On the local directory and on S3 (moto).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from backend.evidence import uploads
from backend.evidence.models import Upload
from backend.extensions import db as _db
from backend.models_base import utcnow
from backend.storage import LocalStorage, delete_after_commit, get_storage
from tests.evidence.conftest import attach, new_visit, photo, send_chunk, start_upload
from tests.evidence.test_storage import bucket_objects, s3_app, s3_endpoint, storage  # noqa: F401
from tests.evidence.test_tus import CHUNK, chunk_keys, head, jpeg, start_with_body, tus, upload_id
from tests.sync.conftest import cadre  # noqa: F401


@contextmanager
def failing_commit(monkeypatch) -> Iterator[None]:
    """The database refuses the next commit (after the flush, as a full disk or a lost connection would)."""
    def commit() -> None:
        _db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("could not write to the database"))

    with monkeypatch.context() as patch:
        patch.setattr(_db.session, "commit", commit)
        yield


def age(path_keys: list[str], root: str, hours: float) -> None:
    """Make the local objects look ``hours`` old."""
    then = time.time() - hours * 3600
    for key in path_keys:
        os.utime(os.path.join(root, key), (then, then))


@pytest.fixture
def attached(client, cadre):  # noqa: F811
    result = attach(client, cadre, new_visit(client, cadre), jpeg())
    assert result["status"] == "applied", result
    return result["record_id"], jpeg()


@pytest.fixture
def started(client, cadre, attached):  # noqa: F811
    photo_id, data = attached
    location = tus(start_upload(client, cadre.headers, photo_id, data), 201).headers["Location"]
    tus(send_chunk(client, cadre.headers, location, 0, data[:CHUNK]), 204)
    return location


# --- deletions wait for the commit ----------------------------------------------------

@pytest.fixture
def store(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def test_keys_registered_for_deletion_go_when_the_session_commits(db, store):
    store.put("uploads/u1/000000000000-aa", b"x")
    delete_after_commit(db.session, ["uploads/u1/000000000000-aa"], storage=store)
    assert store.exists("uploads/u1/000000000000-aa")
    db.session.commit()
    assert not store.exists("uploads/u1/000000000000-aa")


def test_keys_registered_for_deletion_stay_when_the_session_rolls_back(db, store):
    store.put("uploads/u1/000000000000-aa", b"x")
    delete_after_commit(db.session, ["uploads/u1/000000000000-aa"], storage=store)
    db.session.rollback()
    db.session.commit()
    assert store.exists("uploads/u1/000000000000-aa")


def test_a_savepoint_defers_its_deletions_to_the_outer_commit_and_drops_them_if_it_rolls_back(db, store):
    for key in ("uploads/kept/0-a", "uploads/gone/0-a"):
        store.put(key, b"x")
    with db.session.begin_nested():
        delete_after_commit(db.session, ["uploads/gone/0-a"], storage=store)
    assert store.exists("uploads/gone/0-a")  # released, not committed
    savepoint = db.session.begin_nested()
    delete_after_commit(db.session, ["uploads/kept/0-a"], storage=store)
    savepoint.rollback()
    db.session.commit()
    assert (store.exists("uploads/gone/0-a"), store.exists("uploads/kept/0-a")) == (False, True)


# --- a commit that fails ---------------------------------------------------------------

def test_a_failed_commit_of_the_last_chunk_keeps_the_upload_whole_and_the_retry_completes(client, monkeypatch,
                                                                                         cadre, attached,  # noqa: F811
                                                                                         started):
    photo_id, data = attached
    with failing_commit(monkeypatch):
        tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:]), 503)

    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(CHUNK)
    assert photo(client, cadre.headers, photo_id)["status"] == "awaiting_upload"
    # The first chunk, which the committed row names, is still held.
    [upload] = _db.session.scalars(select(Upload).where(Upload.id == upload_id(started))).all()
    assert all(get_storage().exists(key) for key in upload.chunks) and len(upload.chunks) == 1

    tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:]), 204)
    assert photo(client, cadre.headers, photo_id)["status"] == "stored"
    assert chunk_keys(started) == []  # the failed request's chunk went with the rest


def test_a_chunk_written_before_a_failed_commit_goes_when_the_upload_is_terminated(client, monkeypatch,
                                                                                  cadre, attached,  # noqa: F811
                                                                                  started):
    _photo_id, data = attached
    with failing_commit(monkeypatch):
        tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:2 * CHUNK]), 503)
    assert len(chunk_keys(started)) == 2  # one named by the row, one by nothing

    tus(client.delete(started, headers={**cadre.headers, "Tus-Resumable": "1.0.0"}), 204)
    assert chunk_keys(started) == []


def test_a_chunk_written_before_a_failed_commit_goes_when_the_upload_expires(client, db, monkeypatch,
                                                                            cadre, attached, started):  # noqa: F811
    _photo_id, data = attached
    with failing_commit(monkeypatch):
        tus(send_chunk(client, cadre.headers, started, CHUNK, data[CHUNK:2 * CHUNK]), 503)
    assert len(chunk_keys(started)) == 2

    assert uploads.expire_old(now=utcnow() + timedelta(days=2)) >= 1
    db.session.commit()
    assert chunk_keys(started) == []


def test_chunks_whose_upload_never_committed_are_swept_once_older_than_the_expiry(app, client, cli, monkeypatch,
                                                                                 cadre, attached,  # noqa: F811
                                                                                 started):
    photo_id, data = attached
    with failing_commit(monkeypatch):
        tus(start_with_body(client, cadre.headers, photo_id, data, body=data[:CHUNK]), 503)
    live = set(_db.session.scalars(select(Upload.id)))
    orphans = [key for key in get_storage().keys("uploads/") if key.split("/")[1] not in live]
    assert len(orphans) == 1
    root = app.config["STORAGE_DIR"]

    def sweep() -> None:
        result = cli.invoke(args=["storage", "expire-uploads"])
        assert result.exit_code == 0, result.output

    sweep()
    assert get_storage().exists(orphans[0])  # young: its request might still be committing

    hours = app.config["UPLOAD_EXPIRY_HOURS"] + 1
    age(orphans, root, hours)
    age(chunk_keys(started), root, hours)  # old bytes of an upload that is still alive
    sweep()
    assert not get_storage().exists(orphans[0])
    assert len(chunk_keys(started)) == 1
    assert tus(head(client, cadre.headers, started), 200).headers["Upload-Offset"] == str(CHUNK)


# --- the same on S3 ------------------------------------------------------------------

def test_keys_can_be_listed_by_age(storage):  # noqa: F811
    storage.put("uploads/u1/000000000000-aa", b"x")
    now = datetime.now(UTC)
    assert storage.keys("uploads/", older_than=now - timedelta(hours=1)) == []
    assert storage.keys("uploads/", older_than=now + timedelta(hours=1)) == ["uploads/u1/000000000000-aa"]


def test_on_s3_a_failed_last_commit_keeps_the_chunks_and_orphans_are_swept(s3_app, monkeypatch):  # noqa: F811
    from tests.evidence.test_storage import storage_check

    assert storage_check(s3_app.app).exit_code == 0
    client = s3_app.app.test_client()
    headers = s3_app.cadre.headers
    data = jpeg()
    photo_id = str(uuid.uuid4())
    assert attach(client, s3_app.cadre, new_visit(client, s3_app.cadre), data, photo_id=photo_id)["status"] \
        == "applied"
    location = tus(start_upload(client, headers, photo_id, data), 201).headers["Location"]
    tus(send_chunk(client, headers, location, 0, data[:CHUNK]), 204)

    with s3_app.app.app_context(), failing_commit(monkeypatch):
        tus(send_chunk(client, headers, location, CHUNK, data[CHUNK:]), 503)
    held = bucket_objects(s3_app.endpoint, s3_app.bucket)
    assert len([key for key in held if key.startswith(f"uploads/{upload_id(location)}/")]) == 2

    with s3_app.app.app_context(), failing_commit(monkeypatch):
        tus(start_with_body(client, headers, photo_id, data, body=data[:CHUNK]), 503)  # a row that never was
    tus(send_chunk(client, headers, location, CHUNK, data[CHUNK:]), 204)
    assert photo(client, headers, photo_id)["status"] == "stored"

    left = [key for key in bucket_objects(s3_app.endpoint, s3_app.bucket) if key.startswith("uploads/")]
    assert len(left) == 1 and upload_id(location) not in left[0]
    with s3_app.app.app_context():
        uploads.expire_old(now=utcnow() + timedelta(hours=s3_app.app.config["UPLOAD_EXPIRY_HOURS"] + 1))
        _db.session.commit()
    assert [key for key in bucket_objects(s3_app.endpoint, s3_app.bucket) if key.startswith("uploads/")] == []
