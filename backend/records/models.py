"""What every field record shares.

A field record (household, visit, hotspot, inspection) has a client-generated UUID, a
version (+1 per change), a soft-delete flag, its area, who created and last changed it,
and for each field the version and writer of its last change: that is what lets a
sync push merge edits to different fields without calling them a conflict.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.models_base import Timestamps

REVIEW_STATUSES = ("pending", "approved", "rejected", "returned")


class RecordMixin(Timestamps):
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # {field: [version, writer]}: writer is "client:<uuid>" for sync, "user:<id>" for REST.
    field_versions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReviewMixin:
    """Supervisor-owned fields: only a review writes them."""

    review_status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    review_comment: Mapped[str | None] = mapped_column(String(2000))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
