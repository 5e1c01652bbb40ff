"""What every field record shares, and the change log that sync pulls read.

A field record (household, visit, hotspot, inspection) has a client-generated UUID, a
version (+1 per change), a soft-delete flag, its area, who created and last changed it,
and for each field the version and writer of its last change: that is what lets a
sync push merge edits to different fields without calling them a conflict.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Uuid, bindparam, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.extensions import db
from backend.models_base import Timestamps, utcnow

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


_creation_order = itertools.count()


class Change(db.Model):
    """One write to one record, numbered by the global change sequence.

    ``seq`` comes from ``SyncCounter`` at flush time, under its row lock, so sequence
    order is commit order and a pull can never pass over a transaction that commits
    late. ``prev_area_code`` is set when the write moved the record: users of the old
    area learn from it that the record left them.
    """

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_record", "entity", "record_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    area_code: Mapped[str] = mapped_column(String(12))
    prev_area_code: Mapped[str | None] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.order = next(_creation_order)


class SyncCounter(db.Model):
    """The single row holding the last change sequence given out."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # Changes up to here may have been pruned: older cursors must reset.
    pruned_through: Mapped[int] = mapped_column(BigInteger, default=0)


_counter = SyncCounter.__table__
_TAKE_NUMBERS = (update(_counter).where(_counter.c.id == 1)
                 .values(value=_counter.c.value + bindparam("count")).returning(_counter.c.value))


@event.listens_for(Session, "before_flush")
def _number_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    """Give the flush's new changes the next sequence numbers, in the order they were made.

    One UPDATE ... RETURNING on the counter row: its lock is held until commit, so
    a transaction with lower numbers always commits before one with higher numbers.
    """
    pending = sorted((obj for obj in session.new if isinstance(obj, Change) and obj.seq is None),
                     key=lambda change: change.order)
    if not pending:
        return
    last = session.connection().execute(_TAKE_NUMBERS, {"count": len(pending)}).scalar_one()
    first = last - len(pending) + 1
    for offset, change in enumerate(pending):
        change.seq = first + offset
