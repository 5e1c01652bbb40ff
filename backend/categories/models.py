"""Category lists (dispute types, hotspot types, visit kinds) as data, not code."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model

KINDS = ("dispute_type", "hotspot_type", "visit_kind")


class Category(Model):
    __tablename__ = "categories"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    zh: Mapped[str] = mapped_column(String(64))
    en: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
