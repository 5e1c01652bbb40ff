"""The sync protocol (DESIGN §4): push mutations exactly once, pull changes by sequence cursor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import aliased

from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.database import upsert_statement
from backend.errors import AppError, Conflict
from backend.extensions import db
from backend.hotspots import service as hotspots_service
from backend.households import service as households_service
from backend.models_base import utcnow
from backend.pagination import decode_cursor, encode_cursor
from backend.records import service as records_service
from backend.records.models import Change, SyncCounter
from backend.records.service import EntitySpec, RecordError
from backend.sync.models import SyncClient, SyncResult
from backend.visits import service as visits_service

if TYPE_CHECKING:
    from backend.accounts.models import User

SPECS: tuple[EntitySpec, ...] = (households_service.SPEC, visits_service.SPEC, hotspots_service.HOTSPOT,
                                 hotspots_service.INSPECTION)
BY_NAME = {spec.name: spec for spec in SPECS}
MUTATION_KEYS = {"id", "type", "record_id", "base_version", "fields"}


class TooManyMutations(AppError):
    status = 413
    reason = "too_many_mutations"


@dataclass
class PushResult:
    last_mutation_id: int
    results: list[dict[str, Any]]


# --- push ----------------------------------------------------------------------------

def push(*, actor: User, client_id: uuid.UUID, mutations: list[dict[str, Any]], limit: int) -> PushResult:
    """Apply a client's mutations in id order, each exactly once.

    A retried id answers its stored result; a gap stops the batch so the client resends
    from ``last_mutation_id + 1``; a rejected mutation still moves the queue on.
    """
    if len(mutations) > limit:
        raise TooManyMutations(f"At most {limit} mutations per push; this one has {len(mutations)}. "
                               "Send the rest in the next push.")
    client = _lock_client(actor, client_id)
    writer = records_service.sync_writer(client_id)
    results = []
    for mutation in sorted(mutations, key=lambda m: m["id"]):
        mutation_id = mutation["id"]
        if mutation_id <= client.last_mutation_id:
            results.append(_stored_result(client_id, mutation_id))
            continue
        if mutation_id > client.last_mutation_id + 1:
            break
        result = _apply(actor, writer, mutation)
        db.session.add(SyncResult(client_id=client_id, mutation_id=mutation_id, result=result))
        client.last_mutation_id = mutation_id
        results.append(result)
    client.last_push_at = utcnow()
    db.session.flush()
    return PushResult(client.last_mutation_id, results)


def _lock_client(actor: User, client_id: uuid.UUID) -> SyncClient:
    """The client's row, locked for this transaction: one push per client at a time."""
    db.session.execute(upsert_statement(db.session, SyncClient)
                       .values(client_id=client_id, user_id=actor.id, last_mutation_id=0, created_at=utcnow())
                       .on_conflict_do_nothing(index_elements=[SyncClient.client_id]))
    client = db.session.scalars(select(SyncClient).where(SyncClient.client_id == client_id)
                                .with_for_update().execution_options(populate_existing=True)).one()
    if client.user_id != actor.id:
        raise Conflict("This client id belongs to another user; create a new one after signing in.",
                       reason="client_of_another_user")
    return client


def _stored_result(client_id: uuid.UUID, mutation_id: int) -> dict[str, Any]:
    stored = db.session.get(SyncResult, (client_id, mutation_id))
    if stored is not None:
        return stored.result
    return _result(mutation_id, "rejected", None, error=RecordError(
        "result_expired", "Processed long ago; its result is no longer kept. Pull to see the record."))


def _result(mutation_id: int, status: str, record: Any | None, *, record_id: Any = None,
            conflicts: list[dict[str, Any]] | None = None, error: RecordError | None = None) -> dict[str, Any]:
    return {
        "id": mutation_id,
        "status": status,
        "record_id": str(record.id if record is not None else record_id) if (record or record_id) else None,
        "version": record.version if record is not None else None,
        "conflicts": conflicts or [],
        "error": None if error is None else {"code": error.reason, "message": error.message, "field": error.field},
    }


def _apply(actor: User, writer: str, mutation: dict[str, Any]) -> dict[str, Any]:
    """One mutation's result; every error inside it is its own rejection.

    Capabilities run all their checks before their first write, so a rejected
    mutation has written nothing.
    """
    mutation_id = mutation["id"]
    record_id = mutation.get("record_id")
    try:
        spec, operation, record_id = _envelope(mutation)
        if operation == "delete":
            record = records_service.delete(spec, actor=actor, writer=writer, record_id=record_id)
            return _result(mutation_id, "applied", record, record_id=record_id)
        fields = records_service.clean(spec, mutation.get("fields") or {})
        base_version = mutation.get("base_version")
        if db.session.get(spec.model, record_id) is None:
            if base_version:
                raise RecordError("not_found", f"No {spec.name} {record_id} on the server to change.")
            record = records_service.create(spec, actor=actor, writer=writer, record_id=record_id, fields=fields)
            return _result(mutation_id, "applied", record)
        outcome = records_service.update(spec, actor=actor, writer=writer, record_id=record_id, fields=fields,
                                         base_version=base_version, strict=False)
        return _result(mutation_id, outcome.status, outcome.record, conflicts=outcome.conflicts)
    except RecordError as error:
        return _result(mutation_id, "rejected", None, record_id=record_id, error=error)


