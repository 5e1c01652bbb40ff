"""The sync protocol (DESIGN §4): push mutations exactly once, pull changes by sequence cursor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import defer

from backend.areas import service as areas_service
from backend.changes import service as changes_service
from backend.changes.models import Change, SyncCounter, derive
from backend.database import upsert_statement
from backend.errors import AppError, Conflict, RecordError
from backend.extensions import db
from backend.json_value import jsonable
from backend.models_base import utcnow
from backend.pagination import decode_cursor, encode_cursor
from backend.records import kinds, reads, writes
from backend.records.kinds import Kind, Mutation, Operation, WriteOutcome
from backend.records.models import RecordMixin
from backend.sync.models import SyncClient, SyncResult

if TYPE_CHECKING:
    from backend.accounts.models import User

# The operations any kind may accept by name; a kind declares which it accepts and may bring its own.
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register a sync operation every kind may accept by name (``upsert``, ``delete``; ``transition`` later)."""
    def register(function: Operation) -> Operation:
        OPERATIONS[name] = function
        return function
    return register


def accepted(kind: Kind[Any], name: str) -> Operation | None:
    """The operation ``<kind>.<name>`` runs, or None when the kind does not accept it."""
    if name not in kind.operations:
        return None
    return kind.operations[name] or OPERATIONS.get(name)


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
    writer = writes.sync_writer(client_id)
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
    # What the server derives from the batch (photo flags) runs now, then one flush numbers
    # the whole batch's changes.
    derive(db.session)
    db.session.flush()
    if answered:
        now = utcnow()
        db.session.execute(insert(SyncResult.metadata.tables[SyncResult.__tablename__]), [
            {"client_id": client_id, "mutation_id": mutation_id, "result": result, "at": now}
            for mutation_id, result in answered.items()])
    return PushResult(client.last_mutation_id, results)


def _preload(mutations: list[dict[str, Any]]) -> None:
    """Lock the records a push writes and read those it refers to: one query per kind.

    The locks are taken kind by kind in registration order and by id within a kind, the
    same order in every push, so two pushes wait for each other instead of deadlocking. A
    record another push changed meanwhile is read as that push committed it: the merge is
    computed against it.
    """
    locked: dict[str, set[uuid.UUID]] = defaultdict(set)
    read: dict[str, set[uuid.UUID]] = defaultdict(set)
    for mutation in mutations:
        kind = kinds.get(str(mutation.get("type")).partition(".")[0])
        record_id = _uuid(mutation.get("record_id"))
        if kind is None or record_id is None:
            continue
        locked[kind.name].add(record_id)
        fields = mutation.get("fields")
        if kind.references is None or not isinstance(fields, dict):
            continue
        for reference in kind.references(fields):
            if kinds.get(reference.kind) is not None:
                (locked if reference.lock else read)[reference.kind].add(reference.record_id)
    for kind in kinds.all_kinds():
        if locked.get(kind.name):
            writes.preload(kind, locked[kind.name], lock=True)
    for kind in kinds.all_kinds():
        if read.get(kind.name):
            writes.preload(kind, read[kind.name])


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
        kind, run, checked = _envelope(mutation)
        record_id = checked.record_id
        outcome = run(kind, actor=actor, writer=writer, mutation=checked)
        return _result(mutation_id, outcome.status, outcome.record, record_id=record_id, conflicts=outcome.conflicts)
    except RecordError as error:
        return _result(mutation_id, "rejected", None, record_id=record_id, error=error)


@operation("upsert")
def _upsert(kind: Kind[Any], *, actor: User, writer: str, mutation: Mutation) -> WriteOutcome[Any]:
    """Create the record, or change its fields (merged by field against ``base_version``)."""
    fields = writes.clean(kind, mutation.fields)
    existing = writes.find_for_update(kind, mutation.record_id)
    if existing is None or not reads.visible(actor, existing.area_code):
        # A record outside the actor's area answers as a missing one: a change of it is
        # not_found, a create under its id the id_conflict of any clash.
        if mutation.base_version:
            raise reads.not_found(kind, mutation.record_id)
        record, _created = writes.create_once(kind, actor=actor, writer=writer, record_id=mutation.record_id,
                                              fields=fields)
        return WriteOutcome("applied", record)
    return writes.update(kind, actor=actor, writer=writer, record_id=mutation.record_id, fields=fields,
                         base_version=mutation.base_version, strict=False)


