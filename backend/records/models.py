"""What every field record shares, and the change log that sync pulls read.

A field record (household, visit, hotspot, inspection) has a client-generated UUID, a
version (+1 per change), a soft-delete flag, its area, who created and last changed it,
and for each field the version and writer of its last change: that is what lets a
sync push merge edits to different fields without calling them a conflict.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Uuid, bindparam, event, insert, update
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


PENDING_CHANGES = "changes"


def log_change(session: Session, *, entity: str, record_id: uuid.UUID, area_code: str,
               prev_area_code: str | None) -> None:
    """Queue a change; it is numbered and written when the session next flushes or commits."""
    session.info.setdefault(PENDING_CHANGES, []).append({
        "entity": entity, "record_id": record_id, "area_code": area_code, "prev_area_code": prev_area_code})


@event.listens_for(Session, "before_flush")
@event.listens_for(Session, "before_commit")
def _write_changes(session: Session, *_args: Any) -> None:
    """Number the queued changes in the order they were made and write them in one INSERT.

    One UPDATE ... RETURNING on the counter row: its lock is held until commit, so a
    transaction with lower numbers always commits before one with higher numbers. A
    sync push flushes once, at its end, so the lock is held only from there to commit.
    """
    rows = session.info.pop(PENDING_CHANGES, None)
    if not rows:
        return
    last = session.connection().execute(_TAKE_NUMBERS, {"count": len(rows)}).scalar_one()
    now = utcnow()
    for seq, row in enumerate(rows, start=last - len(rows) + 1):
        row.update(seq=seq, at=now)
    session.connection().execute(insert(Change.__table__), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_changes(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_CHANGES, None)
