"""Resumable photo uploads, tus 1.0 (https://tus.io/protocols/resumable-upload).

An upload's state is a database row and its chunks are storage objects
(``uploads/<id>/<offset>-<random>``), never process memory: after a restart, or on
another app process, the same upload resumes where it stopped. A chunk is written to
storage before the offset that counts it is committed, so a crash between the two only
means the client sends that chunk again; each write has a key of its own, so the chunk
of a request that failed is never mistaken for the one the row names. Objects are
removed by the upload's prefix, and only after the commit that stops naming them.

An upload belongs to the user who created it, who must be the author of the photo's
record. When the last byte arrives the whole file's SHA-256 is checked against the
photo's: bytes that differ fail the upload (it starts again from byte 0) and never
change the photo; bytes that match go to ``evidence.service.ingest``.
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

from backend.errors import AppError, BadRequest, Conflict, Forbidden, NotFound
from backend.evidence import service as evidence_service
from backend.evidence.models import Photo, Upload
from backend.extensions import db
from backend.models_base import utcnow
from backend.records import reads
from backend.storage import delete_after_commit, get_storage

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


class Restarted(AppError):
    """The upload went back to byte 0 and its chunks are dropped; the route commits that before answering."""


class FileMismatch(Restarted):
    # tus's status for bytes that do not match the checksum the client announced; unlike 409,
    # tus clients do not retry it on their own, so a phone does not resend the same bad file at once.
    status = 460
    reason = "sha256_mismatch"


class ChunksLost(Restarted):
    # 409: a tus client asks with HEAD, finds offset 0 and sends the file again on its own.
    status = 409
    reason = "upload_restarted"


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
    _check_author(actor, photo)
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
    """The actor's own upload; 404 when unknown, someone else's or outside the actor's area; 410 when expired."""
    return _load(actor, upload_id, lock=lock)[0]


def _load(actor: User, upload_id: str, *, lock: bool) -> tuple[Upload, Photo]:
    query = select(Upload).where(Upload.id == upload_id)
    upload = db.session.scalars(query.with_for_update() if lock else query).one_or_none()
    # Someone else's upload answers as an unknown one: its URL tells them nothing.
    if upload is None or upload.created_by_id != actor.id:
        raise NotFound("No such upload; start a new one.", reason="upload_unknown")
    photo = evidence_service.get_photo(actor=actor, photo_id=upload.photo_id)
    if upload.completed_at is None and upload.expires_at <= utcnow():
        raise Gone("This upload expired and its bytes were dropped; start a new one.")
    return upload, photo


def _check_author(actor: User, photo: Photo) -> None:
    """Only the author of the photo's record sends its bytes: a reviewer or a colleague may not change evidence."""
    kind = evidence_service.parent_kind(photo.record_type)
    record = reads.find(kind, photo.record_id) if kind is not None else None
    if record is None or record.created_by_id != actor.id:
        raise Forbidden(f"Only the author of this photo's {photo.record_type} may upload its bytes.",
                        reason="not_author")


def append(*, actor: User, upload_id: str, offset: int, data: bytes, checksum: str | None) -> Upload:
    """Add a chunk at ``offset``; the last one completes the upload and ingests the photo.

    Restarted (after the upload went back to byte 0) when the whole file is not the photo's.
    """
    _verify_checksum(data, checksum)
    upload, photo = _load(actor, upload_id, lock=True)
    _check_author(actor, photo)
    if offset != upload.offset:
        raise Conflict(f"Upload-Offset {offset} is not where this upload stands ({upload.offset}); "
                       "ask with HEAD and resume from there.", reason="offset_mismatch")
    if upload.offset + len(data) > upload.length:
        raise BadRequest(f"This chunk goes past Upload-Length {upload.length}.", reason="past_length")
    if data:
        key = f"{prefix(upload.id)}{offset:012d}-{secrets.token_hex(4)}"
        get_storage().put(key, data)
        upload.chunks = [*upload.chunks, key]
        upload.offset += len(data)
        upload.expires_at = _expiry()
    if upload.offset == upload.length and upload.completed_at is None:
        _complete(actor, upload, photo)
    db.session.flush()
    return upload


