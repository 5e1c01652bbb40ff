"""Households 户: the denominator of visit coverage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.records.models import RecordMixin


class Household(RecordMixin, db.Model):
    __tablename__ = "households"

    address: Mapped[str] = mapped_column(String(200))
    head_name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(11))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
