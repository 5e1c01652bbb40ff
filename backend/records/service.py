"""The one write path of every field record, for REST and sync alike.

Each capability (households, visits, hotspots) describes its record with an
``EntitySpec``; this module validates, checks scope and permissions, merges by field,
bumps versions, appends to the change log and writes the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import marshmallow as ma
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.audit import service as audit_service
from backend.errors import AppError, NotFound
from backend.extensions import db
from backend.models_base import utcnow
from backend.pagination import Page, decode_cursor, paginate
from backend.records.models import REVIEW_STATUSES, log_change

if TYPE_CHECKING:
    from backend.accounts.models import User

REVIEW_FIELDS = ("review_status", "review_comment", "reviewed_by_id", "reviewed_at")
REVIEWER_ROLES = ("supervisor", "admin")
# A ruling the author must act on or accept comes with its reason.
NEEDS_REASON = ("returned", "rejected")
RECORD_CACHE = "records"
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
RECORD_LOCKS = "records_locked"
# "scope" is only ever an area_code the actor may not write: a record outside the actor's area
# answers "not_found", word for word as a missing one.
HTTP_STATUS = {"validation": 422, "scope": 404, "not_found": 404, "deleted": 404, "forbidden": 403,
               "forbidden_field": 403, "own_record": 403, "id_conflict": 409, "invalid_transition": 409,
               "stale_version": 412, "bad_version": 422, "unknown_type": 422, "result_expired": 410}


class RecordError(AppError):
    """A write refused. ``reason`` is the stable code a sync result carries as ``error.code``."""

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 errors: dict[str, Any] | None = None):
        super().__init__(message, reason=code, errors=errors or ({"json": {field: [message]}} if field else None))
        self.status = HTTP_STATUS[code]
        self.field = field


@dataclass(frozen=True)
class EntitySpec:
    """How one kind of record is written."""

    name: str                                   # "visit": audit entity, sync mutation prefix
    plural: str                                 # "visits": pull key, URL
    model: type
    schema: type[ma.Schema]                     # the client-writable fields
    required: tuple[str, ...]                   # needed on create
    create_roles: tuple[str, ...]
    edit_roles: tuple[str, ...]
    author_only: bool = False                   # only the creator edits or deletes
    reviewed: bool = False                      # has supervisor-owned review fields
    # (actor, record or None, cleaned fields) -> cleaned fields; raises RecordError
    prepare: Callable[[User, Any, dict[str, Any]], dict[str, Any]] | None = None
    time_field: str = "updated_at"              # what since/until filter on
    status_field: str | None = None             # what ?status= filters on
    # (actor, record) before a delete; raises RecordError when this actor may not delete it
    check_delete: Callable[[User, Any], None] | None = None
    # (viewer, record, row) -> the pulled row cut to what this viewer may see
    shown: Callable[[User, Any, dict[str, Any]], dict[str, Any]] | None = None
    fields: tuple[str, ...] = field(default=())
    loader: ma.Schema = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        # One schema instance, reused: building one per mutation cost a tenth of a push.
        object.__setattr__(self, "loader", self.schema())
        object.__setattr__(self, "fields", tuple(self.loader.fields))


@dataclass
class WriteOutcome:
    status: str                                 # applied | merged | conflict
    record: Any
    conflicts: list[dict[str, Any]] = field(default_factory=list)


# Called after each write as hook(spec, record, names of the fields written). A capability
# that derives data from other records (the evidence room's photo flags) registers here
# rather than every capability calling it.
WriteHook = Callable[[EntitySpec, Any, set[str]], None]
_write_hooks: list[WriteHook] = []


def on_write(hook: WriteHook) -> WriteHook:
    _write_hooks.append(hook)
    return hook


def _written(spec: EntitySpec, record: Any, names: Iterable[str]) -> None:
    for hook in _write_hooks:
        hook(spec, record, set(names))


def rest_writer(actor: User) -> str:
    return f"user:{actor.id}"


def sync_writer(client_id: uuid.UUID) -> str:
    return f"client:{client_id}"


SERVER_WRITER = "server"  # fields the server derives from a write, not sent by anyone


# --- reading --------------------------------------------------------------------

def get_record(spec: EntitySpec, *, actor: User, record_id: uuid.UUID, include_deleted: bool = False) -> Any:
    """The record, or NotFound when absent, deleted or outside the actor's area."""
    record = find(spec, record_id)
    if record is None or (record.deleted and not include_deleted) or not visible(actor, record.area_code):
        raise NotFound(not_found_message(spec, record_id))
    return record


