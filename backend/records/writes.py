"""Writing field records, for REST and sync alike: the one path every change takes.

Validates, checks scope and permissions, locks the row it changes (``find_for_update``),
merges by field, bumps versions, appends to the change log and writes the audit trail;
what the server derives from a write (the evidence room's photo flags) runs once, before
the transaction's changes are numbered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import marshmallow as ma
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.instrumentation import manager_of_class

from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.audit import service as audit_service
from backend.changes.models import derive_before_numbering, log_change
from backend.database import SessionLike
from backend.errors import NotFound, RecordError
from backend.extensions import db
from backend.json_value import jsonable
from backend.models_base import utcnow
from backend.records.kinds import Kind, WriteOutcome
from backend.records.models import REVIEW_STATUSES, RecordMixin, ReviewMixin
from backend.records.reads import RECORD_CACHE, RECORD_LOCKS, find, not_found, not_found_message, visible

if TYPE_CHECKING:
    from backend.accounts.models import User

M = TypeVar("M", bound=RecordMixin)
REVIEW_FIELDS = ("review_status", "review_comment", "reviewed_by_id", "reviewed_at")
REVIEWER_ROLES = ("supervisor", "admin")
# A ruling the author must act on or accept comes with its reason.
NEEDS_REASON = ("returned", "rejected")
# A ruling moves a record's review_status only along this table (docs/supervision.md shows it);
# the way back to pending is the author's change, written by the server (``resubmit_after_author_change``).
REVIEW_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("approved", "rejected", "returned"),
    "approved": ("returned", "rejected"),  # a supervisor withdrawing an approval, with a reason
    "returned": (),                         # waits for the author's change
    "rejected": (),
}
# Ruled statuses an author's change sends back to pending.
RESUBMITTED_FROM = ("approved", "rejected", "returned")
SERVER_WRITER = "server"  # fields the server derives from a write, not sent by anyone
WRITTEN = "records_written"


def rest_writer(actor: User) -> str:
    return f"user:{actor.id}"


def sync_writer(client_id: uuid.UUID) -> str:
    return f"client:{client_id}"


# --- what the server derives from writes ------------------------------------------------

@dataclass(frozen=True)
class Written:
    """One write, as hooks see it: the kind, the record, the fields written and who wrote them."""

    kind: Kind[Any]
    record: RecordMixin
    names: frozenset[str]
    actor: User
    created_here: bool                          # the record was created in this transaction
    version: int                                # its version after this write


# Called with each write of the transaction, once, before its changes are numbered. A
# capability that derives data from other records (the evidence room's photo flags)
# registers here rather than every capability calling it.
WriteHook = Callable[[Written], None]
_write_hooks: list[WriteHook] = []


def on_write(hook: WriteHook) -> WriteHook:
    _write_hooks.append(hook)
    return hook


def _written(kind: Kind[M], record: M, names: Iterable[str], actor: User) -> None:
    db.session.info.setdefault(WRITTEN, []).append(
        Written(kind, record, frozenset(names), actor, instance_state(record).pending, record.version))


@event.listens_for(Session, "after_soft_rollback")
def _forget_writes(session: Session, *_args: object) -> None:
    session.info.pop(WRITTEN, None)


@derive_before_numbering
def _run_write_hooks(session: SessionLike) -> None:
    """The hooks of every write queued so far, in write order; writes they make are handled too."""
    while queued := session.info.pop(WRITTEN, None):
        for written in queued:
            for hook in _write_hooks:
                hook(written)


# --- locking ----------------------------------------------------------------------------

def find_for_update(kind: Kind[M], record_id: uuid.UUID) -> M | None:
    """The record, locked until commit: what every read-modify-write starts from."""
    preload(kind, [record_id], lock=True)
    return find(kind, record_id)


def preload(kind: Kind[M], record_ids: Iterable[uuid.UUID], *, lock: bool = False) -> None:
    """Read these records in one query, remembering which do not exist, for ``find``.

    ``lock``: SELECT … FOR UPDATE in id order, re-reading rows already in the session. On
    PostgreSQL a writer that waited for the lock then sees the winner's committed row, so
    its version check (412) or field merge is made against the winner, never against what it
    read before. Callers locking several kinds lock them in one fixed kind order (the sync
    push's), so two transactions take their locks in the same order. SQLite ignores FOR
    UPDATE: its single writer already serialises writes.
    """
    cache: dict[tuple[str, uuid.UUID], M | None] = db.session.info.setdefault(RECORD_CACHE, {})
    locked: set[tuple[str, uuid.UUID]] = db.session.info.setdefault(RECORD_LOCKS, set())
    done = locked if lock else cache
    wanted = {record_id for record_id in record_ids if (kind.name, record_id) not in done}
    if not wanted:
        return
    query = select(kind.model).where(kind.model.id.in_(wanted))
    if lock:
        query = query.order_by(kind.model.id).with_for_update().execution_options(populate_existing=True)
    found = {record.id: record for record in db.session.scalars(query)}
    for record_id in wanted:
        key = (kind.name, record_id)
        # A record created earlier in this transaction is not in the table yet: keep it.
        if found.get(record_id) is not None or cache.get(key) is None:
            cache[key] = found.get(record_id)
        if lock:
            locked.add(key)



# --- validation ------------------------------------------------------------------

def clean(kind: Kind[M], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields, typed and checked; RecordError naming the fields otherwise."""
    if not isinstance(fields, Mapping):
        raise RecordError("validation", "fields must be an object.")
    forbidden = sorted(set(fields) & set(REVIEW_FIELDS)) if kind.reviewed else []
    if forbidden:
        raise RecordError("forbidden_field", f"Only a supervisor's review sets {', '.join(forbidden)}.",
                          field=forbidden[0])
    try:
        cleaned = kind.load(fields)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        names = sorted(messages)
        raise RecordError("validation", f"Invalid {kind.name} fields: {', '.join(names)}.", field=names[0],
                          errors={"json": messages}) from None
    return cleaned


def _check_storable(fields: Mapping[str, Any]) -> None:
    """RecordError naming the first field whose value no database stores.

    Such a value would fail at flush, failing the whole push on every retry: one bad
    mutation would block the client's queue for good.
    """
    for name, value in fields.items():
        if not _storable(value):
            raise RecordError("validation", f"{name} holds a NUL or unpaired surrogate character, or a time "
                              "out of range.", field=name)


def _storable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can carry
            return False
        return "\x00" not in value
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00+08:00 leaves the calendar
        except OverflowError:
            return False
        return True
    if isinstance(value, Mapping):
        return all(_storable(item) for item in value.values())
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    return True


def _prepared(kind: Kind[M], actor: User, record: M | None, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The fields after the capability's own checks; a new record must then have its required ones."""
    _check_storable(cleaned)
    if kind.prepare:
        cleaned = kind.prepare(actor, record, cleaned)
    if record is None:
        missing = [name for name in kind.required if cleaned.get(name) is None]
        if missing:
            raise RecordError("validation", f"A new {kind.name} needs {', '.join(missing)}.", field=missing[0],
                              errors={"json": {name: ["Missing data for required field."] for name in missing}})
    return cleaned


def _check_area(actor: User, code: str) -> Area:
    try:
        return areas_service.get_area(actor=actor, code=code)
    except NotFound:
        raise RecordError("scope", f"Area {code} is not in your area.", field="area_code") from None


def check_may_write(kind: Kind[M], actor: User, record: M | None) -> None:
    roles = kind.create_roles if record is None else kind.edit_roles
    if not actor.has_role(*roles):
        raise RecordError("forbidden", f"Writing a {kind.name} needs the role {' or '.join(roles)}.")
    if record is not None and kind.author_only and record.created_by_id != actor.id:
        raise RecordError("forbidden", f"Only the author of this {kind.name} may change it.")



# --- writing ---------------------------------------------------------------------

def snapshot(kind: Kind[M], record: M) -> dict[str, Any]:
    names = kind.fields + (REVIEW_FIELDS if kind.reviewed else ()) + ("deleted",)
    return {name: getattr(record, name) for name in names}


def _log(kind: Kind[M], record: M, prev_area_code: str | None = None) -> None:
    moved = prev_area_code if prev_area_code and prev_area_code != record.area_code else None
    log_change(db.session, entity=kind.name, record_id=record.id, area_code=record.area_code,
               prev_area_code=moved)


def create(kind: Kind[M], *, actor: User, writer: str, record_id: uuid.UUID,
           fields: Mapping[str, Any]) -> M:
    """A new record with a client-chosen id; ``fields`` as ``clean`` returns them."""
    cleaned = _checked_create(kind, actor, fields)
    # Built as a row loaded from the database would be, without an attribute event per
    # column: the INSERT is ours (``_insert_new_records``), it reads the values from here.
    record = manager_of_class(kind.model).new_instance()
    record.__dict__.update(_with_defaults(kind.model, {
        **cleaned, "id": record_id, "version": 1, "deleted": False, "created_by_id": actor.id,
        "updated_by_id": actor.id, "field_versions": {name: [1, writer] for name in cleaned}}))
    db.session.add(record)
    db.session.info.setdefault(NEW_RECORDS, []).append(record)
    db.session.info.setdefault(RECORD_CACHE, {})[(kind.name, record_id)] = record
    # Nobody else sees the row before commit; a concurrent create of the same id fails on insert.
    db.session.info.setdefault(RECORD_LOCKS, set()).add((kind.name, record_id))
    _log(kind, record)
    audit_service.record(actor=actor, action=f"{kind.name}.create", entity=kind.name, entity_id=record_id,
                         area_code=record.area_code, after=cleaned)
    _written(kind, record, cleaned, actor)
    return record


def _checked_create(kind: Kind[M], actor: User, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a create after every check that does not look at the id."""
    check_may_write(kind, actor, None)
    cleaned = _prepared(kind, actor, None, dict(fields))
    _check_area(actor, cleaned["area_code"])
    return cleaned


def _with_defaults(model: type[RecordMixin], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus the column defaults of what they leave out.

    A push flushes once, at its end: a later mutation in it must see a new record's
    defaults (``tags == []``), not the None an unflushed object holds.
    """
    filled = dict(values)
    for key, default in _defaults(model):
        if key not in filled:
            filled[key] = default.arg(None) if default.is_callable else default.arg
    return filled


_DEFAULTS: dict[type[RecordMixin], list[tuple[str, Any]]] = {}


def _defaults(model: type[RecordMixin]) -> list[tuple[str, Any]]:
    """The model's columns with a Python-side default, each with it (read once per model)."""
    if model not in _DEFAULTS:
        _DEFAULTS[model] = [(column.key, column.default) for column in inspect(model).columns
                            if column.default is not None and (column.default.is_scalar or column.default.is_callable)]
    return _DEFAULTS[model]


# --- inserting new records ----------------------------------------------------------

NEW_RECORDS = "records_new"
_COLUMNS: dict[type[RecordMixin], list[tuple[str, str]]] = {}


@event.listens_for(Session, "before_flush")
def _insert_new_records(session: Session, *_args: object) -> None:
    """Insert the records ``create`` added as one multi-row INSERT per table, ahead of the unit of work.

    The unit of work's bookkeeping per object cost a push of a hundred creates more than
    the INSERT itself. Each record then stays in the session as a row loaded from the
    database: what a later write changes in it is an UPDATE, as for any other record.
    """
    created = session.info.pop(NEW_RECORDS, None)
    if not created:
        return
    by_table: dict[Any, list[RecordMixin]] = {}
    for record in created:
        if instance_state(record).pending:  # not expunged, nor flushed by the unit of work already
            by_table.setdefault(type(record).__table__, []).append(record)
    if not by_table:
        return
    connection = session.connection()
    for table in sorted(by_table, key=_table_order):
        records = by_table[table]
        connection.execute(table.insert(), [_row(record) for record in records])
        # What the unit of work does with the rows it inserted: their values become the
        # loaded state and they move from pending to persistent. Expunging and re-adding
        # each (the public way) cost as much as the unit of work saved.
        states = [instance_state(record) for record in records]
        for state in states:
            state._commit_all(state.dict)
        session._register_persistent(set(states))


_ORDER: dict[Any, int] = {}


def _table_order(table: Any) -> int:
    """Parents first: a visit may name a household created in the same push."""
    if table not in _ORDER:
        _ORDER.clear()
        _ORDER.update((each, index) for index, each in enumerate(table.metadata.sorted_tables))
    return _ORDER[table]


def _row(record: RecordMixin) -> dict[str, Any]:
    """The record's INSERT values; a column it never set is NULL (none has a server default)."""
    model = type(record)
    if model not in _COLUMNS:
        _COLUMNS[model] = [(attribute.key, attribute.columns[0].key) for attribute in inspect(model).column_attrs]
    state = record.__dict__
    # Set on the object too: a column missing from it would be expired and read back by a query.
    return {column: state.setdefault(key, None) for key, column in _COLUMNS[model]}


def create_once(kind: Kind[M], *, actor: User, writer: str, record_id: uuid.UUID,
                fields: Mapping[str, Any]) -> tuple[M, bool]:
    """Create, or return the existing record when the same create is replayed.

    Returns (record, created). A different payload under an existing id is a 409; so is any
    payload under the id of a record outside the actor's area, after the same checks as a
    create: nothing in the answer tells such a record from a visible one.
    """
    existing = find_for_update(kind, record_id)
    if existing is None:
        return create(kind, actor=actor, writer=writer, record_id=record_id, fields=fields), True
    cleaned = _checked_create(kind, actor, fields)
    same = (not existing.deleted and visible(actor, existing.area_code)
            and all(_same(getattr(existing, name), value) for name, value in cleaned.items()))
    if not same:
        raise RecordError("id_conflict", f"A different {kind.name} already has the id {record_id}.")
    return existing, False


def _writable(kind: Kind[M], actor: User, record_id: uuid.UUID) -> M:
    """The record, locked, for a change: not_found when missing or outside the actor's area."""
    record = find_for_update(kind, record_id)
    if record is None or not visible(actor, record.area_code):
        raise not_found(kind, record_id)
    return record


def _stale(kind: Kind[M], base_version: int | None, record: M, then: str) -> RecordError:
    return RecordError("stale_version", f"The {kind.name} changed since version {base_version}; it is now "
                       f"version {record.version}. {then}")


def update(kind: Kind[M], *, actor: User, writer: str, record_id: uuid.UUID, fields: Mapping[str, Any],
           base_version: int | None, strict: bool) -> WriteOutcome[M]:
    """Change a record's fields (as ``clean`` returns them).

    ``strict`` (REST, If-Match): ``base_version`` must be the current version or the
    write is stale (412). Otherwise (sync): fields changed by another writer since
    ``base_version`` and also changed here are conflicts, which this later write wins;
    other fields merge. Either way against the row as the last committed writer left it:
    it is read under a lock held until commit.
    """
    record = _writable(kind, actor, record_id)
    if record.deleted:
        raise RecordError("deleted", f"This {kind.name} was deleted; it cannot be changed.")
    if strict and base_version != record.version:
        raise _stale(kind, base_version, record, "Reload it and apply your change again.")
    if base_version is not None and base_version > record.version:
        raise RecordError("bad_version", f"base_version {base_version} is newer than the server's {record.version}.")
    check_may_write(kind, actor, record)
    cleaned = _prepared(kind, actor, record, dict(fields))
    changed = {name: value for name, value in cleaned.items() if not _same(getattr(record, name), value)}
    base = base_version or 0
    by_others = {name for name, (version, who) in record.field_versions.items() if version > base and who != writer}
    if not changed:
        return WriteOutcome("merged" if by_others else "applied", record)
    if "area_code" in changed:
        _check_area(actor, changed["area_code"])
    conflicts = [{"field": name, "server_value": jsonable(getattr(record, name)),
                  "server_version": record.field_versions[name][0]}
                 for name in sorted(by_others & set(changed))]
    # The author's change goes back to review in this same version (see _resubmits for the
    # offline edit that crossed the ruling); the comment and reviewer stay as history.
    server = {"review_status": "pending"} if _resubmits(kind, record, actor, base) else None
    _apply(kind, record, changed, actor=actor, writer=writer, action="update", server=server)
    status = "conflict" if conflicts else ("merged" if by_others else "applied")
    return WriteOutcome(status, record, conflicts)


def _resubmits(kind: Kind[M], record: M, actor: User, base: int | None) -> bool:
    """Whether the author's change of ``record`` sends it back to review.

    ``base`` is the version the change was made on (None: made on the current one). An
    approval covers the content it saw, so any later change of the author's undoes it. A
    return or rejection is undone only by a change made after it (base at least the ruling's
    version): an offline edit that crossed it did not answer it, and the phone learns of the
    ruling on its next pull.
    """
    if not (kind.reviewed and isinstance(record, ReviewMixin) and record.created_by_id == actor.id
            and record.review_status in RESUBMITTED_FROM):
        return False
    ruled_at = record.field_versions.get("review_status", [0])[0]
    return record.review_status == "approved" or base is None or base >= ruled_at


def resubmit_after_author_change(kind: Kind[M], record: M | None, *, actor: User, writer: str) -> bool:
    """Send a ruled record back to review after its author changed it outside its fields.

    For changes that are not a field write of the record itself (its author attaching or
    deleting a photo): when ``actor`` is the author and the record is approved, rejected or
    returned, ``review_status`` becomes ``pending`` as a server-written field in one new
    version, audited as ``<kind>.resubmit`` and logged for sync. Returns whether it did.
    Field writes go through ``update``, which does the same within the write's own version.
    """
    if record is None or not (kind.reviewed and record.created_by_id == actor.id):
        return False
    # The status is read under the lock: a ruling committed meanwhile is the one undone.
    record = find_for_update(kind, record.id)
    if record is None or record.deleted or not _resubmits(kind, record, actor, None):
        return False
    _apply(kind, record, {}, actor=actor, writer=writer, action="resubmit", server={"review_status": "pending"})
    return True


def _apply(kind: Kind[M], record: M, changed: dict[str, Any], *, actor: User, writer: str,
           action: str, server: dict[str, Any] | None = None) -> None:
    """Write ``changed`` (and ``server``: fields the server derives, writer "server") as one new version."""
    server = server or {}
    changed = {**changed, **server}
    prev_area = record.area_code
    before = _new_version(record, changed, lambda name: SERVER_WRITER if name in server else writer)
    record.updated_by_id = actor.id
    _log(kind, record, prev_area)
    audit_service.record(actor=actor, action=f"{kind.name}.{action}", entity=kind.name, entity_id=record.id,
                         area_code=record.area_code, before=before, after=changed)
    _written(kind, record, changed, actor)



def server_update(kind: Kind[M], record: M, values: Mapping[str, Any], *, actor: User | None,
                  action: str | None) -> bool:
    """Write fields the server derives (a photo's flags, its area following its record, its
    deletion with it): writer "server" in ``field_versions``, one new version logged for sync
    (with the area it left, when it moved) and audited as ``<kind>.<action>``. The caller holds
    the row's lock (``action`` None: not audited here, the caller says what happened in its own
    event). A record created in this transaction and not yet flushed keeps its first
    version (its create's change entry and audit event carry it) unless it moves. Returns whether anything changed.
    """
    changed = {name: value for name, value in values.items() if not _same(getattr(record, name), value)}
    if not changed:
        return False
    if instance_state(record).pending and "area_code" not in changed:
        for name, value in changed.items():
            setattr(record, name, value)
        return True
    prev_area = record.area_code
    before = _new_version(record, changed, lambda _name: SERVER_WRITER)
    _log(kind, record, prev_area)
    if action is not None:
        audit_service.record(actor=actor, action=f"{kind.name}.{action}", entity=kind.name, entity_id=record.id,
                             area_code=record.area_code, before=before, after=changed)
    if actor is not None:
        _written(kind, record, changed, actor)
    return True


def _new_version(record: M, changed: Mapping[str, Any], writer_of: Callable[[str], str]) -> dict[str, Any]:
    """Set ``changed`` on the record as one new version, each field marked with its writer;
    returns the values they had before."""
    before = {name: getattr(record, name) for name in changed}
    record.version += 1
    versions = dict(record.field_versions)
    for name, value in changed.items():
        setattr(record, name, value)
        versions[name] = [record.version, writer_of(name)]
    record.field_versions = versions
    return before


def delete(kind: Kind[M], *, actor: User, writer: str, record_id: uuid.UUID,
           base_version: int | None = None, strict: bool = False) -> M | None:
    """Soft-delete. Deleting what is already deleted, or was never created, changes nothing.

    ``strict`` (REST): a missing, deleted or foreign record is 404. Otherwise (sync) a
    foreign record answers as a missing one: None, nothing done.
    """
    record = find_for_update(kind, record_id)
    if record is None or not visible(actor, record.area_code) or (strict and record.deleted):
        if strict:
            raise NotFound(not_found_message(kind, record_id))
        return None
    if record.deleted:
        return record
    if strict and base_version != record.version:
        raise _stale(kind, base_version, record, "Reload it before deleting it.")
    check_may_write(kind, actor, record)
    if kind.check_delete:
        kind.check_delete(actor, record)
    _apply(kind, record, {"deleted": True}, actor=actor, writer=writer, action="delete")
    return record


def review(kind: Kind[M], *, actor: User, writer: str, record_id: uuid.UUID, base_version: int | None,
           review_status: str, review_comment: str | None) -> M:
    """A supervisor's ruling: the only way review fields change, along REVIEW_TRANSITIONS."""
    if not actor.has_role(*REVIEWER_ROLES):
        raise RecordError("forbidden", "Only a supervisor reviews records.")
    record = find_for_update(kind, record_id)
    if record is None or record.deleted or not visible(actor, record.area_code) or not isinstance(record, ReviewMixin):
        raise NotFound(not_found_message(kind, record_id))
    if base_version != record.version:
        raise _stale(kind, base_version, record, "Look at it again before ruling.")
    if record.created_by_id == actor.id:
        raise RecordError("own_record", f"You wrote this {kind.name}: another supervisor rules on it.")
    if review_status not in REVIEW_STATUSES:
        raise RecordError("validation", f"review_status must be one of {', '.join(REVIEW_STATUSES)}.",
                          field="review_status")
    allowed = REVIEW_TRANSITIONS[record.review_status]
    if review_status not in allowed:
        then = (f"it may become {' or '.join(allowed)}" if allowed
                else "it goes back to pending when its author changes it, and is ruled on then")
        message = f"This {kind.name} is {record.review_status}; {then}."
        # The status as data too, so a client names it without reading the English message.
        raise RecordError("invalid_transition", message, field="review_status",
                          errors={"json": {"review_status": [message]},
                                  "current": {"review_status": record.review_status}})
    if review_status in NEEDS_REASON and not (review_comment or "").strip():
        # The author reads the comment on the phone: a return without one cannot be acted on.
        raise RecordError("validation", f"Say why the {kind.name} is {review_status}: the author reads the "
                          "comment.", field="review_comment")
    _check_storable({"review_comment": review_comment})
    changed = {"review_status": review_status, "review_comment": review_comment,
               "reviewed_by_id": actor.id, "reviewed_at": utcnow()}
    _apply(kind, record, changed, actor=actor, writer=writer, action="review")
    return record


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return current == new  # the same instant, whatever the offsets
    return jsonable(current) == jsonable(new)
