"""What a viewer is shown of photo evidence.

``record_evidence``: the evidence view of one visit or inspection, what a supervisor weighs
before ruling on it. The record, its target (the household visited, the hotspot inspected),
the record's own device fix, and each live photo with its flags, its positions (EXIF, the
phone's fix at capture) and the geodesic distances between all of them.

``photo_as_seen``: one photo as a given viewer may see it, wherever a photo is shown (the
API's photo bodies, the evidence view, sync pulls). Flags are stored once, for everyone;
this is where they are cut to what the viewer may know.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from backend.accounts.models import User
from backend.areas import service as areas_service
from backend.areas.models import Area
from backend.errors import NotFound
from backend.evidence.flags import distance_m
from backend.evidence.models import Photo
from backend.extensions import db
from backend.records import kinds, reads
from backend.records.kinds import Kind
from backend.records.writes import REVIEWER_ROLES

Point = tuple[float, float]
# Where and with what a photo was taken, read from its file: for reviewers and its author.
CAPTURE_FIELDS = ("exif_lat", "exif_lon", "exif_alt_m", "make", "model", "software")
# Flags whose details name other photos, and the list that holds them.
NAMING_FLAGS = {"reused": "also_on", "near_duplicate": "photos"}
ELSEWHERE = {"in_another_area": True}


def photo_as_seen(*, viewer: User | None, photo: Photo, row: dict[str, Any]) -> dict[str, Any]:
    """``row``, the photo's fields as JSON, cut to what ``viewer`` may see (None: the command line).

    Capture details (EXIF position, camera, software) go to reviewers and to the photo's
    author, whose phone holds the file anyway. A flag naming a photo of a record outside the
    viewer's area names no ids: it says ``{"in_another_area": true}``.
    """
    full = viewer is None or viewer.has_role(*REVIEWER_ROLES) or viewer.id == photo.created_by_id
    if not full:
        row.update({name: None for name in CAPTURE_FIELDS if name in row})
    if row.get("flags"):
        row["flags"] = {code: _details_seen(viewer, code, details, full) for code, details in row["flags"].items()}
    return row


def _details_seen(viewer: User | None, code: str, details: dict[str, Any], full: bool) -> dict[str, Any]:
    if code == "edited" and not full:
        return {}  # the software's name is a capture detail
    key = NAMING_FLAGS.get(code)
    if key is None:
        return details
    return {**details, key: [_named(viewer, entry) for entry in details.get(key, [])]}


def _named(viewer: User | None, entry: dict[str, Any]) -> dict[str, Any]:
    area_code = entry.get("area_code")
    if area_code is None:  # flags computed before entries kept the other photo's area
        other = db.session.get(Photo, uuid.UUID(entry["photo_id"]))
        area_code = other.area_code if other is not None else None
    if area_code is None or not reads.visible(viewer, area_code):
        return dict(ELSEWHERE)
    return {name: value for name, value in entry.items() if name != "area_code"}


def record_evidence(*, actor: User, record_type: str, record_id: uuid.UUID) -> dict[str, Any]:
    """The evidence of a visit or inspection, for supervisors, admins and its author; NotFound for anyone else."""
    spec = kinds.get(record_type)
    if spec is None or spec.photos is None or not spec.photos.evidence_view:
        raise NotFound(f"No {record_type} {record_id} in your area.")
    record = reads.get_record(spec, actor=actor, record_id=record_id)
    if not actor.has_role(*REVIEWER_ROLES) and record.created_by_id != actor.id:
        raise NotFound(f"No {spec.name} {record_id} in your area.")
    target = _target(actor, spec, record)
    target_point = _point(target["lat"], target["lon"]) if target else None
    fix = _position(record.lat, record.lon, record.accuracy_m)
    photos = db.session.scalars(
        select(Photo).where(Photo.record_type == record_type, Photo.record_id == record.id, Photo.deleted.is_(False),
                            areas_service.scope_clause(actor, Photo.area_code))
        .order_by(Photo.created_at, Photo.id))
    author = db.session.get(User, record.created_by_id)
    area = db.session.get(Area, record.area_code)
    return {"record_type": record_type, "record": record, "target": target, "fix": fix,
            "author_name": author.display_name or author.username if author else None,
            "area_name": area.name if area else None,
            "distances_m": {"fix_to_target": _distance(_point(record.lat, record.lon), target_point)},
            "photos": [_photo(photo, target_point) for photo in photos]}


def _target(actor: User, kind: Kind[Any], record: Any) -> dict[str, Any] | None:
    """What the record's photos are measured against (the household visited, the hotspot
    inspected), when the actor sees it."""
    place = kind.photos
    target_kind = kinds.get(place.target_kind) if place is not None else None
    if place is None or target_kind is None:
        return None
    target = _visible(target_kind, actor, place.target_id(record))
    if target is None:
        return None
    described = target_kind.as_target(target) if target_kind.as_target else {}
    return {"kind": target_kind.name, "id": target.id, **described, "lat": target.lat, "lon": target.lon}


def _visible(spec: Kind[Any], actor: User, record_id: uuid.UUID | None) -> Any | None:
    # A deleted target is still the one the record names: it is shown, as the flags still measure against it.
    if record_id is None:
        return None
    try:
        return reads.get_record(spec, actor=actor, record_id=record_id, include_deleted=True)
    except NotFound:
        return None


def _photo(photo: Photo, target: Point | None) -> dict[str, Any]:
    exif = _point(photo.exif_lat, photo.exif_lon)
    device = _point(photo.lat, photo.lon)
    return {"photo": photo,
            "positions": {"exif": _position(photo.exif_lat, photo.exif_lon, None),
                          "device": _position(photo.lat, photo.lon, photo.accuracy_m)},
            "distances_m": {"exif_to_target": _distance(exif, target), "device_to_target": _distance(device, target),
                            "exif_to_device": _distance(exif, device)}}


def _point(lat: float | None, lon: float | None) -> Point | None:
    return (lat, lon) if lat is not None and lon is not None else None


def _position(lat: float | None, lon: float | None, accuracy_m: float | None) -> dict[str, Any] | None:
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy_m} if lat is not None and lon is not None else None


def _distance(a: Point | None, b: Point | None) -> float | None:
    """Geodesic metres on WGS-84, as the flags measure them; None when either end is unknown."""
    return distance_m(a, b) if a is not None and b is not None else None
