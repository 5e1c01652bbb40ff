"""Pruning the change log: what no fresh client needs any more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import aliased

from backend.changes.models import Change, SyncCounter
from backend.extensions import db
from backend.records import kinds


def prune(*, older_than: datetime) -> tuple[int, int]:
    """Drop changes older than ``older_than`` that no fresh client needs: superseded ones and
    those of deleted records, of every registered kind. Clients whose cursor is older then
    get ``reset``. Returns (changes dropped, the highest sequence dropped or 0).
    """
    later = aliased(Change)
    superseded = exists().where(later.entity == Change.entity, later.record_id == Change.record_id,
                                later.seq > Change.seq)
    dropped_through = 0
    dropped = 0
    for kind in kinds.all_kinds():
        of_deleted = Change.record_id.in_(select(kind.model.id).where(kind.model.deleted.is_(True)))
        condition = (Change.entity == kind.name, Change.at < older_than, or_(superseded, of_deleted))
        highest = db.session.scalar(select(func.max(Change.seq)).where(*condition))
        if highest is None:
            continue
        dropped_through = max(dropped_through, highest)
        statement = delete(Change).where(*condition).execution_options(synchronize_session=False)
        result = db.session.execute(statement)
        dropped += result.rowcount if isinstance(result, CursorResult) else 0
    if dropped_through:
        counter = db.session.get(SyncCounter, 1)
        if counter is not None:
            counter.pruned_through = max(counter.pruned_through, dropped_through)
    return dropped, dropped_through
