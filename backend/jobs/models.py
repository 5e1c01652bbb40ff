"""Background jobs as users and admins see them, and the daily snapshot of the campaign rates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.models_base import utcnow

STATES = ("queued", "running", "done", "failed")


class Job(Model):
    """One run of background work that a user or the scheduler started.

    huey carries the work; this row is what the API and the admins read: huey's own result
    store is keyed by its task ids, forgets, and knows nothing of users or areas.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress"),
        Index("ix_jobs_state_created_at", "state", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Both empty for the scheduler's jobs.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    progress_text: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the work produced: counts, and for a file its name, size and type.
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RateSnapshot(Model):
    """A county's campaign rates as they stood at the end of one county day.

    The live reports count from today's records; this keeps yesterday's answer, so a trend
    survives records that are later edited, deleted or moved.
    """

    __tablename__ = "rate_snapshots"

    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Coverage over the 30 county days ending ``day``.
    households: Mapped[int]
    visited_households: Mapped[int]
    visits: Mapped[int]
    flagged_visits: Mapped[int]
    overdue_follow_ups: Mapped[int]
    # Rectification as of ``day``.
    hotspots_due: Mapped[int]
    hotspots_closed: Mapped[int]
    hotspots_overdue: Mapped[int]
    hotspots_relapsed: Mapped[int]
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
