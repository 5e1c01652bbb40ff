"""Hotspots 治安乱点 and their rectification inspections 整治检查."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.records.models import RecordMixin, ReviewMixin

HOTSPOT_STATUSES = ("listed", "rectifying", "acceptance_requested", "closed", "relapsed")
RISK_LEVELS = ("high", "medium", "low")
INSPECTION_RESULTS = ("rectified", "in_progress", "relapsed")


class Hotspot(RecordMixin, Model):
    __tablename__ = "hotspots"

    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    risk_level: Mapped[str] = mapped_column(String(16), default="medium")
    status: Mapped[str] = mapped_column(String(24), default="listed", index=True)
    deadline: Mapped[date | None]
    responsible_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Inspection(RecordMixin, ReviewMixin, Model):
    __tablename__ = "inspections"

    hotspot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotspots.id"), index=True)
    inspected_at: Mapped[datetime] = mapped_column(index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    findings: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(String(16))
