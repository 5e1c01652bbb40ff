"""Households 户: the denominator of visit coverage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.records.models import RecordMixin


class Household(RecordMixin, Model):
    __tablename__ = "households"
    # An area's live households (the denominator of coverage) and their ids, read from the
    # index alone.
    __table_args__ = (Index("ix_households_area_live", "area_code", "deleted", "id"),)

    # Indexed by ix_households_area_live, which leads with it.
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))

    address: Mapped[str] = mapped_column(String(200))
    head_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(11))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
