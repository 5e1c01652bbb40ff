"""Visits 走访: what a cadre saw and heard at a household, enterprise or site."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.records.models import RecordMixin, ReviewMixin


class Visit(RecordMixin, ReviewMixin, Model):
    __tablename__ = "visits"
    # The supervisors' reports at county scale (docs/supervision.md, "Performance"): each area's
    # visits of a period, its follow-ups and its visits in a bbox, and each household's visits
    # over time, are read from these indexes, mostly without touching the rows.
    __table_args__ = (
        Index("ix_visits_area_time", "area_code", "visited_at", "review_status", "deleted", "household_id"),
        # Partial: one visit in twenty sets a follow-up date.
        Index("ix_visits_area_follow_up", "area_code", "follow_up_due", "deleted", "household_id", "visited_at",
              postgresql_where=text("follow_up_due IS NOT NULL"), sqlite_where=text("follow_up_due IS NOT NULL")),
        Index("ix_visits_area_position", "area_code", "lon", "lat", "deleted"),
        Index("ix_visits_household_time", "household_id", "visited_at", "deleted", "area_code"),
    )

    # Indexed by ix_visits_area_time, which leads with it.
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"))
    kind: Mapped[str] = mapped_column(String(32))
    visited_at: Mapped[datetime] = mapped_column(index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    # [{"category": <dispute_type code>, "description": "..."}]
    concerns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    satisfaction: Mapped[int | None]
    follow_up_due: Mapped[date | None]