def prefix(upload_id: str) -> str:
    """The storage folder of an upload's chunks."""
    return f"uploads/{upload_id}/"


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


def _complete(actor: User, upload: Upload, photo: Photo) -> None:
    storage = get_storage()
    try:
        data = b"".join(storage.get(key) for key in upload.chunks)
    except KeyError:
        _restart(upload)
        raise ChunksLost("Part of this upload is missing on the server; it starts again from byte 0. "
                         "Ask with HEAD and send the photo again.") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != photo.sha256:
        # The photo keeps waiting for its bytes: only the right file changes it.
        _restart(upload)
        raise FileMismatch(f"The file received has SHA-256 {digest}, not the {photo.sha256} the photo was "
                           "attached with; it was discarded and the upload starts again from byte 0. "
                           "Send the photo's file again.")
    evidence_service.ingest(actor=actor, photo=photo, data=data)
    upload.completed_at = utcnow()
    _drop_chunks(upload)


def _restart(upload: Upload) -> None:
    _drop_chunks(upload)
    upload.offset = 0
    upload.expires_at = _expiry()
    db.session.flush()


def terminate(*, actor: User, upload_id: str) -> None:
    """Stop an upload and drop its bytes."""
    upload = get(actor=actor, upload_id=upload_id, lock=True)
    _drop_chunks(upload)
    db.session.delete(upload)
    db.session.flush()


def _drop_chunks(upload: Upload) -> None:
    """Every object under the upload's prefix goes once this transaction commits.

    By prefix, not by the row's list: a chunk whose request failed after writing it is
    named by no row.
    """
    delete_after_commit(db.session, {*get_storage().keys(prefix(upload.id)), *upload.chunks})
    upload.chunks = []


def _expiry() -> datetime:
    return utcnow() + timedelta(hours=current_app.config["UPLOAD_EXPIRY_HOURS"])


def expire_old(*, limit: int | None = None, now: datetime | None = None) -> int:
    """Remove uploads past their expiry (unfinished ones with their bytes); returns how many.

    The full pass (no ``limit``, as ``zoufang storage expire-uploads`` runs it) also removes
    chunks that no upload row names, left by a request whose commit failed.
    """
    now = now or utcnow()
    if limit is None:
        sweep_orphans(now=now)
    query = select(Upload).where(Upload.expires_at <= now).order_by(Upload.expires_at)
    expired = list(db.session.scalars(query.limit(limit) if limit else query))
    for upload in expired:
        _drop_chunks(upload)
    if expired:
        db.session.execute(delete(Upload).where(Upload.id.in_([upload.id for upload in expired]))
                           .execution_options(synchronize_session=False))
        for upload in expired:
            db.session.expunge(upload)
    return len(expired)


def sweep_orphans(*, now: datetime | None = None) -> int:
    """Delete upload chunks older than the expiry whose upload has no row; returns how many objects.

    Only chunks older than an upload's lifetime: a younger one may belong to a request
    whose row is not committed yet.
    """
    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["UPLOAD_EXPIRY_HOURS"])
    storage = get_storage()
    by_upload: dict[str, list[str]] = {}
    for key in storage.keys("uploads/", older_than=cutoff):
        by_upload.setdefault(key.split("/")[1], []).append(key)
    if not by_upload:
        return 0
    live = set(db.session.scalars(select(Upload.id).where(Upload.id.in_(list(by_upload)))))
    orphans = [key for upload_id, keys in by_upload.items() if upload_id not in live for key in keys]
    # No row names these: deleting them now cannot leave a row without its bytes.
    for key in orphans:
        storage.delete(key)
    return len(orphans)
