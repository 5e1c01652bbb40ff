"""Recording and reading the audit trail. Every write in every capability calls record()."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import g, has_request_context, request
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from backend.areas import service as areas_service
from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.json_value import jsonable
from backend.models_base import utcnow
from backend.pagination import Page, decode_cursor, paginate

if TYPE_CHECKING:
    from backend.accounts.models import User

CLI_ACTOR = "cli"
PENDING_EVENTS = "audit_events"


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose values differ, as (before, after) dicts."""
    keys = [k for k in after if jsonable(before.get(k)) != jsonable(after.get(k))]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(*, actor: User | None, action: str, entity: str, entity_id: Any,
           area_code: str | None = None, before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None) -> None:
    """Append one event to this transaction; ``actor`` None means the command line.

    Events are not ORM objects: they are written in one multi-row INSERT when the session
    next flushes or commits (a sync push writes a hundred at once), and dropped with it on
    rollback.
    """
    # The row first, then the list: reading an expired actor's id can autoflush, and the flush
    # takes the pending list away (a list fetched before it would receive the row and be lost).
    row = {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_name": actor.username if actor is not None else CLI_ACTOR,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "area_code": area_code,
        "before": jsonable(before) if before else None,
        "after": jsonable(after) if after else None,
        "request_id": g.get("request_id") if has_request_context() else None,
        "ip": request.remote_addr if has_request_context() else None,
    }
    db.session.info.setdefault(PENDING_EVENTS, []).append(row)


@event.listens_for(Session, "before_flush")
@event.listens_for(Session, "before_commit")
def _write_events(session: Session, *_args: Any) -> None:
    rows = session.info.pop(PENDING_EVENTS, None)
    if rows:
        session.connection().execute(insert(AuditEvent.metadata.tables[AuditEvent.__tablename__]), rows)


@event.listens_for(Session, "after_soft_rollback")
def _drop_events(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_EVENTS, None)


def list_events(*, actor: User, entity: str | None = None, entity_id: str | None = None,
                actor_id: int | None = None, action: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                cursor: str | None = None, limit: int = 50) -> Page[AuditEvent]:
    """Events about the caller's area, newest first."""
    query = select(AuditEvent).where(areas_service.scope_clause(actor, AuditEvent.area_code))
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    before_id = decode_cursor(cursor)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)).all()
    return paginate(list(rows), limit, key=lambda event: event.id)
