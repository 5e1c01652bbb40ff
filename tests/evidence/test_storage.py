"""Photo storage: the local directory and the S3 backend keep one contract.

The S3 backend is tested against moto's standalone S3 server (``moto.server.ThreadedMotoServer``),
started by these tests on a free port of 127.0.0.1: a real HTTP S3 endpoint that boto3 reaches
over the network, standing in for MinIO, Aliyun OSS or AWS S3, none of which can run here.
Dummy credentials go only through the ``S3Storage`` arguments and the app's ``S3_*`` settings.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import flask_migrate
import pytest
from flask import Flask
from moto.server import ThreadedMotoServer

from backend import create_app
from backend.accounts import service as accounts_service
from backend.areas import service as areas_service
from backend.extensions import db
from backend.storage import LocalStorage, S3Storage
from tests.evidence.conftest import (
    attach,
    generated_jpeg,
    new_visit,
    photo,
    send_chunk,
    sha256,
    start_upload,
    upload,
)
from tests.factories import bearer
from tests.sync.conftest import COUNTY, TOWNSHIP, VILLAGE, Device

REGION = "us-east-1"
KEYS = {"access_key_id": "test", "secret_access_key": "test"}
BAD_KEYS = ["../x", "/abs", "", "a/../b", "a//b", "a/"]


# --- the S3 endpoint ---------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port; its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def new_bucket() -> str:
    return f"zoufang-{uuid.uuid4().hex[:12]}"


def s3_storage(endpoint: str, bucket: str, region: str = REGION) -> S3Storage:
    return S3Storage(bucket=bucket, endpoint_url=endpoint, region=region, **KEYS)


def bucket_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    """Every object of the bucket, read with a boto3 client of our own (not the code under test)."""
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                          aws_secret_access_key="test")
    listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed}


def bucket_exists(endpoint: str, bucket: str, region: str = REGION) -> bool:
    client = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id="test",
                          aws_secret_access_key="test")
    return bucket in {found["Name"] for found in client.list_buckets()["Buckets"]}


def closed_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- one contract, two backends ----------------------------------------------------

@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, s3_endpoint):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    store = s3_storage(s3_endpoint, new_bucket())
    store.ensure_bucket()
    return store


def test_put_then_get_returns_the_same_bytes(storage):
    data = bytes(range(256)) * 10
    storage.put("originals/ab/abcdef", data)
    assert storage.get("originals/ab/abcdef") == data


def test_put_again_replaces_the_bytes(storage):
    storage.put("display/ab/abcdef.jpg", b"first")
    storage.put("display/ab/abcdef.jpg", b"second")
    assert storage.get("display/ab/abcdef.jpg") == b"second"


def test_get_of_a_missing_key_raises_key_error(storage):
    with pytest.raises(KeyError):
        storage.get("originals/no/such-key")


def test_exists_tells_whether_a_key_is_held(storage):
    assert not storage.exists("thumb/ab/abc.jpg")
    storage.put("thumb/ab/abc.jpg", b"x")
    assert storage.exists("thumb/ab/abc.jpg")


def test_put_once_writes_a_new_key(storage):
    assert storage.put_once("original/ab/abc", b"evidence") is True
    assert storage.get("original/ab/abc") == b"evidence"


def test_put_once_never_overwrites(storage):
    storage.put_once("original/ab/abc", b"first bytes")
    assert storage.put_once("original/ab/abc", b"other bytes") is False
    assert storage.get("original/ab/abc") == b"first bytes"


def test_delete_removes_a_key(storage):
    storage.put("uploads/u1/000000000000", b"chunk")
    storage.delete("uploads/u1/000000000000")
    assert not storage.exists("uploads/u1/000000000000")
    with pytest.raises(KeyError):
        storage.get("uploads/u1/000000000000")


def test_delete_of_a_missing_key_is_fine(storage):
    storage.delete("uploads/none/000000000000")
    assert not storage.exists("uploads/none/000000000000")


def test_keys_lists_only_what_is_under_the_prefix_sorted(storage):
    for key in ("uploads/u1/000000000200", "uploads/u1/000000000000", "uploads/u1/000000000100",
                "uploads/u2/000000000000", "original/ab/abc"):
        storage.put(key, b"x")
    assert storage.keys("uploads/u1/") == ["uploads/u1/000000000000", "uploads/u1/000000000100",
                                           "uploads/u1/000000000200"]
    assert storage.keys("uploads/") == ["uploads/u1/000000000000", "uploads/u1/000000000100",
                                        "uploads/u1/000000000200", "uploads/u2/000000000000"]


def test_keys_of_a_folder_leaves_out_folders_that_only_start_alike(storage):
    # Keys are paths: the prefix "uploads/u1" is the folder u1, not u10 beside it.
    storage.put("uploads/u1/000000000000", b"x")
    storage.put("uploads/u10/000000000000", b"y")
    assert storage.keys("uploads/u1") == ["uploads/u1/000000000000"]


def test_keys_of_an_empty_prefix_folder_is_empty(storage):
    storage.put("original/ab/abc", b"x")
    assert storage.keys("uploads/") == []


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("operation", ["put", "put_once", "get", "exists", "delete"])
def test_bad_keys_are_refused(storage, operation, key):
    arguments: tuple[Any, ...] = (key, b"x") if operation in ("put", "put_once") else (key,)
    with pytest.raises(ValueError):
        getattr(storage, operation)(*arguments)


def test_local_storage_writes_nothing_outside_its_directory(tmp_path):
    store = LocalStorage(tmp_path / "store")
    for key in ("../outside", "/tmp/outside"):
        with pytest.raises(ValueError):
            store.put(key, b"x")
    assert sorted(path.name for path in tmp_path.iterdir()) == []


# --- the bucket --------------------------------------------------------------------

def test_ensure_bucket_creates_a_missing_bucket_then_finds_it(s3_endpoint):
    bucket = new_bucket()
    store = s3_storage(s3_endpoint, bucket)
    assert not bucket_exists(s3_endpoint, bucket)
    assert store.ensure_bucket() is True
    assert bucket_exists(s3_endpoint, bucket)
    assert store.ensure_bucket() is False


def test_ensure_bucket_creates_a_bucket_outside_us_east_1(s3_endpoint):
    # An AWS China region: S3 wants the bucket's LocationConstraint there.
    bucket = new_bucket()
    store = s3_storage(s3_endpoint, bucket, region="cn-north-1")
    assert store.ensure_bucket() is True
    assert bucket_exists(s3_endpoint, bucket, region="cn-north-1")


# --- `zoufang storage check` -------------------------------------------------------

def test_storage_check_on_local_storage_says_it_works(app, cli):
    result = cli.invoke(args=["storage", "check"])
    assert result.exit_code == 0, result.output
    assert "Photo storage answers" in result.output
    assert not (Path(app.config["STORAGE_DIR"]) / ".check").exists()


def storage_check(app: Flask):
    """`zoufang storage check`, in the app context the `zoufang` command gives its subcommands."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["storage", "check"])


