"""Visits 走访: what a cadre saw and heard at a household, enterprise or site."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.records.models import RecordMixin, ReviewMixin


class Visit(RecordMixin, ReviewMixin, db.Model):
    __tablename__ = "visits"

    household_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("households.id"), index=True)
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
