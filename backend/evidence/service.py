"""Photo evidence (DESIGN §5): photo records, their bytes, their flags, and serving them.

A photo's metadata arrives first, in a sync push (``photo.attach``); its bytes later,
through a tus upload (``uploads.py``) that ends in ``ingest``. Bytes are kept once per
SHA-256 (``Blob``); every photo naming those bytes is linked to them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, event, or_, select, text
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.audit import service as audit_service
from backend.database import upsert_statement
from backend.errors import Forbidden, NotFound, RecordError
from backend.evidence import flags as flags_module
from backend.evidence import pipeline
from backend.evidence import view as evidence_view
from backend.evidence.models import Blob, Photo
from backend.evidence.schemas import PhotoFieldsSchema, PhotoSchema
from backend.extensions import db
from backend.models_base import utcnow
from backend.pagination import Page, decode_cursor, paginate
from backend.records import kinds, reads, writes
from backend.records.kinds import Kind, Mutation, Reference, WriteOutcome
from backend.records.models import RecordMixin
from backend.storage import get_storage

FIELD_ROLES = ("cadre", "inspector", "supervisor", "admin")
ORIGINAL_ROLES = ("supervisor", "admin")
VARIANTS = ("thumb", "display", "original")
# Fields of a record whose change can change its photos' flags (or where they belong).
FLAGGING_FIELDS = {"lat", "lon", "visited_at", "inspected_at", "household_id", "area_code", "deleted"}
NEAR_LIMIT = 5
FLAG_LOCKS = "evidence_flag_locks"
ATTACHED = "evidence_attached"  # photos attached in this transaction
REMOVED = "evidence_removed"    # photos deleted in this transaction: they still follow their record


def parent_kind(record_type: str | None) -> Kind[Any] | None:
    """The kind of record photos of ``record_type`` belong to, when it carries photos."""
    kind = kinds.get(record_type) if isinstance(record_type, str) else None
    return kind if kind is not None and kind.photos is not None else None


def _prepare_photo(actor: User, record: Photo | None, fields: dict[str, Any]) -> dict[str, Any]:
    if record is not None:
        raise RecordError("validation", "A photo's details are fixed when it is attached; attach a new photo.")
    parent_spec = parent_kind(fields.get("record_type"))
    if parent_spec is None or fields.get("record_id") is None:
        return fields  # the missing fields are named by the required check
    # Locked: a bulk approval checks the record's photos after locking the record, so an
    # attach must not slip an unstored photo in beside it.
    parent = writes.find_for_update(parent_spec, fields["record_id"])
    if parent is None or parent.deleted or not reads.visible(actor, parent.area_code):
        raise RecordError("validation", f"record_id: no {parent_spec.name} {fields['record_id']} in your area.",
                          field="record_id")
    writes.check_may_write(parent_spec, actor, parent)
    _check_author(actor, parent_spec, parent)
    if fields.get("phase") and not (parent_spec.photos and parent_spec.photos.phases):
        raise RecordError("validation", "phase: only an inspection's photos are taken before or after.", field="phase")
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if fields.get("bytes", 0) > limit:
        raise RecordError("validation", f"bytes: a photo may have at most {limit} bytes.", field="bytes")
    fields["area_code"] = parent.area_code
    return fields


def _check_author(actor: User, parent_spec: Kind[Any], parent: Any) -> None:
    """Evidence is its record's author's: nobody else attaches or deletes it, a reviewer included."""
    if parent.created_by_id != actor.id:
        raise RecordError("forbidden", f"Only the author of this {parent_spec.name} may attach or delete its "
                          "photos; a reviewer rules on the evidence but does not change it.")


def _check_delete(actor: User, photo: Photo) -> None:
    parent_spec = parent_kind(photo.record_type)
    parent = reads.find(parent_spec, photo.record_id) if parent_spec is not None else None
    if parent_spec is None or parent is None:
        name = parent_spec.name if parent_spec is not None else "record"
        raise RecordError("forbidden", f"This photo's {name} is gone; its photos go with it.")
    _check_author(actor, parent_spec, parent)


def _parent_reference(fields: Mapping[str, Any]) -> list[Reference]:
    """An attach locks the record it attaches to (with the push's records, parents first)."""
    parent = parent_kind(fields.get("record_type"))
    text = fields.get("record_id")
    if parent is None or not isinstance(text, str):
        return []
    try:
        return [Reference(parent.name, uuid.UUID(text), lock=True)]
    except ValueError:
        return []


def _attach_mutation(kind: Kind[Any], *, actor: User, writer: str, mutation: Mutation) -> WriteOutcome[Photo]:
    return WriteOutcome("applied", attach(actor=actor, writer=writer, photo_id=mutation.record_id,
                                          fields=writes.clean(kind, mutation.fields)))


def _delete_mutation(kind: Kind[Any], *, actor: User, writer: str, mutation: Mutation) -> WriteOutcome[Photo]:
    return WriteOutcome("applied", remove(actor=actor, writer=writer, photo_id=mutation.record_id))


def _shown(viewer: User, photo: Photo, row: dict[str, Any]) -> dict[str, Any]:
    return evidence_view.photo_as_seen(viewer=viewer, photo=photo, row=row)


PHOTO: Kind[Photo] = kinds.register(Kind(
    name="photo", plural="photos", model=Photo, schema=PhotoFieldsSchema, out_schema=PhotoSchema,
    required=("record_type", "record_id", "sha256", "bytes"),
    create_roles=FIELD_ROLES, edit_roles=FIELD_ROLES, prepare=_prepare_photo, check_delete=_check_delete,
    shown=_shown, time_field="created_at", status_field="status",
    # A photo is attached once, never edited.
    operations=MappingProxyType({"attach": _attach_mutation, "delete": _delete_mutation}),
    references=_parent_reference,
    lock_rank=1,  # after the records photos belong to: an attach locks its record first
))


# --- metadata ----------------------------------------------------------------------

def attach(*, actor: User, writer: str, photo_id: uuid.UUID, fields: dict[str, Any]) -> Photo:
    """Attach a photo to its record; replaying the same attach changes nothing.

    Bytes the actor can already see on a live photo are linked at once: the phone need
    not upload them. Any other photo waits for its own upload.
    """
    photo, created = writes.create_once(PHOTO, actor=actor, writer=writer, record_id=photo_id, fields=fields)
    if created:
        db.session.info.setdefault(ATTACHED, set()).add(photo.id)
        parent_spec = parent_kind(photo.record_type)
        if parent_spec is not None:
            # The parent's lock comes before the county's flag lock, as in a write of the parent itself.
            writes.resubmit_after_author_change(parent_spec, reads.find(parent_spec, photo.record_id), actor=actor,
                                                writer=writer)
        blob = _held_for(actor, photo.sha256)
        if blob is not None:
            _link(photo, blob, actor=actor)
        refresh_flags(photo, actor=actor)
    return photo


def remove(*, actor: User, writer: str, photo_id: uuid.UUID) -> Photo | None:
    """Soft-delete a photo (its record's author only); photos that were flagged because of it are
    checked again before the transaction's changes are numbered (``_record_written``)."""
    found = reads.find(PHOTO, photo_id)
    live = found is not None and not found.deleted and reads.visible(actor, found.area_code)
    parent_spec = parent_kind(found.record_type) if found is not None else None
    if found is not None and live and parent_spec is not None:
        # Locks in the order every writer takes them: the record, its county's flags, the photos.
        writes.find_for_update(parent_spec, found.record_id)
        _lock_flags(found.area_code)
    photo = writes.delete(PHOTO, actor=actor, writer=writer, record_id=photo_id)
    if photo is not None and live and photo.deleted and parent_spec is not None:
        db.session.info.setdefault(REMOVED, set()).add(photo.id)
        writes.resubmit_after_author_change(parent_spec, reads.find(parent_spec, photo.record_id), actor=actor,
                                            writer=writer)
    return photo


def _recheck_partners(photo: Photo, *, actor: User | None) -> None:
    db.session.flush()  # the partners' flags must no longer see this photo
    for partner in _partners(photo):
        refresh_flags(partner, propagate=False, actor=actor)


def get_photo(*, actor: User, photo_id: uuid.UUID) -> Photo:
    return reads.get_record(PHOTO, actor=actor, record_id=photo_id)


def list_photos(*, actor: User, record_type: str | None = None, record_id: uuid.UUID | None = None,
                status: str | None = None, cursor: str | None = None, limit: int = 50) -> Page[Photo]:
    """Live photos in the actor's area, optionally of one record, in id order."""
    query = select(Photo).where(Photo.deleted.is_(False), areas_service.scope_clause(actor, Photo.area_code))
    if record_type:
        query = query.where(Photo.record_type == record_type)
    if record_id:
        query = query.where(Photo.record_id == record_id)
    if status:
        query = query.where(Photo.status == status)
    after = decode_cursor(cursor, uuid.UUID)
    if after is not None:
        query = query.where(Photo.id > after)
    rows = db.session.scalars(query.order_by(Photo.id).limit(limit + 1)).all()
    return paginate(list(rows), limit, key=lambda photo: photo.id)


def link_waiting(*, actor: User, sha256: str) -> None:
    """NotFound unless the actor can see a live photo holding these bytes; then the actor's own photos
    still waiting for them are linked.

    A SHA-256 is not a key: bytes held for another area are not the caller's to reuse. Linking
    also happens when a photo is attached; this closes the gap where an attach and an upload
    of the same bytes that the actor can see commit together.
    """
    blob = _held_for(actor, sha256)
    if blob is None:
        raise NotFound("No photo you can see holds these bytes; upload them.", reason="blob_unknown")
    waiting = db.session.scalars(select(Photo.id).where(
        Photo.sha256 == sha256, Photo.status != "stored", Photo.deleted.is_(False), Photo.created_by_id == actor.id,
        areas_service.scope_clause(actor, Photo.area_code)).order_by(Photo.id)).all()
    for photo in _locked(waiting):
        if photo.status != "stored" and not photo.deleted:
            _link(photo, blob, actor=actor)
            refresh_flags(photo, actor=actor)


def _held_for(actor: User, sha256: str) -> Blob | None:
    """The stored bytes, when the actor can see a live photo that holds them."""
    seen = db.session.scalar(select(Photo.id).where(
        Photo.sha256 == sha256, Photo.status == "stored", Photo.deleted.is_(False),
        areas_service.scope_clause(actor, Photo.area_code)).limit(1))
    return db.session.get(Blob, sha256) if seen is not None else None


# --- bytes -------------------------------------------------------------------------

def storage_key(variant: str, sha256: str) -> str:
    suffix = "" if variant == "original" else ".jpg"
    return f"{variant}/{sha256[:2]}/{sha256}{suffix}"


def ingest(*, actor: User, photo: Photo, data: bytes) -> Photo:
    """Take the uploaded bytes of ``photo``: verify, describe, store, link and flag.

    Bytes that are not what the photo announced, or not a photo the server keeps, leave
    the photo ``rejected`` with a reason and are not stored. Other photos waiting for the
    same bytes are linked too when their author can see this photo.
    """
    digest = hashlib.sha256(data).hexdigest()
    if digest != photo.sha256:
        _reject(photo, "checksum_mismatch", f"The bytes received have SHA-256 {digest}, not the {photo.sha256} "
                "the photo was attached with; they were dropped. Upload the photo again.", actor=actor)
        return photo
    blob = db.session.get(Blob, digest)
    if blob is None:
        config = current_app.config
        try:
            described = pipeline.describe(data, max_bytes=config["PHOTO_MAX_BYTES"],
                                          max_pixels=config["PHOTO_MAX_PIXELS"],
                                          max_decode_bytes=config["PHOTO_DECODE_MAX_BYTES"])
        except pipeline.PhotoRejected as exc:
            _reject(photo, exc.code, exc.message, actor=actor)
            return photo
        blob = _store(digest, data, described)
    _lock_flags(photo.area_code)
    waiting = db.session.scalars(select(Photo.id).where(Photo.sha256 == digest, Photo.status != "stored",
                                                        Photo.deleted.is_(False)).order_by(Photo.id)).all()
    for other in _locked(waiting):
        if other.status == "stored" or other.deleted:
            continue  # linked or deleted while this request waited for the lock
        if other.id == photo.id or _author_sees(other, photo.area_code):
            _link(other, blob, actor=actor)
            refresh_flags(other, actor=actor)
    return photo


def _author_sees(photo: Photo, area_code: str) -> bool:
    author = db.session.get(User, photo.created_by_id)
    return author is not None and reads.visible(author, area_code)


def _store(digest: str, data: bytes, described: pipeline.Described) -> Blob:
    """Write the bytes (original write-once, then derivatives) and record them, once."""
    storage = get_storage()
    storage.put_once(storage_key("original", digest), data)
    storage.put(storage_key("display", digest), described.display)
    storage.put(storage_key("thumb", digest), described.thumb)
    # Two uploads of the same bytes may finish together: the first row stays.
    db.session.execute(upsert_statement(db.session, Blob).values(
        sha256=digest, bytes=len(data), mime=described.mime, description=described.description(),
        created_at=utcnow()).on_conflict_do_nothing(index_elements=[Blob.sha256]))
    blob = db.session.get(Blob, digest, populate_existing=True)
    if blob is None:
        raise RuntimeError(f"The blob {digest} was written but cannot be read back.")
    return blob


def _link(photo: Photo, blob: Blob, *, actor: User) -> None:
    # The size is the received file's, whatever the phone announced.
    writes.server_update(PHOTO, photo, {**blob.description, "bytes": blob.bytes, "status": "stored",
                                        "stored_at": utcnow(), "rejected_code": None, "rejected_message": None},
                         actor=None, action=None)
    audit_service.record(actor=actor, action="photo.store", entity="photo", entity_id=photo.id,
                         area_code=photo.area_code, after={"sha256": blob.sha256, "mime": blob.mime})


def _reject(photo: Photo, code: str, message: str, *, actor: User) -> None:
    if photo.status == "stored":
        return  # the right bytes already arrived; a later bad upload changes nothing
    writes.server_update(PHOTO, photo, {"status": "rejected", "rejected_code": code,
                                        "rejected_message": message[:500]}, actor=None, action=None)
    audit_service.record(actor=actor, action="photo.reject", entity="photo", entity_id=photo.id,
                         area_code=photo.area_code, after={"code": code})


def read_variant(*, actor: User, photo_id: uuid.UUID, variant: str) -> tuple[bytes, str, str]:
    """(bytes, content type, ETag) of a stored photo's thumb, display copy or original.

    Originals keep their EXIF (position, device): supervisors and admins only, each read audited.
    """
    photo = get_photo(actor=actor, photo_id=photo_id)
    if variant == "original" and not actor.has_role(*ORIGINAL_ROLES):
        raise Forbidden("Only supervisors and admins open originals; use the display copy.")
    if photo.status != "stored":
        raise NotFound("This photo's bytes have not been received yet." if photo.status == "awaiting_upload"
                       else "This photo was rejected; it has no image.", reason=f"photo_{photo.status}")
    try:
        data = get_storage().get(storage_key(variant, photo.sha256))
    except KeyError:
        raise NotFound("The file of this photo is missing from storage.", reason="file_missing") from None
    if variant == "original":
        audit_service.record(actor=actor, action="photo.read_original", entity="photo", entity_id=photo.id,
                             area_code=photo.area_code)
    mime = (photo.mime or "application/octet-stream") if variant == "original" else "image/jpeg"
    return data, mime, f'"{photo.sha256[:32]}-{variant}"'


# --- locks ---------------------------------------------------------------------------

def flag_lock_key(county: str) -> int:
    """The advisory lock key of a county's flag work (the county: the first six digits of an area code)."""
    return int.from_bytes(hashlib.sha256(f"zoufang.photo-flags.{county}".encode()).digest()[:8], "big", signed=True)


def _lock_flags(*area_codes: str) -> None:
    """Serialise flag work within each county until commit (PostgreSQL).

    A photo's near duplicates and reuses are read from other photos: two uploads in one
    county, each reading before the other commits, would both miss their partner, and no
    row lock covers a row that is not there yet. A transaction advisory lock per county
    makes the second wait and then read the first. Always taken before the photo rows it
    then locks. SQLite lets one writer at a time in (BEGIN IMMEDIATE) and needs none.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    held = db.session.info.setdefault(FLAG_LOCKS, set())
    for county in sorted({code[:6] for code in area_codes} - held):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": flag_lock_key(county)})
        held.add(county)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_flag_locks(session: Session, *_args: Any) -> None:
    session.info.pop(FLAG_LOCKS, None)
    session.info.pop(ATTACHED, None)
    session.info.pop(REMOVED, None)


def _locked(photo_ids: Sequence[uuid.UUID]) -> list[Photo]:
    """These photos, each locked until commit and read as the last committed writer left it.

    A photo locked earlier in this transaction is taken as it is: it may hold changes not
    yet flushed (a push flushes once, at its end).
    """
    writes.preload(PHOTO, photo_ids, lock=True)
    return [photo for photo in (reads.find(PHOTO, photo_id) for photo_id in photo_ids)
            if photo is not None]


# --- flags -------------------------------------------------------------------------

def refresh_flags(photo: Photo, *, propagate: bool = True, actor: User | None = None) -> None:
    """Compute the photo's flags again; near duplicates it gains or loses are told too."""
    if photo.deleted:
        return
    if propagate and photo.phash:
        _lock_flags(photo.area_code)
    context = _context(photo)
    flags = flags_module.compute(photo, context, flags_module.Limits.from_config(current_app.config))
    before = {item["photo_id"] for item in (photo.flags or {}).get("near_duplicate", {}).get("photos", [])}
    writes.server_update(PHOTO, photo, {"flags": flags, "flag_count": len(flags)}, actor=actor, action="flag")
    if propagate:
        now = {item["photo_id"] for item in context.near}
        for partner in _locked([uuid.UUID(partner_id) for partner_id in sorted(before | now)]):
            refresh_flags(partner, propagate=False, actor=actor)


def _context(photo: Photo) -> flags_module.Context:
    context = flags_module.Context()
    kind = parent_kind(photo.record_type)
    parent = reads.find(kind, photo.record_id) if kind is not None else None
    if kind is None or kind.photos is None or parent is None:
        return context
    place = kind.photos
    context.record_time = place.record_time(parent)
    target_kind = kinds.get(place.target_kind)
    target_id = place.target_id(parent)
    target = (parent if place.target_field is None else
              reads.find(target_kind, target_id) if target_kind is not None and target_id is not None else None)
    lat, lon = getattr(target, "lat", None), getattr(target, "lon", None)
    if target is not None and lat is not None and lon is not None:
        context.target, context.target_kind = (lat, lon), place.target_kind
    context.reused_on = _reused_on(photo)
    context.near = _near(photo)
    return context


def _reused_on(photo: Photo) -> list[dict[str, Any]]:
    """The records the same bytes were attached to before this photo (the first use is the evidence).

    Each entry keeps the other photo's area: a viewer is shown only the ones in their own.
    """
    others = [other for other in db.session.scalars(select(Photo).where(
        Photo.sha256 == photo.sha256, Photo.id != photo.id, Photo.deleted.is_(False))) if not other.deleted]
    others += [item for item in db.session.new if isinstance(item, Photo) and item is not photo
               and item.sha256 == photo.sha256 and not item.deleted and item not in others]
    mine = (photo.created_at or utcnow(), str(photo.id))
    earlier = sorted((other for other in others
                      if (other.record_type, other.record_id) != (photo.record_type, photo.record_id)
                      and (other.created_at or utcnow(), str(other.id)) < mine),
                     key=lambda other: (other.created_at or utcnow(), str(other.id)))
    return [{"photo_id": str(other.id), "record_type": other.record_type, "record_id": str(other.record_id),
             "area_code": other.area_code} for other in earlier[:NEAR_LIMIT]]


def _near(photo: Photo) -> list[dict[str, Any]]:
    """Other stored photos of the same county, of other records, whose perceptual hash is close."""
    if not photo.phash:
        return []
    config = current_app.config
    since = utcnow() - timedelta(days=config["FLAG_NEAR_DUPLICATE_DAYS"])
    county = photo.area_code[:6]
    candidates = db.session.execute(
        select(Photo.id, Photo.record_type, Photo.record_id, Photo.phash, Photo.area_code)
        .where(Photo.area_code.startswith(county, autoescape=True), Photo.phash.is_not(None),
               Photo.deleted.is_(False), Photo.id != photo.id, Photo.sha256 != photo.sha256,
               Photo.created_at >= since)).all()
    found = []
    for other_id, record_type, record_id, phash, area_code in candidates:
        if phash is None or (record_type, record_id) == (photo.record_type, photo.record_id):
            continue  # two shots at one visit are not a fake
        distance = flags_module.hamming(photo.phash, phash)
        if distance <= config["FLAG_NEAR_DUPLICATE_BITS"]:
            found.append({"photo_id": str(other_id), "record_type": record_type, "record_id": str(record_id),
                          "area_code": area_code, "distance_bits": distance})
    return sorted(found, key=lambda item: (item["distance_bits"], item["photo_id"]))[:NEAR_LIMIT]


def _partners(photo: Photo) -> list[Photo]:
    """Photos whose flags name this one: same bytes elsewhere, or listed as near duplicates."""
    ids = set(db.session.scalars(select(Photo.id).where(Photo.sha256 == photo.sha256, Photo.id != photo.id,
                                                        Photo.deleted.is_(False))))
    ids |= {uuid.UUID(item["photo_id"]) for item in (photo.flags or {}).get("near_duplicate", {}).get("photos", [])}
    return _locked(sorted(ids))


@writes.on_write
def _record_written(written: writes.Written) -> None:
    """A record changed: its photos follow its area and are checked again, and so are the photos
    measured against it (a household's visits', a hotspot's inspections'). A photo deleted: the
    photos whose flags named it are checked again.

    Runs once per write, before the transaction's changes are numbered: a sync push does this
    work after its last mutation, not in the middle of the batch.
    """
    kind, record, actor = written.kind, written.record, written.actor
    if isinstance(record, Photo):
        if "deleted" in written.names and record.deleted:
            _recheck_partners(record, actor=actor)
        return
    if not (written.names & FLAGGING_FIELDS):
        return
    attached_here = bool(db.session.info.get(ATTACHED))
    if written.created_here and (written.version == 1 or not attached_here):
        return  # created in this transaction: only photos attached since then can depend on it
    _lock_flags(record.area_code)
    db.session.flush()  # the photos' query must see this transaction's writes (numbering is held)
    for photo in _locked(_photos_depending_on(kind, record)):
        own = photo.record_type == kind.name and photo.record_id == record.id
        if photo.deleted:
            if own and photo.area_code != record.area_code:
                _follow(photo, record, actor=actor)  # deleted earlier in this transaction: it still goes along
            continue
        if own:
            if record.deleted:
                # A deleted record's photos go with it.
                writes.server_update(PHOTO, photo, {"deleted": True}, actor=actor, action="delete")
                continue
            if photo.area_code != record.area_code:
                _follow(photo, record, actor=actor)
        refresh_flags(photo, actor=actor)


def _follow(photo: Photo, record: RecordMixin, *, actor: User) -> None:
    """A photo belongs to its record's area: when the record moves, the photo moves with it."""
    writes.server_update(PHOTO, photo, {"area_code": record.area_code}, actor=actor, action="follow")


def _photos_depending_on(kind: Kind[Any], record: RecordMixin) -> list[uuid.UUID]:
    """Ids of the live photos whose flags or area depend on this record, in id order: its own, and
    those of the records of any kind whose photos are measured against it."""
    conditions: list[ColumnElement[bool]] = []
    if kind.photos is not None:
        own = (Photo.record_type == kind.name) & (Photo.record_id == record.id)
        removed_here = sorted(db.session.info.get(REMOVED, ()))
        conditions.append(own & (Photo.deleted.is_(False) | Photo.id.in_(removed_here)) if removed_here
                          else own & Photo.deleted.is_(False))
    for carrier in kinds.photo_carriers():
        place = carrier.photos
        if place is not None and place.target_kind == kind.name and place.target_field is not None:
            measured = select(carrier.model.id).where(getattr(carrier.model, place.target_field) == record.id)
            conditions.append((Photo.record_type == carrier.name) & Photo.record_id.in_(measured)
                              & Photo.deleted.is_(False))
    if not conditions:
        return []
    return list(db.session.scalars(select(Photo.id).where(or_(*conditions)).order_by(Photo.id)))