def s3_settings(endpoint: str, bucket: str) -> dict[str, str]:
    return {"STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": endpoint, "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}


@pytest.fixture
def storage_app(tmp_path) -> Iterator[Any]:
    """Builds apps on a scratch SQLite file (the storage check never reads the database); disposes them."""
    apps: list[Flask] = []

    def build(**settings: str) -> Flask:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'check.sqlite3'}",
                          "INSTANCE_DIR": str(tmp_path / "instance"), **settings})
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_storage_check_creates_the_s3_bucket_and_then_finds_it(storage_app, s3_endpoint):
    bucket = new_bucket()
    app = storage_app(**s3_settings(s3_endpoint, bucket))
    first = storage_check(app)
    assert first.exit_code == 0, first.output
    assert f"S3 bucket {bucket}: created" in first.output
    assert "Photo storage answers" in first.output
    assert bucket_exists(s3_endpoint, bucket)
    assert bucket_objects(s3_endpoint, bucket) == {}  # the probe object is gone
    second = storage_check(app)
    assert second.exit_code == 0, second.output
    assert f"S3 bucket {bucket}: present" in second.output


def test_storage_check_with_an_endpoint_that_does_not_answer_fails_readably(storage_app):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    result = storage_check(storage_app(**s3_settings(endpoint, new_bucket())))
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception  # a message, not a traceback
    assert "Photo storage does not work" in result.output
    assert endpoint in result.output


def test_storage_check_with_a_bucket_name_the_store_refuses_fails_readably(storage_app, s3_endpoint):
    # S3 bucket names have 3 to 63 characters; the store answers CreateBucket with InvalidBucketName.
    result = storage_check(storage_app(**s3_settings(s3_endpoint, "zf")))
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # a message, not a traceback
    assert "Photo storage does not work" in result.output


# --- the whole photo path on S3 ----------------------------------------------------

@dataclass
class S3App:
    app: Flask
    endpoint: str
    bucket: str
    cadre: Device


def committing_s3_app(database_url: str, instance: Path, endpoint: str, bucket: str) -> S3App:
    """A migrated app whose requests commit, storing photos in ``bucket``; a V1 cadre on a phone."""
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_DIR": str(instance),
                      **s3_settings(endpoint, bucket)})
    with app.app_context():
        flask_migrate.upgrade()
        for code, level, parent in ((COUNTY, "county", None), (TOWNSHIP, "township", COUNTY),
                                    (VILLAGE, "village", TOWNSHIP)):
            areas_service.create_area(actor=None, code=code, name=code, level=level, parent_code=parent)
        user = accounts_service.create_user(actor=None, username="cadre", password="a-long-password",
                                            roles=["cadre"], area_code=VILLAGE)
        token, _device = accounts_service.issue_token(user, "phone")
        db.session.commit()
    return S3App(app, endpoint, bucket, Device(user, bearer(token)))


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def s3_app(empty_database_url, tmp_path, s3_endpoint) -> Iterator[S3App]:
    built = committing_s3_app(empty_database_url, tmp_path, s3_endpoint, new_bucket())
    yield built
    dispose(built.app)