def not_found_message(spec: EntitySpec, record_id: uuid.UUID) -> str:
    # The one message for a record that is missing, deleted or outside the actor's area:
    # a foreign record must not be told apart from one that never existed.
    return f"No {spec.name} {record_id} in your area."


def not_found(spec: EntitySpec, record_id: uuid.UUID) -> RecordError:
    return RecordError("not_found", not_found_message(spec, record_id))


def visible(actor: User | None, area_code: str) -> bool:
    area = areas_service.find_area(area_code)
    return area is not None and areas_service.in_scope(actor, area)


def find(spec: EntitySpec, record_id: uuid.UUID) -> Any | None:
    """The record with this id, also when it was created earlier in this transaction and not
    yet flushed (a sync push flushes once, at its end). A read: it takes no lock."""
    cache = db.session.info.setdefault(RECORD_CACHE, {})
    key = (spec.name, record_id)
    if key not in cache:
        cache[key] = db.session.get(spec.model, record_id)
    return cache[key]


def find_for_update(spec: EntitySpec, record_id: uuid.UUID) -> Any | None:
    """The record, locked until commit: what every read-modify-write starts from."""
    preload(spec, [record_id], lock=True)
    return find(spec, record_id)


def preload(spec: EntitySpec, record_ids: Iterable[uuid.UUID], *, lock: bool = False) -> None:
    """Read these records in one query, remembering which do not exist, for ``find``.

    ``lock``: SELECT … FOR UPDATE in id order, re-reading rows already in the session. On
    PostgreSQL a writer that waited for the lock then sees the winner's committed row, so
    its version check (412) or field merge is made against the winner, never against what it
    read before. Callers locking several kinds lock them in one fixed kind order (the sync
    push's), so two transactions take their locks in the same order. SQLite ignores FOR
    UPDATE: its single writer already serialises writes.
    """
    cache = db.session.info.setdefault(RECORD_CACHE, {})
    locked = db.session.info.setdefault(RECORD_LOCKS, set())
    done = locked if lock else cache
    wanted = {record_id for record_id in record_ids if (spec.name, record_id) not in done}
    if not wanted:
        return
    query = select(spec.model).where(spec.model.id.in_(wanted))
    if lock:
        query = query.order_by(spec.model.id).with_for_update().execution_options(populate_existing=True)
    found = {record.id: record for record in db.session.scalars(query)}
    for record_id in wanted:
        key = (spec.name, record_id)
        # A record created earlier in this transaction is not in the table yet: keep it.
        if found.get(record_id) is not None or cache.get(key) is None:
            cache[key] = found.get(record_id)
        if lock:
            locked.add(key)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_records(session: Session, *_args: Any) -> None:
    # Another transaction may create or change them from now on, and the locks are gone.
    session.info.pop(RECORD_CACHE, None)
    session.info.pop(RECORD_LOCKS, None)


def list_records(spec: EntitySpec, *, actor: User, area: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, status: str | None = None, author: int | None = None,
                 bbox: tuple[float, float, float, float] | None = None, cursor: str | None = None,
                 limit: int = 50) -> Page[Any]:
    """Live records in the actor's area, filtered, in id order."""
    model = spec.model
    query = select(model).where(*record_filters(spec, actor=actor, area=area, since=since, until=until,
                                                status=status, author=author, bbox=bbox))
    after = decode_cursor(cursor, uuid.UUID)
    if after is not None:
        query = query.where(model.id > after)
    rows = db.session.scalars(query.order_by(model.id).limit(limit + 1)).all()
    return paginate(list(rows), limit, key=lambda record: record.id)


def record_filters(spec: EntitySpec, *, actor: User, area: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, status: str | None = None, author: int | None = None,
                   bbox: tuple[float, float, float, float] | None = None) -> list[Any]:
    """The SQL conditions of the list filters: live records in the actor's area, and those asked for."""
    model = spec.model
    conditions = [model.deleted.is_(False), areas_service.scope_clause(actor, model.area_code)]
    if area:
        conditions.append(areas_service.subtree_clause(areas_service.get_area(actor=actor, code=area),
                                                       model.area_code))
    time_column = getattr(model, spec.time_field)
    if since:
        conditions.append(time_column >= since)
    if until:
        conditions.append(time_column < until)
    if status and spec.status_field:
        conditions.append(getattr(model, spec.status_field) == status)
    if author:
        conditions.append(model.created_by_id == author)
    if bbox:
        min_lon, min_lat, max_lon, max_lat = bbox
        conditions += [model.lon.between(min_lon, max_lon), model.lat.between(min_lat, max_lat)]
    return conditions


