"""Photo evidence: the photo records, the bytes they point at, and uploads in progress."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.models_base import utcnow
from backend.records.models import RecordMixin

PHOTO_STATUSES = ("awaiting_upload", "stored", "rejected")
PHASES = ("before", "after")


class Photo(RecordMixin, Model):
    """One photo attached to a visit, inspection or hotspot.

    The client writes what it knows at capture (the first block); the server fills in the
    rest when the bytes arrive. ``area_code`` is always the area of the record it belongs to.
    """

    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_record", "record_type", "record_id"),)

    record_type: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    captured_at: Mapped[datetime | None]
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    # An inspection's photos are taken before or after the rectification; others have none.
    phase: Mapped[str | None] = mapped_column(String(8))

    status: Mapped[str] = mapped_column(String(16), default="awaiting_upload")
    rejected_code: Mapped[str | None] = mapped_column(String(32))
    rejected_message: Mapped[str | None] = mapped_column(String(500))
    stored_at: Mapped[datetime | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    mime: Mapped[str | None] = mapped_column(String(32))
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_alt_m: Mapped[float | None] = mapped_column(Float)
    # ISO 8601 as the camera wrote it: with its offset when the file has one, else wall time.
    exif_taken_at: Mapped[str | None] = mapped_column(String(32))
    make: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(128))
    software: Mapped[str | None] = mapped_column(String(128))
    phash: Mapped[str | None] = mapped_column(String(16))
    # {code: {the numbers behind it}}; flag_count orders review queues.
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flag_count: Mapped[int] = mapped_column(default=0)

    @property
    def rejected_reason(self) -> dict[str, str] | None:
        if self.rejected_code is None:
            return None
        return {"code": self.rejected_code, "message": self.rejected_message or ""}


class Blob(Model):
    """Bytes the server holds, once per SHA-256, with what the pipeline read from them."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(32))
    # width, height, exif_*, make, model, software, phash: copied onto each photo linked to it
    description: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Upload(Model):
    """A tus upload, of its creator alone. Its chunks live in storage under ``uploads/<id>/``;
    ``chunks`` names those that count, and anything else under the prefix is swept with them."""

    __tablename__ = "uploads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks: Mapped[list[Any]] = mapped_column(JSON, default=list)  # storage keys, in order
    upload_metadata: Mapped[str] = mapped_column(String(1000), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    completed_at: Mapped[datetime | None]