@pytest.fixture
def s3_down_app(empty_database_url, tmp_path) -> Iterator[S3App]:
    """The same, with an object store that does not answer."""
    built = committing_s3_app(empty_database_url, tmp_path, f"http://127.0.0.1:{closed_port()}", new_bucket())
    yield built
    dispose(built.app)


def stored_photo(s3: S3App, data: bytes) -> str:
    """`zoufang storage check`, then a visit, a photo attached by sync and uploaded by tus; the photo's id."""
    check = storage_check(s3.app)
    assert check.exit_code == 0, check.output
    assert f"S3 bucket {s3.bucket}: created" in check.output
    client = s3.app.test_client()
    visit_id = new_visit(client, s3.cadre)
    photo_id = str(uuid.uuid4())
    assert attach(client, s3.cadre, visit_id, data, photo_id=photo_id)["status"] == "applied"
    upload(client, s3.cadre.headers, photo_id, data, chunk_size=16 * 1024)
    return photo_id


def test_a_photo_uploaded_by_tus_lands_in_the_bucket(s3_app):
    data = generated_jpeg(800, 600, seed=3)
    assert len(data) > 3 * 16 * 1024  # several chunks
    photo_id = stored_photo(s3_app, data)

    assert photo(s3_app.app.test_client(), s3_app.cadre.headers, photo_id)["status"] == "stored"
    digest = sha256(data)
    objects = bucket_objects(s3_app.endpoint, s3_app.bucket)
    assert sorted(objects) == [f"display/{digest[:2]}/{digest}.jpg", f"original/{digest[:2]}/{digest}",
                               f"thumb/{digest[:2]}/{digest}.jpg"]  # and no uploads/ chunk left
    assert objects[f"original/{digest[:2]}/{digest}"] == data
    for variant in ("display", "thumb"):
        assert objects[f"{variant}/{digest[:2]}/{digest}.jpg"].startswith(b"\xff\xd8\xff")


def test_a_photo_stored_in_s3_writes_nothing_to_the_local_storage_dir(s3_app):
    stored_photo(s3_app, generated_jpeg(seed=4))
    local = Path(s3_app.app.config["STORAGE_DIR"])
    assert not local.exists() or not any(local.rglob("*"))


def test_the_thumb_of_a_photo_stored_in_s3_is_served(s3_app):
    data = generated_jpeg(seed=5)
    photo_id = stored_photo(s3_app, data)
    response = s3_app.app.test_client().get(f"/api/photos/{photo_id}/thumb", headers=s3_app.cadre.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/jpeg"
    digest = sha256(data)
    assert response.data == bucket_objects(s3_app.endpoint, s3_app.bucket)[f"thumb/{digest[:2]}/{digest}.jpg"]


def test_a_chunk_sent_while_the_object_store_is_down_is_a_503_and_the_upload_resumes_from_where_it_was(s3_down_app):
    """The store comes up, goes down mid-upload and comes back: the upload goes on from its offset.

    moto keeps its buckets in this process, so a server started again on the same port is
    the same store back from an outage, with the first chunk still in it.
    """
    app, cadre = s3_down_app.app, s3_down_app.cadre
    port = urlsplit(app.config["S3_ENDPOINT_URL"]).port
    client = app.test_client()
    tus = {**cadre.headers, "Tus-Resumable": "1.0.0"}
    data = generated_jpeg(800, 600, seed=6)
    half = len(data) // 2
    photo_id = str(uuid.uuid4())
    assert attach(client, cadre, new_visit(client, cadre), data, photo_id=photo_id)["status"] == "applied"

    store = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    store.start()
    try:
        assert storage_check(app).exit_code == 0
        created = start_upload(client, cadre.headers, photo_id, data)
        assert created.status_code == 201, created.get_data(as_text=True)
        location = created.headers["Location"]
        first = send_chunk(client, cadre.headers, location, 0, data[:half])
        assert first.status_code == 204, first.get_data(as_text=True)
    finally:
        store.stop()

    down = send_chunk(client, cadre.headers, location, half, data[half:])
    assert down.status_code == 503, down.get_data(as_text=True)
    assert down.get_json()["reason"] == "storage_unavailable"
    assert down.headers["Retry-After"]
    assert client.head(location, headers=tus).headers["Upload-Offset"] == str(half)
    assert photo(client, cadre.headers, photo_id)["status"] != "stored"

    store = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    store.start()
    try:
        offset = int(client.head(location, headers=tus).headers["Upload-Offset"])
        assert offset == half
        rest = send_chunk(client, cadre.headers, location, offset, data[offset:])
        assert rest.status_code == 204, rest.get_data(as_text=True)

        assert photo(client, cadre.headers, photo_id)["status"] == "stored"
        digest = sha256(data)
        original = bucket_objects(f"http://127.0.0.1:{port}", s3_down_app.bucket)[f"original/{digest[:2]}/{digest}"]
        assert sha256(original) == digest
    finally:
        store.stop()