@operation("delete")
def _delete(kind: Kind[Any], *, actor: User, writer: str, mutation: Mutation) -> WriteOutcome[Any]:
    """Soft-delete; a missing or foreign record changes nothing."""
    return WriteOutcome("applied", writes.delete(kind, actor=actor, writer=writer, record_id=mutation.record_id))


def _envelope(mutation: dict[str, Any]) -> tuple[Kind[Any], Operation, Mutation]:
    unknown = sorted(set(mutation) - MUTATION_KEYS)
    if unknown:
        raise RecordError("validation", f"Unknown mutation keys: {', '.join(unknown)}.", field=unknown[0])
    name, _, operation_name = str(mutation.get("type")).partition(".")
    kind = kinds.get(name)
    run = accepted(kind, operation_name) if kind is not None else None
    if kind is None or run is None:
        known = ", ".join(f"{each.name}.{op}" for each in kinds.all_kinds() for op in each.operations)
        raise RecordError("unknown_type", f"Unknown mutation type {mutation.get('type')!r}; types are {known}.",
                          field="type")
    try:
        record_id = uuid.UUID(str(mutation.get("record_id")))
    except ValueError:
        raise RecordError("validation", "record_id must be a UUID.", field="record_id") from None
    base_version = mutation.get("base_version")
    if base_version is not None and (type(base_version) is not int or base_version < 0):
        raise RecordError("validation", "base_version must be a whole number or null.", field="base_version")
    fields = mutation.get("fields")
    if operation_name != "delete" and not isinstance(fields, dict):
        raise RecordError("validation", f"An {operation_name} needs fields as an object.", field="fields")
    return kind, run, Mutation(record_id, base_version, fields if isinstance(fields, dict) else {})


# --- pull -----------------------------------------------------------------------------

def pull(*, actor: User, client_id: uuid.UUID, cursor: str | None = None, limit: int = 500) -> dict[str, Any]:
    """The next page of changes the actor may see, after ``cursor``.

    A change whose record is now deleted, or now outside the actor's area (though it
    was inside when it moved), travels as a delete; others as the record's current
    state. ``reset`` and a page from the start answer a cursor that pruning has
    overtaken, or one given out while the user belonged to another area.
    """
    counter = _counter()
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
    changes = {kind.plural: _page_of(kind, actor, ids.get(kind.name, set())) for kind in kinds.all_kinds()}
    client = db.session.get(SyncClient, client_id)
    next_position = PullCursor(rows[-1].seq if rows else after, counter.pruned_through, actor.area_code)
    return {
        "cursor": encode_cursor(next_position),
        "has_more": has_more,
        "reset": reset,
        "last_mutation_id": client.last_mutation_id if client is not None and client.user_id == actor.id else 0,
        "changes": changes,
    }


def _counter() -> SyncCounter:
    counter = db.session.get(SyncCounter, 1)
    if counter is None:
        raise RuntimeError("The change counter's row is missing: run `zoufang db upgrade`.")
    return counter


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


def _page_of(kind: Kind[Any], actor: User, ids: set[uuid.UUID]) -> dict[str, list[Any]]:
    """The records as JSON-ready dicts: a pull page is built by hand, not through marshmallow,
    since it is the hottest read of all (PullResultSchema still documents it, and the
    schema tests hold the two together)."""
    upserted: list[dict[str, Any]] = []
    deleted: list[str] = []
    if ids:
        names = _pulled_fields(kind)
        query = select(kind.model).where(kind.model.id.in_(ids)).options(defer(kind.model.field_versions))
        record: RecordMixin
        for record in db.session.scalars(query):
            if record.deleted or not reads.visible(actor, record.area_code):
                deleted.append(str(record.id))
            else:
                row = {name: jsonable(getattr(record, name)) for name in names}
                upserted.append(kind.shown(actor, record, row) if kind.shown else row)
    return {"upserted": upserted, "deleted": deleted}


_PULLED: dict[Kind[Any], tuple[str, ...]] = {}


def _pulled_fields(kind: Kind[Any]) -> tuple[str, ...]:
    if kind not in _PULLED:
        _PULLED[kind] = kind.pulled_fields()
    return _PULLED[kind]


# --- pruning ----------------------------------------------------------------------------

def prune(*, older_than: datetime) -> int:
    """Drop change-log entries no fresh client needs (``changes_service.prune``) and stored
    mutation results older than ``older_than``. Returns the number of changes dropped.
    """
    dropped, _through = changes_service.prune(older_than=older_than)
    db.session.execute(delete(SyncResult).where(SyncResult.at < older_than)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return dropped
