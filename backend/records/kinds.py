"""The registry of record kinds: each room declares its kind once, and the engines iterate them.

A kind says what it is — its name and plural, its model, the schemas of its fields in
and out, who writes it, whether it is reviewed, the sync operations it accepts, which
other records a mutation of it names, and, when it carries photos, where its photos
should have been taken and when. The write path (``writes``), sync push and pull, the
pull schema in the OpenAPI document, the review queue, evidence and the change log's
prune read the registry; none of them names a kind.

Kinds are listed, and locked by a push or a bulk approval, in one fixed order whatever
the order they registered in: by ``lock_rank``, then by name. A kind whose mutations
lock records of other kinds (a photo locks the record it is attached to) ranks after them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import ColumnElement

from backend.areas import service as areas_service
from backend.records.loading import Load, compile_loader
from backend.records.models import RecordMixin

if TYPE_CHECKING:
    from backend.accounts.models import User

M = TypeVar("M", bound=RecordMixin)


@dataclass(frozen=True)
class Mutation:
    """One sync mutation as its envelope was checked: the operation's input."""

    record_id: uuid.UUID
    base_version: int | None
    fields: Mapping[str, Any]                   # as sent: each operation cleans what it needs


@dataclass
class WriteOutcome(Generic[M]):
    status: str                                 # applied | merged | conflict
    record: M | None
    conflicts: list[dict[str, Any]] = field(default_factory=list)


class Operation(Protocol):
    """A sync operation (``<kind>.<operation>``): applies one mutation, raises RecordError to reject it."""

    def __call__(self, kind: Kind[Any], *, actor: User, writer: str, mutation: Mutation) -> WriteOutcome[Any]: ...


@dataclass(frozen=True)
class Reference:
    """A record a mutation's fields name: read with the push's records, or locked with them."""

    kind: str
    record_id: uuid.UUID
    lock: bool = False


@dataclass(frozen=True)
class PhotoPlace(Generic[M]):
    """Where and when the photos of a record of this kind should have been taken.

    ``target`` names the record whose position the photos are measured against: the kind
    and the field of this record holding its id (None: the record itself, as a hotspot's
    own photos). ``time_field`` is the record's time the photo's EXIF time is compared with.
    """

    target_kind: str
    target_field: str | None = None
    time_field: str | None = None
    phases: bool = False                        # photos taken before / after (an inspection's)
    evidence_view: bool = False                 # has GET /api/<plural>/{id}/evidence

    def target_id(self, record: M) -> uuid.UUID | None:
        if self.target_field is None:
            return record.id
        value = getattr(record, self.target_field)
        return value if isinstance(value, uuid.UUID) else None

    def record_time(self, record: M) -> datetime | None:
        value = getattr(record, self.time_field) if self.time_field else None
        return value if isinstance(value, datetime) else None


@dataclass(frozen=True, eq=False)
class Kind(Generic[M]):
    """How one kind of record is written, synced, reviewed and (for photos) placed."""

    name: str                                   # "visit": audit entity, sync mutation prefix
    plural: str                                 # "visits": pull key, URL
    model: type[M]
    schema: type[ma.Schema]                     # the client-writable fields
    required: tuple[str, ...]                   # needed on create
    create_roles: tuple[str, ...]
    edit_roles: tuple[str, ...]
    out_schema: type[ma.Schema] | None = None   # a record as REST answers and sync pulls it
    author_only: bool = False                   # only the creator edits or deletes
    reviewed: bool = False                      # has supervisor-owned review fields
    # (actor, record or None, cleaned fields) -> cleaned fields; raises RecordError
    prepare: Callable[[User, M | None, dict[str, Any]], dict[str, Any]] | None = None
    time_field: str = "updated_at"              # what since/until filter on
    status_field: str | None = None             # what ?status= filters on
    # (actor, record) before a delete; raises RecordError when this actor may not delete it
    check_delete: Callable[[User, M], None] | None = None
    # (viewer, record, row) -> the pulled row cut to what this viewer may see
    shown: Callable[[User, M, dict[str, Any]], dict[str, Any]] | None = None
    # Sync operations this kind accepts; None: the sync room's operation of that name.
    operations: Mapping[str, Operation | None] = field(
        default_factory=lambda: MappingProxyType({"upsert": None, "delete": None}))
    # The records a mutation's fields name (read, or locked, with the push's own records).
    references: Callable[[Mapping[str, Any]], Iterable[Reference]] | None = None
    photos: PhotoPlace[M] | None = None         # it carries photos: where they should have been taken
    # What the evidence view shows of a record of this kind when it is a photo target.
    as_target: Callable[[M], dict[str, Any]] | None = None
    lock_rank: int = 0                          # locked after the kinds of lower rank
    fields: tuple[str, ...] = field(default=())
    loader: ma.Schema = field(init=False, repr=False, compare=False)
    # ``loader.load`` compiled for the write path: the same answers, a fraction of the time.
    load: Load = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One schema instance, reused: building one per mutation cost a tenth of a push.
        loader = self.schema()
        object.__setattr__(self, "loader", loader)
        object.__setattr__(self, "load", compile_loader(loader))
        object.__setattr__(self, "fields", tuple(loader.fields))

    def scope(self, actor: User | None) -> ColumnElement[bool]:
        """The SQL condition of the records of this kind the actor may see."""
        return areas_service.scope_clause(actor, self.model.area_code)

    def pulled_fields(self) -> tuple[str, ...]:
        """What a pulled record holds: the fields of its out schema."""
        return tuple(self.out_schema().fields) if self.out_schema is not None else ()


_kinds: dict[str, Kind[Any]] = {}


def register(kind: Kind[M]) -> Kind[M]:
    """Add a kind to the registry; its name is its key in mutations, pulls, audit and the change log."""
    if kind.name in _kinds and _kinds[kind.name] is not kind:
        raise ValueError(f"A kind named {kind.name!r} is already registered.")
    _kinds[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Take a kind out (tests that declare a kind of their own)."""
    _kinds.pop(name, None)


def get(name: str) -> Kind[Any] | None:
    return _kinds.get(name)


def all_kinds() -> Iterator[Kind[Any]]:
    """Every kind, in the order records are locked in: by lock_rank, then name."""
    return iter(sorted(_kinds.values(), key=lambda kind: (kind.lock_rank, kind.name)))


def reviewed_kinds() -> list[Kind[Any]]:
    return [kind for kind in all_kinds() if kind.reviewed]


def photo_carriers() -> list[Kind[Any]]:
    return [kind for kind in all_kinds() if kind.photos is not None]


def evidence_viewed() -> list[Kind[Any]]:
    """The kinds whose records have an evidence view (a reviewer weighs their photos)."""
    return [kind for kind in photo_carriers() if kind.photos is not None and kind.photos.evidence_view]


def photo_targets() -> list[Kind[Any]]:
    """The kinds photos are measured against (a visit's household, an inspection's hotspot)."""
    named = {kind.photos.target_kind for kind in photo_carriers() if kind.photos is not None}
    return [kind for kind in all_kinds() if kind.name in named]


class KindName(validate.OneOf):
    """A kind's name among those ``which`` returns, read when the value is checked (kinds register
    after schemas are declared)."""

    def __init__(self, which: Callable[[], Iterable[Kind[Any]]]):
        self._which = which
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(kind.name for kind in self._which())

    @choices.setter
    def choices(self, _value: Iterable[str]) -> None:
        pass

    @property
    def choices_text(self) -> str:
        return ", ".join(str(choice) for choice in self.choices)

    @choices_text.setter
    def choices_text(self, _value: str) -> None:
        pass
