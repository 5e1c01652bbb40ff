"""The administrative tree: county → township → village → grid."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import Model
from backend.models_base import Timestamps

LEVELS = ("county", "township", "village", "grid")


class Area(Timestamps, Model):
    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint("level IN ('county', 'township', 'village', 'grid')", name="level"),
        CheckConstraint("length(code) = 12", name="code_length"),
        # text_pattern_ops lets PostgreSQL answer "path LIKE '/…/%'" from the index
        # whatever the database's collation.
        Index("ix_areas_path", "path", unique=True, postgresql_ops={"path": "text_pattern_ops"}),
    )

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    # "/<county>/<township>/<village>/": a subtree is every path with this prefix,
    # which works for grids too, whose codes do not nest inside their village's.
    path: Mapped[str] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"<Area {self.code} {self.name}>"