def _envelope(mutation: dict[str, Any]) -> tuple[EntitySpec, str, uuid.UUID]:
    unknown = sorted(set(mutation) - MUTATION_KEYS)
    if unknown:
        raise RecordError("validation", f"Unknown mutation keys: {', '.join(unknown)}.", field=unknown[0])
    entity, _, operation = str(mutation.get("type")).partition(".")
    if entity not in BY_NAME or operation not in ("upsert", "delete"):
        raise RecordError("unknown_type", f"Unknown mutation type {mutation.get('type')!r}; types are "
                          f"<{'|'.join(BY_NAME)}>.<upsert|delete>.", field="type")
    try:
        record_id = uuid.UUID(str(mutation.get("record_id")))
    except ValueError:
        raise RecordError("validation", "record_id must be a UUID.", field="record_id") from None
    base_version = mutation.get("base_version")
    if base_version is not None and (type(base_version) is not int or base_version < 0):
        raise RecordError("validation", "base_version must be a whole number or null.", field="base_version")
    if operation == "upsert" and not isinstance(mutation.get("fields"), dict):
        raise RecordError("validation", "An upsert needs fields as an object.", field="fields")
    return BY_NAME[entity], operation, record_id


# --- pull -----------------------------------------------------------------------------

def pull(*, actor: User, client_id: uuid.UUID, cursor: str | None = None, limit: int = 500) -> dict[str, Any]:
    """The next page of changes the actor may see, after ``cursor``.

    A change whose record is now deleted, or now outside the actor's area (though it
    was inside when it moved), travels as a delete; others as the record's current
    state. A cursor older than pruning answers ``reset`` and a page from the start.
    """
    counter = db.session.get(SyncCounter, 1)
    after, pruned_then = decode_cursor(cursor, _cursor_key) or (0, 0)
    # Only a prune after the cursor was given out can have dropped changes it has not seen: a
    # cursor of a walk that began after the last prune goes on, even below pruned_through.
    reset = cursor is not None and after < counter.pruned_through and pruned_then < counter.pruned_through
    if reset:
        after = 0
    visible = or_(areas_service.scope_clause(actor, Change.area_code),
                  areas_service.scope_clause(actor, Change.prev_area_code))
    rows = db.session.execute(select(Change.seq, Change.entity, Change.record_id)
                              .where(Change.seq > after, visible).order_by(Change.seq).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    ids: dict[str, set[uuid.UUID]] = defaultdict(set)
    for _seq, entity, record_id in rows:
        ids[entity].add(record_id)
    changes = {spec.plural: _page_of(spec, actor, ids.get(spec.name, set())) for spec in SPECS}
    client = db.session.get(SyncClient, client_id)
    return {
        "cursor": encode_cursor(f"{rows[-1].seq if rows else after}.{counter.pruned_through}"),
        "has_more": has_more,
        "reset": reset,
        "last_mutation_id": client.last_mutation_id if client is not None and client.user_id == actor.id else 0,
        "changes": changes,
    }


def _cursor_key(text: str) -> tuple[int, int]:
    """(last seq seen, pruned_through when the cursor was given out); a bare seq is an older cursor."""
    seq, _, pruned_then = text.partition(".")
    key = int(seq), int(pruned_then or 0)
    if not all(0 <= value <= 2**63 - 1 for value in key):
        raise ValueError(text)
    return key


def _page_of(spec: EntitySpec, actor: User, ids: set[uuid.UUID]) -> dict[str, list[Any]]:
    upserted: list[Any] = []
    deleted: list[uuid.UUID] = []
    if ids:
        for record in db.session.scalars(select(spec.model).where(spec.model.id.in_(ids))):
            if record.deleted or not _area_visible(actor, record.area_code):
                deleted.append(record.id)
            else:
                upserted.append(record)
    return {"upserted": upserted, "deleted": deleted}


def _area_visible(actor: User, area_code: str) -> bool:
    area = db.session.get(Area, area_code)
    return area is not None and areas_service.in_scope(actor, area)


# --- pruning ----------------------------------------------------------------------------

def prune(*, older_than: datetime) -> int:
    """Drop changes older than ``older_than`` that no fresh client needs: superseded ones and
    those of deleted records. Clients whose cursor is older then get ``reset``. Returns the
    number of changes dropped; stored mutation results of that age go too.
    """
    later = aliased(Change)
    superseded = exists().where(later.entity == Change.entity, later.record_id == Change.record_id,
                                later.seq > Change.seq)
    dropped_through = 0
    dropped = 0
    for spec in SPECS:
        of_deleted = Change.record_id.in_(select(spec.model.id).where(spec.model.deleted.is_(True)))
        condition = (Change.entity == spec.name, Change.at < older_than, or_(superseded, of_deleted))
        highest = db.session.scalar(select(func.max(Change.seq)).where(*condition))
        if highest is None:
            continue
        dropped_through = max(dropped_through, highest)
        statement = delete(Change).where(*condition).execution_options(synchronize_session=False)
        dropped += db.session.execute(statement).rowcount
    if dropped_through:
        counter = db.session.get(SyncCounter, 1)
        counter.pruned_through = max(counter.pruned_through, dropped_through)
    db.session.execute(delete(SyncResult).where(SyncResult.at < older_than)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return dropped
