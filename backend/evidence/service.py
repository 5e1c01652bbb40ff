"""Photo evidence (DESIGN §5): photo records, their bytes, their flags, and serving them.

A photo's metadata arrives first, in a sync push (``photo.attach``); its bytes later,
through a tus upload (``uploads.py``) that ends in ``ingest``. Bytes are kept once per
SHA-256 (``Blob``); every photo naming those bytes is linked to them.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.audit import service as audit_service
from backend.database import upsert_statement
from backend.errors import Forbidden, NotFound
from backend.evidence import flags as flags_module
from backend.evidence import pipeline
from backend.evidence import view as evidence_view
from backend.evidence.models import Blob, Photo
from backend.evidence.schemas import PhotoFieldsSchema
from backend.extensions import db
from backend.hotspots import service as hotspots_service
from backend.households import service as households_service
from backend.models_base import utcnow
from backend.pagination import Page, decode_cursor, paginate
from backend.records import service as records_service
from backend.records.models import log_change
from backend.records.service import EntitySpec, RecordError
from backend.storage import get_storage
from backend.visits import service as visits_service

FIELD_ROLES = ("cadre", "inspector", "supervisor", "admin")
ORIGINAL_ROLES = ("supervisor", "admin")
PARENTS: dict[str, EntitySpec] = {"visit": visits_service.SPEC, "inspection": hotspots_service.INSPECTION,
                                  "hotspot": hotspots_service.HOTSPOT}
VARIANTS = ("thumb", "display", "original")
# Fields of a record whose change can change its photos' flags (or where they belong).
FLAGGING_FIELDS = {"lat", "lon", "visited_at", "inspected_at", "household_id", "area_code", "deleted"}
NEAR_LIMIT = 5
FLAG_LOCKS = "evidence_flag_locks"


def _prepare_photo(actor: User, record: Photo | None, fields: dict[str, Any]) -> dict[str, Any]:
    if record is not None:
        raise RecordError("validation", "A photo's details are fixed when it is attached; attach a new photo.")
    parent_spec = PARENTS[fields["record_type"]] if fields.get("record_type") in PARENTS else None
    if parent_spec is None or fields.get("record_id") is None:
        return fields  # the missing fields are named by the required check
    # Locked: a bulk approval checks the record's photos after locking the record, so an
    # attach must not slip an unstored photo in beside it.
    parent = records_service.find_for_update(parent_spec, fields["record_id"])
    if parent is None or parent.deleted or not records_service.visible(actor, parent.area_code):
        raise RecordError("validation", f"record_id: no {parent_spec.name} {fields['record_id']} in your area.",
                          field="record_id")
    records_service.check_may_write(parent_spec, actor, parent)
    _check_author(actor, parent_spec, parent)
    if fields.get("phase") and parent_spec.name != "inspection":
        raise RecordError("validation", "phase: only an inspection's photos are taken before or after.", field="phase")
    limit = current_app.config["PHOTO_MAX_BYTES"]
    if fields.get("bytes", 0) > limit:
        raise RecordError("validation", f"bytes: a photo may have at most {limit} bytes.", field="bytes")
    fields["area_code"] = parent.area_code
    return fields


def _check_author(actor: User, parent_spec: EntitySpec, parent: Any) -> None:
    """Evidence is its record's author's: nobody else attaches or deletes it, a reviewer included."""
    if parent.created_by_id != actor.id:
        raise RecordError("forbidden", f"Only the author of this {parent_spec.name} may attach or delete its "
                          "photos; a reviewer rules on the evidence but does not change it.")


def _check_delete(actor: User, photo: Photo) -> None:
    parent_spec = PARENTS[photo.record_type]
    parent = records_service.find(parent_spec, photo.record_id)
    if parent is None:
        raise RecordError("forbidden", f"This photo's {parent_spec.name} is gone; its photos go with it.")
    _check_author(actor, parent_spec, parent)


PHOTO = EntitySpec(
    name="photo", plural="photos", model=Photo, schema=PhotoFieldsSchema,
    required=("record_type", "record_id", "sha256", "bytes"),
    create_roles=FIELD_ROLES, edit_roles=FIELD_ROLES, prepare=_prepare_photo, check_delete=_check_delete,
    shown=lambda viewer, photo, row: evidence_view.photo_as_seen(viewer=viewer, photo=photo, row=row),
    time_field="created_at", status_field="status",
)


# --- metadata ----------------------------------------------------------------------

def attach(*, actor: User, writer: str, photo_id: uuid.UUID, fields: dict[str, Any]) -> Photo:
    """Attach a photo to its record; replaying the same attach changes nothing.

    Bytes the actor can already see on a live photo are linked at once: the phone need
    not upload them. Any other photo waits for its own upload.
    """
    photo, created = records_service.create_once(PHOTO, actor=actor, writer=writer, record_id=photo_id,
                                                 fields=fields)
    if created:
        parent_spec = PARENTS[photo.record_type]
        # The parent's lock comes before the county's flag lock, as in a write of the parent itself.
        records_service.resubmit_after_author_change(
            parent_spec, records_service.find(parent_spec, photo.record_id), actor=actor, writer=writer)
        blob = _held_for(actor, photo.sha256)
        if blob is not None:
            _link(photo, blob, actor=actor)
        refresh_flags(photo)
    return photo


def remove(*, actor: User, writer: str, photo_id: uuid.UUID) -> Photo | None:
    """Soft-delete a photo (its record's author only); photos that were flagged because of it are checked again."""
    found = records_service.find(PHOTO, photo_id)
    live = found is not None and not found.deleted and records_service.visible(actor, found.area_code)
    parent_spec = PARENTS[found.record_type] if found is not None else None
    if live and parent_spec is not None:
        # Locks in the order every writer takes them: the record, its county's flags, the photos.
        records_service.find_for_update(parent_spec, found.record_id)
        _lock_flags(found.area_code)
    photo = records_service.delete(PHOTO, actor=actor, writer=writer, record_id=photo_id)
    if photo is not None and live and photo.deleted:
        records_service.resubmit_after_author_change(
            parent_spec, records_service.find(parent_spec, photo.record_id), actor=actor, writer=writer)
        _recheck_partners(photo)
    return photo


def _recheck_partners(photo: Photo) -> None:
    db.session.flush()
    for partner in _partners(photo):
        refresh_flags(partner, propagate=False)


def get_photo(*, actor: User, photo_id: uuid.UUID) -> Photo:
    return records_service.get_record(PHOTO, actor=actor, record_id=photo_id)


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
            refresh_flags(photo)


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
            refresh_flags(other)
    return photo


def _author_sees(photo: Photo, area_code: str) -> bool:
    author = db.session.get(User, photo.created_by_id)
    return author is not None and records_service.visible(author, area_code)


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
    return db.session.get(Blob, digest, populate_existing=True)


def _link(photo: Photo, blob: Blob, *, actor: User) -> None:
    # The size is the received file's, whatever the phone announced.
    _server_update(photo, {**blob.description, "bytes": blob.bytes, "status": "stored", "stored_at": utcnow(),
                           "rejected_code": None, "rejected_message": None})
    audit_service.record(actor=actor, action="photo.store", entity="photo", entity_id=photo.id,
                         area_code=photo.area_code, after={"sha256": blob.sha256, "mime": blob.mime})


def _reject(photo: Photo, code: str, message: str, *, actor: User) -> None:
    if photo.status == "stored":
        return  # the right bytes already arrived; a later bad upload changes nothing
    _server_update(photo, {"status": "rejected", "rejected_code": code, "rejected_message": message[:500]})
    audit_service.record(actor=actor, action="photo.reject", entity="photo", entity_id=photo.id,
                         area_code=photo.area_code, after={"code": code})


def _server_update(photo: Photo, values: dict[str, Any]) -> None:
    """Fields the server derives: set, and (for a photo already written) a new version to pull."""
    changed = {name: value for name, value in values.items() if getattr(photo, name) != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(photo, name, value)
    if photo in db.session.new:
        return  # still its first version: the attach's change entry carries it
    photo.version += 1
    log_change(db.session, entity="photo", record_id=photo.id, area_code=photo.area_code, prev_area_code=None)


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
        key = int.from_bytes(hashlib.sha256(f"zoufang.photo-flags.{county}".encode()).digest()[:8], "big",
                             signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        held.add(county)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_flag_locks(session: Session, *_args: Any) -> None:
    session.info.pop(FLAG_LOCKS, None)


def _locked(photo_ids: list[uuid.UUID]) -> list[Photo]:
    """These photos, each locked until commit and read as the last committed writer left it.

    A photo locked earlier in this transaction is taken as it is: it may hold changes not
    yet flushed (a push flushes once, at its end).
    """
    records_service.preload(PHOTO, photo_ids, lock=True)
    return [photo for photo in (records_service.find(PHOTO, photo_id) for photo_id in photo_ids)
            if photo is not None]


# --- flags -------------------------------------------------------------------------

def refresh_flags(photo: Photo, *, propagate: bool = True) -> None:
    """Compute the photo's flags again; near duplicates it gains or loses are told too."""
    if photo.deleted:
        return
    if propagate and photo.phash:
        _lock_flags(photo.area_code)
    context = _context(photo)
    flags = flags_module.compute(photo, context, flags_module.Limits.from_config(current_app.config))
    before = {item["photo_id"] for item in (photo.flags or {}).get("near_duplicate", {}).get("photos", [])}
    _server_update(photo, {"flags": flags, "flag_count": len(flags)})
    if propagate:
        now = {item["photo_id"] for item in context.near}
        for partner in _locked([uuid.UUID(partner_id) for partner_id in sorted(before | now)]):
            refresh_flags(partner, propagate=False)


def _context(photo: Photo) -> flags_module.Context:
    context = flags_module.Context()
    parent = records_service.find(PARENTS[photo.record_type], photo.record_id)
    if parent is None:
        return context
    if photo.record_type == "visit":
        context.record_time = parent.visited_at
        household = (records_service.find(households_service.SPEC, parent.household_id)
                     if parent.household_id else None)
        if household is not None and household.lat is not None and household.lon is not None:
            context.target, context.target_kind = (household.lat, household.lon), "household"
    else:
        hotspot = parent if photo.record_type == "hotspot" else records_service.find(hotspots_service.HOTSPOT,
                                                                                    parent.hotspot_id)
        context.record_time = parent.inspected_at if photo.record_type == "inspection" else None
        if hotspot is not None and hotspot.lat is not None and hotspot.lon is not None:
            context.target, context.target_kind = (hotspot.lat, hotspot.lon), "hotspot"
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
        if (record_type, record_id) == (photo.record_type, photo.record_id):
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


@records_service.on_write
def _record_written(spec: EntitySpec, record: Any, changed: set[str]) -> None:
    """A visit, inspection, hotspot or household changed: its photos follow its area and are checked again."""
    if spec.name == "photo" or not (changed & FLAGGING_FIELDS):
        return
    if record in db.session.new and (record.version == 1 or not _photos_in_session()):
        return  # created in this transaction: only photos attached since then can depend on it
    _lock_flags(record.area_code)
    # A push writes without flushing until its end; the photos' query must see this batch.
    db.session.flush()
    for photo in _locked(_photos_depending_on(spec, record)):
        if photo.deleted:
            continue
        if spec.name in PARENTS and photo.record_type == spec.name and photo.record_id == record.id:
            if record.deleted:
                _server_update(photo, {"deleted": True})  # a deleted record's photos go with it
                _recheck_partners(photo)
                continue
            if photo.area_code != record.area_code:
                _follow(photo, record)
        refresh_flags(photo)


def _photos_in_session() -> bool:
    return any(isinstance(item, Photo) for item in db.session.new)


def _follow(photo: Photo, record: Any) -> None:
    """A photo belongs to its record's area: when the record moves, the photo moves with it."""
    previous = photo.area_code
    photo.area_code = record.area_code
    photo.version += 1
    log_change(db.session, entity="photo", record_id=photo.id, area_code=photo.area_code, prev_area_code=previous)


def _photos_depending_on(spec: EntitySpec, record: Any) -> list[uuid.UUID]:
    """Ids of the live photos whose flags or area depend on this record, in id order."""
    live = Photo.deleted.is_(False)
    if spec.name in PARENTS:
        condition = (Photo.record_type == spec.name) & (Photo.record_id == record.id)
        if spec.name == "hotspot":
            inspections = select(hotspots_service.INSPECTION.model.id).where(
                hotspots_service.INSPECTION.model.hotspot_id == record.id)
            condition = condition | ((Photo.record_type == "inspection") & Photo.record_id.in_(inspections))
    elif spec.name == "household":
        visits = select(visits_service.SPEC.model.id).where(visits_service.SPEC.model.household_id == record.id)
        condition = (Photo.record_type == "visit") & Photo.record_id.in_(visits)
    else:
        return []
    return list(db.session.scalars(select(Photo.id).where(condition, live).order_by(Photo.id)))
