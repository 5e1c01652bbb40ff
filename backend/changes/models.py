"""The change log and its counter, and how queued changes get their numbers.

Every write to a field record queues a change (``log_change``); the queue is numbered and
written in one INSERT when the session flushes or commits, under the counter row's lock,
which is then held until commit. So sequence order is commit order and a pull can never
pass over a transaction that commits late. Work derived from a transaction's writes (the
evidence room's photo flags) runs before the numbers are taken (``derive_before_numbering``),
so a transaction takes the counter once, at its end.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Uuid, bindparam, event, insert, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from backend.database import SessionLike
from backend.extensions import Model
from backend.models_base import utcnow


class Change(Model):
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


class SyncCounter(Model):
    """The single row holding the last change sequence given out."""

    __tablename__ = "sync_counter"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    # Changes up to here may have been pruned: older cursors must reset.
    pruned_through: Mapped[int] = mapped_column(BigInteger, default=0)


_counter = SyncCounter.metadata.tables[SyncCounter.__tablename__]
_changes = Change.metadata.tables[Change.__tablename__]
_TAKE_NUMBERS = (update(_counter).where(_counter.c.id == 1)
                 .values(value=_counter.c.value + bindparam("count")).returning(_counter.c.value))

PENDING_CHANGES = "changes"
NUMBERING_HELD = "changes_numbering_held"

# Called with the session before a commit takes its numbers; each may write (and flush) more.
Deriver = Callable[[SessionLike], None]
_derivers: list[Deriver] = []


def derive_before_numbering(deriver: Deriver) -> Deriver:
    """Register work derived from a transaction's writes, run before its changes are numbered."""
    _derivers.append(deriver)
    return deriver


def log_change(session: SessionLike, *, entity: str, record_id: uuid.UUID, area_code: str,
               prev_area_code: str | None) -> None:
    """Queue a change; it is numbered and written when the session next flushes or commits."""
    session.info.setdefault(PENDING_CHANGES, []).append({
        "entity": entity, "record_id": record_id, "area_code": area_code, "prev_area_code": prev_area_code})


@contextmanager
def numbering_held(session: SessionLike) -> Iterator[None]:
    """Flushes inside write rows but number no changes: the counter's lock waits for the last flush."""
    held = session.info.get(NUMBERING_HELD, False)
    session.info[NUMBERING_HELD] = True
    try:
        yield
    finally:
        session.info[NUMBERING_HELD] = held


def derive(session: SessionLike) -> None:
    """Run the derived work now, its flushes numbering nothing (a sync push calls it before its one flush)."""
    with numbering_held(session):
        for deriver in _derivers:
            deriver(session)


# First of the before_commit listeners: the audit events derived work records are written after it.
@event.listens_for(Session, "before_commit", insert=True)
def _derive_and_number(session: Session) -> None:
    derive(session)
    _write_changes(session)


@event.listens_for(Session, "before_flush")
def _write_changes(session: Session, *_args: Any) -> None:
    """Number the queued changes in the order they were made and write them in one INSERT.

    One UPDATE ... RETURNING on the counter row: its lock is held until commit, so a
    transaction with lower numbers always commits before one with higher numbers. A
    sync push flushes once, at its end, so the lock is held only from there to commit.
    """
    if session.info.get(NUMBERING_HELD):
        return
    rows = session.info.pop(PENDING_CHANGES, None)
    if not rows:
        return
    last: int = session.connection().execute(_TAKE_NUMBERS, {"count": len(rows)}).scalar_one()
    now = utcnow()
    for seq, row in enumerate(rows, start=last - len(rows) + 1):
        row.update(seq=seq, at=now)
    session.connection().execute(insert(_changes), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_changes(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_CHANGES, None)
    session.info.pop(NUMBERING_HELD, None)
