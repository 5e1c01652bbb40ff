"""Bytes by key: a local directory (the default) or an S3-compatible object store.

Keys are relative paths such as ``originals/ab/ab12…``. Originals go in with
``put_once`` (write-once: an existing key is never overwritten); upload chunks and
derivatives with ``put``. Nothing here knows about photos.

The store is not part of the database transaction. A write request that drops objects a
row names registers them with ``delete_after_commit``: they go once the session commits,
and stay if it rolls back, so a failed commit never leaves a row naming missing bytes.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from backend.database import SessionLike

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
PENDING_DELETES = "zoufang_storage_deletes"
log = logging.getLogger(__name__)


class StorageError(RuntimeError):
    """The store did not answer or refused; the request fails with 503 and loses nothing."""


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def put_once(self, key: str, data: bytes) -> bool: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str, *, older_than: datetime | None = None) -> list[str]: ...


def check_key(key: str) -> str:
    if not KEY_PATTERN.match(key) or ".." in key.split("/"):
        raise ValueError(f"bad storage key {key!r}")
    return key


class LocalStorage:
    """Files under one directory. Writes go to a temporary file renamed into place, so a
    reader never sees half a file; ``put_once`` links instead, which fails if the key exists.
    A disk that is full or unwritable raises StorageError."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _temporary(self, path: Path, data: bytes) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            os.replace(self._temporary(path, data), path)
        except OSError as exc:
            raise StorageError(f"photo directory: {exc}") from exc

    def put_once(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        try:
            tmp = self._temporary(path, data)
        except OSError as exc:
            raise StorageError(f"photo directory: {exc}") from exc
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise StorageError(f"photo directory: {exc}") from exc
        finally:
            tmp.unlink()

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None
        except OSError as exc:
            raise StorageError(f"photo directory: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str, *, older_than: datetime | None = None) -> list[str]:
        """Keys inside the folder ``prefix``; with ``older_than``, only those last written before it."""
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return []
        before = older_than.timestamp() if older_than else None
        found = []
        for path in base.rglob("*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            if before is not None and _mtime(path) >= before:
                continue
            found.append(str(path.relative_to(self.root)))
        return sorted(found)


class S3Storage:
    """One bucket of an S3-compatible store (MinIO, Aliyun OSS, AWS S3) through boto3.

    Credentials left unset come from boto3's usual chain (environment, instance role).
    """

    def __init__(self, *, bucket: str, endpoint_url: str | None = None, region: str | None = None,
                 access_key_id: str | None = None, secret_access_key: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                          s3={"addressing_style": "path"}))

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:
            raise StorageError(f"object store: {exc}") from exc

    def ensure_bucket(self) -> bool:
        """Create the bucket when it is missing; True when it was created."""
        from botocore.exceptions import ClientError

        try:
            self._call("head_bucket")
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError(f"object store: {exc}") from exc
        region = self.client.meta.region_name
        # Outside us-east-1, S3 wants the bucket's region named again.
        where = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region not in (None, "us-east-1") \
            else {}
        try:
            self._call("create_bucket", **where)
        except ClientError as exc:
            raise StorageError(f"object store refused to create bucket {self.bucket}: {exc}") from exc
        return True

    def put(self, key: str, data: bytes) -> None:
        self._write(key, data)

    def put_once(self, key: str, data: bytes) -> bool:
        # The key is the content's hash: a racing writer writes the same bytes, so checking
        # first is enough to keep an existing object untouched.
        if self.exists(key):
            return False
        self._write(key, data)
        return True

    def _write(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call("put_object", Key=check_key(key), Body=data)
        except ClientError as exc:
            raise StorageError(f"object store refused {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self._call("get_object", Key=check_key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise KeyError(key) from None
            raise StorageError(f"object store: {exc}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("head_object", Key=check_key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"object store: {exc}") from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call("delete_object", Key=check_key(key))
        except ClientError as exc:
            raise StorageError(f"object store: {exc}") from exc

    def keys(self, prefix: str, *, older_than: datetime | None = None) -> list[str]:
        """Keys inside the folder ``prefix`` (not those of a folder whose name only starts alike);
        with ``older_than``, only those last written before it."""
        from botocore.exceptions import BotoCoreError, ClientError

        folder = check_key(prefix.rstrip("/")) + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        found: list[str] = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=folder):
                found.extend(item["Key"] for item in page.get("Contents", [])
                             if older_than is None or item["LastModified"] < older_than)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"object store: {exc}") from exc
        return sorted(found)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return datetime.now(UTC).timestamp()  # removed meanwhile: not one to sweep


# --- deletions that wait for the commit ----------------------------------------------

def delete_after_commit(session: SessionLike, keys: Iterable[str], *,
                        storage: Storage | None = None) -> None:
    """Delete ``keys`` from the store once ``session`` commits; if it rolls back, they stay.

    A key whose delete fails after the commit is logged and left behind: the bytes are
    unreferenced then, and the sweeps that list by prefix remove them later.
    """
    keys = list(keys)
    if isinstance(session, scoped_session):
        session = session()
    if not keys:
        return
    if not session.in_transaction():
        session.begin()  # so that a rollback, too, ends a transaction this registration belongs to
    # The innermost transaction: a savepoint that rolls back takes its registrations with it.
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING_DELETES, []).append((transaction, storage or get_storage(), keys))


@event.listens_for(Session, "after_commit")
def _delete_committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction may still roll back
    for _transaction, storage, keys in session.info.pop(PENDING_DELETES, []):
        for key in keys:
            try:
                storage.delete(key)
            except (StorageError, OSError) as exc:
                log.warning("storage_delete_failed: %s: %s", key, exc)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(PENDING_DELETES)
    if pending:
        pending[:] = [entry for entry in pending if not _within(entry[0], previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING_DELETES, None)  # closed without a commit: nothing to delete


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def storage_from_config(config: Any) -> Storage:
    """The store the settings name."""
    if config["STORAGE"] == "s3":
        if not config["S3_BUCKET"]:
            raise ValueError("ZOUFANG_STORAGE=s3 needs ZOUFANG_S3_BUCKET")
        return S3Storage(bucket=config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"],
                         region=config["S3_REGION"], access_key_id=config["S3_ACCESS_KEY_ID"],
                         secret_access_key=config["S3_SECRET_ACCESS_KEY"])
    return LocalStorage(config["STORAGE_DIR"])


def init_app(app: Flask) -> None:
    app.extensions["zoufang_storage"] = storage_from_config(app.config)
    app.register_error_handler(StorageError, _unavailable)


def _unavailable(exc: StorageError):
    from backend.errors import error_body
    from backend.extensions import db

    db.session.rollback()
    current_app.logger.warning("storage_unavailable: %s", exc)
    body = error_body(503, "Photo storage is unavailable; try again shortly.", reason="storage_unavailable")
    return body, 503, {"Retry-After": "10"}


def get_storage() -> Storage:
    return current_app.extensions["zoufang_storage"]
