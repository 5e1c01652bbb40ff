"""Bodies of /api/photos, and the fields a ``photo.attach`` mutation carries."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import validate

from backend.evidence.models import PHASES, PHOTO_STATUSES
from backend.evidence.view import photo_as_seen
from backend.pagination import PageArgsSchema, page_schema
from backend.records import kinds
from backend.records.schemas import RecordOutSchema, accuracy_field, lat_field, lon_field

# Read from the file: where and with what it was taken.
CAPTURE = {"description": "From the file's EXIF; for reviewers and the photo's author, null for anyone else"}
SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="sha256 is 64 lowercase hexadecimal digits.")


class PhotoFieldsSchema(ma.Schema):
    """What the phone knows when it attaches a photo; fixed from then on."""

    record_type = ma.fields.String(validate=kinds.KindName(kinds.photo_carriers))
    record_id = ma.fields.UUID()
    sha256 = ma.fields.String(validate=SHA256, metadata={"description": "SHA-256 of the file the phone will upload"})
    bytes = ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**40),
                              metadata={"description": "Size of that file"})
    captured_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "When the phone took it"})
    lat = lat_field()
    lon = lon_field()
    accuracy_m = accuracy_field()
    phase = ma.fields.String(allow_none=True, validate=validate.OneOf(PHASES),
                             metadata={"description": "Inspections: taken before or after the rectification"})


class RejectedReasonSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "checksum_mismatch, unsupported_type, empty, "
                                                                     "too_large, too_many_pixels, corrupt"})
    message = ma.fields.String(required=True)


class PhotoSchema(RecordOutSchema):
    record_type = ma.fields.String(required=True)
    record_id = ma.fields.UUID(required=True)
    sha256 = ma.fields.String(required=True)
    bytes = ma.fields.Integer(required=True)
    captured_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)
    accuracy_m = ma.fields.Float(required=True, allow_none=True)
    phase = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(PHOTO_STATUSES))
    rejected_reason = ma.fields.Nested(RejectedReasonSchema, required=True, allow_none=True)
    stored_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    width = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "Upright, in pixels"})
    height = ma.fields.Integer(required=True, allow_none=True)
    mime = ma.fields.String(required=True, allow_none=True)
    exif_lat = ma.fields.Float(required=True, allow_none=True, metadata=CAPTURE)
    exif_lon = ma.fields.Float(required=True, allow_none=True, metadata=CAPTURE)
    exif_alt_m = ma.fields.Float(required=True, allow_none=True, metadata=CAPTURE)
    exif_taken_at = ma.fields.String(required=True, allow_none=True,
                                     metadata={"description": "ISO 8601 as the camera wrote it, with its offset "
                                                              "when the file has one"})
    make = ma.fields.String(required=True, allow_none=True, metadata=CAPTURE)
    model = ma.fields.String(required=True, allow_none=True, metadata=CAPTURE)
    software = ma.fields.String(required=True, allow_none=True, metadata=CAPTURE)
    phash = ma.fields.String(required=True, allow_none=True, metadata={"description": "64-bit perceptual hash, hex"})
    flags = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(), required=True,
                           metadata={"description": "Verification flags: code -> the numbers behind it. A photo "
                                                    "named in reused/near_duplicate whose record is outside your "
                                                    "area shows as {\"in_another_area\": true}, without ids"})
    flag_count = ma.fields.Integer(required=True)

    @ma.post_dump(pass_original=True)
    def _as_seen(self, data: dict[str, Any], photo: Any, **_kwargs: Any) -> dict[str, Any]:
        # One body for everyone would hand other areas' ids and the camera's details to all.
        return photo_as_seen(viewer=g.get("user") if has_request_context() else None, photo=photo, row=data)


class PhotoQueryArgsSchema(PageArgsSchema):
    record_type = ma.fields.String(validate=kinds.KindName(kinds.photo_carriers))
    record_id = ma.fields.UUID()
    status = ma.fields.String(validate=validate.OneOf(PHOTO_STATUSES))


PhotoPageSchema = page_schema(PhotoSchema, "PhotoPage")


# --- the evidence view of a visit or inspection -------------------------------------------

class PositionSchema(ma.Schema):
    lat = ma.fields.Float(required=True)
    lon = ma.fields.Float(required=True)
    accuracy_m = ma.fields.Float(required=True, allow_none=True, metadata={"description": "null for EXIF"})


class TargetSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=kinds.KindName(kinds.photo_targets))
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True, allow_none=True, metadata={"description": "A hotspot's name"})
    address = ma.fields.String(required=True, allow_none=True, metadata={"description": "A household's address"})
    head_name = ma.fields.String(required=True, allow_none=True, metadata={"description": "A household's head"})
    lat = ma.fields.Float(required=True, allow_none=True)
    lon = ma.fields.Float(required=True, allow_none=True)


def _metres(description: str) -> ma.fields.Float:
    return ma.fields.Float(required=True, allow_none=True,
                           metadata={"description": f"{description}: geodesic metres; null when a position is missing"})


class PhotoPositionsSchema(ma.Schema):
    exif = ma.fields.Nested(PositionSchema, required=True, allow_none=True)
    device = ma.fields.Nested(PositionSchema, required=True, allow_none=True,
                              metadata={"description": "The phone's fix when it took the photo"})


class PhotoDistancesSchema(ma.Schema):
    exif_to_target = _metres("EXIF position to the target")
    device_to_target = _metres("The phone's fix at capture to the target")
    exif_to_device = _metres("EXIF position to the phone's fix at capture")


class EvidencePhotoSchema(ma.Schema):
    photo = ma.fields.Nested(PhotoSchema, required=True)
    positions = ma.fields.Nested(PhotoPositionsSchema, required=True)
    distances_m = ma.fields.Nested(PhotoDistancesSchema, required=True)


class RecordDistancesSchema(ma.Schema):
    fix_to_target = _metres("The record's device fix to the target")


class EvidenceSchema(ma.Schema):
    record_type = ma.fields.String(required=True, validate=kinds.KindName(kinds.evidence_viewed))
    author_name = ma.fields.String(required=True, allow_none=True,
                                   metadata={"description": "Display name (else username) of the record's author"})
    area_name = ma.fields.String(required=True, allow_none=True, metadata={"description": "Name of the record's area"})
    target = ma.fields.Nested(TargetSchema, required=True, allow_none=True,
                              metadata={"description": "The household visited / the hotspot inspected"})
    fix = ma.fields.Nested(PositionSchema, required=True, allow_none=True,
                           metadata={"description": "The record's own device fix"})
    distances_m = ma.fields.Nested(RecordDistancesSchema, required=True)
    photos = ma.fields.List(ma.fields.Nested(EvidencePhotoSchema), required=True,
                            metadata={"description": "Live photos, in the order they were attached"})


def evidence_schema(kind: kinds.Kind[Any]) -> type[ma.Schema]:
    """The evidence view of one kind's record: the record as its kind answers it, then the evidence.

    Named ``<Kind>EvidenceSchema`` so the OpenAPI document shows ``VisitEvidence``, ``InspectionEvidence``.
    """
    assert kind.out_schema is not None
    name = "".join(part.capitalize() for part in kind.name.split("_")) + "EvidenceSchema"
    return type(name, (EvidenceSchema,), {"record": ma.fields.Nested(kind.out_schema, required=True)})
