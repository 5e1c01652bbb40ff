"""The sync protocol (DESIGN §4): push mutations exactly once, pull changes by sequence cursor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, func, insert, or_, select
from sqlalchemy.orm import aliased, defer

from backend.areas import service as areas_service
from backend.audit.service import jsonable
from backend.database import upsert_statement
from backend.errors import AppError, Conflict
from backend.evidence import service as evidence_service
from backend.extensions import db
from backend.hotspots import service as hotspots_service
from backend.households import service as households_service
from backend.models_base import utcnow
from backend.pagination import decode_cursor, encode_cursor
from backend.records import service as records_service
from backend.records.models import Change, SyncCounter
from backend.records.service import EntitySpec, RecordError
from backend.sync.models import SyncClient, SyncResult
from backend.sync.schemas import PULLED_FIELDS
from backend.visits import service as visits_service

if TYPE_CHECKING:
    from backend.accounts.models import User

SPECS: tuple[EntitySpec, ...] = (households_service.SPEC, visits_service.SPEC, hotspots_service.HOTSPOT,
                                 hotspots_service.INSPECTION, evidence_service.PHOTO)
BY_NAME = {spec.name: spec for spec in SPECS}
# What a mutation may do to each kind of record: a photo is attached once, never edited.
OPERATIONS = {name: ("attach", "delete") if name == "photo" else ("upsert", "delete") for name in BY_NAME}
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
    _preload(mutations)
    results: list[dict[str, Any]] = []
    answered: dict[int, dict[str, Any]] = {}
    # One flush at the end: the inserts go in batches, and the change counter's lock is
    # taken only then, for the short time until commit.
    with db.session.no_autoflush:
        for mutation in sorted(mutations, key=lambda m: m["id"]):
            mutation_id = mutation["id"]
            if mutation_id <= client.last_mutation_id:
                results.append(answered.get(mutation_id) or _stored_result(client_id, mutation_id))
                continue
            if mutation_id > client.last_mutation_id + 1:
                break
            result = _apply(actor, writer, mutation)
            answered[mutation_id] = result
            client.last_mutation_id = mutation_id
            results.append(result)
        client.last_push_at = utcnow()
    db.session.flush()
    if answered:
        now = utcnow()
        db.session.execute(insert(SyncResult.__table__), [
            {"client_id": client_id, "mutation_id": mutation_id, "result": result, "at": now}
            for mutation_id, result in answered.items()])
    return PushResult(client.last_mutation_id, results)


def _preload(mutations: list[dict[str, Any]]) -> None:
    """Lock the records a push writes and read those it refers to: one query per kind.

    The locks are taken kind by kind in SPECS order and by id within a kind, the same order in
    every push, so two pushes wait for each other instead of deadlocking. A record another push
    changed meanwhile is read as that push committed it: the merge is computed against it.
    """
    locked: dict[str, set[uuid.UUID]] = defaultdict(set)
    read: dict[str, set[uuid.UUID]] = defaultdict(set)
    for mutation in mutations:
        entity = str(mutation.get("type")).partition(".")[0]
        record_id = _uuid(mutation.get("record_id"))
        if entity not in BY_NAME or record_id is None:
            continue
        locked[entity].add(record_id)
        fields = mutation.get("fields") if isinstance(mutation.get("fields"), dict) else {}
        if entity == "visit" and (household_id := _uuid(fields.get("household_id"))):
            read["household"].add(household_id)
        # A photo attached by its author can send its ruled record back to review.
        parent = fields.get("record_type") if entity == "photo" else None
        if parent in BY_NAME and (parent_id := _uuid(fields.get("record_id"))):
            locked[parent].add(parent_id)
    for spec in SPECS:
        if locked.get(spec.name):
            records_service.preload(spec, locked[spec.name], lock=True)
    for entity, record_ids in read.items():
        records_service.preload(BY_NAME[entity], record_ids)


def _uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


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
    record_id = record.id if record is not None else record_id
    return {
        "id": mutation_id,
        "status": status,
        "record_id": str(record_id) if record_id is not None else None,
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
            if spec is evidence_service.PHOTO:
                record = evidence_service.remove(actor=actor, writer=writer, photo_id=record_id)
            else:
                record = records_service.delete(spec, actor=actor, writer=writer, record_id=record_id)
            return _result(mutation_id, "applied", record, record_id=record_id)
        fields = records_service.clean(spec, mutation.get("fields") or {})
        if operation == "attach":
            photo = evidence_service.attach(actor=actor, writer=writer, photo_id=record_id, fields=fields)
            return _result(mutation_id, "applied", photo)
        base_version = mutation.get("base_version")
        existing = records_service.find_for_update(spec, record_id)
        if existing is None or not records_service.visible(actor, existing.area_code):
            # A record outside the actor's area answers as a missing one: a change of it is
            # not_found, a create under its id the id_conflict of any clash.
            if base_version:
                raise records_service.not_found(spec, record_id)
            record, _created = records_service.create_once(spec, actor=actor, writer=writer, record_id=record_id,
                                                           fields=fields)
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
    if operation not in OPERATIONS.get(entity, ()):
        known = ", ".join(f"{name}.{op}" for name, ops in OPERATIONS.items() for op in ops)
        raise RecordError("unknown_type", f"Unknown mutation type {mutation.get('type')!r}; types are {known}.",
                          field="type")
    try:
        record_id = uuid.UUID(str(mutation.get("record_id")))
    except ValueError:
        raise RecordError("validation", "record_id must be a UUID.", field="record_id") from None
    base_version = mutation.get("base_version")
    if base_version is not None and (type(base_version) is not int or base_version < 0):
        raise RecordError("validation", "base_version must be a whole number or null.", field="base_version")
    if operation != "delete" and not isinstance(mutation.get("fields"), dict):
        raise RecordError("validation", f"An {operation} needs fields as an object.", field="fields")
    return BY_NAME[entity], operation, record_id


# --- pull -----------------------------------------------------------------------------

def pull(*, actor: User, client_id: uuid.UUID, cursor: str | None = None, limit: int = 500) -> dict[str, Any]:
    """The next page of changes the actor may see, after ``cursor``.

    A change whose record is now deleted, or now outside the actor's area (though it
    was inside when it moved), travels as a delete; others as the record's current
    state. ``reset`` and a page from the start answer a cursor that pruning has
    overtaken, or one given out while the user belonged to another area.
    """
    counter = db.session.get(SyncCounter, 1)
    position = decode_cursor(cursor, PullCursor.parse) or PullCursor(0, 0, actor.area_code)
    # Only a prune after the cursor was given out can have dropped changes it has not seen: a
    # cursor of a walk that began after the last prune goes on, even below pruned_through.
    pruned_past = position.seq < counter.pruned_through and position.pruned_through < counter.pruned_through
    moved = position.area_code not in (None, actor.area_code)
    reset = cursor is not None and (pruned_past or moved)
    after = 0 if reset else position.seq
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
    next_position = PullCursor(rows[-1].seq if rows else after, counter.pruned_through, actor.area_code)
    return {
        "cursor": encode_cursor(next_position),
        "has_more": has_more,
        "reset": reset,
        "last_mutation_id": client.last_mutation_id if client is not None and client.user_id == actor.id else 0,
        "changes": changes,
    }


@dataclass(frozen=True)
class PullCursor:
    """Where a client's mirror stands: the last change applied, how far pruning had gone and
    the user's area when the cursor was given out (an older cursor has only the first)."""

    seq: int
    pruned_through: int
    area_code: str | None

    def __str__(self) -> str:
        return f"{self.seq}.{self.pruned_through}.{self.area_code}"

    @classmethod
    def parse(cls, text: str) -> PullCursor:
        seq, pruned_through, area_code = (text.split(".") + ["", ""])[:3]
        cursor = cls(int(seq), int(pruned_through or 0), area_code or None)
        if not (0 <= cursor.seq <= 2**63 - 1 and 0 <= cursor.pruned_through <= 2**63 - 1):
            raise ValueError(text)
        return cursor


def _page_of(spec: EntitySpec, actor: User, ids: set[uuid.UUID]) -> dict[str, list[Any]]:
    """The records as JSON-ready dicts: a pull page is built by hand, not through marshmallow,
    since it is the hottest read of all (PullResultSchema still documents it, and the
    schema tests hold the two together)."""
    upserted: list[dict[str, Any]] = []
    deleted: list[str] = []
    if ids:
        names = PULLED_FIELDS[spec.name]
        query = select(spec.model).where(spec.model.id.in_(ids)).options(defer(spec.model.field_versions))
        for record in db.session.scalars(query):
            if record.deleted or not records_service.visible(actor, record.area_code):
                deleted.append(str(record.id))
            else:
                row = {name: jsonable(getattr(record, name)) for name in names}
                upserted.append(spec.shown(actor, record, row) if spec.shown else row)
    return {"upserted": upserted, "deleted": deleted}


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
