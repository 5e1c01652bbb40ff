"""Fields and bodies shared by the record capabilities."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from backend.areas.schemas import AREA_CODE
from backend.pagination import PageArgsSchema
from backend.records.models import REVIEW_STATUSES

MAX_TEXT = 4000


def area_code_field(**kwargs) -> ma.fields.String:
    return ma.fields.String(validate=AREA_CODE, **kwargs)


def lat_field() -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90),
                           metadata={"description": "WGS-84 latitude"})


def lon_field() -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180),
                           metadata={"description": "WGS-84 longitude"})


def accuracy_field() -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, validate=validate.Range(min=0, max=100_000),
                           metadata={"description": "Device-reported accuracy of the fix, metres"})


def text_field(max_length: int = MAX_TEXT, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


class Instant(ma.fields.AwareDateTime):
    """An ISO 8601 time with offset that is also a time in UTC (0001-01-01T00:00+01:00 is not)."""

    def _deserialize(self, value, attr, data, **kwargs):
        instant = super()._deserialize(value, attr, data, **kwargs)
        try:
            instant.astimezone(UTC)
        except OverflowError:
            raise ma.ValidationError("Time out of range.") from None
        return instant


class RecordOutSchema(ma.Schema):
    """What every record shows besides its own fields."""

    id = ma.fields.UUID(required=True)
    version = ma.fields.Integer(required=True)
    area_code = ma.fields.String(required=True)
    created_by_id = ma.fields.Integer(required=True)
    updated_by_id = ma.fields.Integer(required=True)
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)


class ReviewOutSchema(ma.Schema):
    review_status = ma.fields.String(required=True)
    review_comment = ma.fields.String(required=True, allow_none=True)
    reviewed_by_id = ma.fields.Integer(required=True, allow_none=True)
    reviewed_at = ma.fields.AwareDateTime(required=True, allow_none=True)


class ReviewSchema(ma.Schema):
    review_status = ma.fields.String(required=True, validate=validate.OneOf(REVIEW_STATUSES))
    review_comment = text_field(2000, allow_none=True, load_default=None)


class BBox(ma.fields.String):
    """``minLon,minLat,maxLon,maxLat`` in WGS-84 degrees."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            min_lon, min_lat, max_lon, max_lat = (float(part) for part in text.split(","))
        except ValueError:
            raise ma.ValidationError("bbox is minLon,minLat,maxLon,maxLat in degrees.") from None
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ma.ValidationError("bbox corners must be ordered and within ±180 / ±90 degrees.")
        return min_lon, min_lat, max_lon, max_lat


class RecordQueryArgsSchema(PageArgsSchema):
    area = ma.fields.String(validate=AREA_CODE, metadata={"description": "Only this area's subtree"})
    since = Instant(metadata={"description": "Record time at or after (ISO 8601 with offset)"})
    until = Instant(metadata={"description": "Record time before (ISO 8601 with offset)"})
    status = ma.fields.String(metadata={"description": "Review status (visits, inspections) or hotspot status"})
    author = ma.fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                               metadata={"description": "Created by this user id"})
    bbox = BBox(metadata={"description": "minLon,minLat,maxLon,maxLat"})