# --- validation ------------------------------------------------------------------

def clean(spec: EntitySpec, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields, typed and checked; RecordError naming the fields otherwise."""
    if not isinstance(fields, Mapping):
        raise RecordError("validation", "fields must be an object.")
    forbidden = sorted(set(fields) & set(REVIEW_FIELDS)) if spec.reviewed else []
    if forbidden:
        raise RecordError("forbidden_field", f"Only a supervisor's review sets {', '.join(forbidden)}.",
                          field=forbidden[0])
    try:
        cleaned = spec.loader.load(fields)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        names = sorted(messages)
        raise RecordError("validation", f"Invalid {spec.name} fields: {', '.join(names)}.", field=names[0],
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


def _prepared(spec: EntitySpec, actor: User, record: Any | None, cleaned: dict[str, Any]) -> dict[str, Any]:
    """The fields after the capability's own checks; a new record must then have its required ones."""
    _check_storable(cleaned)
    if spec.prepare:
        cleaned = spec.prepare(actor, record, cleaned)
    if record is None:
        missing = [name for name in spec.required if cleaned.get(name) is None]
        if missing:
            raise RecordError("validation", f"A new {spec.name} needs {', '.join(missing)}.", field=missing[0],
                              errors={"json": {name: ["Missing data for required field."] for name in missing}})
    return cleaned


def _check_area(actor: User, code: str) -> Area:
    try:
        return areas_service.get_area(actor=actor, code=code)
    except NotFound:
        raise RecordError("scope", f"Area {code} is not in your area.", field="area_code") from None


def check_may_write(spec: EntitySpec, actor: User, record: Any | None) -> None:
    roles = spec.create_roles if record is None else spec.edit_roles
    if not actor.has_role(*roles):
        raise RecordError("forbidden", f"Writing a {spec.name} needs the role {' or '.join(roles)}.")
    if record is not None and spec.author_only and record.created_by_id != actor.id:
        raise RecordError("forbidden", f"Only the author of this {spec.name} may change it.")


# --- writing ---------------------------------------------------------------------

def snapshot(spec: EntitySpec, record: Any) -> dict[str, Any]:
    names = spec.fields + (REVIEW_FIELDS if spec.reviewed else ()) + ("deleted",)
    return {name: getattr(record, name) for name in names}


def _log(spec: EntitySpec, record: Any, prev_area_code: str | None = None) -> None:
    moved = prev_area_code if prev_area_code and prev_area_code != record.area_code else None
    log_change(db.session, entity=spec.name, record_id=record.id, area_code=record.area_code,
               prev_area_code=moved)


def create(spec: EntitySpec, *, actor: User, writer: str, record_id: uuid.UUID,
           fields: Mapping[str, Any]) -> Any:
    """A new record with a client-chosen id; ``fields`` as ``clean`` returns them."""
    cleaned = _checked_create(spec, actor, fields)
    record = spec.model(**_with_defaults(spec.model, {
        **cleaned, "id": record_id, "version": 1, "deleted": False, "created_by_id": actor.id,
        "updated_by_id": actor.id, "field_versions": {name: [1, writer] for name in cleaned}}))
    db.session.add(record)
    db.session.info.setdefault(RECORD_CACHE, {})[(spec.name, record_id)] = record
    # Nobody else sees the row before commit; a concurrent create of the same id fails on insert.
    db.session.info.setdefault(RECORD_LOCKS, set()).add((spec.name, record_id))
    _log(spec, record)
    audit_service.record(actor=actor, action=f"{spec.name}.create", entity=spec.name, entity_id=record_id,
                         area_code=record.area_code, after=cleaned)
    _written(spec, record, cleaned)
    return record


def _checked_create(spec: EntitySpec, actor: User, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a create after every check that does not look at the id."""
    check_may_write(spec, actor, None)
    cleaned = _prepared(spec, actor, None, dict(fields))
    _check_area(actor, cleaned["area_code"])
    return cleaned


def _with_defaults(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus the column defaults of what they leave out.

    A push flushes once, at its end: a later mutation in it must see a new record's
    defaults (``tags == []``), not the None an unflushed object holds.
    """
    filled = dict(values)
    for column in model.__table__.columns:
        if column.key not in filled and column.default is not None and column.default.is_scalar:
            filled[column.key] = column.default.arg
        elif column.key not in filled and column.default is not None and column.default.is_callable:
            filled[column.key] = column.default.arg(None)
    return filled


def create_once(spec: EntitySpec, *, actor: User, writer: str, record_id: uuid.UUID,
                fields: Mapping[str, Any]) -> tuple[Any, bool]:
    """Create, or return the existing record when the same create is replayed.

    Returns (record, created). A different payload under an existing id is a 409; so is any
    payload under the id of a record outside the actor's area, after the same checks as a
    create: nothing in the answer tells such a record from a visible one.
    """
    existing = find_for_update(spec, record_id)
    if existing is None:
        return create(spec, actor=actor, writer=writer, record_id=record_id, fields=fields), True
    cleaned = _checked_create(spec, actor, fields)
    same = (not existing.deleted and visible(actor, existing.area_code)
            and all(_same(getattr(existing, name), value) for name, value in cleaned.items()))
    if not same:
        raise RecordError("id_conflict", f"A different {spec.name} already has the id {record_id}.")
    return existing, False


def _writable(spec: EntitySpec, actor: User, record_id: uuid.UUID) -> Any:
    """The record, locked, for a change: not_found when missing or outside the actor's area."""
    record = find_for_update(spec, record_id)
    if record is None or not visible(actor, record.area_code):
        raise not_found(spec, record_id)
    return record


def _stale(spec: EntitySpec, base_version: int | None, record: Any, then: str) -> RecordError:
    return RecordError("stale_version", f"The {spec.name} changed since version {base_version}; it is now "
                       f"version {record.version}. {then}")


def update(spec: EntitySpec, *, actor: User, writer: str, record_id: uuid.UUID, fields: Mapping[str, Any],
           base_version: int | None, strict: bool) -> WriteOutcome:
    """Change a record's fields (as ``clean`` returns them).

    ``strict`` (REST, If-Match): ``base_version`` must be the current version or the
    write is stale (412). Otherwise (sync): fields changed by another writer since
    ``base_version`` and also changed here are conflicts, which this later write wins;
    other fields merge. Either way against the row as the last committed writer left it:
    it is read under a lock held until commit.
    """
    record = _writable(spec, actor, record_id)
    if record.deleted:
        raise RecordError("deleted", f"This {spec.name} was deleted; it cannot be changed.")
    if strict and base_version != record.version:
        raise _stale(spec, base_version, record, "Reload it and apply your change again.")
    if base_version is not None and base_version > record.version:
        raise RecordError("bad_version", f"base_version {base_version} is newer than the server's {record.version}.")
    check_may_write(spec, actor, record)
    cleaned = _prepared(spec, actor, record, dict(fields))
    changed = {name: value for name, value in cleaned.items() if not _same(getattr(record, name), value)}
    base = base_version or 0
    by_others = {name for name, (version, who) in record.field_versions.items() if version > base and who != writer}
    if not changed:
        return WriteOutcome("merged" if by_others else "applied", record)
    if "area_code" in changed:
        _check_area(actor, changed["area_code"])
    conflicts = [{"field": name, "server_value": audit_service.jsonable(getattr(record, name)),
                  "server_version": record.field_versions[name][0]}
                 for name in sorted(by_others & set(changed))]
    # The author's change goes back to review in this same version (see _resubmits for the
    # offline edit that crossed the ruling); the comment and reviewer stay as history.
    server = {"review_status": "pending"} if _resubmits(spec, record, actor, base) else None
    _apply(spec, record, changed, actor=actor, writer=writer, action="update", server=server)
    status = "conflict" if conflicts else ("merged" if by_others else "applied")
    return WriteOutcome(status, record, conflicts)


def _resubmits(spec: EntitySpec, record: Any, actor: User, base: int | None) -> bool:
    """Whether the author's change of ``record`` sends it back to review.

    ``base`` is the version the change was made on (None: made on the current one). An
    approval covers the content it saw, so any later change of the author's undoes it. A
    return or rejection is undone only by a change made after it (base at least the ruling's
    version): an offline edit that crossed it did not answer it, and the phone learns of the
    ruling on its next pull.
    """
    if not (spec.reviewed and record.created_by_id == actor.id and record.review_status in RESUBMITTED_FROM):
        return False
    ruled_at = record.field_versions.get("review_status", [0])[0]
    return record.review_status == "approved" or base is None or base >= ruled_at


def resubmit_after_author_change(spec: EntitySpec, record: Any, *, actor: User, writer: str) -> bool:
    """Send a ruled record back to review after its author changed it outside its fields.

    For changes that are not a field write of the record itself (its author attaching or
    deleting a photo): when ``actor`` is the author and the record is approved, rejected or
    returned, ``review_status`` becomes ``pending`` as a server-written field in one new
    version, audited as ``<kind>.resubmit`` and logged for sync. Returns whether it did.
    Field writes go through ``update``, which does the same within the write's own version.
    """
    if not (spec.reviewed and record.created_by_id == actor.id):
        return False
    # The status is read under the lock: a ruling committed meanwhile is the one undone.
    record = find_for_update(spec, record.id)
    if record is None or record.deleted or not _resubmits(spec, record, actor, None):
        return False
    _apply(spec, record, {}, actor=actor, writer=writer, action="resubmit", server={"review_status": "pending"})
    return True


def _apply(spec: EntitySpec, record: Any, changed: dict[str, Any], *, actor: User, writer: str,
           action: str, server: dict[str, Any] | None = None) -> None:
    """Write ``changed`` (and ``server``: fields the server derives, writer "server") as one new version."""
    server = server or {}
    changed = {**changed, **server}
    before = {name: getattr(record, name) for name in changed}
    prev_area = record.area_code
    record.version += 1
    versions = dict(record.field_versions)
    for name, value in changed.items():
        setattr(record, name, value)
        versions[name] = [record.version, SERVER_WRITER if name in server else writer]
    record.field_versions = versions
    record.updated_by_id = actor.id
    _log(spec, record, prev_area)
    audit_service.record(actor=actor, action=f"{spec.name}.{action}", entity=spec.name, entity_id=record.id,
                         area_code=record.area_code, before=before, after=changed)
    _written(spec, record, changed)


def delete(spec: EntitySpec, *, actor: User, writer: str, record_id: uuid.UUID,
           base_version: int | None = None, strict: bool = False) -> Any | None:
    """Soft-delete. Deleting what is already deleted, or was never created, changes nothing.

    ``strict`` (REST): a missing, deleted or foreign record is 404. Otherwise (sync) a
    foreign record answers as a missing one: None, nothing done.
    """
    record = find_for_update(spec, record_id)
    if record is None or not visible(actor, record.area_code) or (strict and record.deleted):
        if strict:
            raise NotFound(not_found_message(spec, record_id))
        return None
    if record.deleted:
        return record
    if strict and base_version != record.version:
        raise _stale(spec, base_version, record, "Reload it before deleting it.")
    check_may_write(spec, actor, record)
    if spec.check_delete:
        spec.check_delete(actor, record)
    _apply(spec, record, {"deleted": True}, actor=actor, writer=writer, action="delete")
    return record


def review(spec: EntitySpec, *, actor: User, writer: str, record_id: uuid.UUID, base_version: int | None,
           review_status: str, review_comment: str | None) -> Any:
    """A supervisor's ruling: the only way review fields change, along REVIEW_TRANSITIONS."""
    if not actor.has_role(*REVIEWER_ROLES):
        raise RecordError("forbidden", "Only a supervisor reviews records.")
    record = find_for_update(spec, record_id)
    if record is None or record.deleted or not visible(actor, record.area_code):
        raise NotFound(not_found_message(spec, record_id))
    if base_version != record.version:
        raise _stale(spec, base_version, record, "Look at it again before ruling.")
    if record.created_by_id == actor.id:
        raise RecordError("own_record", f"You wrote this {spec.name}: another supervisor rules on it.")
    if review_status not in REVIEW_STATUSES:
        raise RecordError("validation", f"review_status must be one of {', '.join(REVIEW_STATUSES)}.",
                          field="review_status")
    allowed = REVIEW_TRANSITIONS[record.review_status]
    if review_status not in allowed:
        then = (f"it may become {' or '.join(allowed)}" if allowed
                else "it goes back to pending when its author changes it, and is ruled on then")
        message = f"This {spec.name} is {record.review_status}; {then}."
        # The status as data too, so a client names it without reading the English message.
        raise RecordError("invalid_transition", message, field="review_status",
                          errors={"json": {"review_status": [message]},
                                  "current": {"review_status": record.review_status}})
    if review_status in NEEDS_REASON and not (review_comment or "").strip():
        # The author reads the comment on the phone: a return without one cannot be acted on.
        raise RecordError("validation", f"Say why the {spec.name} is {review_status}: the author reads the "
                          "comment.", field="review_comment")
    _check_storable({"review_comment": review_comment})
    changed = {"review_status": review_status, "review_comment": review_comment,
               "reviewed_by_id": actor.id, "reviewed_at": utcnow()}
    _apply(spec, record, changed, actor=actor, writer=writer, action="review")
    return record


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, datetime) and isinstance(new, datetime):
        return current == new  # the same instant, whatever the offsets
    return audit_service.jsonable(current) == audit_service.jsonable(new)
