"""Resumable photo uploads, tus 1.0 (https://tus.io/protocols/resumable-upload).

An upload's state is a database row and its chunks are storage objects
(``uploads/<id>/<offset>``), never process memory: after a restart, or on another app
process, the same upload resumes where it stopped. A chunk is written to storage before
the offset that counts it is committed, so a crash between the two only means the
client sends that chunk again. When the last byte arrives the chunks are joined and
handed to ``evidence.service.ingest``, and removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import delete, select

from backend.errors import AppError, BadRequest, Conflict, NotFound
from backend.evidence import service as evidence_service
from backend.evidence.models import Upload
from backend.extensions import db
from backend.models_base import utcnow
from backend.storage import get_storage

if TYPE_CHECKING:
    from backend.accounts.models import User

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "expiration", "checksum", "termination")
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
SHA256 = re.compile(r"^[0-9a-f]{64}$")
EXPIRE_PER_REQUEST = 20


class ChecksumMismatch(AppError):
    status = 460
    reason = "checksum_mismatch"


class Gone(AppError):
    status = 410
    reason = "upload_expired"


class WrongVersion(AppError):
    status = 412
    reason = "tus_version"


class NotUploadData(AppError):
    status = 415
    reason = "content_type"


class TooLarge(AppError):
    status = 413
    reason = "too_large"


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs."""
    values: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            values[key] = base64.b64decode(encoded.strip(), validate=True).decode() if encoded else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest(f"Upload-Metadata: the value of {key!r} is not base64 of UTF-8 text.",
                             reason="bad_metadata") from None
    return values


def create(*, actor: User, length: int | None, metadata: str, first_chunk: bytes | None,
           checksum: str | None) -> Upload:
    """A new upload of the bytes of a photo that was attached earlier (``photo_id`` and ``sha256`` in metadata)."""
    expire_old(limit=EXPIRE_PER_REQUEST)
    if length is None:
        raise BadRequest("Upload-Length is required (deferred lengths are not supported).", reason="length_required")
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if length > limit:
        raise TooLarge(f"Upload-Length {length} is over the limit of {limit} bytes.")
    values = parse_metadata(metadata)
    try:
        photo_id = uuid.UUID(values.get("photo_id", ""))
    except ValueError:
        raise BadRequest("Upload-Metadata must carry photo_id (the photo's UUID).", reason="bad_metadata") from None
    sha256 = values.get("sha256", "").lower()
    if not SHA256.match(sha256):
        raise BadRequest("Upload-Metadata must carry sha256 (64 hexadecimal digits).", reason="bad_metadata")
    photo = evidence_service.get_photo(actor=actor, photo_id=photo_id)
    if sha256 != photo.sha256:
        raise Conflict(f"This photo was attached with SHA-256 {photo.sha256}, not {sha256}.", reason="sha256_differs")
    if length != photo.bytes:
        raise Conflict(f"This photo was attached with {photo.bytes} bytes, not {length}.", reason="length_differs")
    upload = Upload(id=secrets.token_hex(16), photo_id=photo.id, sha256=sha256, length=length, offset=0,
                    chunks=[], upload_metadata=metadata[:1000], created_by_id=actor.id, created_at=utcnow(),
                    expires_at=_expiry())
    db.session.add(upload)
    db.session.flush()
    if first_chunk:
        upload = append(actor=actor, upload_id=upload.id, offset=0, data=first_chunk, checksum=checksum)
    return upload


def get(*, actor: User, upload_id: str, lock: bool = False) -> Upload:
    """The upload; 404 when unknown or its photo is outside the actor's area, 410 when expired."""
    query = select(Upload).where(Upload.id == upload_id)
    upload = db.session.scalars(query.with_for_update() if lock else query).one_or_none()
    if upload is None:
        raise NotFound("No such upload; start a new one.", reason="upload_unknown")
    evidence_service.get_photo(actor=actor, photo_id=upload.photo_id)
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise Gone("This upload expired and its bytes were dropped; start a new one.")
    return upload


def append(*, actor: User, upload_id: str, offset: int, data: bytes, checksum: str | None) -> Upload:
    """Add a chunk at ``offset``; the last one completes the upload and ingests the photo."""
    _verify_checksum(data, checksum)
    upload = get(actor=actor, upload_id=upload_id, lock=True)
    if offset != upload.offset:
        raise Conflict(f"Upload-Offset {offset} is not where this upload stands ({upload.offset}); "
                       "ask with HEAD and resume from there.", reason="offset_mismatch")
    if upload.offset + len(data) > upload.length:
        raise BadRequest(f"This chunk goes past Upload-Length {upload.length}.", reason="past_length")
    if data:
        key = f"uploads/{upload.id}/{offset:012d}"
        get_storage().put(key, data)
        upload.chunks = [*upload.chunks, key]
        upload.offset += len(data)
        upload.expires_at = _expiry()
    if upload.offset == upload.length and upload.completed_at is None:
        _complete(actor, upload)
    db.session.flush()
    return upload


def _verify_checksum(data: bytes, checksum: str | None) -> None:
    if not checksum:
        return
    algorithm, _, encoded = checksum.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise BadRequest(f"Upload-Checksum algorithm {algorithm!r} is not supported; use sha1 or sha256.",
                         reason="checksum_algorithm")
    try:
        expected = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise BadRequest("Upload-Checksum: the digest is not base64.", reason="checksum_algorithm") from None
    if CHECKSUMS[algorithm](data).digest() != expected:
        raise ChecksumMismatch("The chunk does not match its Upload-Checksum; it was discarded. Send it again.")


def _complete(actor: User, upload: Upload) -> None:
    storage = get_storage()
    data = b"".join(storage.get(key) for key in upload.chunks)
    photo = evidence_service.get_photo(actor=actor, photo_id=upload.photo_id)
    evidence_service.ingest(actor=actor, photo=photo, data=data)
    upload.completed_at = utcnow()
    _drop_chunks(upload)


def terminate(*, actor: User, upload_id: str) -> None:
    """Stop an upload and drop its bytes."""
    upload = get(actor=actor, upload_id=upload_id, lock=True)
    _drop_chunks(upload)
    db.session.delete(upload)
    db.session.flush()


def _drop_chunks(upload: Upload) -> None:
    storage = get_storage()
    for key in upload.chunks:
        storage.delete(key)
    upload.chunks = []


def _expiry() -> datetime:
    return utcnow() + timedelta(hours=current_app.config["UPLOAD_EXPIRY_HOURS"])


def expire_old(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Remove uploads past their expiry (unfinished ones with their bytes); returns how many."""
    query = select(Upload).where(Upload.expires_at <= (now or utcnow())).order_by(Upload.expires_at)
    expired = list(db.session.scalars(query.limit(limit) if limit else query))
    for upload in expired:
        _drop_chunks(upload)
    if expired:
        db.session.execute(delete(Upload).where(Upload.id.in_([upload.id for upload in expired]))
                           .execution_options(synchronize_session=False))
        for upload in expired:
            db.session.expunge(upload)
    return len(expired)

