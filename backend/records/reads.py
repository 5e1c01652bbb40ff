"""Reading field records: one by id, lists with their filters, and the transaction's record cache.

Nothing here takes a lock: every read-modify-write starts from ``writes.find_for_update``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, event, inspect, select
from sqlalchemy.orm import Session

from backend.areas import service as areas_service
from backend.errors import NotFound, RecordError
from backend.extensions import db
from backend.pagination import Page, decode_cursor, paginate
from backend.records.kinds import Kind
from backend.records.models import RecordMixin

if TYPE_CHECKING:
    from backend.accounts.models import User

M = TypeVar("M", bound=RecordMixin)
RECORD_CACHE = "records"
RECORD_LOCKS = "records_locked"


def get_record(kind: Kind[M], *, actor: User, record_id: uuid.UUID, include_deleted: bool = False) -> M:
    """The record, or NotFound when absent, deleted or outside the actor's area."""
    record = find(kind, record_id)
    if record is None or (record.deleted and not include_deleted) or not visible(actor, record.area_code):
        raise NotFound(not_found_message(kind, record_id))
    return record


def not_found_message(kind: Kind[M], record_id: uuid.UUID) -> str:
    # The one message for a record that is missing, deleted or outside the actor's area:
    # a foreign record must not be told apart from one that never existed.
    return f"No {kind.name} {record_id} in your area."


def not_found(kind: Kind[M], record_id: uuid.UUID) -> RecordError:
    return RecordError("not_found", not_found_message(kind, record_id))


def visible(actor: User | None, area_code: str) -> bool:
    area = areas_service.find_area(area_code)
    return area is not None and areas_service.in_scope(actor, area)


def find(kind: Kind[M], record_id: uuid.UUID) -> M | None:
    """The record with this id, also when it was created earlier in this transaction and not
    yet flushed (a sync push flushes once, at its end). A read: it takes no lock."""
    cache: dict[tuple[str, uuid.UUID], M | None] = db.session.info.setdefault(RECORD_CACHE, {})
    key = (kind.name, record_id)
    if key not in cache:
        cache[key] = db.session.get(kind.model, record_id)
    return cache[key]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_records(session: Session, *_args: Any) -> None:
    # Another transaction may create or change them from now on, and the locks are gone.
    session.info.pop(RECORD_CACHE, None)
    session.info.pop(RECORD_LOCKS, None)


def list_records(kind: Kind[M], *, actor: User, area: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, status: str | None = None, author: int | None = None,
                 bbox: tuple[float, float, float, float] | None = None, cursor: str | None = None,
                 limit: int = 50) -> Page[M]:
    """Live records in the actor's area, filtered, in id order."""
    model = kind.model
    query = select(model).where(*record_filters(kind, actor=actor, area=area, since=since, until=until,
                                                status=status, author=author, bbox=bbox))
    after = decode_cursor(cursor, uuid.UUID)
    if after is not None:
        query = query.where(model.id > after)
    rows = db.session.scalars(query.order_by(model.id).limit(limit + 1)).all()
    return paginate(list(rows), limit, key=lambda record: record.id)


def record_filters(kind: Kind[M], *, actor: User, area: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, status: str | None = None, author: int | None = None,
                   bbox: tuple[float, float, float, float] | None = None) -> list[ColumnElement[bool]]:
    """The SQL conditions of the list filters: live records in the actor's area, and those asked for."""
    model = kind.model
    conditions = [model.deleted.is_(False), kind.scope(actor)]
    if area:
        conditions.append(areas_service.subtree_clause(areas_service.get_area(actor=actor, code=area),
                                                       model.area_code))
    time_column = getattr(model, kind.time_field)
    if since:
        conditions.append(time_column >= since)
    if until:
        conditions.append(time_column < until)
    if status and kind.status_field:
        conditions.append(getattr(model, kind.status_field) == status)
    if author:
        conditions.append(model.created_by_id == author)
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        columns = inspect(model).columns
        conditions += [columns["lon"].between(min_lon, max_lon), columns["lat"].between(min_lat, max_lat)]
    return conditions


